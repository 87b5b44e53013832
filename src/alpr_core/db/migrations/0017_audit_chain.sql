-- The audit log that holds up (docs/decisions.md#audit-chain):
-- * monthly partitions (UTC), dropped whole after the retention the owner sets in audit_policy
--   (`alpr migrate` writes AUDIT_RETENTION_DAYS there); a default partition catches a month
--   nobody made, and expires row by row;
-- * a hash chain over blocks of rows: a sealer, running as the owner, takes the rows written
--   since the last block (by id, once no statement that could still write a smaller id can be
--   running) and appends one row to audit_seals: the block's id range, its row count, the hash
--   before it and its own hash, over the rows' columns. Rows are never updated. audit_chain holds
--   the head and the last block retention reached, so `alpr audit verify` tells a changed,
--   deleted or missing row from an expired one.
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
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE audit_log_row_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_key_at_idx ON audit_log (key_id, at DESC);
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

CREATE TABLE audit_policy (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    retention_days  integer NOT NULL CHECK (retention_days >= 1)
);
INSERT INTO audit_policy (retention_days) VALUES (365);

CREATE TABLE audit_seals (
    seq        bigint PRIMARY KEY,
    first_id   bigint NOT NULL,          -- the block: the audit rows first_id <= id <= last_id
    last_id    bigint NOT NULL CHECK (last_id >= first_id),
    row_count  bigint NOT NULL,
    sealed_at  timestamptz NOT NULL DEFAULT now(),
    prev       bytea NOT NULL,           -- the hash of the block before
    hash       bytea NOT NULL
);

CREATE TABLE audit_chain (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq              bigint NOT NULL,   -- the last block
    hash             bytea NOT NULL,    -- its hash
    last_id          bigint NOT NULL,   -- the last audit row it covers
    expired_through  bigint NOT NULL    -- every block up to here may have lost rows to retention
);
INSERT INTO audit_chain (seq, hash, last_id, expired_through) VALUES (0, sha256(''::bytea), 0, 0);

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

-- A block's hash: SHA-256 of the hash before it, its id range, how many rows it has and the
-- rows' columns as JSON text in id order, written the same way whatever the session's settings.
CREATE FUNCTION alpr_audit_block_hash(prev bytea, first_id bigint, last_id bigint) RETURNS bytea
LANGUAGE sql STABLE SET timezone = 'UTC' SET datestyle = 'ISO, YMD' AS $fn$
    SELECT sha256(prev || int8send(first_id) || int8send(last_id) || int8send(count(*))
                  || sha256(convert_to(coalesce(string_agg(jsonb_build_array(
                         a.id, a.at, a.key_id, a.key_name, a.method, a.path, a.params, a.status,
                         a.result_count, a.client_addr, a.purpose)::text, E'\n' ORDER BY a.id),
                     ''), 'UTF8')))
    FROM audit_log a WHERE a.id BETWEEN first_id AND last_id
$fn$;

-- Seal the rows written since the last block into a new one, at most max_rows; how many. A row
-- is taken once a minute has passed since its statement began: an audited statement runs under
-- the API's statement timeout (seconds), so by then none can still write a smaller id.
CREATE FUNCTION alpr_seal_audit(max_rows integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    head audit_chain;
    settled timestamptz := now() - interval '1 minute';
    upto bigint;
    unsettled bigint;
    sealed_rows bigint;
    block_hash bytea;
BEGIN
    SELECT * INTO head FROM audit_chain FOR UPDATE;
    SELECT min(id) INTO unsettled FROM audit_log WHERE id > head.last_id AND at >= settled;
    SELECT max(id) INTO upto FROM audit_log
    WHERE id > head.last_id AND id <= head.last_id + max_rows
      AND (unsettled IS NULL OR id < unsettled);
    IF upto IS NULL THEN
        RETURN 0;
    END IF;
    block_hash := alpr_audit_block_hash(head.hash, head.last_id + 1, upto);
    SELECT count(*) INTO sealed_rows FROM audit_log WHERE id BETWEEN head.last_id + 1 AND upto;
    INSERT INTO audit_seals (seq, first_id, last_id, row_count, prev, hash)
    VALUES (head.seq + 1, head.last_id + 1, upto, sealed_rows, head.hash, block_hash);
    UPDATE audit_chain SET seq = head.seq + 1, hash = block_hash, last_id = upto;
    RETURN sealed_rows;
END
$fn$;

-- Retention is about to remove rows up to last_row: the blocks holding any of them may lose rows,
-- so the chain stops vouching for them; the seals of blocks wholly before it go too.
CREATE FUNCTION alpr_audit_blocks_expire(last_row bigint) RETURNS void
LANGUAGE sql AS $fn$
    UPDATE audit_chain SET expired_through = greatest(expired_through, coalesce(
        (SELECT max(seq) FROM audit_seals WHERE first_id <= last_row), 0));
    DELETE FROM audit_seals WHERE last_id <= last_row;
$fn$;

-- Apply audit_policy: make the next months' partitions, drop the months past retention and
-- delete the default partition's expired rows. How many rows went.
CREATE FUNCTION alpr_expire_audit() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $fn$
DECLARE
    cutoff timestamptz;
    expired record;
    last_row bigint;
    removed bigint := 0;
    rows_in bigint;
BEGIN
    SELECT now() - make_interval(days => retention_days) INTO cutoff FROM audit_policy;
    PERFORM alpr_ensure_audit_partitions(current_date, (current_date + interval '3 months')::date);
    FOR expired IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_p[0-9]{6}$'
          AND (to_date(substring(c.relname FROM '[0-9]{6}$'), 'YYYYMM') + interval '1 month')
              ::timestamp AT TIME ZONE 'UTC' <= cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT max(id), count(*) FROM %I', expired.relname) INTO last_row, rows_in;
        PERFORM alpr_audit_blocks_expire(last_row);
        EXECUTE format('DROP TABLE %I', expired.relname);
        removed := removed + rows_in;
    END LOOP;
    SELECT max(id) INTO last_row FROM audit_log_default WHERE at < cutoff;
    PERFORM alpr_audit_blocks_expire(last_row);
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
REVOKE EXECUTE ON FUNCTION alpr_audit_blocks_expire(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION alpr_expire_audit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alpr_seal_audit(integer) TO alpr_reader;
GRANT EXECUTE ON FUNCTION alpr_expire_audit() TO alpr_reader;
GRANT SELECT, INSERT ON audit_log TO alpr_reader;
GRANT USAGE ON SEQUENCE audit_log_row_id_seq TO alpr_reader;
GRANT SELECT ON audit_policy, audit_chain, audit_seals TO alpr_reader;
