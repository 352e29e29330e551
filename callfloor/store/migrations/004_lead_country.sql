-- The lead's country (ISO 3166 alpha-2, from its number by phonenumbers), because calling
-- windows, holidays and legal limits are per country while time zones are shared between
-- countries (America/New_York is the US's and not Canada's; Europe/London also serves Guernsey).
-- The dialer evaluates each distinct (time_zone, country) of a campaign once per tick and
-- selects leads whose pair is open now; leads_zone keeps that lookup off a full scan.

ALTER TABLE leads ADD COLUMN country TEXT;

CREATE INDEX leads_zone ON leads (campaign_id, time_zone, country);
