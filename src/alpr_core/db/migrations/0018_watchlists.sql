-- Watchlists: lists of plates an operator wants to be told about (docs/decisions.md#watchlists).
-- A list has a priority, an owner, the sites it belongs to (NULL: every site), and how long its
-- alerts are kept. An entry names a plate and how it matches, why it is listed (a reason, a
-- reference such as a case number), when it is valid, and optional restrictions to cameras,
-- sites, directions of travel and hours of the week. Keys with the `watchlist` role (or admin)
-- manage them; a key limited to sites sees only the lists of its sites.

ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('viewer', 'admin', 'ingest', 'watchlist'));

CREATE TABLE watchlists (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    priority        text NOT NULL CHECK (priority IN ('info', 'warning', 'critical')),
    owner           text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    sites           text[] CHECK (sites IS NULL OR cardinality(sites) BETWEEN 1 AND 100),
    retention_days  integer NOT NULL DEFAULT 365 CHECK (retention_days BETWEEN 1 AND 3650),
    created_by      uuid REFERENCES api_keys (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE watchlist_entries (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    watchlist_id      uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    plate             text NOT NULL CHECK (length(plate) BETWEEN 1 AND 32),
    plate_normalized  text NOT NULL CHECK (plate_normalized ~ '^[A-Z0-9?*]{1,32}$'),
    match_mode        text NOT NULL CHECK (match_mode IN ('exact', 'fuzzy', 'wildcard')),
    max_distance      integer NOT NULL DEFAULT 0 CHECK (max_distance BETWEEN 0 AND 2),
    reason            text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    reference         text NOT NULL DEFAULT '' CHECK (length(reference) <= 200),
    valid_from        timestamptz,
    valid_until       timestamptz,
    cameras           text[],
    sites             text[],
    directions        text[],
    hours_of_week     smallint[],  -- 0 = Monday 00:00-01:00 UTC ... 167 = Sunday 23:00-24:00
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until),
    CHECK (match_mode = 'fuzzy' OR max_distance = 0),
    CHECK (hours_of_week IS NULL OR (0 <= ALL (hours_of_week) AND 167 >= ALL (hours_of_week))),
    UNIQUE (watchlist_id, plate_normalized, reference)
);
CREATE INDEX watchlist_entries_plate_idx ON watchlist_entries (plate_normalized);

GRANT SELECT ON watchlists, watchlist_entries TO alpr_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON watchlists, watchlist_entries TO alpr_reader;
