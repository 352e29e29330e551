-- Call-detail records and the append-only event log.
-- A CDR row is inserted when the call starts ('active') and updated at answer and at end, so a
-- kill -9 leaves an 'active' row that the next start turns into 'lost'.

CREATE TABLE calls (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    sip_call_id    TEXT    NOT NULL,
    direction      TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    caller         TEXT    NOT NULL,
    callee         TEXT    NOT NULL,
    did            TEXT,
    seat_id        TEXT,
    started_at     REAL    NOT NULL,            -- unix seconds
    answered_at    REAL,
    ended_at       REAL,
    duration       REAL,                        -- talk time: ended_at - answered_at, 0 if unanswered
    status         TEXT    NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'ended', 'lost')),
    end_reason     TEXT,
    hangup_by      TEXT,
    sip_status     INTEGER,
    recording_path TEXT
);

CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_seat_id ON calls (seat_id, started_at);
CREATE INDEX calls_caller ON calls (caller, started_at);
-- Only the few open calls: what mark_lost scans at start-up.
CREATE INDEX calls_active ON calls (status) WHERE status = 'active';

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,                      -- e.g. 'seat.registered'
    subject TEXT NOT NULL,                      -- what it is about, e.g. a seat id
    at      REAL NOT NULL,                      -- unix seconds
    data    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
);

CREATE INDEX events_kind_at ON events (kind, at);
CREATE INDEX events_subject_at ON events (subject, at);
