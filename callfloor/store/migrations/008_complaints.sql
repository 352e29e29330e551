-- Complaints: cases with their follow-up steps and linked calls, the legal holds on those calls'
-- recordings, and blacklist records (docs/complaints.md).
--
-- A blacklist record is the reason behind a do-not-call entry: while a record is 'active' its
-- number is on the dialer's own `dnc` table (source 'blacklist'; campaign_id '' global, as
-- there), written in the same transaction as the record and its audit row. The dialer checks
-- `dnc` at dial time (next_leads, open_attempt) and knows nothing of this table.

CREATE TABLE complaints (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL,                  -- E.164
    approx_at    REAL NOT NULL,                  -- when the customer says the call was
    tolerance_s  REAL NOT NULL CHECK (tolerance_s > 0),
    channel      TEXT NOT NULL
                 CHECK (channel IN ('phone', 'email', 'web', 'letter', 'in_person', 'regulator', 'other')),
    description  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'investigating', 'awaiting_customer', 'closed')),
    outcome      TEXT CHECK (outcome IN ('upheld', 'partly_upheld', 'groundless', 'withdrawn')),
    outcome_note TEXT,
    opened_by    TEXT NOT NULL,
    opened_at    REAL NOT NULL,
    updated_at   REAL NOT NULL,
    closed_at    REAL,
    CHECK ((state = 'closed') = (outcome IS NOT NULL))
);

CREATE INDEX complaints_number ON complaints (number, opened_at);
CREATE INDEX complaints_state ON complaints (state, opened_at);

CREATE TABLE complaint_steps (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    text         TEXT NOT NULL,
    due_at       REAL,
    done_at      REAL,
    done_by      TEXT,
    created_by   TEXT NOT NULL,
    created_at   REAL NOT NULL
);

CREATE INDEX complaint_steps_case ON complaint_steps (complaint_id);

CREATE TABLE complaint_calls (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    call_uuid    TEXT NOT NULL,                  -- calls.uuid
    linked_by    TEXT NOT NULL,
    linked_at    REAL NOT NULL,
    PRIMARY KEY (complaint_id, call_uuid)
);

CREATE INDEX complaint_calls_call ON complaint_calls (call_uuid);

-- The contract with the recordings archive's retention: a call with a row here whose
-- released_at is NULL must not be deleted, whatever its retention class. A hold is written when
-- a call is linked to a case (case_id set) or named by a blacklist record (blacklist_id set),
-- and released when the case closes, the call is unlinked, or the record ends.
CREATE TABLE recording_holds (
    id           INTEGER PRIMARY KEY,
    call_uuid    TEXT NOT NULL,
    reason       TEXT NOT NULL,                  -- 'complaint 12', 'blacklist 3'
    case_id      INTEGER REFERENCES complaints (id),
    blacklist_id INTEGER,
    held_at      REAL NOT NULL,
    released_at  REAL
);

CREATE INDEX recording_holds_open ON recording_holds (call_uuid) WHERE released_at IS NULL;

CREATE TABLE blacklist (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL,                  -- E.164
    campaign_id  TEXT NOT NULL DEFAULT '',       -- '' the global list, else one campaign's
    reason       TEXT NOT NULL,
    complaint_id INTEGER REFERENCES complaints (id),
    call_uuid    TEXT,                           -- the recording behind it
    state        TEXT NOT NULL DEFAULT 'proposed'
                 CHECK (state IN ('proposed', 'active', 'rejected', 'expired', 'revoked')),
    expires_at   REAL,                           -- NULL: until revoked
    proposed_by  TEXT NOT NULL,
    proposed_at  REAL NOT NULL,
    approved_by  TEXT,
    approved_at  REAL,
    ended_by     TEXT,
    ended_at     REAL,
    end_reason   TEXT,
    CHECK (state != 'active' OR approved_by IS NOT NULL)
);

CREATE INDEX blacklist_number ON blacklist (number, campaign_id, state);
CREATE INDEX blacklist_due ON blacklist (expires_at) WHERE state = 'active';
