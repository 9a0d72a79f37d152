#!/bin/sh
# postgres-init.sh - run once by the postgres:15 image on an empty volume
# (/docker-entrypoint-initdb.d/). POSTGRES_DB=guichet already exists; this
# creates the service roles and schemas with deploy/provision.sql, giving
# the roles the password GCH_DB_PASSWORD.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v gch_password="${GCH_DB_PASSWORD:?GCH_DB_PASSWORD is required}" \
     -f /guichet/provision.sql
