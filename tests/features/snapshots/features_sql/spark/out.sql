WITH
activity AS (
  SELECT k.person_id,
    max_by(k.consent_action, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.consent_action IN ('enrol', 'leave')) AS enrolment,
    sum(CASE WHEN k.event_type IN ('loan', 'bill', 'payment', 'rental') THEN 1 ELSE 0 END) AS history_events,
    CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(min(CASE WHEN k.event_type IN ('loan', 'bill', 'payment', 'rental') THEN k.occurred_at END) AS DATE)) / 30.4375) AS BIGINT) AS history_months,
    avg(CASE WHEN k.event_type = 'loan' AND k.loan_event = 'instalment' AND k.due_date >= DATE '2024-11-01' AND k.due_date <= DATE '2026-10-31' THEN CASE WHEN coalesce(k.days_past_due, 0) = 0 AND NOT (k.paid_date IS NULL OR k.paid_date > DATE '2026-10-31') THEN 1.0 ELSE 0.0 END END) AS instalments_on_time_share_24m,
    max(CASE WHEN k.event_type = 'loan' AND k.loan_event IN ('instalment', 'default') AND k.due_date >= DATE '2024-11-01' AND k.due_date <= DATE '2026-10-31' THEN CASE WHEN (k.paid_date IS NULL OR k.paid_date > DATE '2026-10-31') THEN greatest(coalesce(k.days_past_due, 0), datediff(CAST(DATE '2026-10-31' AS DATE), CAST(k.due_date AS DATE))) ELSE coalesce(k.days_past_due, 0) END END) AS worst_days_past_due_24m,
    CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(min(CASE WHEN k.event_type = 'loan' THEN k.occurred_at END) AS DATE)) / 30.4375) AS BIGINT) AS months_since_oldest_account,
    sum(CASE WHEN k.event_type = 'loan' AND k.loan_event = 'default' AND k.occurred_at >= DATE '2019-10-31' THEN 1 ELSE 0 END) AS loan_defaults,
    least(1.0, coalesce(bit_count(bit_or(CASE WHEN k.event_type = 'payment' AND k.occurred_at >= DATE '2024-11-01' THEN shiftleft(CAST(1 AS BIGINT), 24322 - (year(k.occurred_at) * 12 + month(k.occurred_at))) END)), 0) / least(24.0, greatest(1.0, CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(min(k.occurred_at) AS DATE)) / 30.4375) AS BIGINT) + 1.0))) AS spending_regularity_24m,
    count(DISTINCT CASE WHEN k.event_type = 'payment' AND k.occurred_at >= DATE '2025-11-01' THEN k.merchant_category END) AS spending_categories_12m,
    CAST(sum(CASE WHEN k.event_type = 'payment' AND k.occurred_at >= DATE '2025-11-01' AND k.merchant_category IN ('luxury', 'entertainment') THEN k.amount END) AS DOUBLE) / nullif(CAST(sum(CASE WHEN k.event_type = 'payment' AND k.occurred_at >= DATE '2025-11-01' THEN k.amount END) AS DOUBLE), 0) AS luxury_spending_share_12m,
    avg(CASE WHEN k.event_type = 'rental' AND k.occurred_at >= DATE '2024-11-01' THEN CASE WHEN k.returned_on_time THEN 1.0 ELSE 0.0 END END) AS rentals_returned_on_time_share_24m,
    avg(CASE WHEN k.event_type = 'bill' AND k.bill_kind IN ('utility', 'rent', 'phone') AND k.due_date >= DATE '2024-11-01' AND k.due_date < DATE '2026-10-31' THEN CASE WHEN k.paid_date IS NOT NULL AND k.paid_date <= k.due_date AND k.paid_date <= DATE '2026-10-31' THEN 1.0 ELSE 0.0 END END) AS bills_paid_on_time_share_24m,
    sum(CASE WHEN k.event_type = 'bill' AND k.due_date <= DATE '2026-10-01' AND k.due_date >= DATE '2019-10-31' AND (k.paid_date IS NULL OR k.paid_date > DATE '2026-10-31') THEN 1 ELSE 0 END) AS unpaid_bills,
    coalesce(CAST(sum(CASE WHEN k.event_type = 'rental' AND k.occurred_at >= DATE '2019-10-31' AND k.unpaid_amount > 0 THEN k.unpaid_amount END) AS DOUBLE), 0) AS unpaid_partner_damages,
    coalesce(CAST(sum(CASE WHEN k.event_type = 'payment' AND k.occurred_at >= DATE '2025-11-01' THEN k.amount END) AS DOUBLE), 0) / 12.0 AS monthly_spending_12m,
    max(CASE WHEN k.event_type = 'attribute' AND k.attribute = 'verified_identity' THEN 1 ELSE 0 END) AS identity_verified,
    max_by(k.attribute_value, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.event_type = 'attribute' AND k.attribute = 'education') AS education,
    CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(max(CASE WHEN k.event_type = 'attribute' AND k.attribute = 'address' THEN k.occurred_at END) AS DATE)) / 30.4375) AS BIGINT) AS months_at_current_address,
    TRY_CAST(max_by(k.attribute_value, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.event_type = 'attribute' AND k.attribute = 'tenure') AS BIGINT) + CAST(floor(datediff(CAST(DATE '2026-10-31' AS DATE), CAST(max_by(k.occurred_at, struct(k.occurred_at, k.event_id)) FILTER (WHERE k.event_type = 'attribute' AND k.attribute = 'tenure') AS DATE)) / 30.4375) AS BIGINT) AS months_with_employer,
    sum(CASE WHEN k.event_type = 'connection' AND k.connection_action = 'added' AND k.occurred_at >= DATE '2025-11-01' THEN 1 ELSE 0 END) AS contacts_added_12m
  FROM (
    SELECT s.person_id, e.event_id, e.event_type, e.source, e.source_record_id, e.occurred_at, e.recorded_at, e.account_id, e.attribute, e.connection_action, e.consent_action, e.court, e.case_number, e.listed_on, e.authority, e.reference, CASE WHEN c.amendment IS NULL THEN e.amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.amount') AS DECIMAL(18,2)), e.amount) END AS amount, CASE WHEN c.amendment IS NULL THEN e.merchant_category ELSE coalesce(CAST(get_json_object(c.amendment, '$.merchant_category') AS STRING), e.merchant_category) END AS merchant_category, CASE WHEN c.amendment IS NULL THEN e.bill_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.bill_kind') AS STRING), e.bill_kind) END AS bill_kind, CASE WHEN c.amendment IS NULL THEN e.due_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.due_date') AS DATE), e.due_date) END AS due_date, CASE WHEN c.amendment IS NULL THEN e.paid_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.paid_date') AS DATE), e.paid_date) END AS paid_date, CASE WHEN c.amendment IS NULL THEN e.loan_event ELSE coalesce(CAST(get_json_object(c.amendment, '$.loan_event') AS STRING), e.loan_event) END AS loan_event, CASE WHEN c.amendment IS NULL THEN e.days_past_due ELSE coalesce(CAST(get_json_object(c.amendment, '$.days_past_due') AS BIGINT), e.days_past_due) END AS days_past_due, CASE WHEN c.amendment IS NULL THEN e.returned_on_time ELSE coalesce(CAST(get_json_object(c.amendment, '$.returned_on_time') AS BOOLEAN), e.returned_on_time) END AS returned_on_time, CASE WHEN c.amendment IS NULL THEN e.damage ELSE coalesce(CAST(get_json_object(c.amendment, '$.damage') AS BOOLEAN), e.damage) END AS damage, CASE WHEN c.amendment IS NULL THEN e.unpaid_amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.unpaid_amount') AS DECIMAL(18,2)), e.unpaid_amount) END AS unpaid_amount, CASE WHEN c.amendment IS NULL THEN e.satisfied_on ELSE coalesce(CAST(get_json_object(c.amendment, '$.satisfied_on') AS DATE), e.satisfied_on) END AS satisfied_on, CASE WHEN c.amendment IS NULL THEN e.judgment_status ELSE coalesce(CAST(get_json_object(c.amendment, '$.judgment_status') AS STRING), e.judgment_status) END AS judgment_status, CASE WHEN c.amendment IS NULL THEN e.attribute_value ELSE coalesce(CAST(get_json_object(c.amendment, '$.attribute_value') AS STRING), e.attribute_value) END AS attribute_value, CASE WHEN c.amendment IS NULL THEN e.conduct_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.conduct_kind') AS STRING), e.conduct_kind) END AS conduct_kind, CASE WHEN c.amendment IS NULL THEN e.reported_by_media ELSE coalesce(CAST(get_json_object(c.amendment, '$.reported_by_media') AS BOOLEAN), e.reported_by_media) END AS reported_by_media
    FROM events e
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    LEFT JOIN (
      SELECT target_source, target_record_id, correction_action, amendment FROM (
        SELECT target_source, target_record_id, correction_action, amendment,
          row_number() OVER (PARTITION BY target_source, target_record_id
            ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest
        FROM events
        WHERE event_type = 'correction' AND occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      ) x WHERE latest = 1
    ) c ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    WHERE e.event_type IN ('loan', 'bill', 'payment', 'rental', 'attribute', 'connection', 'consent') AND e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
  GROUP BY k.person_id
),
listed AS (
  SELECT DISTINCT person_id FROM (
  SELECT person_id, court, case_number, listed_on, event_id FROM (
    SELECT k.person_id, k.court, k.case_number, k.listed_on, k.judgment_status, k.satisfied_on, k.event_id,
      row_number() OVER (PARTITION BY k.person_id, k.court, k.case_number ORDER BY k.occurred_at DESC, k.event_id DESC) AS latest
    FROM (
      SELECT s.person_id, e.event_id, e.event_type, e.source, e.source_record_id, e.occurred_at, e.recorded_at, e.account_id, e.attribute, e.connection_action, e.consent_action, e.court, e.case_number, e.listed_on, e.authority, e.reference, CASE WHEN c.amendment IS NULL THEN e.amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.amount') AS DECIMAL(18,2)), e.amount) END AS amount, CASE WHEN c.amendment IS NULL THEN e.merchant_category ELSE coalesce(CAST(get_json_object(c.amendment, '$.merchant_category') AS STRING), e.merchant_category) END AS merchant_category, CASE WHEN c.amendment IS NULL THEN e.bill_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.bill_kind') AS STRING), e.bill_kind) END AS bill_kind, CASE WHEN c.amendment IS NULL THEN e.due_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.due_date') AS DATE), e.due_date) END AS due_date, CASE WHEN c.amendment IS NULL THEN e.paid_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.paid_date') AS DATE), e.paid_date) END AS paid_date, CASE WHEN c.amendment IS NULL THEN e.loan_event ELSE coalesce(CAST(get_json_object(c.amendment, '$.loan_event') AS STRING), e.loan_event) END AS loan_event, CASE WHEN c.amendment IS NULL THEN e.days_past_due ELSE coalesce(CAST(get_json_object(c.amendment, '$.days_past_due') AS BIGINT), e.days_past_due) END AS days_past_due, CASE WHEN c.amendment IS NULL THEN e.returned_on_time ELSE coalesce(CAST(get_json_object(c.amendment, '$.returned_on_time') AS BOOLEAN), e.returned_on_time) END AS returned_on_time, CASE WHEN c.amendment IS NULL THEN e.damage ELSE coalesce(CAST(get_json_object(c.amendment, '$.damage') AS BOOLEAN), e.damage) END AS damage, CASE WHEN c.amendment IS NULL THEN e.unpaid_amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.unpaid_amount') AS DECIMAL(18,2)), e.unpaid_amount) END AS unpaid_amount, CASE WHEN c.amendment IS NULL THEN e.satisfied_on ELSE coalesce(CAST(get_json_object(c.amendment, '$.satisfied_on') AS DATE), e.satisfied_on) END AS satisfied_on, CASE WHEN c.amendment IS NULL THEN e.judgment_status ELSE coalesce(CAST(get_json_object(c.amendment, '$.judgment_status') AS STRING), e.judgment_status) END AS judgment_status, CASE WHEN c.amendment IS NULL THEN e.attribute_value ELSE coalesce(CAST(get_json_object(c.amendment, '$.attribute_value') AS STRING), e.attribute_value) END AS attribute_value, CASE WHEN c.amendment IS NULL THEN e.conduct_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.conduct_kind') AS STRING), e.conduct_kind) END AS conduct_kind, CASE WHEN c.amendment IS NULL THEN e.reported_by_media ELSE coalesce(CAST(get_json_object(c.amendment, '$.reported_by_media') AS BOOLEAN), e.reported_by_media) END AS reported_by_media
      FROM events e
      JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
      LEFT JOIN (
        SELECT target_source, target_record_id, correction_action, amendment FROM (
          SELECT target_source, target_record_id, correction_action, amendment,
            row_number() OVER (PARTITION BY target_source, target_record_id
              ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest
          FROM events
          WHERE event_type = 'correction' AND occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
        ) x WHERE latest = 1
      ) c ON c.target_source = e.source AND c.target_record_id = e.source_record_id
      WHERE e.event_type IN ('court_judgment') AND e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
        AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
    ) k
  ) l
  WHERE latest = 1 AND judgment_status = 'listed' AND (satisfied_on IS NULL OR satisfied_on > DATE '2026-10-31')
  ) l
),
previous AS (
  SELECT person_id, score FROM score_snapshots WHERE run_id = 'monthly-20260930-000001'
),
edges AS (
  SELECT person_id, counterpart FROM (
    SELECT k.person_id, o.person_id AS counterpart, k.connection_action,
      row_number() OVER (PARTITION BY k.person_id, o.person_id ORDER BY k.occurred_at DESC, k.event_id DESC) AS latest
    FROM (
    SELECT s.person_id, e.event_id, e.event_type, e.source, e.source_record_id, e.occurred_at, e.recorded_at, e.account_id, e.attribute, e.connection_action, e.consent_action, e.court, e.case_number, e.listed_on, e.authority, e.reference, CASE WHEN c.amendment IS NULL THEN e.amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.amount') AS DECIMAL(18,2)), e.amount) END AS amount, CASE WHEN c.amendment IS NULL THEN e.merchant_category ELSE coalesce(CAST(get_json_object(c.amendment, '$.merchant_category') AS STRING), e.merchant_category) END AS merchant_category, CASE WHEN c.amendment IS NULL THEN e.bill_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.bill_kind') AS STRING), e.bill_kind) END AS bill_kind, CASE WHEN c.amendment IS NULL THEN e.due_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.due_date') AS DATE), e.due_date) END AS due_date, CASE WHEN c.amendment IS NULL THEN e.paid_date ELSE coalesce(CAST(get_json_object(c.amendment, '$.paid_date') AS DATE), e.paid_date) END AS paid_date, CASE WHEN c.amendment IS NULL THEN e.loan_event ELSE coalesce(CAST(get_json_object(c.amendment, '$.loan_event') AS STRING), e.loan_event) END AS loan_event, CASE WHEN c.amendment IS NULL THEN e.days_past_due ELSE coalesce(CAST(get_json_object(c.amendment, '$.days_past_due') AS BIGINT), e.days_past_due) END AS days_past_due, CASE WHEN c.amendment IS NULL THEN e.returned_on_time ELSE coalesce(CAST(get_json_object(c.amendment, '$.returned_on_time') AS BOOLEAN), e.returned_on_time) END AS returned_on_time, CASE WHEN c.amendment IS NULL THEN e.damage ELSE coalesce(CAST(get_json_object(c.amendment, '$.damage') AS BOOLEAN), e.damage) END AS damage, CASE WHEN c.amendment IS NULL THEN e.unpaid_amount ELSE coalesce(CAST(get_json_object(c.amendment, '$.unpaid_amount') AS DECIMAL(18,2)), e.unpaid_amount) END AS unpaid_amount, CASE WHEN c.amendment IS NULL THEN e.satisfied_on ELSE coalesce(CAST(get_json_object(c.amendment, '$.satisfied_on') AS DATE), e.satisfied_on) END AS satisfied_on, CASE WHEN c.amendment IS NULL THEN e.judgment_status ELSE coalesce(CAST(get_json_object(c.amendment, '$.judgment_status') AS STRING), e.judgment_status) END AS judgment_status, CASE WHEN c.amendment IS NULL THEN e.attribute_value ELSE coalesce(CAST(get_json_object(c.amendment, '$.attribute_value') AS STRING), e.attribute_value) END AS attribute_value, CASE WHEN c.amendment IS NULL THEN e.conduct_kind ELSE coalesce(CAST(get_json_object(c.amendment, '$.conduct_kind') AS STRING), e.conduct_kind) END AS conduct_kind, CASE WHEN c.amendment IS NULL THEN e.reported_by_media ELSE coalesce(CAST(get_json_object(c.amendment, '$.reported_by_media') AS BOOLEAN), e.reported_by_media) END AS reported_by_media
    FROM events e
    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'
    LEFT JOIN (
      SELECT target_source, target_record_id, correction_action, amendment FROM (
        SELECT target_source, target_record_id, correction_action, amendment,
          row_number() OVER (PARTITION BY target_source, target_record_id
            ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest
        FROM events
        WHERE event_type = 'correction' AND occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      ) x WHERE latest = 1
    ) c ON c.target_source = e.source AND c.target_record_id = e.source_record_id
    WHERE e.event_type IN ('connection') AND e.occurred_at < TIMESTAMP '2026-11-01 00:00:00' AND e.recorded_at <= TIMESTAMP '2026-11-01 06:00:00'
      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')
  ) k
    JOIN event_persons o ON o.event_id = k.event_id AND o.role = 'counterpart'
  ) x WHERE latest = 1 AND connection_action = 'added' AND person_id <> counterpart
),
network AS (
  SELECT e.person_id, count(*) AS contacts,
    avg(pr.score) AS contacts_mean_score_last_month,
    avg(CASE WHEN l.person_id IS NULL THEN 0.0 ELSE 1.0 END) AS contacts_listed_share
  FROM edges e
  LEFT JOIN previous pr ON pr.person_id = e.counterpart
  LEFT JOIN listed l ON l.person_id = e.counterpart
  GROUP BY e.person_id
),
population AS (
  SELECT person_id FROM persons WHERE status = 'active'
)
SELECT
  p.person_id,
  a.history_events,
  a.history_months,
  a.instalments_on_time_share_24m AS instalments_on_time_share_24m,
  a.worst_days_past_due_24m AS worst_days_past_due_24m,
  a.months_since_oldest_account AS months_since_oldest_account,
  a.loan_defaults AS loan_defaults,
  a.spending_regularity_24m AS spending_regularity_24m,
  a.spending_categories_12m AS spending_categories_12m,
  a.luxury_spending_share_12m AS luxury_spending_share_12m,
  a.rentals_returned_on_time_share_24m AS rentals_returned_on_time_share_24m,
  a.bills_paid_on_time_share_24m AS bills_paid_on_time_share_24m,
  a.unpaid_bills AS unpaid_bills,
  a.unpaid_partner_damages AS unpaid_partner_damages,
  a.monthly_spending_12m AS monthly_spending_12m,
  a.identity_verified AS identity_verified,
  a.education AS education,
  a.months_at_current_address AS months_at_current_address,
  a.months_with_employer AS months_with_employer,
  coalesce(n.contacts, 0) AS contacts,
  n.contacts_mean_score_last_month AS contacts_mean_score_last_month,
  n.contacts_listed_share AS contacts_listed_share,
  a.contacts_added_12m AS contacts_added_12m
FROM population p
JOIN activity a ON a.person_id = p.person_id
LEFT JOIN network n ON n.person_id = p.person_id
WHERE a.enrolment = 'enrol'
