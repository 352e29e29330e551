-- Every definition a campaign has had (docs/campaigns.md, "History"): one row per change of its
-- settings, written in the same transaction as the change to `campaigns`. A campaign file that
-- takes over the id of a campaign made over the HTTP API replaces that row, and the API's
-- definition stays here; so does each version a PATCH or POST replaced.
--
-- A campaign made over the API can be deleted (DELETE /api/campaigns/<id>): its row stays, with
-- `deleted_at` set, because its leads, attempts and dispositions refer to it (the reports of the
-- days it ran); it no longer runs, lists or takes leads. A POST of its id brings it back.

ALTER TABLE campaigns ADD COLUMN deleted_at REAL;  -- NULL: not deleted

CREATE TABLE campaign_versions (
    id           INTEGER PRIMARY KEY,
    campaign_id  TEXT    NOT NULL REFERENCES campaigns (id),
    source       TEXT    NOT NULL,               -- 'file' or 'api', as campaigns.source
    change       TEXT    NOT NULL,               -- 'created', 'updated', 'started', 'stopped',
                                                 -- 'deleted', 'file-took-over', 'file-removed',
                                                 -- 'existing'
    config       TEXT    NOT NULL CHECK (json_valid(config)),  -- the settings from then on
    changed_by   TEXT,                           -- a user, 'api:<client>'; NULL: a file sync
    at           REAL    NOT NULL
);
CREATE INDEX campaign_versions_by_campaign ON campaign_versions (campaign_id, id);

-- The campaigns stored before this table: their one known version.
INSERT INTO campaign_versions (campaign_id, source, change, config, changed_by, at)
    SELECT id, source, 'existing', config, NULL, updated_at FROM campaigns ORDER BY id;
