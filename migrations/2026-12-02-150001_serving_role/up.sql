-- Least privilege (issue 15). Migrations run as the owner of the schema; `groupwork serve`
-- connects as a login role that is a member of `groupwork_app`, which may read and write the
-- tables but owns none of them: it cannot ALTER a table (so cannot disable the triggers that
-- keep the audit trail append-only and signed notes immutable), and it may only INSERT and
-- SELECT audit events. Tables made by later migrations (run by the owner) get the same grants.
--
-- The role is created here when the owner may create roles (a superuser, or CREATEROLE);
-- otherwise an administrator creates it (README "Security model") and reruns nothing: the
-- grants below are then skipped with a notice, and must be given by hand once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'groupwork_app') THEN
        BEGIN
            CREATE ROLE groupwork_app NOLOGIN;
        EXCEPTION
            WHEN duplicate_object THEN NULL; -- created meanwhile by another database's migration
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'role groupwork_app does not exist and cannot be created here: see README, Security model';
                RETURN;
        END;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO groupwork_app', current_database());
    GRANT USAGE ON SCHEMA public TO groupwork_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO groupwork_app;
    REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM groupwork_app;
    REVOKE INSERT, UPDATE, DELETE ON __diesel_schema_migrations FROM groupwork_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO groupwork_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO groupwork_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO groupwork_app;
END
$$;
