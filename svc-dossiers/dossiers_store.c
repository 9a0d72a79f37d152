//  dossiers_store - every SQL statement of svc-dossiers.
//
//  One statement table (s_statements, below) prepared per connection; one
//  public function per use, each owning its transaction. The schema is
//  sql/0001_init.sql and the migrations after it.
//
//  The filing path (dossier.create with submit, the benchmark's request)
//  is two round trips and no explicit transaction: the new id, the time
//  and the year's next number (dossier_reserve); then one statement that
//  inserts the dossier, its history entry, the idempotency key and the
//  event (dossier_file) - one statement is one transaction, all or
//  nothing. The history hash and the event (which carries the number) are
//  made in C between the two. Numbers come from a sequence per year, so
//  concurrent filings never wait for each other; a filing that fails after
//  its reservation leaves a gap in the year's numbers, as a rolled-back
//  one would. bench/filing.sql is the same SQL for pgbench: keep them in
//  step. (It was five round trips - BEGIN, reserve, file, event, COMMIT -
//  until the benchmark showed each costing ~5 % of a filing's CPU.)
//
//  Idempotency: the key is inserted in the statement that makes the change,
//  so a repeat fails there on the primary key (GCH_DB_CONFLICT), the
//  transaction is rolled back, and s_replay answers with the dossier of the
//  first call. Status changes also see a used key when they lock the dossier.
//
//  History: each entry's hash chains to the previous one
//  (dossiers_store_history_hash); entries are written here only, with times
//  in whole milliseconds so the chain can be recomputed from what is read.
//
//  To add a query: a statement in the table with a comment naming its
//  caller, a function in dossiers_store.h, and an index in a new migration
//  if it needs one.
#include "gch.h"
#include "dossiers_store.h"

//  The SQL (macros and statement table) is laid out by hand: clang-format
//  cannot indent string concatenations that call macros.
// clang-format off

//  Milliseconds since the epoch of a timestamptz column, in SQL.
#define S_MS(column) "(extract(epoch FROM " column ") * 1000)::bigint"

//  Columns of a dossier, in the order of the S_COL_* indexes; the form
//  column is given between S_HEAD and S_TAIL.
#define S_HEAD                                                                 \
    "d.id, coalesce(d.number, ''), d.procedure, d.procedure_version,"          \
    " d.service, d.citizen_id, d.status, "
#define S_TAIL                                                                 \
    ", " S_MS ("d.created_at")                                                 \
    ", coalesce(" S_MS ("d.submitted_at") ", 0)"                               \
    ", " S_MS ("d.updated_at") ", d.revision, d.commune, d.pole,"             \
    " coalesce(" S_MS ("d.deadline_at") ", 0), d.deadline_label,"             \
    " coalesce(d.return_to, ''), coalesce(array_to_string(d.editable, ','),"  \
    " ''), d.payment_cents"
#define S_COLUMNS S_HEAD "d.form::text" S_TAIL

enum {
    S_COL_ID,
    S_COL_NUMBER,
    S_COL_PROCEDURE,
    S_COL_VERSION,
    S_COL_SERVICE,
    S_COL_CITIZEN,
    S_COL_STATUS,
    S_COL_FORM,
    S_COL_CREATED,
    S_COL_SUBMITTED,
    S_COL_UPDATED,
    S_COL_REVISION,
    S_COL_COMMUNE,
    S_COL_POLE,
    S_COL_DEADLINE,
    S_COL_DEADLINE_LABEL,
    S_COL_RETURN_TO,
    S_COL_EDITABLE,
    S_COL_PAYMENT,
    S_COL_NEXT  //  first column after the dossier's
};

//  The year's next number, "YYYY-NNNNNN" (Paris time; more digits past
//  999999), from the year's sequence (sql/0002_number_sequences.sql): no
//  lock, so concurrent filings do not queue on the numbering.
#define S_NEXT_NUMBER "n AS (SELECT dossier_number_next (now ()) AS number)"

//  An agent's commune scope: none listed = every commune; a dossier with no
//  commune is seen by every agent of its service.
#define S_IN_COMMUNES(param)                                                   \
    " AND (cardinality(" param "::text[]) = 0 OR d.commune = ''"              \
    " OR d.commune = ANY (" param "::text[]))"

//  A history entry's time from its milliseconds.
#define S_AT(param) "timestamptz 'epoch' + " param "::bigint * interval '1 ms'"

static const gch_db_statement_t s_statements[] = {
    //  dossiers_store_create (), submitting: the dossier's id, the time and
    //  the number, before the filing's statement.
    {"dossier_reserve",
     "SELECT nextval('dossier_id_seq'), " S_MS ("now()") ","
     " dossier_number_next (now ())",
     0},
    //  dossiers_store_create (), submitting: dossier, history entry, key
    //  and event in one statement (so in one transaction).
    {"dossier_file",
     "WITH t AS (SELECT " S_AT ("$8") " AS at),"
     " d AS (INSERT INTO dossier (id, number, procedure, procedure_version,"
     "  service, citizen_id, status, form, created_at, submitted_at, updated_at,"
     "  commune, pole)"
     "  SELECT $1::bigint, $16::text, $2::text, $3::int, $4::text, $5::bigint,"
     "  $6::text, $7::jsonb, t.at, t.at, t.at, $18::text, $19::text FROM t"
     "  RETURNING id),"
     " h AS (INSERT INTO history (dossier_id, seq, at, actor_kind, actor_id,"
     "  actor_name, from_status, to_status, comment, hash)"
     "  SELECT d.id, 1, t.at, $11::text, $12::bigint, $13::text, $14::text,"
     "  $6::text, '', $15::text FROM d, t),"
     " i AS (INSERT INTO idempotency (caller_key, key, dossier_id)"
     "  SELECT $9::text, $10::text, d.id FROM d WHERE $10::text <> ''),"
     " e AS (INSERT INTO outbox (type, payload)"
     "  SELECT 'dossier.submitted', $17::bytea FROM d)"
     " SELECT id FROM d",
     19},
    //  dossiers_store_create (), a draft: dossier, key.
    {"dossier_create",
     "WITH d AS (INSERT INTO dossier (procedure, procedure_version, service,"
     "  citizen_id, status, form)"
     "  VALUES ($1::text, $2::int, $3::text, $4::bigint, $5::text, $6::jsonb)"
     "  RETURNING id, created_at),"
     " i AS (INSERT INTO idempotency (caller_key, key, dossier_id)"
     "  SELECT $7::text, $8::text, d.id FROM d WHERE $8::text <> '')"
     " SELECT id, '', " S_MS ("created_at") " FROM d",
     8},
    //  dossiers_store_load ()
    {"dossier_load",
     "SELECT " S_COLUMNS ","
     " EXISTS (SELECT 1 FROM idempotency WHERE caller_key = $2::text"
     "  AND key = $3::text AND dossier_id = d.id)"
     " FROM dossier d WHERE d.id = $1::bigint",
     3},
    //  dossiers_store_get (): one row per history entry (one with NULLs if
    //  none), so dossier and history come from one snapshot.
    {"dossier_get",
     "SELECT " S_COLUMNS ", h.seq, " S_MS ("h.at") ", h.actor_kind,"
     " h.actor_name, h.from_status, h.to_status, h.comment, h.hash,"
     " h.actor_id"
     " FROM dossier d LEFT JOIN history h ON h.dossier_id = d.id"
     " WHERE d.id = $1::bigint ORDER BY h.seq",
     1},
    //  dossiers_store_update ()
    {"dossier_update",
     "UPDATE dossier d SET form = $3::jsonb, updated_at = now()"
     " WHERE d.id = $1::bigint AND d.status = $2::text"
     " AND d.submitted_at IS NULL RETURNING " S_COLUMNS,
     3},
    //  s_change_once (): lock the dossier, read the head of its history
    //  chain, the transaction's time, and whether the key was used on it.
    {"dossier_lock",
     "SELECT d.status, " S_MS ("now()") ", coalesce(h.seq, 0),"
     " coalesce(h.hash, ''),"
     " EXISTS (SELECT 1 FROM idempotency WHERE caller_key = $2::text"
     "  AND key = $3::text AND dossier_id = d.id)"
     " FROM dossier d LEFT JOIN LATERAL (SELECT seq, hash FROM history"
     "  WHERE dossier_id = d.id ORDER BY seq DESC LIMIT 1) h ON true"
     " WHERE d.id = $1::bigint FOR UPDATE OF d",
     3},
    //  dossiers_store_submit (): number, status, form, history, key.
    {"dossier_submit",
     "WITH " S_NEXT_NUMBER ","
     " u AS (UPDATE dossier d SET number = n.number, status = $2::text,"
     "  form = $3::jsonb, submitted_at = now(), updated_at = now(),"
     "  service = $13::text, commune = $14::text, pole = $15::text FROM n"
     "  WHERE d.id = $1::bigint RETURNING " S_COLUMNS "),"
     " h AS (INSERT INTO history (dossier_id, seq, at, actor_kind, actor_id,"
     "  actor_name, from_status, to_status, comment, hash)"
     "  SELECT $1::bigint, $4::int, " S_AT ("$5") ", $6::text, $7::bigint,"
     "  $8::text, $9::text, $2::text, '', $10::text FROM u),"
     " i AS (INSERT INTO idempotency (caller_key, key, dossier_id)"
     "  SELECT $11::text, $12::text, $1::bigint FROM u WHERE $12::text <> '')"
     " SELECT * FROM u",
     15},
    //  dossiers_store_transition (): status, history, key.
    {"dossier_transition",
     "WITH u AS (UPDATE dossier d SET status = $2::text, updated_at = now(),"
     "  closed_at = CASE WHEN $3::bool THEN now() END"
     "  WHERE d.id = $1::bigint RETURNING " S_COLUMNS "),"
     " h AS (INSERT INTO history (dossier_id, seq, at, actor_kind, actor_id,"
     "  actor_name, from_status, to_status, comment, hash)"
     "  SELECT $1::bigint, $4::int, " S_AT ("$5") ", $6::text, $7::bigint,"
     "  $8::text, $9::text, $2::text, $10::text, $11::text FROM u),"
     " i AS (INSERT INTO idempotency (caller_key, key, dossier_id)"
     "  SELECT $12::text, $13::text, $1::bigint FROM u WHERE $13::text <> '')"
     " SELECT * FROM u",
     13},
    //  dossiers_store_answer (): status, form, history, key; the pieces
    //  loop ends.
    {"dossier_answer",
     "WITH u AS (UPDATE dossier d SET status = $2::text, form = $3::jsonb,"
     "  updated_at = now(), return_to = NULL, editable = NULL"
     "  WHERE d.id = $1::bigint RETURNING " S_COLUMNS "),"
     " h AS (INSERT INTO history (dossier_id, seq, at, actor_kind, actor_id,"
     "  actor_name, from_status, to_status, comment, hash)"
     "  SELECT $1::bigint, $4::int, " S_AT ("$5") ", $6::text, $7::bigint,"
     "  $8::text, $9::text, $2::text, $10::text, $11::text FROM u),"
     " i AS (INSERT INTO idempotency (caller_key, key, dossier_id)"
     "  SELECT $12::text, $13::text, $1::bigint FROM u WHERE $13::text <> '')"
     " SELECT * FROM u",
     13},
    //  s_effects (): a document of a workflow action
    {"document_add",
     "INSERT INTO dossier_document (dossier_id, title, body, citizen_visible)"
     " VALUES ($1::bigint, $2::text, $3::text, $4::bool)",
     4},
    //  s_effects (): a payment of a workflow action
    {"payment_add",
     "WITH p AS (INSERT INTO dossier_payment (dossier_id, amount_cents, iban,"
     "  label) VALUES ($1::bigint, $2::bigint, $3::text, $4::text))"
     " UPDATE dossier SET payment_cents = payment_cents + $2::bigint"
     " WHERE id = $1::bigint RETURNING revision",
     4},
    //  s_effects (): deadline and pieces of workflow actions
    {"dossier_effects",
     "UPDATE dossier SET"
     " deadline_at = CASE WHEN $2::int > 0 THEN now() + $2::int * interval"
     "  '1 day' ELSE deadline_at END,"
     " deadline_label = CASE WHEN $2::int > 0 THEN $3::text"
     "  ELSE deadline_label END,"
     " return_to = CASE WHEN $4::text <> '' THEN $4::text END,"
     " editable = CASE WHEN $4::text <> '' AND $5::text <> ''"
     "  THEN string_to_array($5::text, ',') END"
     " WHERE id = $1::bigint RETURNING revision",
     5},
    //  dossiers_store_citizen_name (): the name the citizen filed under
    {"citizen_name",
     "SELECT actor_name FROM history WHERE dossier_id = $1::bigint"
     " ORDER BY seq LIMIT 1",
     1},
    //  dossiers_store_get (): the documents a reader may see
    {"document_list",
     "SELECT id, title, body, " S_MS ("created_at") " FROM dossier_document"
     " WHERE dossier_id = $1::bigint AND (citizen_visible OR $2::bool)"
     " ORDER BY id",
     2},
    //  s_replay (): the dossier a used key points to.
    {"idempotency_get",
     "SELECT dossier_id FROM idempotency"
     " WHERE caller_key = $1::text AND key = $2::text",
     2},
    //  dossiers_store_list_mine ()
    {"dossier_list_mine",
     "SELECT " S_HEAD "''" S_TAIL " FROM dossier d"
     " WHERE d.citizen_id = $1::bigint AND d.id < $2::bigint"
     " ORDER BY d.id DESC LIMIT $3::int",
     3},
    //  dossiers_store_queue (), every open status
    {"dossier_queue_open",
     "SELECT " S_HEAD "''" S_TAIL " FROM dossier d"
     " WHERE d.service = ANY ($1::text[]) AND d.submitted_at IS NOT NULL"
     " AND d.closed_at IS NULL AND d.id < $2::bigint" S_IN_COMMUNES ("$4")
     " ORDER BY d.id DESC LIMIT $3::int",
     4},
    //  dossiers_store_queue (), one status
    {"dossier_queue_status",
     "SELECT " S_HEAD "''" S_TAIL " FROM dossier d"
     " WHERE d.service = ANY ($1::text[]) AND d.status = $4::text"
     " AND d.submitted_at IS NOT NULL AND d.id < $2::bigint"
     S_IN_COMMUNES ("$5") " ORDER BY d.id DESC LIMIT $3::int",
     5},
    //  gch_outbox_add (), gch_outbox_fetch () for the event outbox
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0}};
// clang-format on

//  A transaction that failed softly (deadlock, connection lost) is tried
//  this many times in all.
#define S_ATTEMPTS 3

struct _dossiers_store_t {
    gch_db_t *db;        //  the connection
    gch_cache_t *cache;  //  read cache to invalidate, borrowed, or NULL
};

dossiers_store_t *
dossiers_store_new (const char *conninfo)
{
    assert (conninfo);
    gch_db_t *db = gch_db_new (conninfo, s_statements);
    if (!db)
        return NULL;
    dossiers_store_t *self =
        (dossiers_store_t *) zmalloc (sizeof (dossiers_store_t));
    self->db = db;
    return self;
}

void
dossiers_store_destroy (dossiers_store_t **self_p)
{
    assert (self_p);
    dossiers_store_t *self = *self_p;
    if (self) {
        gch_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

gch_db_t *
dossiers_store_db (dossiers_store_t *self)
{
    assert (self);
    return self->db;
}

void
dossiers_store_set_cache (dossiers_store_t *self, gch_cache_t *cache)
{
    assert (self);
    self->cache = cache;
}

//  A change to dossier is committed: the cached copies are stale.
static void
s_changed (dossiers_store_t *self, const dossiers_dossier_t *dossier)
{
    if (self->cache && dossier->revision > 1)
        gch_cache_invalidate (self->cache, DOSSIERS_CACHE, dossier->id,
                              dossier->revision);
}

//  --------------------------------------------------------------------------
//  Records

static int64_t
s_int (PGresult *result, int row, int column)
{
    return strtoll (PQgetvalue (result, row, column), NULL, 10);
}

static char *
s_text (PGresult *result, int row, int column)
{
    return strdup (PQgetvalue (result, row, column));
}

static bool
s_bool (PGresult *result, int row, int column)
{
    return PQgetvalue (result, row, column)[0] == 't';
}

//  Fill dossier from the S_COLUMNS of a row.
static void
s_dossier_read (dossiers_dossier_t *dossier, PGresult *result, int row)
{
    dossier->id = s_int (result, row, S_COL_ID);
    dossier->number = s_text (result, row, S_COL_NUMBER);
    dossier->procedure = s_text (result, row, S_COL_PROCEDURE);
    dossier->version = (int) s_int (result, row, S_COL_VERSION);
    dossier->service = s_text (result, row, S_COL_SERVICE);
    dossier->citizen_id = s_int (result, row, S_COL_CITIZEN);
    dossier->status = s_text (result, row, S_COL_STATUS);
    dossier->form_json = s_text (result, row, S_COL_FORM);
    dossier->created_ms = s_int (result, row, S_COL_CREATED);
    dossier->submitted_ms = s_int (result, row, S_COL_SUBMITTED);
    dossier->updated_ms = s_int (result, row, S_COL_UPDATED);
    dossier->revision = s_int (result, row, S_COL_REVISION);
    dossier->commune = s_text (result, row, S_COL_COMMUNE);
    dossier->pole = s_text (result, row, S_COL_POLE);
    dossier->deadline_ms = s_int (result, row, S_COL_DEADLINE);
    dossier->deadline_label = s_text (result, row, S_COL_DEADLINE_LABEL);
    dossier->return_to = s_text (result, row, S_COL_RETURN_TO);
    dossier->editable = s_text (result, row, S_COL_EDITABLE);
    dossier->payment_cents = s_int (result, row, S_COL_PAYMENT);
}

void
dossiers_dossier_clear (dossiers_dossier_t *dossier)
{
    assert (dossier);
    free (dossier->number);
    free (dossier->procedure);
    free (dossier->service);
    free (dossier->status);
    free (dossier->form_json);
    free (dossier->commune);
    free (dossier->pole);
    free (dossier->deadline_label);
    free (dossier->return_to);
    free (dossier->editable);
    for (size_t index = 0; index < dossier->ndocuments; index++) {
        free (dossier->documents[index].title);
        free (dossier->documents[index].body);
    }
    free (dossier->documents);
    for (size_t index = 0; index < dossier->nhistory; index++) {
        Gch__HistoryEntry *entry = &dossier->history[index];
        free (entry->actor_kind);
        free (entry->actor_name);
        free (entry->from_status);
        free (entry->to_status);
        free (entry->comment);
        free (entry->hash);
    }
    free (dossier->history);
    memset (dossier, 0, sizeof (dossiers_dossier_t));
}

void
dossiers_list_clear (dossiers_list_t *list)
{
    assert (list);
    for (size_t index = 0; index < list->count; index++)
        dossiers_dossier_clear (&list->items[index]);
    free (list->items);
    list->items = NULL;
    list->count = 0;
}

//  --------------------------------------------------------------------------
//  History and events

void
dossiers_store_history_hash (const char *prev_hash, int64_t dossier_id,
                             const Gch__HistoryEntry *entry, int64_t actor_id,
                             char *out)
{
    assert (entry);
    assert (out);
    char numbers[4][24];
    snprintf (numbers[0], sizeof numbers[0], "%" PRId64, dossier_id);
    snprintf (numbers[1], sizeof numbers[1], "%" PRId64, entry->seq);
    snprintf (numbers[2], sizeof numbers[2], "%" PRId64, entry->at_ms);
    snprintf (numbers[3], sizeof numbers[3], "%" PRId64, actor_id);
    const char *fields[] = {
        numbers[0],         numbers[1],       numbers[2],
        entry->actor_kind,  numbers[3],       entry->actor_name,
        entry->from_status, entry->to_status, entry->comment};
    size_t nfields = sizeof fields / sizeof fields[0];
    prev_hash = prev_hash ? prev_hash : "";
    size_t size = strlen (prev_hash) + 1;
    for (size_t index = 0; index < nfields; index++)
        size += (fields[index] ? strlen (fields[index]) : 0) + 24;
    char *text = (char *) zmalloc (size);
    size_t length = (size_t) snprintf (text, size, "%s", prev_hash);
    for (size_t index = 0; index < nfields; index++) {
        const char *field = fields[index] ? fields[index] : "";
        length += (size_t) snprintf (text + length, size - length, "%zu:%s;",
                                     strlen (field), field);
    }
    gch_sha256_hex (text, length, out);
    free (text);
}

//  The history entry of a change, its hash computed.
static void
s_entry_make (Gch__HistoryEntry *entry, int64_t dossier_id, int64_t seq,
              int64_t at_ms, const dossiers_actor_t *actor, const char *from,
              const char *to, const char *comment, const char *prev_hash,
              char *hash)
{
    gch__history_entry__init (entry);
    entry->seq = seq;
    entry->at_ms = at_ms;
    entry->actor_kind = (char *) actor->kind;
    entry->actor_name = (char *) (actor->name ? actor->name : "");
    entry->actor_id = actor->id;
    entry->from_status = (char *) from;
    entry->to_status = (char *) to;
    entry->comment = (char *) (comment ? comment : "");
    dossiers_store_history_hash (prev_hash, dossier_id, entry, actor->id, hash);
    entry->hash = hash;
}

//  The event of a status change of dossier.
static void
s_event_make (Gch__DossierEvent *event, const dossiers_dossier_t *dossier,
              const char *from, const char *to_label, const char *comment,
              const char *procedure_title)
{
    gch__dossier_event__init (event);
    event->dossier_id = dossier->id;
    event->number = dossier->number;
    event->citizen_id = dossier->citizen_id;
    event->procedure = dossier->procedure;
    event->procedure_title = (char *) procedure_title;
    event->from_status = (char *) from;
    event->to_status = dossier->status;
    event->to_label = (char *) to_label;
    event->comment = (char *) (comment ? comment : "");
    event->service = dossier->service;
}

//  Add the event of a status change inside the open transaction.
static int
s_event_add (dossiers_store_t *self, const char *type,
             const dossiers_dossier_t *dossier, const char *from,
             const char *to_label, const char *comment,
             const char *procedure_title)
{
    Gch__DossierEvent event;
    s_event_make (&event, dossier, from, to_label, comment, procedure_title);
    return gch_outbox_add (self->db, type, &event.base);
}

//  After a used key: the dossier of the first call, with replayed set.
//  Returns 1, 0 if the key is not (or no longer) recorded, or < 0.
static gch_db_status_t
s_replay (dossiers_store_t *self, const char *caller_key,
          const char *idempotency_key, dossiers_dossier_t *dossier)
{
    if (!idempotency_key || !*idempotency_key)
        return 0;
    const char *params[] = {caller_key, idempotency_key};
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "idempotency_get", params, &rc);
    if (!result || rc == 0) {
        PQclear (result);
        return result ? 0 : rc;
    }
    int64_t id = s_int (result, 0, 0);
    PQclear (result);
    rc = dossiers_store_load (self, id, NULL, NULL, dossier);
    dossier->replayed = rc > 0;
    return rc;
}

//  --------------------------------------------------------------------------
//  Writes

//  The record of a new dossier from its filing, once the database gave its
//  id, number and creation time.
static void
s_filed (dossiers_dossier_t *dossier, const dossiers_filing_t *filing,
         int64_t id, const char *number, int64_t created_ms)
{
    bool submit = filing->submit_status != NULL;
    dossier->id = id;
    dossier->number = strdup (number);
    dossier->procedure = strdup (filing->procedure);
    dossier->version = filing->version;
    dossier->service = strdup (filing->service);
    dossier->citizen_id = filing->citizen_id;
    dossier->status =
        strdup (submit ? filing->submit_status : filing->draft_status);
    dossier->form_json = strdup (filing->form_json);
    dossier->created_ms = created_ms;
    dossier->submitted_ms = submit ? created_ms : 0;
    dossier->updated_ms = created_ms;
    dossier->revision = 1;
    dossier->commune = strdup (filing->commune ? filing->commune : "");
    dossier->pole = strdup (filing->pole ? filing->pole : "");
    dossier->deadline_label = strdup ("");
    dossier->return_to = strdup ("");
    dossier->editable = strdup ("");
}

//  A draft: one statement, its own transaction.
static gch_db_status_t
s_draft_once (dossiers_store_t *self, const dossiers_filing_t *filing,
              dossiers_dossier_t *dossier)
{
    char version[16], citizen[24];
    snprintf (version, sizeof version, "%d", filing->version);
    snprintf (citizen, sizeof citizen, "%" PRId64, filing->citizen_id);
    const char *params[] = {
        filing->procedure,
        version,
        filing->service,
        citizen,
        filing->draft_status,
        filing->form_json,
        filing->caller_key,
        filing->idempotency_key ? filing->idempotency_key : ""};
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "dossier_create", params, &rc);
    if (result && rc == 1)
        s_filed (dossier, filing, s_int (result, 0, 0), "",
                 s_int (result, 0, 2));
    PQclear (result);
    return result && rc != 1 ? GCH_DB_HARD : rc;
}

//  End the transaction of a change whose statements gave rc: commit if
//  all went well, else roll back and leave the dossier empty. Returns 1 or
//  the failure's status.
static gch_db_status_t
s_end (dossiers_store_t *self, int rc, dossiers_dossier_t *dossier)
{
    if (rc >= 0)
        rc = gch_db_commit (self->db);
    else
        gch_db_rollback (self->db);
    if (rc < 0) {
        dossiers_dossier_clear (dossier);
        return rc;
    }
    s_changed (self, dossier);
    return 1;
}

static gch_db_status_t s_effects (dossiers_store_t *self,
                                  const dossiers_effects_t *effects,
                                  const char *transition,
                                  dossiers_dossier_t *dossier);

//  A filing (create and submit): the id, time and number; then dossier,
//  history entry, key and event in one statement.
static gch_db_status_t
s_file_once (dossiers_store_t *self, const dossiers_filing_t *filing,
             dossiers_dossier_t *dossier)
{
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "dossier_reserve", NULL, &rc);
    if (!result || rc != 1) {
        PQclear (result);
        return result ? GCH_DB_HARD : rc;
    }
    int64_t id = s_int (result, 0, 0);
    int64_t at_ms = s_int (result, 0, 1);
    s_filed (dossier, filing, id, PQgetvalue (result, 0, 2), at_ms);
    PQclear (result);

    Gch__HistoryEntry entry;
    char hash[65], id_text[24], version[16], citizen[24], at[24], actor_id[24];
    s_entry_make (&entry, id, 1, at_ms, &filing->actor, filing->draft_status,
                  filing->submit_status, "", "", hash);
    Gch__DossierEvent event;
    s_event_make (&event, dossier, filing->draft_status, filing->submit_label,
                  "", filing->procedure_title);
    uint8_t *payload;
    size_t payload_size = gch_pack (&event.base, &payload);
    snprintf (id_text, sizeof id_text, "%" PRId64, id);
    snprintf (version, sizeof version, "%d", filing->version);
    snprintf (citizen, sizeof citizen, "%" PRId64, filing->citizen_id);
    snprintf (at, sizeof at, "%" PRId64, at_ms);
    snprintf (actor_id, sizeof actor_id, "%" PRId64, filing->actor.id);
    const char *params[] = {id_text,
                            filing->procedure,
                            version,
                            filing->service,
                            citizen,
                            filing->submit_status,
                            filing->form_json,
                            at,
                            filing->caller_key,
                            filing->idempotency_key ? filing->idempotency_key
                                                    : "",
                            entry.actor_kind,
                            actor_id,
                            entry.actor_name,
                            entry.from_status,
                            hash,
                            dossier->number,
                            (const char *) payload,
                            dossier->commune,
                            dossier->pole};
    int lengths[19] = {0};
    int formats[19] = {0};
    lengths[16] = (int) payload_size;
    formats[16] = 1;
    //  With actions to run, the statement and their effects share a
    //  transaction; without (the common case), the statement is one.
    if (filing->render && (rc = gch_db_begin (self->db)) < 0) {
        free (payload);
        dossiers_dossier_clear (dossier);
        return rc;
    }
    result = gch_db_exec_params (self->db, "dossier_file", params, lengths,
                                 formats, &rc);
    free (payload);
    PQclear (result);
    if (!result || rc != 1) {
        if (filing->render)
            gch_db_rollback (self->db);
        dossiers_dossier_clear (dossier);
        return result ? GCH_DB_HARD : rc;
    }
    if (!filing->render)
        return 1;
    const dossiers_effects_t *effects =
        filing->render (filing->render_ctx, dossier);
    rc = effects ? s_effects (self, effects, "submit", dossier) : 0;
    return s_end (self, rc, dossier);
}

gch_db_status_t
dossiers_store_create (dossiers_store_t *self, const dossiers_filing_t *filing,
                       dossiers_dossier_t *dossier)
{
    assert (self);
    assert (filing);
    assert (dossier);
    gch_db_status_t rc = GCH_DB_SOFT;
    for (int attempt = 0; attempt < S_ATTEMPTS && rc == GCH_DB_SOFT; attempt++)
        rc = filing->submit_status ? s_file_once (self, filing, dossier)
                                   : s_draft_once (self, filing, dossier);
    if (rc == GCH_DB_CONFLICT) {
        //  Only the idempotency key can collide.
        rc = s_replay (self, filing->caller_key, filing->idempotency_key,
                       dossier);
        if (rc == 0) {
            zsys_error ("dossiers_store: unique violation on create without a "
                        "recorded key");
            rc = GCH_DB_HARD;
        }
    }
    return rc;
}

//  Run the effects of a transition's actions inside its transaction:
//  documents, payment (+ event), e-mails (events), deadline and pieces.
//  Keeps dossier->revision up to date (each UPDATE bumps it).
static gch_db_status_t
s_effects (dossiers_store_t *self, const dossiers_effects_t *effects,
           const char *transition, dossiers_dossier_t *dossier)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRId64, dossier->id);
    gch_db_status_t rc = 0;
    PGresult *result;
    for (size_t index = 0; index < effects->ndocuments && rc >= 0; index++) {
        const dossiers_doc_t *doc = &effects->documents[index];
        const char *params[] = {id, doc->title, doc->body,
                                doc->citizen_visible ? "true" : "false"};
        result = gch_db_exec (self->db, "document_add", params, &rc);
        PQclear (result);
    }
    for (size_t index = 0; index < effects->nmessages && rc >= 0; index++) {
        Gch__DossierMessage message = GCH__DOSSIER_MESSAGE__INIT;
        message.dossier_id = dossier->id;
        message.number = dossier->number;
        message.citizen_id = dossier->citizen_id;
        message.procedure = dossier->procedure;
        message.subject = (char *) effects->subjects[index];
        message.body = (char *) effects->bodies[index];
        message.transition = (char *) (transition ? transition : "");
        rc = gch_outbox_add (self->db, "dossier.message", &message.base);
    }
    if (effects->payment_cents > 0 && rc >= 0) {
        char cents[24];
        snprintf (cents, sizeof cents, "%" PRId64, effects->payment_cents);
        const char *iban = effects->payment_iban ? effects->payment_iban : "";
        const char *label =
            effects->payment_label ? effects->payment_label : "";
        const char *params[] = {id, cents, iban, label};
        result = gch_db_exec (self->db, "payment_add", params, &rc);
        if (result && rc == 1)
            dossier->revision = s_int (result, 0, 0);
        PQclear (result);
        dossier->payment_cents += effects->payment_cents;
        Gch__PaymentRequested event = GCH__PAYMENT_REQUESTED__INIT;
        event.dossier_id = dossier->id;
        event.number = dossier->number;
        event.citizen_id = dossier->citizen_id;
        event.procedure = dossier->procedure;
        event.amount_cents = effects->payment_cents;
        event.iban = (char *) iban;
        event.label = (char *) label;
        event.service = dossier->service;
        if (rc >= 0)
            rc = gch_outbox_add (self->db, "dossier.payment_requested",
                                 &event.base);
    }
    if ((effects->deadline_days > 0 || effects->return_to) && rc >= 0) {
        char days[16];
        snprintf (days, sizeof days, "%d", effects->deadline_days);
        const char *params[] = {
            id, days, effects->deadline_label ? effects->deadline_label : "",
            effects->return_to ? effects->return_to : "",
            effects->editable ? effects->editable : ""};
        result = gch_db_exec (self->db, "dossier_effects", params, &rc);
        if (result && rc == 1)
            dossier->revision = s_int (result, 0, 0);
        PQclear (result);
        if (effects->return_to) {
            free (dossier->return_to);
            dossier->return_to = strdup (effects->return_to);
            free (dossier->editable);
            dossier->editable =
                strdup (effects->editable ? effects->editable : "");
        }
        if (effects->deadline_days > 0) {
            dossier->deadline_ms =
                zclock_time () + (int64_t) effects->deadline_days * 86400000;
            free (dossier->deadline_label);
            dossier->deadline_label =
                strdup (effects->deadline_label ? effects->deadline_label : "");
        }
    }
    return rc < 0 ? rc : 0;
}

//  One attempt of a submission, a transition or an answer.
static gch_db_status_t
s_change_once (dossiers_store_t *self, const dossiers_change_t *change,
               dossiers_change_kind_t kind, dossiers_dossier_t *dossier)
{
    char id[24], seq[16], at[24], actor_id[24];
    const char *key = change->idempotency_key ? change->idempotency_key : "";
    snprintf (id, sizeof id, "%" PRId64, change->id);
    const char *lock[] = {id, change->caller_key, key};
    gch_db_status_t rc = gch_db_begin (self->db);
    if (rc < 0)
        return rc;
    PGresult *result = gch_db_exec (self->db, "dossier_lock", lock, &rc);
    if (!result || rc == 0) {
        PQclear (result);
        gch_db_rollback (self->db);
        return result ? 0 : rc;
    }
    bool moved = !streq (PQgetvalue (result, 0, 0), change->from_status);
    bool used = s_bool (result, 0, 4);
    bool submit = kind == DOSSIERS_CHANGE_SUBMIT;
    //  The entry: after the chain's head, at the transaction's time.
    Gch__HistoryEntry entry;
    char hash[65];
    s_entry_make (&entry, change->id, s_int (result, 0, 2) + 1,
                  s_int (result, 0, 1), &change->actor, change->from_status,
                  change->to_status, submit ? "" : change->comment,
                  PQgetvalue (result, 0, 3), hash);
    PQclear (result);
    if (moved || used) {
        //  A used key is answered by s_replay; else the status changed.
        gch_db_rollback (self->db);
        return GCH_DB_CONFLICT;
    }
    snprintf (seq, sizeof seq, "%" PRId64, entry.seq);
    snprintf (at, sizeof at, "%" PRId64, entry.at_ms);
    snprintf (actor_id, sizeof actor_id, "%" PRId64, change->actor.id);
    if (submit) {
        const char *params[] = {id,
                                change->to_status,
                                change->form_json,
                                seq,
                                at,
                                entry.actor_kind,
                                actor_id,
                                entry.actor_name,
                                change->from_status,
                                hash,
                                change->caller_key,
                                key,
                                change->service,
                                change->commune ? change->commune : "",
                                change->pole ? change->pole : ""};
        result = gch_db_exec (self->db, "dossier_submit", params, &rc);
    }
    else {
        //  An answer and a transition take the same parameters but the
        //  third: the new form, or whether the new state closes the dossier
        bool answer = kind == DOSSIERS_CHANGE_ANSWER;
        const char *params[] = {id,
                                change->to_status,
                                answer             ? change->form_json
                                : change->terminal ? "true"
                                                   : "false",
                                seq,
                                at,
                                entry.actor_kind,
                                actor_id,
                                entry.actor_name,
                                change->from_status,
                                entry.comment,
                                hash,
                                change->caller_key,
                                key};
        result = gch_db_exec (self->db,
                              answer ? "dossier_answer" : "dossier_transition",
                              params, &rc);
    }
    if (!result || rc != 1) {
        PQclear (result);
        gch_db_rollback (self->db);
        return result ? GCH_DB_HARD : rc;
    }
    s_dossier_read (dossier, result, 0);
    PQclear (result);
    rc = 0;
    const dossiers_effects_t *effects =
        kind == DOSSIERS_CHANGE_TRANSITION ? change->effects
        : change->render ? change->render (change->render_ctx, dossier)
                         : NULL;
    if (effects)
        rc = s_effects (self, effects, change->transition, dossier);
    if (rc >= 0)
        rc = s_event_add (
            self, submit ? "dossier.submitted" : "dossier.status_changed",
            dossier, change->from_status, change->to_label, entry.comment,
            change->procedure_title);
    return s_end (self, rc, dossier);
}

static gch_db_status_t
s_change (dossiers_store_t *self, const dossiers_change_t *change,
          dossiers_change_kind_t kind, dossiers_dossier_t *dossier)
{
    assert (self);
    assert (change);
    assert (dossier);
    gch_db_status_t rc = GCH_DB_SOFT;
    for (int attempt = 0; attempt < S_ATTEMPTS && rc == GCH_DB_SOFT; attempt++)
        rc = s_change_once (self, change, kind, dossier);
    if (rc == GCH_DB_CONFLICT) {
        //  The key was used (maybe by a call running at the same time), or
        //  the dossier is no longer in from_status.
        gch_db_status_t replay = s_replay (self, change->caller_key,
                                           change->idempotency_key, dossier);
        if (replay != 0)
            rc = replay;
    }
    return rc;
}

gch_db_status_t
dossiers_store_submit (dossiers_store_t *self, const dossiers_change_t *change,
                       dossiers_dossier_t *dossier)
{
    assert (change && change->form_json && change->service);
    return s_change (self, change, DOSSIERS_CHANGE_SUBMIT, dossier);
}

gch_db_status_t
dossiers_store_transition (dossiers_store_t *self,
                           const dossiers_change_t *change,
                           dossiers_dossier_t *dossier)
{
    return s_change (self, change, DOSSIERS_CHANGE_TRANSITION, dossier);
}

gch_db_status_t
dossiers_store_answer (dossiers_store_t *self, const dossiers_change_t *change,
                       dossiers_dossier_t *dossier)
{
    assert (change && change->form_json);
    return s_change (self, change, DOSSIERS_CHANGE_ANSWER, dossier);
}

gch_db_status_t
dossiers_store_update (dossiers_store_t *self, int64_t id,
                       const char *draft_status, const char *form_json,
                       dossiers_dossier_t *dossier)
{
    assert (self);
    assert (dossier);
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRId64, id);
    const char *params[] = {id_text, draft_status, form_json};
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "dossier_update", params, &rc);
    if (result && rc == 1) {
        s_dossier_read (dossier, result, 0);
        s_changed (self, dossier);
    }
    else if (result)
        rc = GCH_DB_CONFLICT;
    PQclear (result);
    return rc;
}

//  --------------------------------------------------------------------------
//  Reads

gch_db_status_t
dossiers_store_load (dossiers_store_t *self, int64_t id, const char *caller_key,
                     const char *idempotency_key, dossiers_dossier_t *dossier)
{
    assert (self);
    assert (dossier);
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRId64, id);
    const char *params[] = {id_text, caller_key ? caller_key : "",
                            idempotency_key ? idempotency_key : ""};
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "dossier_load", params, &rc);
    if (result && rc == 1) {
        s_dossier_read (dossier, result, 0);
        dossier->replayed = s_bool (result, 0, S_COL_NEXT);
    }
    PQclear (result);
    return rc;
}

gch_db_status_t
dossiers_store_get (dossiers_store_t *self, int64_t id, bool agent,
                    dossiers_dossier_t *dossier)
{
    assert (self);
    assert (dossier);
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRId64, id);
    const char *params[] = {id_text};
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "dossier_get", params, &rc);
    if (!result || rc == 0) {
        PQclear (result);
        return result ? 0 : rc;
    }
    s_dossier_read (dossier, result, 0);
    int rows = PQntuples (result);
    int first = S_COL_NEXT;
    if (!PQgetisnull (result, 0, first)) {
        dossier->history =
            (Gch__HistoryEntry *) zmalloc (rows * sizeof (Gch__HistoryEntry));
        dossier->nhistory = (size_t) rows;
    }
    for (size_t row = 0; row < dossier->nhistory; row++) {
        Gch__HistoryEntry *entry = &dossier->history[row];
        gch__history_entry__init (entry);
        entry->seq = s_int (result, (int) row, first);
        entry->at_ms = s_int (result, (int) row, first + 1);
        entry->actor_kind = s_text (result, (int) row, first + 2);
        entry->actor_name = s_text (result, (int) row, first + 3);
        entry->from_status = s_text (result, (int) row, first + 4);
        entry->to_status = s_text (result, (int) row, first + 5);
        entry->comment = s_text (result, (int) row, first + 6);
        entry->hash = s_text (result, (int) row, first + 7);
        entry->actor_id = s_int (result, (int) row, first + 8);
    }
    PQclear (result);
    const char *params2[] = {id_text, agent ? "true" : "false"};
    result = gch_db_exec (self->db, "document_list", params2, &rc);
    if (!result) {
        dossiers_dossier_clear (dossier);
        return rc;
    }
    dossier->ndocuments = (size_t) PQntuples (result);
    if (dossier->ndocuments)
        dossier->documents = (Gch__DossierDocument *) zmalloc (
            dossier->ndocuments * sizeof (Gch__DossierDocument));
    for (size_t row = 0; row < dossier->ndocuments; row++) {
        Gch__DossierDocument *doc = &dossier->documents[row];
        gch__dossier_document__init (doc);
        doc->id = s_int (result, (int) row, 0);
        doc->title = s_text (result, (int) row, 1);
        doc->body = s_text (result, (int) row, 2);
        doc->created_ms = s_int (result, (int) row, 3);
    }
    PQclear (result);
    return 1;
}

char *
dossiers_store_citizen_name (dossiers_store_t *self, int64_t id)
{
    assert (self);
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRId64, id);
    const char *params[] = {id_text};
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, "citizen_name", params, &rc);
    char *name = strdup (result && rc == 1 ? PQgetvalue (result, 0, 0) : "");
    PQclear (result);
    return name;
}

//  Run a list statement and read its rows into list.
static gch_db_status_t
s_list (dossiers_store_t *self, const char *statement,
        const char *const *params, dossiers_list_t *list)
{
    gch_db_status_t rc;
    PGresult *result = gch_db_exec (self->db, statement, params, &rc);
    if (result && rc > 0) {
        list->items =
            (dossiers_dossier_t *) zmalloc (rc * sizeof (dossiers_dossier_t));
        list->count = (size_t) rc;
        for (int row = 0; row < rc; row++)
            s_dossier_read (&list->items[row], result, row);
    }
    PQclear (result);
    return rc;
}

//  "before this id" as text, 0 = no bound.
static void
s_before (char *buf, size_t size, int64_t before_id)
{
    snprintf (buf, size, "%" PRId64, before_id > 0 ? before_id : INT64_MAX);
}

gch_db_status_t
dossiers_store_list_mine (dossiers_store_t *self, int64_t citizen_id,
                          int64_t before_id, int limit, dossiers_list_t *list)
{
    assert (self);
    assert (list);
    char citizen[24], before[24], count[16];
    snprintf (citizen, sizeof citizen, "%" PRId64, citizen_id);
    s_before (before, sizeof before, before_id);
    snprintf (count, sizeof count, "%d", limit);
    const char *params[] = {citizen, before, count};
    return s_list (self, "dossier_list_mine", params, list);
}

//  PostgreSQL array literal of strings, each quoted. Caller owns the result.
static char *
s_text_array (char *const *strings, size_t count)
{
    size_t size = 3;
    for (size_t index = 0; index < count; index++)
        size += 2 * strlen (strings[index]) + 3;
    char *literal = (char *) zmalloc (size);
    char *out = literal;
    *out++ = '{';
    for (size_t index = 0; index < count; index++) {
        if (index)
            *out++ = ',';
        *out++ = '"';
        for (const char *in = strings[index]; *in; in++) {
            if (*in == '"' || *in == '\\')
                *out++ = '\\';
            *out++ = *in;
        }
        *out++ = '"';
    }
    *out++ = '}';
    *out = 0;
    return literal;
}

gch_db_status_t
dossiers_store_queue (dossiers_store_t *self, char *const *services,
                      size_t nservices, char *const *communes, size_t ncommunes,
                      const char *status, int64_t before_id, int limit,
                      dossiers_list_t *list)
{
    assert (self);
    assert (list);
    char before[24], count[16];
    s_before (before, sizeof before, before_id);
    snprintf (count, sizeof count, "%d", limit);
    char *array = s_text_array (services, nservices);
    char *scope = s_text_array (communes, ncommunes);
    bool one = status && *status;
    const char *open[] = {array, before, count, scope};
    const char *of_status[] = {array, before, count, status, scope};
    gch_db_status_t rc =
        one ? s_list (self, "dossier_queue_status", of_status, list)
            : s_list (self, "dossier_queue_open", open, list);
    free (array);
    free (scope);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self-test (no database: the service tests run the SQL)

void
dossiers_store_test (bool verbose)
{
    printf (" * dossiers_store: ");

    //  A known chain; the expected hashes were computed independently, e.g.
    //  the first: sha256 of "1:7;1:1;13:1767225600123;7:citizen;2:42;
    //  13:Jeanne Dupont;5:draft;9:submitted;0:;" (Python hashlib).
    Gch__HistoryEntry entry;
    gch__history_entry__init (&entry);
    entry.seq = 1;
    entry.at_ms = 1767225600123;
    entry.actor_kind = "citizen";
    entry.actor_name = "Jeanne Dupont";
    entry.from_status = "draft";
    entry.to_status = "submitted";
    char first[65], second[65], again[65];
    dossiers_store_history_hash ("", 7, &entry, 42, first);
    if (verbose)
        printf ("\n    %s", first);
    assert (streq (
        first,
        "ac4477a110c0c4ac937b6932e3004916fed3e4abe1110ff3c3fae0ce7111e1a1"));
    entry.seq = 2;
    entry.at_ms += 1000;
    entry.actor_kind = "agent";
    entry.actor_name = "Agent Démo";
    entry.from_status = "submitted";
    entry.to_status = "refused";
    entry.comment = "Adresse hors commune; 1:2;";
    dossiers_store_history_hash (first, 7, &entry, 3, second);
    if (verbose)
        printf ("\n    %s", second);
    assert (streq (
        second,
        "af13b18d78c67f93fd597ffdb6af5ac8fa632b2dd9eab408f24ee0d2a96550e3"));
    //  Any change of a field or of the previous hash changes the hash.
    dossiers_store_history_hash (first, 8, &entry, 3, again);
    assert (!streq (again, second));
    dossiers_store_history_hash (first, 7, &entry, 4, again);
    assert (!streq (again, second));
    dossiers_store_history_hash (second, 7, &entry, 3, again);
    assert (!streq (again, second));
    entry.comment = NULL;  //  same as ""
    dossiers_store_history_hash (first, 7, &entry, 3, again);
    entry.comment = "";
    dossiers_store_history_hash (first, 7, &entry, 3, second);
    assert (streq (again, second));

    char *services[] = {"police-municipale", "a\"b\\c"};
    char *literal = s_text_array (services, 2);
    assert (streq (literal, "{\"police-municipale\",\"a\\\"b\\\\c\"}"));
    free (literal);
    literal = s_text_array (NULL, 0);
    assert (streq (literal, "{}"));
    free (literal);

    dossiers_dossier_t dossier = {0};
    dossier.number = strdup ("2026-000001");
    dossier.history =
        (Gch__HistoryEntry *) zmalloc (sizeof (Gch__HistoryEntry));
    dossier.nhistory = 1;
    dossier.history[0].hash = strdup (first);
    dossiers_dossier_clear (&dossier);
    assert (dossier.number == NULL && dossier.nhistory == 0);
    if (verbose)
        printf ("\n    ");
    printf ("OK\n");
}
