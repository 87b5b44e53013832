-- Tell the API processes when keys change, so a revocation takes effect at once even though
-- each process remembers the keys it has seen (alpr_core.api.key_cache).

CREATE FUNCTION alpr_api_keys_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('alpr_api_keys', '');
    RETURN NULL;
END
$fn$;

CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION alpr_api_keys_changed();
