-- The audit log that holds up (docs/decisions.md#audit-chain):
-- * monthly partitions (UTC), dropped whole after the retention the owner sets in audit_policy
--   (`alpr migrate` writes AUDIT_RETENTION_DAYS there); a default partition catches a month
--   nobody made, and expires row by row;
-- * a hash chain: a sealer, running as the owner, gives each row in turn its place (seal_seq),
--   the hash before it (seal_prev) and its own hash (seal_hash, over the row's columns and
--   seal_prev). audit_chain holds the head, and the last place retention dropped, so
--   `alpr audit verify` tells a changed, deleted or missing row from an expired one.
-- The API (alpr_reader) inserts rows and may run the sealer and the expiry; it can change no row.

ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER INDEX audit_log_pkey RENAME TO audit_log_unpartitioned_pkey;
ALTER INDEX audit_log_at_idx RENAME TO audit_log_unpartitioned_at_idx;
ALTER INDEX audit_log_key_at_idx RENAME TO audit_log_unpartitioned_key_at_idx;

CREATE SEQUENCE audit_log_row_id_seq AS bigint;

CREATE TABLE audit_log (
    id            bigint NOT NULL DEFAULT nextval('audit_log_row_id_seq'),
    at            timestamptz NOT NULL DEFAULT now(),
    key_id        uuid REFERENCES api_keys (id),
    key_name      text NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}',
    status        integer NOT NULL,
    result_count  integer,
    client_addr   inet,
    purpose       text,
    seal_seq      bigint,
    seal_prev     bytea,
    seal_hash     bytea,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE audit_log_row_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_key_at_idx ON audit_log (key_id, at DESC);
CREATE INDEX audit_log_unsealed_idx ON audit_log (id) WHERE seal_seq IS NULL;
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

CREATE TABLE audit_policy (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    retention_days  integer NOT NULL CHECK (retention_days >= 1)
);
INSERT INTO audit_policy (retention_days) VALUES (365);

CREATE TABLE audit_chain (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq              bigint NOT NULL,   -- the last place given
    hash             bytea NOT NULL,    -- its hash
    expired_through  bigint NOT NULL    -- every place up to here may have been dropped
);
INSERT INTO audit_chain (seq, hash, expired_through) VALUES (0, sha256(''::bytea), 0);

-- A month's partition for each month from from_day's to to_day's; a month whose rows already
-- sit in the default partition is left there.
CREATE FUNCTION alpr_ensure_audit_partitions(from_day date, to_day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    month date;
BEGIN
    FOR month IN SELECT generate_series(date_trunc('month', from_day), to_day, interval '1 month')::date LOOP
        BEGIN
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
                'audit_log_p' || to_char(month, 'YYYYMM'),
                month::timestamp AT TIME ZONE 'UTC',
                (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        EXCEPTION WHEN check_violation THEN
            NULL;  -- rows of that month are in the default partition: they stay there
        END;
    END LOOP;
END
$fn$;

-- The row's hash: SHA-256 of the hash before it and of its columns, as JSON text written the
-- same way whatever the session's settings.
CREATE FUNCTION alpr_audit_digest(prev bytea, entry audit_log) RETURNS bytea
LANGUAGE sql STABLE SET timezone = 'UTC' SET datestyle = 'ISO, YMD' AS $fn$
    SELECT sha256(prev || convert_to(jsonb_build_array(
        entry.id, entry.at, entry.key_id, entry.key_name, entry.method, entry.path, entry.params,
        entry.status, entry.result_count, entry.client_addr, entry.purpose)::text, 'UTF8'))
$fn$;

-- Seal up to max_rows unsealed rows, oldest first; how many were sealed.
CREATE FUNCTION alpr_seal_audit(max_rows integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    head_seq bigint;
    head_hash bytea;
    unsealed record;
    sealed integer := 0;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain FOR UPDATE;
    FOR unsealed IN
        SELECT id, at FROM audit_log WHERE seal_seq IS NULL ORDER BY id LIMIT max_rows
    LOOP
        head_seq := head_seq + 1;
        UPDATE audit_log a
        SET seal_seq = head_seq, seal_prev = head_hash, seal_hash = alpr_audit_digest(head_hash, a)
        WHERE a.id = unsealed.id AND a.at = unsealed.at
        RETURNING a.seal_hash INTO head_hash;
        sealed := sealed + 1;
    END LOOP;
    UPDATE audit_chain SET seq = head_seq, hash = head_hash;
    RETURN sealed;
END
$fn$;

-- Apply audit_policy: seal what is left, make the next months' partitions, drop the months past
-- retention and delete the default partition's expired rows. How many rows went.
CREATE FUNCTION alpr_expire_audit() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $fn$
DECLARE
    cutoff timestamptz;
    expired record;
    last_place bigint;
    removed bigint := 0;
    rows_in bigint;
BEGIN
    SELECT now() - make_interval(days => retention_days) INTO cutoff FROM audit_policy;
    PERFORM alpr_seal_audit(2147483647);
    PERFORM alpr_ensure_audit_partitions(current_date, (current_date + interval '3 months')::date);
    FOR expired IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_p[0-9]{6}$'
          AND (to_date(substring(c.relname FROM '[0-9]{6}$'), 'YYYYMM') + interval '1 month')
              ::timestamp AT TIME ZONE 'UTC' <= cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT max(seal_seq), count(*) FROM %I', expired.relname) INTO last_place, rows_in;
        UPDATE audit_chain SET expired_through = greatest(expired_through, coalesce(last_place, 0));
        EXECUTE format('DROP TABLE %I', expired.relname);
        removed := removed + rows_in;
    END LOOP;
    SELECT max(seal_seq) INTO last_place FROM audit_log_default WHERE at < cutoff;
    UPDATE audit_chain SET expired_through = greatest(expired_through, coalesce(last_place, 0));
    DELETE FROM audit_log_default WHERE at < cutoff;
    GET DIAGNOSTICS rows_in = ROW_COUNT;
    RETURN removed + rows_in;
END
$fn$;

SELECT alpr_ensure_audit_partitions(
    least(current_date, (SELECT min(at)::date FROM audit_log_unpartitioned)),
    (current_date + interval '3 months')::date);
INSERT INTO audit_log (id, at, key_id, key_name, method, path, params, status, result_count,
                       client_addr, purpose)
SELECT id, at, key_id, key_name, method, path, params, status, result_count, client_addr, purpose
FROM audit_log_unpartitioned ORDER BY id;
SELECT setval('audit_log_row_id_seq', max(id)) FROM audit_log HAVING max(id) IS NOT NULL;
DROP TABLE audit_log_unpartitioned;

REVOKE EXECUTE ON FUNCTION alpr_ensure_audit_partitions(date, date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION alpr_seal_audit(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION alpr_expire_audit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alpr_seal_audit(integer) TO alpr_reader;
GRANT EXECUTE ON FUNCTION alpr_expire_audit() TO alpr_reader;
GRANT SELECT, INSERT ON audit_log TO alpr_reader;
GRANT USAGE ON SEQUENCE audit_log_row_id_seq TO alpr_reader;
GRANT SELECT ON audit_policy, audit_chain TO alpr_reader;
