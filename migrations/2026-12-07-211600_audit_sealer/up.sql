-- Issue 18: audit events are appended without a lock and linked into the chain afterwards, in
-- sequence order, by a sealer (`audit::seal`). Until then an event has no `prev_hash`/`hash`.
ALTER TABLE audit_events ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE audit_events ALTER COLUMN hash DROP NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_sealed_whole
    CHECK ((prev_hash IS NULL) = (hash IS NULL));
-- The sealer finds the unsealed tail through this (small) index.
CREATE INDEX audit_events_unsealed_idx ON audit_events (seq) WHERE hash IS NULL;

-- An event's position is taken only once its transaction has an id, so that the sealer can
-- tell when every position up to a point is final: a position handed out before it read the
-- sequence belongs to a transaction that is in its snapshot (still running, to be waited
-- for) or already over (committed or rolled back: a gap for good).
CREATE FUNCTION audit_next_seq() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval('audit_events_seq_seq');
END;
$$;
ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT audit_next_seq();

-- Still append-only: the one change allowed is sealing, i.e. writing the two chain hashes of
-- an event that has none, every other column as it was. A sealed event never changes.
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.hash IS NULL AND OLD.prev_hash IS NULL
       AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
       AND to_jsonb(NEW) - 'hash' - 'prev_hash' = to_jsonb(OLD) - 'hash' - 'prev_hash' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- The serving role seals (those two columns only; the trigger above limits it to unsealed
-- events).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'groupwork_app') THEN
        GRANT UPDATE (prev_hash, hash) ON audit_events TO groupwork_app;
    END IF;
END
$$;
