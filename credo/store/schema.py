"""Versioned schema migrations.

Each migration is frozen text: once released it never changes, a new need is a new migration.
Opening an older database applies the missing ones in one transaction; a database written by a
newer Credo is refused rather than misread. A test checks that the migrated ``events`` table has
a column for every field of the event catalogue.

One module, over 400 lines, on purpose: migrations are history, appended and never edited, and
read in order as one; split, the order a database was built in would be spread over files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EVENT_HASH_COLUMNS",
    "EVENT_TABLES",
    "EVENT_TYPES",
    "MIGRATIONS",
    "PROTECTED_TABLES",
    "SCHEMA_VERSION",
    "Migration",
    "event_table",
    "hash_number",
    "hash_number_sql",
    "hash_text_sql",
    "hashes_as_numbers_sql",
    "hashes_as_text_sql",
    "stored_hashes",
    "table_hash_columns",
]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


_V1 = """
CREATE TABLE sources (
    source VARCHAR PRIMARY KEY,
    mapping JSON NOT NULL,
    mapping_digest VARCHAR NOT NULL,
    registered_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE loads (
    load_id BIGINT PRIMARY KEY,
    source VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    file_path VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    file_format VARCHAR NOT NULL,
    encoding VARCHAR,
    mapping_digest VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_accepted BIGINT NOT NULL,
    rows_new BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL
);
CREATE TABLE events (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    amount DECIMAL(18,2),
    currency VARCHAR,
    merchant_category VARCHAR,
    channel VARCHAR,
    bill_kind VARCHAR,
    due_date DATE,
    paid_date DATE,
    loan_event VARCHAR,
    account_id VARCHAR,
    term_months BIGINT,
    days_past_due BIGINT,
    partner VARCHAR,
    item VARCHAR,
    deposit VARCHAR,
    returned_on_time BOOLEAN,
    damage BOOLEAN,
    unpaid_amount DECIMAL(18,2),
    court VARCHAR,
    case_number VARCHAR,
    listed_on DATE,
    satisfied_on DATE,
    judgment_status VARCHAR,
    dishonest_conduct VARCHAR,
    attribute VARCHAR,
    attribute_value VARCHAR,
    connection_action VARCHAR,
    counterpart_ref VARCHAR,
    counterpart_name VARCHAR,
    counterpart_national_id_hash VARCHAR,
    counterpart_phone_hash VARCHAR,
    conduct_kind VARCHAR,
    authority VARCHAR,
    reference VARCHAR,
    reported_by_media BOOLEAN,
    consent_action VARCHAR,
    purpose VARCHAR,
    target_source VARCHAR,
    target_record_id VARCHAR,
    correction_action VARCHAR,
    reason VARCHAR,
    amendment VARCHAR
);
CREATE TABLE quarantine (
    load_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    row_no BIGINT NOT NULL,
    field VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    raw_value VARCHAR
);
CREATE TABLE persons (
    person_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'active'
);
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR,
    purpose VARCHAR,
    details VARCHAR,
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL
);
"""

_V2 = """
CREATE TABLE pii_vault (
    kind VARCHAR NOT NULL,
    hash VARCHAR NOT NULL,
    ciphertext BLOB NOT NULL,
    first_load_id BIGINT NOT NULL
);
CREATE TABLE meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
"""

_V3 = """
CREATE TABLE event_persons (
    event_id BIGINT NOT NULL,
    role VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    linked_at TIMESTAMP NOT NULL
);
"""

_V4 = """
CREATE TABLE identity_models (
    model_id VARCHAR PRIMARY KEY,
    settings_version VARCHAR NOT NULL,
    model JSON NOT NULL,
    trained_at TIMESTAMP,
    saved_at TIMESTAMP NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE TABLE identity_runs (
    run_id BIGINT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    model_id VARCHAR NOT NULL,
    trained BOOLEAN NOT NULL,
    summary JSON NOT NULL
);
CREATE TABLE identity_records (
    record_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    first_seen_at TIMESTAMP NOT NULL,
    person_id VARCHAR NOT NULL
);
CREATE TABLE identity_links (
    record_l VARCHAR NOT NULL,
    record_r VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    match_weight DOUBLE,
    comparisons JSON,
    model_id VARCHAR,
    run_id BIGINT NOT NULL
);
CREATE TABLE identity_reviews (
    review_id BIGINT PRIMARY KEY,
    record_l VARCHAR NOT NULL,
    record_r VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    match_weight DOUBLE,
    comparisons JSON,
    model_id VARCHAR,
    status VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by VARCHAR,
    note VARCHAR,
    UNIQUE (record_l, record_r)
);
CREATE TABLE identity_changes (
    change_id BIGINT PRIMARY KEY,
    run_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    other_person_ids VARCHAR[] NOT NULL,
    evidence JSON NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
"""

_V5 = """
CREATE TABLE models (
    model_id VARCHAR PRIMARY KEY,
    seq BIGINT NOT NULL,
    model_version VARCHAR NOT NULL,
    trained_as_of DATE NOT NULL,
    known_at TIMESTAMP NOT NULL,
    policy_name VARCHAR NOT NULL,
    policy_version VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    document VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE score_runs (
    run_id VARCHAR PRIMARY KEY,
    seq BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    known_at TIMESTAMP NOT NULL,
    model_id VARCHAR,
    policy_name VARCHAR NOT NULL,
    policy_version VARCHAR NOT NULL,
    policy_digest VARCHAR NOT NULL,
    previous_run_id VARCHAR,
    person_id VARCHAR,
    persons BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE score_snapshots (
    run_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    score DOUBLE NOT NULL,
    band VARCHAR NOT NULL,
    model_score DOUBLE,
    previous_score DOUBLE,
    trend DOUBLE,
    not_enough_history BOOLEAN NOT NULL,
    capped BOOLEAN NOT NULL,
    court_listings VARCHAR[] NOT NULL,
    credit_history_points DOUBLE,
    credit_history_share DOUBLE,
    behaviour_points DOUBLE,
    behaviour_share DOUBLE,
    fulfilment_capacity_points DOUBLE,
    fulfilment_capacity_share DOUBLE,
    identity_points DOUBLE,
    identity_share DOUBLE,
    connections_points DOUBLE,
    connections_share DOUBLE,
    reason_codes VARCHAR[] NOT NULL,
    reason_points DOUBLE[] NOT NULL,
    improve_codes VARCHAR[] NOT NULL,
    improve_points DOUBLE[] NOT NULL,
    model_id VARCHAR NOT NULL,
    policy_version VARCHAR NOT NULL,
    known_at TIMESTAMP NOT NULL
);
CREATE TABLE points_ledger (
    run_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    regime VARCHAR NOT NULL,
    event_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    rule VARCHAR NOT NULL,
    points INTEGER NOT NULL
);
CREATE TABLE points_balances (
    run_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    regime VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    balance INTEGER NOT NULL,
    grade VARCHAR NOT NULL
);
"""

_V6 = """
CREATE TABLE partners (
    partner_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    webhook_url VARCHAR,
    webhook_secret BLOB,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE api_keys (
    key_id VARCHAR PRIMARY KEY,
    partner_id VARCHAR NOT NULL,
    secret_hash VARCHAR NOT NULL,
    scopes VARCHAR[] NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE TABLE login_codes (
    code_hash VARCHAR PRIMARY KEY,
    person_id VARCHAR NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE TABLE decisions (
    decision_id VARCHAR PRIMARY KEY,
    partner_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    product VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    terms JSON NOT NULL,
    reasons JSON NOT NULL,
    score DOUBLE,
    band VARCHAR,
    run_id VARCHAR,
    scoring_policy VARCHAR,
    products_version VARCHAR NOT NULL,
    consent_id VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL
);
CREATE TABLE inquiries (
    inquiry_id VARCHAR PRIMARY KEY,
    person_id VARCHAR NOT NULL,
    partner_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    purpose VARCHAR NOT NULL,
    disclosed JSON NOT NULL,
    ref_id VARCHAR NOT NULL,
    inquired_at TIMESTAMP NOT NULL
);
CREATE TABLE freezes (
    person_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE TABLE disputes (
    dispute_id VARCHAR PRIMARY KEY,
    person_id VARCHAR NOT NULL,
    event_id BIGINT NOT NULL,
    target_source VARCHAR NOT NULL,
    target_record_id VARCHAR NOT NULL,
    statement VARCHAR NOT NULL,
    evidence VARCHAR,
    opened_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by VARCHAR,
    note VARCHAR,
    correction_event_id BIGINT
);
CREATE TABLE webhook_outbox (
    message_id VARCHAR PRIMARY KEY,
    partner_id VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    payload JSON NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error VARCHAR
);
"""

# One table per event type, and ``events`` as the view readers always used: a wide table pays
# for every column on every insert, NULL or not (docs/decisions/0003 has the measurement).
_V7 = """
CREATE TABLE events_payment (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    amount DECIMAL(18,2),
    currency VARCHAR,
    merchant_category VARCHAR,
    channel VARCHAR
);
INSERT INTO events_payment SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, amount, currency, merchant_category, channel FROM events WHERE
    event_type = 'payment';
CREATE TABLE events_bill (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    amount DECIMAL(18,2),
    bill_kind VARCHAR,
    due_date DATE,
    paid_date DATE
);
INSERT INTO events_bill SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, amount, bill_kind, due_date, paid_date FROM events WHERE event_type =
    'bill';
CREATE TABLE events_loan (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    amount DECIMAL(18,2),
    due_date DATE,
    paid_date DATE,
    loan_event VARCHAR,
    account_id VARCHAR,
    term_months BIGINT,
    days_past_due BIGINT
);
INSERT INTO events_loan SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, amount, due_date, paid_date, loan_event, account_id, term_months,
    days_past_due FROM events WHERE event_type = 'loan';
CREATE TABLE events_rental (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    partner VARCHAR,
    item VARCHAR,
    deposit VARCHAR,
    returned_on_time BOOLEAN,
    damage BOOLEAN,
    unpaid_amount DECIMAL(18,2)
);
INSERT INTO events_rental SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, partner, item, deposit, returned_on_time, damage, unpaid_amount FROM
    events WHERE event_type = 'rental';
CREATE TABLE events_court_judgment (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    amount DECIMAL(18,2),
    court VARCHAR,
    case_number VARCHAR,
    listed_on DATE,
    satisfied_on DATE,
    judgment_status VARCHAR,
    dishonest_conduct VARCHAR
);
INSERT INTO events_court_judgment SELECT event_id, event_type, source, load_id, row_no,
    recorded_at, source_record_id, occurred_at, subject_ref, name, birth_date, sex,
    national_id_hash, phone_hash, address, amount, court, case_number, listed_on, satisfied_on,
    judgment_status, dishonest_conduct FROM events WHERE event_type = 'court_judgment';
CREATE TABLE events_attribute (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    attribute VARCHAR,
    attribute_value VARCHAR
);
INSERT INTO events_attribute SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, attribute, attribute_value FROM events WHERE event_type = 'attribute';
CREATE TABLE events_connection (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    connection_action VARCHAR,
    counterpart_ref VARCHAR,
    counterpart_name VARCHAR,
    counterpart_national_id_hash VARCHAR,
    counterpart_phone_hash VARCHAR
);
INSERT INTO events_connection SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, connection_action, counterpart_ref, counterpart_name,
    counterpart_national_id_hash, counterpart_phone_hash FROM events WHERE event_type =
    'connection';
CREATE TABLE events_conduct (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    conduct_kind VARCHAR,
    authority VARCHAR,
    reference VARCHAR,
    reported_by_media BOOLEAN
);
INSERT INTO events_conduct SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, conduct_kind, authority, reference, reported_by_media FROM events WHERE
    event_type = 'conduct';
CREATE TABLE events_consent (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    partner VARCHAR,
    consent_action VARCHAR,
    purpose VARCHAR
);
INSERT INTO events_consent SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, partner, consent_action, purpose FROM events WHERE event_type =
    'consent';
CREATE TABLE events_correction (
    event_id BIGINT NOT NULL,
    event_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    source_record_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject_ref VARCHAR,
    name VARCHAR,
    birth_date DATE,
    sex VARCHAR,
    national_id_hash VARCHAR,
    phone_hash VARCHAR,
    address VARCHAR,
    target_source VARCHAR,
    target_record_id VARCHAR,
    correction_action VARCHAR,
    reason VARCHAR,
    amendment VARCHAR
);
INSERT INTO events_correction SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, target_source, target_record_id, correction_action, reason, amendment
    FROM events WHERE event_type = 'correction';
DROP TABLE events;
CREATE VIEW events AS SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, amount, currency, merchant_category, channel, bill_kind, due_date,
    paid_date, loan_event, account_id, term_months, days_past_due, partner, item, deposit,
    returned_on_time, damage, unpaid_amount, court, case_number, listed_on, satisfied_on,
    judgment_status, dishonest_conduct, attribute, attribute_value, connection_action,
    counterpart_ref, counterpart_name, counterpart_national_id_hash, counterpart_phone_hash,
    conduct_kind, authority, reference, reported_by_media, consent_action, purpose,
    target_source, target_record_id, correction_action, reason, amendment FROM (
    SELECT * FROM events_payment
    UNION ALL BY NAME SELECT * FROM events_bill
    UNION ALL BY NAME SELECT * FROM events_loan
    UNION ALL BY NAME SELECT * FROM events_rental
    UNION ALL BY NAME SELECT * FROM events_court_judgment
    UNION ALL BY NAME SELECT * FROM events_attribute
    UNION ALL BY NAME SELECT * FROM events_connection
    UNION ALL BY NAME SELECT * FROM events_conduct
    UNION ALL BY NAME SELECT * FROM events_consent
    UNION ALL BY NAME SELECT * FROM events_correction
);
"""

_V8 = """
CREATE TABLE human_reviews (
    review_id VARCHAR PRIMARY KEY,
    person_id VARCHAR NOT NULL,
    decision_id VARCHAR,
    statement VARCHAR NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    outcome_note VARCHAR,
    decided_at TIMESTAMP,
    decided_by VARCHAR
);
"""

_V9 = """
ALTER TABLE disputes ADD COLUMN extended_at TIMESTAMP;
ALTER TABLE disputes ADD COLUMN needed VARCHAR;
ALTER TABLE disputes ADD COLUMN certification VARCHAR;
ALTER TABLE disputes ADD COLUMN appealed_at TIMESTAMP;
"""

_V10 = """
CREATE TABLE person_keys (
    person_id VARCHAR PRIMARY KEY,
    key BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE restrictions (
    person_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE TABLE rights_requests (
    request_id VARCHAR PRIMARY KEY,
    person_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    completed_at TIMESTAMP,
    removed JSON NOT NULL,
    refused JSON NOT NULL
);
CREATE TABLE fraud_alerts (
    alert_id VARCHAR PRIMARY KEY,
    person_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    report_reference VARCHAR,
    placed_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
"""

_V11 = """
CREATE TABLE protected_loads (
    load_id BIGINT PRIMARY KEY,
    file_name VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    id_kind VARCHAR NOT NULL,
    attributes VARCHAR[] NOT NULL,
    rows_loaded BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL
);
CREATE TABLE protected_attributes (
    id_hash VARCHAR NOT NULL,
    attribute VARCHAR NOT NULL,
    ciphertext BLOB NOT NULL,
    load_id BIGINT NOT NULL
);
"""

_V12 = """
CREATE TABLE partner_jurisdictions (
    partner_id VARCHAR PRIMARY KEY,
    jurisdiction VARCHAR NOT NULL
);
"""

_V13 = """
ALTER TABLE events_court_judgment ADD COLUMN basis_document VARCHAR;
ALTER TABLE events_court_judgment ADD COLUMN basis_issuer VARCHAR;
ALTER TABLE events_court_judgment ADD COLUMN obligation VARCHAR;
ALTER TABLE events_court_judgment ADD COLUMN performed_amount DECIMAL(18,2);
ALTER TABLE events_court_judgment ADD COLUMN notice_served_on DATE;
ALTER TABLE events_court_judgment ADD COLUMN extension_years BIGINT;
DROP VIEW events;
CREATE VIEW events AS SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, amount, currency, merchant_category, channel, bill_kind, due_date,
    paid_date, loan_event, account_id, term_months, days_past_due, partner, item, deposit,
    returned_on_time, damage, unpaid_amount, court, case_number, listed_on, satisfied_on,
    judgment_status, dishonest_conduct, basis_document, basis_issuer, obligation,
    performed_amount, notice_served_on, extension_years, attribute, attribute_value,
    connection_action, counterpart_ref, counterpart_name, counterpart_national_id_hash,
    counterpart_phone_hash, conduct_kind, authority, reference, reported_by_media,
    consent_action, purpose, target_source, target_record_id, correction_action, reason,
    amendment FROM (
    SELECT * FROM events_payment
    UNION ALL BY NAME SELECT * FROM events_bill
    UNION ALL BY NAME SELECT * FROM events_loan
    UNION ALL BY NAME SELECT * FROM events_rental
    UNION ALL BY NAME SELECT * FROM events_court_judgment
    UNION ALL BY NAME SELECT * FROM events_attribute
    UNION ALL BY NAME SELECT * FROM events_connection
    UNION ALL BY NAME SELECT * FROM events_conduct
    UNION ALL BY NAME SELECT * FROM events_consent
    UNION ALL BY NAME SELECT * FROM events_correction
);

ALTER TABLE partners ADD COLUMN address VARCHAR;
ALTER TABLE partners ADD COLUMN phone VARCHAR;
ALTER TABLE partners ADD COLUMN agency VARCHAR;
ALTER TABLE disputes ADD COLUMN furnisher_contact VARCHAR;
CREATE TABLE furnisher_notices (
    notice_id VARCHAR PRIMARY KEY,
    dispute_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    payload JSON NOT NULL,
    created_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    exported_at TIMESTAMP,
    export_file VARCHAR
);
"""

_V14 = """
CREATE TABLE request_tracking (
    request_id VARCHAR PRIMARY KEY,
    due_at TIMESTAMP NOT NULL,
    extended_at TIMESTAMP,
    extension_reason VARCHAR,
    statement VARCHAR,
    outcome_note VARCHAR,
    decided_by VARCHAR
);
"""

_V15 = """
ALTER TABLE identity_records ADD COLUMN origin VARCHAR;
ALTER TABLE identity_records ADD COLUMN name_exact VARCHAR;
ALTER TABLE identity_records ADD COLUMN name_ordered VARCHAR;
ALTER TABLE identity_records ADD COLUMN name_key VARCHAR;
ALTER TABLE identity_records ADD COLUMN address_norm VARCHAR;
ALTER TABLE identity_records ADD COLUMN address_tail VARCHAR;
ALTER TABLE identity_records ADD COLUMN id_sex VARCHAR;
"""

_V16 = """
ALTER TABLE fraud_alerts ADD COLUMN phone VARCHAR;
CREATE TABLE alert_referrals (
    referral_id VARCHAR PRIMARY KEY,
    alert_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    bureau VARCHAR NOT NULL,
    payload JSON NOT NULL,
    created_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    exported_at TIMESTAMP,
    export_file VARCHAR
);
ALTER TABLE disputes ADD COLUMN fix_due_at TIMESTAMP;
ALTER TABLE disputes ADD COLUMN fixed_at TIMESTAMP;
ALTER TABLE disputes ADD COLUMN first_decided_by VARCHAR;
"""

_V17 = """
DROP VIEW events;
ALTER TABLE events_payment DROP COLUMN event_type;
ALTER TABLE events_bill DROP COLUMN event_type;
ALTER TABLE events_loan DROP COLUMN event_type;
ALTER TABLE events_rental DROP COLUMN event_type;
ALTER TABLE events_court_judgment DROP COLUMN event_type;
ALTER TABLE events_attribute DROP COLUMN event_type;
ALTER TABLE events_connection DROP COLUMN event_type;
ALTER TABLE events_conduct DROP COLUMN event_type;
ALTER TABLE events_consent DROP COLUMN event_type;
ALTER TABLE events_correction DROP COLUMN event_type;
CREATE VIEW events AS SELECT event_id, event_type, source, load_id, row_no, recorded_at,
    source_record_id, occurred_at, subject_ref, name, birth_date, sex, national_id_hash,
    phone_hash, address, amount, currency, merchant_category, channel, bill_kind, due_date,
    paid_date, loan_event, account_id, term_months, days_past_due, partner, item, deposit,
    returned_on_time, damage, unpaid_amount, court, case_number, listed_on, satisfied_on,
    judgment_status, dishonest_conduct, basis_document, basis_issuer, obligation,
    performed_amount, notice_served_on, extension_years, attribute, attribute_value,
    connection_action, counterpart_ref, counterpart_name, counterpart_national_id_hash,
    counterpart_phone_hash, conduct_kind, authority, reference, reported_by_media,
    consent_action, purpose, target_source, target_record_id, correction_action, reason,
    amendment FROM (
    SELECT 'payment' AS event_type, * FROM events_payment
    UNION ALL BY NAME SELECT 'bill' AS event_type, * FROM events_bill
    UNION ALL BY NAME SELECT 'loan' AS event_type, * FROM events_loan
    UNION ALL BY NAME SELECT 'rental' AS event_type, * FROM events_rental
    UNION ALL BY NAME SELECT 'court_judgment' AS event_type, * FROM events_court_judgment
    UNION ALL BY NAME SELECT 'attribute' AS event_type, * FROM events_attribute
    UNION ALL BY NAME SELECT 'connection' AS event_type, * FROM events_connection
    UNION ALL BY NAME SELECT 'conduct' AS event_type, * FROM events_conduct
    UNION ALL BY NAME SELECT 'consent' AS event_type, * FROM events_consent
    UNION ALL BY NAME SELECT 'correction' AS event_type, * FROM events_correction
);
"""


def _v18() -> str:
    """Migration 18's text, spelled out from its own frozen lists: the four identifier hashes
    of every event table become UHUGEINT (the value of the 32 hexadecimal characters), and
    the ``events`` view turns them back into exactly the text it gave before (decision 0985).
    A stored value that is not 32 lowercase hexadecimal characters stops the migration with
    its table and column named: converted, it could not come back as the same text."""
    tables = {
        "payment": (), "bill": (), "loan": (), "rental": (), "court_judgment": (),
        "attribute": (), "connection": ("counterpart_national_id_hash", "counterpart_phone_hash"),
        "conduct": (), "consent": (), "correction": (),
    }  # fmt: skip
    out = ["DROP VIEW events;"]
    for event_type, extra in tables.items():
        for col in ("national_id_hash", "phone_hash", *extra):
            out.append(
                f"ALTER TABLE events_{event_type} ALTER COLUMN {col} SET DATA TYPE UHUGEINT USING"
                f" CASE WHEN {col} IS NULL THEN NULL WHEN regexp_full_match({col},"
                f" '[0-9a-f]{{32}}') THEN ('0x' || {col})::UHUGEINT ELSE error('migration 18:"
                f" events_{event_type}.{col} holds ' || {col} || ', not 32 lowercase"
                " hexadecimal characters (an identifier hash)') END;"
            )
    text = {
        c: f"printf('%032x', {c}) AS {c}"
        for c in (
            "national_id_hash", "phone_hash", "counterpart_national_id_hash",
            "counterpart_phone_hash",
        )
    }  # fmt: skip
    columns = (
        "event_id", "event_type", "source", "load_id", "row_no", "recorded_at",
        "source_record_id", "occurred_at", "subject_ref", "name", "birth_date", "sex",
        "national_id_hash", "phone_hash", "address", "amount", "currency", "merchant_category",
        "channel", "bill_kind", "due_date", "paid_date", "loan_event", "account_id",
        "term_months", "days_past_due", "partner", "item", "deposit", "returned_on_time",
        "damage", "unpaid_amount", "court", "case_number", "listed_on", "satisfied_on",
        "judgment_status", "dishonest_conduct", "basis_document", "basis_issuer", "obligation",
        "performed_amount", "notice_served_on", "extension_years", "attribute",
        "attribute_value", "connection_action", "counterpart_ref", "counterpart_name",
        "counterpart_national_id_hash", "counterpart_phone_hash", "conduct_kind", "authority",
        "reference", "reported_by_media", "consent_action", "purpose", "target_source",
        "target_record_id", "correction_action", "reason", "amendment",
    )  # fmt: skip
    # the event type is the table's, a constant per branch (migration 17)
    union = "\n    UNION ALL BY NAME ".join(
        f"SELECT '{t}' AS event_type, * FROM events_{t}" for t in tables
    )
    out.append(
        "CREATE VIEW events AS SELECT "
        + ", ".join(text.get(c, c) for c in columns)
        + f" FROM (\n    {union}\n);"
    )
    return "\n".join(out) + "\n"


_V18 = _v18()

# The vault's ciphertexts are random bytes (AES-GCM under a random nonce): DICT_FSST, which
# DuckDB picks for them, saves ~5% of their bytes for ~0.3 CPU-s per 500k written, and as much
# again when a checkpoint rewrites them. DuckDB cannot alter a column's compression, so the
# table is rebuilt with the same columns, rows and order (decision 0987).
_V19 = """
CREATE TABLE pii_vault_v19 (
    kind VARCHAR NOT NULL,
    hash VARCHAR NOT NULL,
    ciphertext BLOB NOT NULL USING COMPRESSION uncompressed,
    first_load_id BIGINT NOT NULL
);
INSERT INTO pii_vault_v19 SELECT kind, hash, ciphertext, first_load_id FROM pii_vault;
DROP TABLE pii_vault;
ALTER TABLE pii_vault_v19 RENAME TO pii_vault;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "sources, loads, events, quarantine, persons, audit log", _V1),
    Migration(2, "encrypted identifier vault, meta (key fingerprint)", _V2),
    Migration(3, "event_persons: which person each event is about (subject, counterpart)", _V3),
    Migration(
        4,
        "identity resolution: source records, links, review queue, merges and splits, models",
        _V4,
    ),
    Migration(5, "models, score runs and snapshots, points-regime ledgers and balances", _V5),
    Migration(
        6,
        "the service: partners, API keys, login codes, decisions, inquiries, freezes, disputes,"
        " webhook outbox",
        _V6,
    ),
    Migration(7, "events stored per type (events_<type>); events is their union view", _V7),
    Migration(8, "human reviews of automated decisions and scores (RULES R-GDPR-6)", _V8),
    Migration(
        9,
        "disputes extended, frivolous, reinserted, appealed (RULES R-FCRA-3/5/7, R-BL-4)",
        _V9,
    ),
    Migration(
        10,
        "per-person keys, restrictions, erasure requests, fraud alerts (RULES R-GDPR-4,"
        " R-PIPL-4, R-FCRA-16)",
        _V10,
    ),
    Migration(
        11,
        "protected attributes, their own source and table, values encrypted (SPEC S11)",
        _V11,
    ),
    Migration(
        12,
        "partners' jurisdictions: the rules profile each one's requests follow (decision 0648)",
        _V12,
    ),
    Migration(
        13,
        "court listings' basis, obligation, notice and extension (RULES R-BL-1/2/3); partners'"
        " address, phone and agency (R-ECOA-3); a reinsertion's furnisher contact (R-FCRA-7);"
        " furnisher notices (R-FCRA-4)",
        _V13,
    ),
    Migration(
        14,
        "rights requests tracked: due dates, extensions with reasons, objections (RULES"
        " R-GDPR-1, R-GDPR-5)",
        _V14,
    ),
    Migration(
        15,
        "identity records keep their linkage features, origin and verified-id sex, so an"
        " incremental resolve reads only new records and their neighbours (decision 0305)",
        _V15,
    ),
    Migration(
        16,
        "fraud alerts' phone and referrals to the other bureaus (RULES R-FCRA-16); a"
        " correction's fix timed, an appeal's first decider kept (R-BL-4)",
        _V16,
    ),
    Migration(
        17,
        "an event's type is its table's: the events view supplies it as a constant, no column"
        " stores it (decision 0990)",
        _V17,
    ),
    Migration(
        18,
        "the event tables' identifier hashes stored as 128-bit integers (UHUGEINT); the events"
        " view gives them as the same 32 hexadecimal characters (decision 0985)",
        _V18,
    ),
    Migration(
        19,
        "the vault's ciphertexts stored uncompressed: random bytes, which compression barely"
        " shrinks at a high CPU cost (decision 0987)",
        _V19,
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


EVENT_TYPES: tuple[str, ...] = (
    "payment", "bill", "loan", "rental", "court_judgment", "attribute", "connection",
    "conduct", "consent", "correction",
)  # fmt: skip
"""Every event type, in the one order used everywhere: the ingest models
(``credo.ingest.events.EVENT_MODELS``), the tables below and the dashboard's labels are keyed
by this list (the migrations above are history and spell their own out)."""

EVENT_TABLES: dict[str, str] = {t: f"events_{t}" for t in EVENT_TYPES}
"""Where each event type is stored; ``events`` is the view over all of them (migration 7)."""


def event_table(event_type: str) -> str:
    """The table a writer inserts an event of ``event_type`` into (readers use ``events``)."""
    try:
        return EVENT_TABLES[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None


EVENT_HASH_COLUMNS: tuple[str, ...] = (
    "national_id_hash", "phone_hash", "counterpart_national_id_hash", "counterpart_phone_hash",
)  # fmt: skip
"""The identifier hashes an event table stores as UHUGEINT (migration 18): the 128 bits of the
32 hexadecimal characters every other table, the vault and the ``events`` view hold."""

_HASH_HEX = re.compile(r"[0-9a-f]{32}")


def hash_text_sql(expr: str) -> str:
    """SQL turning a stored event hash (UHUGEINT) into its 32 lowercase hexadecimal characters,
    as the ``events`` view does; NULL stays NULL."""
    return f"printf('%032x', {expr})"


def hash_number_sql(expr: str) -> str:
    """SQL turning an identifier hash (text) into the UHUGEINT an event table stores; anything
    but 32 lowercase hexadecimal characters is an error naming the value, never a wrong number
    (a plain cast would read a text of digits as a decimal number)."""
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL WHEN regexp_full_match({expr}, '[0-9a-f]{{32}}')"
        f" THEN ('0x' || {expr})::UHUGEINT ELSE error('not an identifier hash (32 lowercase"
        f" hexadecimal characters): ' || {expr}) END"
    )


def hash_number(text: object) -> int | None:
    """``hash_number_sql`` in Python, for a value bound as a parameter."""
    if text is None:
        return None
    if not isinstance(text, str) or not _HASH_HEX.fullmatch(text):
        raise ValueError(f"not an identifier hash (32 lowercase hexadecimal characters): {text!r}")
    return int(text, 16)


def table_hash_columns(table: str) -> tuple[str, ...]:
    """The identifier hash columns of an event table: a connection's counterpart's two besides
    the subject's two every type has (migration 7)."""
    if table not in EVENT_TABLES.values():
        raise ValueError(f"not an event table: {table!r}")
    return EVENT_HASH_COLUMNS if table == EVENT_TABLES["connection"] else EVENT_HASH_COLUMNS[:2]


def hashes_as_text_sql(table: str) -> str:
    """``SELECT * <this> FROM <table>``: the event table's rows with their hashes as the text
    the ``events`` view gives. Whatever leaves the engine through Arrow (a Parquet export,
    ``to_arrow_table``) must read them so: DuckDB 2.0.1 hands a UHUGEINT to Arrow as a
    DECIMAL(38,0), wrong for every value of 2**127 or more (-1 for the largest)."""
    parts = ", ".join(f"{hash_text_sql(c)} AS {c}" for c in table_hash_columns(table))
    return f"REPLACE ({parts})"


def hashes_as_numbers_sql(table: str) -> str:
    """``SELECT * <this> FROM <rows>``: rows of an event table whose hashes are text (as
    ``hashes_as_text_sql`` gives them), ready to insert into it again."""
    parts = ", ".join(f"{hash_number_sql(c)} AS {c}" for c in table_hash_columns(table))
    return f"REPLACE ({parts})"


def stored_hashes(values: Mapping[str, Any]) -> dict[str, Any]:
    """An event's column values as its table stores them: each identifier hash given as text
    becomes the UHUGEINT of migration 18 (``hash_number``; a bad one raises). Bound as text,
    a hash would be cast by the engine: one of letters fails, one of digits only would be
    read as a decimal number, a wrong value without an error."""
    return {k: hash_number(v) if k in EVENT_HASH_COLUMNS else v for k, v in values.items()}


PROTECTED_TABLES: tuple[str, ...] = ("protected_attributes", "protected_loads")
"""Where protected attributes live (migration 11): read only by the fairness audit
(``credo.fairness.protected``); the feature SQL refuses any query naming them (SPEC S11)."""
