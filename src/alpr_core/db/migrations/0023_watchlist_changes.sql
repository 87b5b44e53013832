-- A counter of changes to the watchlists and their entries, bumped once by every statement that
-- changes either. The processes that match reads poll it every ALERT_REFRESH_S
-- (db/alerts.py entries_version) to know when to reload their index, instead of counting every
-- entry, so the check costs the same at a million entries as at ten.
CREATE TABLE watchlist_changes (
    only_row  boolean PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    changes   bigint NOT NULL DEFAULT 0
);
INSERT INTO watchlist_changes DEFAULT VALUES;

-- Runs as the owner: whoever may change a list bumps the counter, and nobody may set it.
CREATE FUNCTION alpr_watchlists_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE watchlist_changes SET changes = changes + 1;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION alpr_watchlists_changed() FROM PUBLIC;

CREATE TRIGGER watchlists_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON watchlists
    FOR EACH STATEMENT EXECUTE FUNCTION alpr_watchlists_changed();
CREATE TRIGGER watchlist_entries_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON watchlist_entries
    FOR EACH STATEMENT EXECUTE FUNCTION alpr_watchlists_changed();

GRANT SELECT ON watchlist_changes TO alpr_writer, alpr_reader;
