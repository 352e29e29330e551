-- What the IVR learned about a call travels into its record: the variables set by the flow
-- (JSON object) and the caller's post-call survey score.
ALTER TABLE calls ADD COLUMN variables TEXT;
ALTER TABLE calls ADD COLUMN survey_score INTEGER;
