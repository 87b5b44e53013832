-- Keys that expire, with the time they were last used and the key that replaced them; the
-- client address of each audited request, and the purpose stated for a search.

ALTER TABLE api_keys
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN replaced_by  uuid REFERENCES api_keys (id);

ALTER TABLE audit_log ADD COLUMN client_addr inet, ADD COLUMN purpose text;

-- Recording when a key was last used changes nothing a cached key depends on, so it notifies
-- nobody; every other change still makes each API process forget the keys it remembers.
DROP TRIGGER api_keys_changed ON api_keys;
CREATE TRIGGER api_keys_changed
    AFTER UPDATE OF name, key_hash, role, sites, cameras, revoked_at, expires_at ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION alpr_api_keys_changed();
CREATE TRIGGER api_keys_removed AFTER DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION alpr_api_keys_changed();
