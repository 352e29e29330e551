-- Quality inspection (QA): scoring forms by version, the daily samples with their inclusion
-- probabilities, evaluations with defects, disputes, and calibration sessions. docs/qa.md.

-- A form version is written once: evaluations refer to (form_id, version) for good.
CREATE TABLE qa_forms (
    form_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL CHECK (json_valid(body)),  -- the form as loaded (qa.forms.Form)
    loaded_at  REAL NOT NULL,
    PRIMARY KEY (form_id, version)
);

-- One row per drawn day: the seed reproduces every pick.
CREATE TABLE qa_sample_days (
    day        TEXT PRIMARY KEY,                 -- local day, YYYY-MM-DD
    seed       INTEGER NOT NULL,
    policy     TEXT NOT NULL CHECK (json_valid(policy)),  -- the SamplingPolicy used
    calls      INTEGER NOT NULL,                 -- answered calls with a seat that day
    drawn_at   REAL NOT NULL
);

CREATE TABLE qa_samples (
    id           INTEGER PRIMARY KEY,
    day          TEXT NOT NULL REFERENCES qa_sample_days (day),
    seat_id      TEXT NOT NULL,
    team_id      TEXT,
    call_uuid    TEXT NOT NULL,                  -- calls.uuid
    stratum      TEXT NOT NULL CHECK (stratum IN ('risk', 'random')),
    stratum_size INTEGER NOT NULL CHECK (stratum_size >= 1),   -- N_h
    drawn        INTEGER NOT NULL CHECK (drawn BETWEEN 1 AND stratum_size),  -- n_h
    probability  REAL NOT NULL CHECK (probability > 0 AND probability <= 1), -- n_h / N_h
    flags        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(flags)),
    seed         INTEGER NOT NULL,
    UNIQUE (call_uuid)
);

CREATE INDEX qa_samples_day ON qa_samples (day, seat_id);

-- status: submitted, disputed, in_review, upheld, accepted (qa.disputes.Status) or revised
-- (replaced by the row whose `revises` names it). Reports read the rows that are not revised.
CREATE TABLE qa_evaluations (
    id           INTEGER PRIMARY KEY,
    call_uuid    TEXT NOT NULL,
    seat_id      TEXT NOT NULL,
    team_id      TEXT,
    form_id      TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    reviewer     TEXT NOT NULL,
    answers      TEXT NOT NULL CHECK (json_valid(answers)),  -- item id -> true/false/point/null
    score        REAL NOT NULL CHECK (score BETWEEN 0 AND 100),
    unvetoed     REAL NOT NULL,                  -- the score before a veto
    veto         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(veto)),  -- failed veto items
    coaching     TEXT NOT NULL DEFAULT '',
    submitted_at REAL NOT NULL,
    status       TEXT NOT NULL DEFAULT 'submitted'
                 CHECK (status IN ('submitted', 'disputed', 'in_review', 'upheld', 'revised', 'accepted')),
    revises      INTEGER REFERENCES qa_evaluations (id),
    FOREIGN KEY (form_id, form_version) REFERENCES qa_forms (form_id, version)
);

-- One current evaluation per call.
CREATE UNIQUE INDEX qa_evaluations_current ON qa_evaluations (call_uuid) WHERE status != 'revised';
CREATE INDEX qa_evaluations_submitted ON qa_evaluations (submitted_at);
CREATE INDEX qa_evaluations_seat ON qa_evaluations (seat_id, submitted_at);

CREATE TABLE qa_defects (
    id            INTEGER PRIMARY KEY,
    evaluation_id INTEGER NOT NULL REFERENCES qa_evaluations (id),
    category      TEXT NOT NULL,
    at_s          REAL,                          -- seconds into the call
    note          TEXT NOT NULL DEFAULT ''
);

CREATE INDEX qa_defects_evaluation ON qa_defects (evaluation_id);

CREATE TABLE qa_disputes (
    evaluation_id   INTEGER PRIMARY KEY REFERENCES qa_evaluations (id),  -- once per evaluation
    seat_id         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    disputed_at     REAL NOT NULL,
    second_reviewer TEXT,
    decision        TEXT CHECK (decision IN ('upheld', 'revised')),
    decision_note   TEXT,
    decided_at      REAL,
    revision_id     INTEGER REFERENCES qa_evaluations (id)
);

CREATE TABLE qa_calibrations (
    id           INTEGER PRIMARY KEY,
    call_uuid    TEXT NOT NULL,
    form_id      TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    FOREIGN KEY (form_id, form_version) REFERENCES qa_forms (form_id, version)
);

CREATE TABLE qa_calibration_ratings (
    calibration_id INTEGER NOT NULL REFERENCES qa_calibrations (id),
    reviewer       TEXT NOT NULL,
    answers        TEXT NOT NULL CHECK (json_valid(answers)),
    score          REAL NOT NULL,
    rated_at       REAL NOT NULL,
    PRIMARY KEY (calibration_id, reviewer)
);
