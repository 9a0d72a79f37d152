--  0001_init.sql - svc-dossiers: dossiers, their history, numbering,
--  idempotency keys (the event outbox tables come from lib, migration 0).
--
--  Applied by gch_db_migrate inside one transaction (no BEGIN/COMMIT here),
--  in the service's own schema (the role's search_path). Every statement of
--  the service lives in dossiers_store.c; the indexes below name their query.

CREATE TABLE dossier (
    id bigserial PRIMARY KEY,
    number text UNIQUE,
    procedure text NOT NULL,
    procedure_version int NOT NULL,
    service text NOT NULL,
    citizen_id bigint NOT NULL,
    status text NOT NULL,
    form jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    closed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE dossier IS
    'One request of a citizen for one procedure (démarche), from draft to decision.';
COMMENT ON COLUMN dossier.number IS
    'Public number YYYY-NNNNNN, given at submission from dossier_counter; NULL while a draft.';
COMMENT ON COLUMN dossier.procedure IS
    'Slug of the procedure in the catalog (svc-dossiers/catalog).';
COMMENT ON COLUMN dossier.procedure_version IS
    'Catalog version the dossier was filed under; it keeps it for life.';
COMMENT ON COLUMN dossier.service IS
    'Service in charge (copied from the procedure at creation): agents of this service see the dossier.';
COMMENT ON COLUMN dossier.citizen_id IS
    'Account id (svc-accounts) of the citizen who owns the dossier.';
COMMENT ON COLUMN dossier.status IS
    'Current workflow state code of the procedure version (draft, submitted, ...).';
COMMENT ON COLUMN dossier.form IS
    'Form data as filled by the citizen, checked against the procedure''s fields.';
COMMENT ON COLUMN dossier.submitted_at IS
    'When the citizen submitted; NULL for a draft (agents never see drafts).';
COMMENT ON COLUMN dossier.closed_at IS
    'When the dossier reached a terminal state; NULL while open (agent queues).';

--  dossier_list_mine
CREATE INDEX dossier_citizen ON dossier (citizen_id, id DESC);
--  dossier_queue_open
CREATE INDEX dossier_queue_open ON dossier (service, id DESC)
    WHERE submitted_at IS NOT NULL AND closed_at IS NULL;
--  dossier_queue_status
CREATE INDEX dossier_queue_status ON dossier (service, status, id DESC)
    WHERE submitted_at IS NOT NULL;
COMMENT ON INDEX dossier_citizen IS 'for dossier_list_mine';
COMMENT ON INDEX dossier_queue_open IS 'for dossier_queue_open';
COMMENT ON INDEX dossier_queue_status IS 'for dossier_queue_status';

CREATE TABLE history (
    dossier_id bigint NOT NULL REFERENCES dossier (id),
    seq int NOT NULL,
    at timestamptz NOT NULL,
    actor_kind text NOT NULL,
    actor_id bigint NOT NULL,
    actor_name text NOT NULL,
    from_status text NOT NULL,
    to_status text NOT NULL,
    comment text NOT NULL DEFAULT '',
    hash text NOT NULL,
    PRIMARY KEY (dossier_id, seq)
);
COMMENT ON TABLE history IS
    'Append-only, hash-chained log of the status changes of each dossier (traceability).';
COMMENT ON COLUMN history.seq IS
    'Position in the dossier''s chain, from 1.';
COMMENT ON COLUMN history.at IS
    'Time of the change, whole milliseconds (the hash covers it in ms).';
COMMENT ON COLUMN history.actor_kind IS
    'citizen, agent or system (the bus caller kind).';
COMMENT ON COLUMN history.actor_name IS
    'Display name of the actor at the time of the change.';
COMMENT ON COLUMN history.hash IS
    'Hex sha256 of the previous entry''s hash followed by this entry''s canonical text '
    '(see dossiers_store_history_hash in dossiers_store.c); any edit breaks the chain.';

--  The history is append-only: refuse UPDATE, DELETE and TRUNCATE. The hash
--  chain makes a change visible even to someone who drops this trigger.
CREATE FUNCTION history_append_only () RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
COMMENT ON FUNCTION history_append_only () IS
    'Trigger function refusing any change to history rows.';
CREATE TRIGGER history_no_change BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION history_append_only ();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION history_append_only ();

CREATE TABLE dossier_counter (
    year int PRIMARY KEY,
    last int NOT NULL
);
COMMENT ON TABLE dossier_counter IS
    'Per-year counter of dossier numbers; the row is locked by each submission until it commits, so numbers have no gaps.';
COMMENT ON COLUMN dossier_counter.year IS 'Year in Europe/Paris time.';
COMMENT ON COLUMN dossier_counter.last IS 'Last number given that year.';

CREATE TABLE idempotency (
    caller_key text NOT NULL,
    key text NOT NULL,
    dossier_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_key, key)
);
COMMENT ON TABLE idempotency IS
    'Idempotency keys of writes (dossier.create, submit, transition), stored in the transaction of the effect: a repeated key returns the same dossier and does nothing.';
COMMENT ON COLUMN idempotency.caller_key IS
    'Caller the key belongs to, "<kind>:<account id>"; keys of different callers never collide.';
COMMENT ON COLUMN idempotency.dossier_id IS
    'The dossier the first call created or changed: the reply of a repeat.';
