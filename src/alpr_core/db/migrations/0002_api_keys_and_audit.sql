-- API keys and the audit log of plate queries.
--
-- A key is a random token shown once when it is created; only its SHA-256 is stored (the token
-- has 256 bits of entropy, so a fast hash is safe and lookups stay one index probe). A key may be
-- limited to some sites and/or cameras: NULL means no limit.

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('viewer', 'admin', 'ingest')),
    sites       text[],
    cameras     text[],
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Who asked what, when, and how many results they got: what police and privacy guidance asks
-- of ALPR systems. Written by the API for every plate query; readable by admins.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    key_id        uuid REFERENCES api_keys (id),
    key_name      text NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}',
    status        integer NOT NULL,
    result_count  integer
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_key_at_idx ON audit_log (key_id, at DESC);
