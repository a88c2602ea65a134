WITH
corrections AS (
  SELECT target_source, target_record_id, correction_action, amendment FROM (
    SELECT target_source, target_record_id, correction_action, amendment,
      row_number() OVER (PARTITION BY target_source, target_record_id
        ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest
    FROM events_correction
    WHERE occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
  ) x WHERE latest = 1
),
consents AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    max_by(k.consent_action, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.consent_action IN ('enrol', 'leave')) AS enrolment
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, e.consent_action
    FROM events_consent e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
loans AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    avg(CASE WHEN k.loan_event = 'instalment' AND k.due_date >= DATE '2024-11-01' AND k.due_date <= DATE '2026-10-31' THEN CASE WHEN coalesce(k.days_past_due, 0) = 0 AND NOT (k.paid_date IS NULL OR k.paid_date > DATE '2026-10-31') THEN 1.0D ELSE 0.0D END END) AS instalments_on_time_share_24m,
    max(CASE WHEN k.loan_event IN ('instalment', 'default') AND k.due_date >= DATE '2024-11-01' AND k.due_date <= DATE '2026-10-31' THEN CASE WHEN (k.paid_date IS NULL OR k.paid_date > DATE '2026-10-31') THEN greatest(coalesce(k.days_past_due, 0), datediff(CAST(DATE '2026-10-31' AS DATE), CAST(k.due_date AS DATE))) ELSE coalesce(k.days_past_due, 0) END END) AS worst_days_past_due_24m,
    CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(min(k.occurred_at) AS DATE)) / 30.4375) AS BIGINT) AS months_since_oldest_account,
    sum(CASE WHEN k.loan_event = 'default' AND k.occurred_at >= DATE '2019-10-31' THEN 1 ELSE 0 END) AS loan_defaults
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, CASE WHEN c.amendment IS NULL THEN e.days_past_due ELSE coalesce(CAST(get_json_object(c.amendment, '$.days_past_due') AS BIGINT), e.days_past_due) END AS days_past_due, CASE WHEN c.amendment IS NULL THEN e.due_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.due_date') AS DATE), e.due_date) END AS due_date, CASE WHEN c.amendment IS NULL THEN e.loan_event ELSE coalesce(CAST(get_json_object(c.amendment, '$.loan_event') AS STRING), e.loan_event) END AS loan_event, CASE WHEN c.amendment IS NULL THEN e.paid_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.paid_date') AS DATE), e.paid_date) END AS paid_date
    FROM events_loan e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
bills AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    avg(CASE WHEN k.bill_kind IN ('utility', 'rent', 'phone') AND k.due_date >= DATE '2024-11-01' AND k.due_date < DATE '2026-10-31' THEN CASE WHEN k.paid_date IS NOT NULL AND k.paid_date <= k.due_date AND k.paid_date <= DATE '2026-10-31' THEN 1.0D ELSE 0.0D END END) AS bills_paid_on_time_share_24m,
    sum(CASE WHEN k.due_date <= DATE '2026-10-01' AND k.due_date >= DATE '2019-10-31' AND (k.paid_date IS NULL OR k.paid_date > DATE '2026-10-31') THEN 1 ELSE 0 END) AS unpaid_bills
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, CASE WHEN c.amendment IS NULL THEN e.bill_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.bill_kind') AS STRING), e.bill_kind) END AS bill_kind, CASE WHEN c.amendment IS NULL THEN e.due_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.due_date') AS DATE), e.due_date) END AS due_date, CASE WHEN c.amendment IS NULL THEN e.paid_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.paid_date') AS DATE), e.paid_date) END AS paid_date
    FROM events_bill e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
payments AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    coalesce(bit_count(bit_or(CASE WHEN k.occurred_at >= DATE '2024-11-01' THEN shiftleft(CAST(1 AS BIGINT), 24322 - (year(k.occurred_at) * 12 + month(k.occurred_at))) END)), 0) AS spending_regularity_24m,
    CAST(coalesce(bit_count(bit_or(CASE WHEN k.occurred_at >= DATE '2025-11-01' THEN CASE k.merchant_category WHEN 'grocery' THEN 1 WHEN 'dining' THEN 2 WHEN 'transport' THEN 4 WHEN 'travel' THEN 8 WHEN 'utilities' THEN 16 WHEN 'education' THEN 32 WHEN 'entertainment' THEN 64 WHEN 'luxury' THEN 128 WHEN 'online_shopping' THEN 256 WHEN 'charity' THEN 512 WHEN 'other' THEN 1024 END END)), 0) + size(array_distinct(collect_list(CASE WHEN k.occurred_at >= DATE '2025-11-01' AND k.merchant_category NOT IN ('grocery', 'dining', 'transport', 'travel', 'utilities', 'education', 'entertainment', 'luxury', 'online_shopping', 'charity', 'other') THEN k.merchant_category END))) AS BIGINT) AS spending_categories_12m,
    CAST(sum(CASE WHEN k.occurred_at >= DATE '2025-11-01' AND k.merchant_category IN ('luxury', 'entertainment') THEN k.amount END) AS DOUBLE) / nullif(CAST(sum(CASE WHEN k.occurred_at >= DATE '2025-11-01' THEN k.amount END) AS DOUBLE), 0) AS luxury_spending_share_12m,
    CAST(sum(CASE WHEN k.occurred_at >= DATE '2025-11-01' THEN k.amount END) AS DOUBLE) AS monthly_spending_12m
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, CASE WHEN c.amendment IS NULL THEN e.amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.amount') AS DECIMAL(18,2)), e.amount) END AS amount, CASE WHEN c.amendment IS NULL THEN e.merchant_category ELSE coalesce(CAST(get_json_object(c.amendment, '$.merchant_category') AS STRING), e.merchant_category) END AS merchant_category
    FROM events_payment e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
rentals AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    avg(CASE WHEN k.occurred_at >= DATE '2024-11-01' THEN CASE WHEN k.returned_on_time THEN 1.0D ELSE 0.0D END END) AS rentals_returned_on_time_share_24m,
    CAST(sum(CASE WHEN k.occurred_at >= DATE '2019-10-31' AND k.unpaid_amount > 0 THEN k.unpaid_amount END) AS DOUBLE) AS unpaid_partner_damages
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, CASE WHEN c.amendment IS NULL THEN e.returned_on_time ELSE coalesce(CAST(get_json_object(c.amendment, '$.returned_on_time') AS BOOLEAN), e.returned_on_time) END AS returned_on_time, CASE WHEN c.amendment IS NULL THEN e.unpaid_amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.unpaid_amount') AS DECIMAL(18,2)), e.unpaid_amount) END AS unpaid_amount
    FROM events_rental e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
attributes AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    max(CASE WHEN k.attribute = 'verified_identity' THEN 1 ELSE 0 END) AS identity_verified,
    max_by(k.attribute_value, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.attribute = 'education') AS education,
    CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(max(CASE WHEN k.attribute = 'address' THEN k.occurred_at END) AS DATE)) / 30.4375) AS BIGINT) AS months_at_current_address,
    TRY_CAST(max_by(k.attribute_value, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.attribute = 'tenure') AS BIGINT) + CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(max_by(k.occurred_at, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.attribute = 'tenure') AS DATE)) / 30.4375) AS BIGINT) AS months_with_employer
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, e.attribute, CASE WHEN c.amendment IS NULL THEN e.attribute_value ELSE coalesce(CAST(get_json_object(c.amendment, '$.attribute_value') AS STRING), e.attribute_value) END AS attribute_value
    FROM events_attribute e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
connections AS (
  SELECT k.person_id,
    count(*) AS events,
    min(k.occurred_at) AS first_at,
    sum(CASE WHEN k.connection_action = 'added' AND k.occurred_at >= DATE '2025-11-01' THEN 1 ELSE 0 END) AS contacts_added_12m
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, e.connection_action
    FROM events_connection e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
activity AS (
  SELECT consents.person_id,
    consents.enrolment,
    coalesce(loans.events, 0) + coalesce(bills.events, 0) + coalesce(payments.events, 0) + coalesce(rentals.events, 0) AS history_events,
    CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(least(loans.first_at, bills.first_at, payments.first_at, rentals.first_at) AS DATE)) / 30.4375) AS BIGINT) AS history_months,
    least(consents.first_at, loans.first_at, bills.first_at, payments.first_at, rentals.first_at, attributes.first_at, connections.first_at) AS first_event_at,
    loans.instalments_on_time_share_24m,
    loans.worst_days_past_due_24m,
    loans.months_since_oldest_account,
    loans.loan_defaults,
    payments.spending_regularity_24m,
    payments.spending_categories_12m,
    payments.luxury_spending_share_12m,
    rentals.rentals_returned_on_time_share_24m,
    bills.bills_paid_on_time_share_24m,
    bills.unpaid_bills,
    rentals.unpaid_partner_damages,
    payments.monthly_spending_12m,
    attributes.identity_verified,
    attributes.education,
    attributes.months_at_current_address,
    attributes.months_with_employer,
    connections.contacts_added_12m
  FROM consents
  LEFT JOIN loans ON loans.person_id = consents.person_id
  LEFT JOIN bills ON bills.person_id = consents.person_id
  LEFT JOIN payments ON payments.person_id = consents.person_id
  LEFT JOIN rentals ON rentals.person_id = consents.person_id
  LEFT JOIN attributes ON attributes.person_id = consents.person_id
  LEFT JOIN connections ON connections.person_id = consents.person_id
),
listed AS (
  SELECT DISTINCT person_id FROM (
  SELECT person_id, court, case_number, listed_on, event_id FROM (
    SELECT k.person_id, k.court, k.case_number, k.listed_on, k.judgment_status, k.satisfied_on, k.notice_served_on, k.event_id,
      row_number() OVER (PARTITION BY k.person_id, k.court, k.case_number ORDER BY k.occurred_at DESC, k.event_id DESC) AS latest
    FROM (
      SELECT s.person_id, e.event_id, e.occurred_at, e.case_number, e.court, CASE WHEN c.amendment IS NULL THEN e.judgment_status ELSE coalesce(CAST(get_json_object(c.amendment, '$.judgment_status') AS STRING), e.judgment_status) END AS judgment_status, e.listed_on, CASE WHEN c.amendment IS NULL THEN e.satisfied_on ELSE coalesce(CAST(get_json_object(c.amendment, '$.satisfied_on') AS DATE), e.satisfied_on) END AS satisfied_on, e.notice_served_on
      FROM events_court_judgment e
      LEFT JOIN (
    SELECT target_source, target_record_id, correction_action, amendment FROM (
      SELECT target_source, target_record_id, correction_action, amendment,
        row_number() OVER (PARTITION BY target_source, target_record_id
          ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest
      FROM events_correction
      WHERE occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
    ) x WHERE latest = 1
      ) c
        ON c.target_source = e.source AND c.target_record_id = e.source_record_id
      JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
      WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
        AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
    ) k
  ) l
  WHERE latest = 1 AND judgment_status = 'listed' AND (satisfied_on IS NULL OR satisfied_on > DATE '2026-10-31') AND (notice_served_on IS NULL OR notice_served_on <= DATE '2026-09-30')
  ) l
),
previous AS (
  SELECT person_id, score FROM score_snapshots WHERE run_id = 'monthly-20260930-000001'
),
edges AS (
  SELECT k.person_id, o.person_id AS counterpart
  FROM (
    SELECT s.person_id, e.event_id, e.occurred_at, e.connection_action
    FROM events_connection e
    LEFT JOIN corrections c
      ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    WHERE e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  JOIN event_persons o ON o.event_id = k.event_id AND o.role = 'counterpart'
  WHERE o.person_id <> k.person_id
  GROUP BY k.person_id, o.person_id
  HAVING max_by(k.connection_action, struct(k.occurred_at, k.event_id)) = 'added'
),
network AS (
  SELECT e.person_id, count(*) AS contacts,
    avg(pr.score) AS contacts_mean_score_last_month,
    avg(CASE WHEN l.person_id IS NULL THEN 0.0D ELSE 1.0D END) AS contacts_listed_share
  FROM edges e
  LEFT JOIN previous pr ON pr.person_id = e.counterpart
  LEFT JOIN listed l ON l.person_id = e.counterpart
  GROUP BY e.person_id
),
population AS (
  SELECT person_id FROM persons WHERE status = 'active'
    AND person_id NOT IN (SELECT r.person_id FROM restrictions r GROUP BY r.person_id HAVING max_by(r.action, struct(r.changed_at)) = 'restrict')
)
SELECT
  p.person_id,
  a.history_events,
  a.history_months,
  a.instalments_on_time_share_24m AS instalments_on_time_share_24m,
  a.worst_days_past_due_24m AS worst_days_past_due_24m,
  a.months_since_oldest_account AS months_since_oldest_account,
  coalesce(a.loan_defaults, 0) AS loan_defaults,
  least(1.0D, coalesce(a.spending_regularity_24m, 0) / least(24.0D, greatest(1.0D, CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(a.first_event_at AS DATE)) / 30.4375) AS BIGINT) + 1.0D))) AS spending_regularity_24m,
  coalesce(a.spending_categories_12m, 0) AS spending_categories_12m,
  a.luxury_spending_share_12m AS luxury_spending_share_12m,
  a.rentals_returned_on_time_share_24m AS rentals_returned_on_time_share_24m,
  a.bills_paid_on_time_share_24m AS bills_paid_on_time_share_24m,
  coalesce(a.unpaid_bills, 0) AS unpaid_bills,
  coalesce(a.unpaid_partner_damages, 0) AS unpaid_partner_damages,
  coalesce(a.monthly_spending_12m, 0) / 12.0D AS monthly_spending_12m,
  coalesce(a.identity_verified, 0) AS identity_verified,
  a.education AS education,
  a.months_at_current_address AS months_at_current_address,
  a.months_with_employer AS months_with_employer,
  coalesce(n.contacts, 0) AS contacts,
  n.contacts_mean_score_last_month AS contacts_mean_score_last_month,
  n.contacts_listed_share AS contacts_listed_share,
  coalesce(a.contacts_added_12m, 0) AS contacts_added_12m
FROM population p
JOIN activity a ON a.person_id = p.person_id
LEFT JOIN network n ON n.person_id = p.person_id
WHERE a.enrolment = 'enrol'
