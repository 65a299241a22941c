#!/bin/sh
# Runs once, on the database's first start (docker-entrypoint-initdb.d): the roles of the
# least-privilege split (README, Security model). The owner (POSTGRES_USER) runs migrations;
# the service logs in as groupwork_serve, a member of groupwork_app, whose grants the
# migration 2026-12-02-150001_serving_role gives.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v serve_password="$GROUPWORK_DB_PASSWORD" <<'SQL'
CREATE ROLE groupwork_app NOLOGIN;
CREATE ROLE groupwork_serve LOGIN IN ROLE groupwork_app;
ALTER ROLE groupwork_serve PASSWORD :'serve_password';
SQL
