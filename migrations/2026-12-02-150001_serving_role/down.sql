DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'groupwork_app') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM groupwork_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM groupwork_app;
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM groupwork_app;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM groupwork_app;
        REVOKE ALL ON SCHEMA public FROM groupwork_app;
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM groupwork_app', current_database());
    END IF;
END
$$;
