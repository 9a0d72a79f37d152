-- filing.sql - one filing (dossier.create with submit = true) in pgbench
-- script syntax: the statements svc-dossiers runs for it, in the same
-- order (dossiers_store.c: dossier_reserve, then dossier_file, which
-- inserts the dossier, its history entry, the key and the event in one
-- statement, hence one transaction). It is the database-only reference of
-- the benchmark; keep it in step with dossiers_store.c.
--
-- The form travels as a parameter, as it does from the service, so use the
-- prepared protocol and pass the form file as a variable (run from the
-- repository root, with the gch_dossiers role, after svc-dossiers has
-- applied its migrations):
--
--   pgbench -n -M prepared -f svc-dossiers/bench/filing.sql \
--       -D form="$(cat svc-dossiers/bench/form.json)" -c 8 -j 4 -T 30 \
--       "host=... port=... dbname=guichet user=gch_dossiers"
--
-- The service computes the history hash and packs the event in C; here
-- they are fixed values of the same sizes (a real packed gch.DossierEvent).

\set citizen random(1, 20000)
\set key random(1, 9223372036854775806)
SELECT nextval('dossier_id_seq') AS id, (extract(epoch FROM now()) * 1000)::bigint AS at,
  dossier_number_next(now()) AS number \gset
WITH t AS (SELECT timestamptz 'epoch' + :at::bigint * interval '1 ms' AS at),
  d AS (INSERT INTO dossier (id, number, procedure, procedure_version, service,
      citizen_id, status, form, created_at, submitted_at, updated_at, commune, pole)
    SELECT :id::bigint, :number::text, 'tranquillite-vacances'::text, 1::int, 'police-municipale'::text,
      :citizen::bigint, 'submitted'::text, :form::jsonb, t.at, t.at, t.at, '86194'::text, 'pole-centre'::text FROM t
    RETURNING id),
  h AS (INSERT INTO history (dossier_id, seq, at, actor_kind, actor_id, actor_name,
    from_status, to_status, comment, hash)
    SELECT d.id, 1::int, t.at, 'citizen'::text, :citizen::bigint, 'Usager Démo'::text, 'draft'::text,
    'submitted'::text, ''::text, 'bdc93be10901be35f460a3e58bfdc7db183256255f7f1b630ad1c795c9f0adb7'::text FROM d, t),
  i AS (INSERT INTO idempotency (caller_key, key, dossier_id)
    SELECT 'citizen:' || :citizen, :key::text, d.id FROM d WHERE :key::text <> ''),
  e AS (INSERT INTO outbox (type, payload)
    SELECT 'dossier.submitted',
    '\x0802120b323032362d303030303032182a22157472616e7175696c6c6974652d766163616e6365732a214f70c3a9726174696f6e205472616e7175696c6c6974c3a920566163616e636573320564726166743a097375626d6974746564420844c3a9706f73c3a95211706f6c6963652d6d756e69636970616c65'::bytea FROM d)
SELECT id FROM d;
