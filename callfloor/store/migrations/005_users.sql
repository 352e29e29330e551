-- Web users and their roles, login sessions, failed logins (for throttling) and the audit log.
--
-- A session row stores only the SHA-256 of the session token: a copy of the database does not
-- let anyone log in. Sessions end when idle too long (last_seen) or at expires_at, whichever
-- comes first; the idle limit is a setting, so it is not stored per row.
-- The audit log is append-only: who did what to which subject, and when.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,         -- lower case, [a-z0-9._@-]
    name          TEXT NOT NULL DEFAULT '',     -- display name
    role          TEXT NOT NULL CHECK (role IN ('seat', 'lead', 'qa', 'admin')),
    seat_id       TEXT,                         -- the seat a 'seat' user is (required for them)
    team          TEXT,                         -- a lead's team; NULL: every team
    lang          TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'zh')),
    password_hash TEXT NOT NULL,                -- argon2id, PHC string
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    CHECK (role != 'seat' OR seat_id IS NOT NULL)
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the cookie's token
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   REAL NOT NULL,
    last_seen    REAL NOT NULL,
    expires_at   REAL NOT NULL,                 -- absolute expiry
    csrf_token   TEXT NOT NULL,                 -- synchronizer token of this session
    user_agent   TEXT,
    address      TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,                     -- as typed (lower case), known or not
    address  TEXT NOT NULL,                     -- the client address
    at       REAL NOT NULL
);

CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      REAL NOT NULL,
    actor   TEXT NOT NULL,                      -- a username, 'cli:<os user>', 'watcher', ...
    action  TEXT NOT NULL,                      -- 'login', 'seat.move', 'recording.play', ...
    subject TEXT NOT NULL,                      -- 'user:ann', 'seat:1001', 'call:<uuid>', ...
    detail  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);

CREATE INDEX audit_at ON audit_log (at);
CREATE INDEX audit_actor ON audit_log (actor, at);
CREATE INDEX audit_subject ON audit_log (subject, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
