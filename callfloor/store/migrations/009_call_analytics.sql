-- Audio analytics of every archived call (recordings/analytics.py, docs/analytics.md): one row per
-- call, written by the archive job in the same transaction as the call's archive row, or later by
-- `callfloor archive analyse`. The figures are columns (named as in CallAnalytics.to_json(), a
-- side's prefixed with customer_ / agent_) so that reports and QA sampling can query them; the
-- full JSON keeps every figure and the segments behind them (the QA player's markers).

CREATE TABLE call_analytics (
    id                      INTEGER PRIMARY KEY,
    call_uuid               TEXT    NOT NULL UNIQUE,  -- calls.uuid
    source_path             TEXT    NOT NULL,         -- the recording analysed (relative WAV path)
    analysed_at             REAL    NOT NULL,         -- unix seconds
    config_version          TEXT    NOT NULL,         -- digest of the AnalyticsConfig used
    duration_s              REAL    NOT NULL,
    customer_talk_s         REAL    NOT NULL,
    agent_talk_s            REAL    NOT NULL,
    customer_turns          INTEGER NOT NULL,
    agent_turns             INTEGER NOT NULL,
    agent_talk_ratio        REAL,                     -- NULL: nobody talks
    silence_s               REAL    NOT NULL,
    silence_share           REAL    NOT NULL,         -- of the call
    dead_air_s              REAL    NOT NULL,
    longest_dead_air_s      REAL    NOT NULL,
    longest_dead_air_start  REAL,
    overtalk_s              REAL    NOT NULL,
    overtalk_count          INTEGER NOT NULL,
    overtalk_share          REAL    NOT NULL,         -- of the time anyone talks
    agent_interruptions     INTEGER NOT NULL,
    hold_s                  REAL    NOT NULL,
    hold_count              INTEGER NOT NULL,
    customer_rms_dbfs       REAL    NOT NULL,
    agent_rms_dbfs          REAL    NOT NULL,
    customer_loudness_lufs  REAL,                     -- NULL: no block passes the -70 LUFS gate
    agent_loudness_lufs     REAL,
    customer_clipped_share  REAL    NOT NULL,
    agent_clipped_share     REAL    NOT NULL,
    customer_clip_runs      INTEGER NOT NULL,
    agent_clip_runs         INTEGER NOT NULL,
    flags                   TEXT    NOT NULL DEFAULT '[]',  -- JSON array of recordings.analytics.FLAGS
    analytics               TEXT    NOT NULL          -- CallAnalytics.to_json(): figures and segments
);
