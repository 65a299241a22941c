-- Events still unsealed cannot go back under NOT NULL: seal them first (`audit::seal`).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'groupwork_app') THEN
        REVOKE UPDATE (prev_hash, hash) ON audit_events FROM groupwork_app;
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq');
DROP FUNCTION audit_next_seq();
DROP INDEX audit_events_unsealed_idx;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_sealed_whole;
ALTER TABLE audit_events ALTER COLUMN hash SET NOT NULL;
ALTER TABLE audit_events ALTER COLUMN prev_hash SET NOT NULL;
