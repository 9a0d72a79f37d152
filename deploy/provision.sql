-- provision.sql - roles and schemas of Guichet, one per service.
--
-- Run by the cluster's superuser, connected to database `guichet`:
--
--   psql -v ON_ERROR_STOP=1 -U postgres -d guichet -f deploy/provision.sql
--   psql ... -v gch_password='secret' -f deploy/provision.sql   (password auth)
--
-- For each service s in accounts, dossiers, documents, notify, finance:
-- role gch_<s> (LOGIN, no other privilege) owns schema <s>, and its
-- search_path is <s>, so each service's migrations (svc-<s>/sql/NNNN_*.sql)
-- create unqualified tables in its own schema. No role may create anything in
-- schema public, and no service role reads another's schema.
--
-- Authentication: roles are created without a password. `make run` and the
-- tests connect over loopback with `trust` authentication (a cluster of our
-- own, on 127.0.0.1 only). When the psql variable gch_password is given (the
-- docker-compose init script does it), every service role gets that password;
-- an operator who wants one password per role runs
-- ALTER ROLE gch_<s> PASSWORD '...' afterwards.
--
-- Idempotent: running it again changes nothing that is already right.

\set ON_ERROR_STOP on

DO $$
DECLARE
    svc text;
    role_name text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['accounts', 'dossiers', 'documents', 'notify', 'finance']
    LOOP
        role_name := 'gch_' || svc;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', role_name);
        END IF;
        EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', role_name);
        IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = svc) THEN
            EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', svc, role_name);
        ELSE
            EXECUTE format('ALTER SCHEMA %I OWNER TO %I', svc, role_name);
        END IF;
        EXECUTE format('ALTER ROLE %I SET search_path = %I', role_name, svc);
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role_name);
    END LOOP;
END
$$;

-- Nobody but the owner of public creates objects there (PostgreSQL 15 already
-- does this for new databases; kept for databases upgraded from older ones).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

\if :{?gch_password}
SELECT format('ALTER ROLE %I PASSWORD %L', 'gch_' || svc, :'gch_password')
  FROM unnest(ARRAY['accounts', 'dossiers', 'documents', 'notify', 'finance']) AS svc
\gexec
\endif
