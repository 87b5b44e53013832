-- Sessions of the browser console (docs/decisions.md#console): an operator signs in with an API
-- key, which is exchanged for a random session token kept in an HttpOnly cookie. Only the
-- token's SHA-256 is stored, with the key it acts as and a CSRF token for the session's changes.
-- A session is valid while it has not expired and its key is valid: revoking or expiring the key
-- ends its sessions at once, since every request looks its session up with the key.
CREATE TABLE console_sessions (
    token_hash  bytea PRIMARY KEY,
    key_id      uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX console_sessions_key_idx ON console_sessions (key_id);
CREATE INDEX console_sessions_expiry_idx ON console_sessions (expires_at);

GRANT SELECT, INSERT, DELETE ON console_sessions TO alpr_reader;
