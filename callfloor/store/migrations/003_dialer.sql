-- The outbound dialer: campaigns, their leads, the attempt ledger, do-not-call lists,
-- dispositions and scheduled callbacks.
--
-- The ledger's rule: an attempt row is committed ('dialing') before its INVITE leaves, and closed
-- with an outcome when the call ends. At start-up an attempt still 'dialing' is closed as 'lost'
-- (it may have rung the customer): it counts as an attempt and is never dialled again as itself.

CREATE TABLE campaigns (
    id          TEXT PRIMARY KEY,               -- e.g. 'renewals'
    name        TEXT NOT NULL,
    config      TEXT NOT NULL CHECK (json_valid(config)),  -- the campaign's settings as loaded
    source      TEXT NOT NULL DEFAULT 'file',   -- 'file' (config/campaigns/*.toml) or 'api'
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE leads (
    id            INTEGER PRIMARY KEY,
    campaign_id   TEXT NOT NULL REFERENCES campaigns (id),
    number        TEXT NOT NULL,                -- E.164, '+' and digits
    name          TEXT,
    data          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),  -- the CSV's other columns
    time_zone     TEXT,                         -- IANA zone from the number; NULL: unknown, held
    status        TEXT NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'retry', 'callback', 'done', 'dnc', 'held')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       REAL,                         -- not before this (retry delay, callback time)
    last_outcome  TEXT,
    callback_seat TEXT,                         -- a callback reserved for this seat
    imported_at   REAL NOT NULL,
    import_line   INTEGER,                      -- the CSV line it came from (the first, if merged)
    UNIQUE (campaign_id, number)
);

CREATE INDEX leads_due ON leads (campaign_id, status, next_at);

CREATE TABLE attempts (
    id           INTEGER PRIMARY KEY,
    lead_id      INTEGER NOT NULL REFERENCES leads (id),
    campaign_id  TEXT NOT NULL,
    number       TEXT NOT NULL,
    call_uuid    TEXT NOT NULL UNIQUE,          -- the CDR's uuid (calls.uuid) once it exists
    mode         TEXT NOT NULL,                 -- the pacing mode that launched it
    state        TEXT NOT NULL DEFAULT 'dialing' CHECK (state IN ('dialing', 'closed')),
    outcome      TEXT CHECK (outcome IN ('answered', 'abandoned', 'busy', 'no_answer', 'machine',
                                          'rejected', 'network_error', 'cancelled', 'lost')),
    sip_status   INTEGER,
    created_at   REAL NOT NULL,                 -- committed before the INVITE
    answered_at  REAL,                          -- a 200 OK: a live answer or a machine
    connected_at REAL,                          -- bridged to a seat
    seat_id      TEXT,
    amd          TEXT,                          -- 'human', 'machine', 'unknown' or NULL (off)
    closed_at    REAL
);

CREATE INDEX attempts_open ON attempts (state) WHERE state = 'dialing';
CREATE INDEX attempts_number ON attempts (number, created_at);
CREATE INDEX attempts_campaign ON attempts (campaign_id, created_at);
CREATE INDEX attempts_seat ON attempts (seat_id, created_at);

-- campaign_id '' is the global list (complaints, a seat's do-not-call disposition).
CREATE TABLE dnc (
    number      TEXT NOT NULL,
    campaign_id TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL,
    source      TEXT NOT NULL,                  -- 'complaint', 'disposition', 'import', 'api'
    added_by    TEXT,
    added_at    REAL NOT NULL,
    PRIMARY KEY (number, campaign_id)
);

CREATE TABLE dispositions (
    id          INTEGER PRIMARY KEY,
    attempt_id  INTEGER NOT NULL REFERENCES attempts (id),
    lead_id     INTEGER NOT NULL REFERENCES leads (id),
    campaign_id TEXT NOT NULL,
    seat_id     TEXT NOT NULL,
    code        TEXT NOT NULL,                  -- one of the campaign's dispositions
    kind        TEXT NOT NULL CHECK (kind IN ('conversion', 'refusal', 'callback', 'dnc', 'other')),
    note        TEXT,
    at          REAL NOT NULL,
    UNIQUE (attempt_id)
);

CREATE INDEX dispositions_seat ON dispositions (seat_id, at);

CREATE TABLE callbacks (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads (id),
    campaign_id TEXT NOT NULL,
    seat_id     TEXT,                           -- NULL: any seat of the campaign
    due_at      REAL NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  REAL NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'cancelled'))
);

CREATE INDEX callbacks_due ON callbacks (state, due_at);
