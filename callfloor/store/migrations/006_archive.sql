-- The recordings archive: one row per recording archived to FLAC, its checksum and retention,
-- and the recordings that could not be archived (reported, left in place).
--
-- The archiver's rule: a row is inserted only after its FLAC is stored and read back verified,
-- and the WAV is deleted only after the row is committed. So a row without its WAV is the normal
-- end state, and a WAV without a row is simply not archived yet.

CREATE TABLE archive (
    id              INTEGER PRIMARY KEY,
    call_uuid       TEXT    NOT NULL,           -- calls.uuid
    source_path     TEXT    NOT NULL UNIQUE,    -- the WAV, relative to the recordings directory
    storage_key     TEXT    NOT NULL,           -- e.g. '2026/01/02/<uuid>.flac'
    backend         TEXT    NOT NULL CHECK (backend IN ('dir', 's3')),
    sha256          TEXT    NOT NULL CHECK (length(sha256) = 64),
    bytes           INTEGER NOT NULL,
    frames          INTEGER NOT NULL,
    duration        REAL    NOT NULL,           -- seconds of audio
    sample_rate     INTEGER NOT NULL,
    queue           TEXT,                       -- the ACD queue the call waited in, if any
    campaign_id     TEXT,                       -- the dialer campaign, for dialer calls
    archived_at     REAL    NOT NULL,           -- unix seconds
    retention_class TEXT    NOT NULL DEFAULT 'default',
    delete_after    REAL,                       -- NULL: kept for ever
    hold            INTEGER NOT NULL DEFAULT 0, -- 1: never deleted (an open complaint)
    hold_reason     TEXT,
    deleted_at      REAL,                       -- set when retention removed the FLAC
    source_removed  INTEGER NOT NULL DEFAULT 0  -- 1 once the WAV is deleted (the last step)
);

CREATE INDEX archive_call ON archive (call_uuid);
CREATE INDEX archive_unfinished ON archive (id) WHERE source_removed = 0;
CREATE INDEX archive_due ON archive (delete_after) WHERE deleted_at IS NULL AND hold = 0;
CREATE INDEX archive_campaign ON archive (campaign_id, archived_at);
CREATE INDEX archive_queue ON archive (queue, archived_at);
-- The callee number for finding a complaint's call (calls_caller exists already).
CREATE INDEX calls_callee ON calls (callee, started_at);

CREATE TABLE archive_problems (
    source_path TEXT PRIMARY KEY,               -- the WAV, relative to the recordings directory
    call_uuid   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          REAL NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    retry       INTEGER NOT NULL DEFAULT 0      -- 1: try again on the next run (archive run --retry)
);
