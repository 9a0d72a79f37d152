//  gch_outbox - events written with the change, numbered in commit order,
//  fetched by consumers that keep their own cursor. See gch_outbox.h for
//  the design; this file only runs the statements of GCH_OUTBOX_STATEMENTS.
#include "gch.h"

//  The tables of this module, in every service's schema. gch_db_migrate
//  applies them as migration 0, before the service's own files, so that no
//  service repeats them.
const char gch_outbox_schema[] =
    "CREATE TABLE outbox ("
    " id bigserial PRIMARY KEY,"
    " seq bigint UNIQUE,"
    " type text NOT NULL,"
    " payload bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now());\n"
    "CREATE INDEX outbox_unnumbered ON outbox (id) WHERE seq IS NULL;\n"
    "COMMENT ON TABLE outbox IS 'Events of this service, written in the"
    " transaction of the change; numbered by the relay in commit order and"
    " served by events.fetch (lib/gch_outbox.h).';\n"
    "COMMENT ON COLUMN outbox.seq IS 'Publication sequence, given by the relay"
    " (gch_outbox_publish) in commit order; NULL until then.';\n"
    "COMMENT ON COLUMN outbox.type IS 'Event type, e.g. account.created; names"
    " the protobuf message of payload (proto/events.proto).';\n"
    "COMMENT ON COLUMN outbox.payload IS 'The event message, packed"
    " protobuf.';\n"
    "COMMENT ON INDEX outbox_unnumbered IS 'Lets the relay find committed"
    " events still waiting for a sequence.';\n"
    "CREATE TABLE event_cursor ("
    " source text PRIMARY KEY,"
    " last_seq bigint NOT NULL);\n"
    "COMMENT ON TABLE event_cursor IS 'Consumer side: last sequence applied"
    " per source service, advanced in the transaction of the effect"
    " (gch_outbox_cursor_get/set).';\n";

int
gch_outbox_add (gch_db_t *db, const char *type, const ProtobufCMessage *payload)
{
    uint8_t *data;
    size_t size = gch_pack (payload, &data);
    const char *params[2] = {type, (const char *) data};
    int lengths[2] = {0, (int) size};
    int formats[2] = {0, 1};
    gch_db_status_t status;
    PGresult *result = gch_db_exec_params (db, "gch_outbox_add", params,
                                           lengths, formats, &status);
    free (data);
    PQclear (result);
    return result ? 0 : status;
}

int
gch_outbox_publish (gch_db_t *db)
{
    int rc = gch_db_begin (db);
    if (rc != 0)
        return rc;
    gch_db_status_t status;
    PGresult *result = gch_db_exec (db, "gch_outbox_lock", NULL, &status);
    bool failed = !result;
    bool locked = result && streq (PQgetvalue (result, 0, 0), "t");
    PQclear (result);
    int numbered = 0;
    if (locked) {
        //  Without the lock another relay is numbering, for us too
        result = gch_db_exec (db, "gch_outbox_number", NULL, &status);
        failed = !result;
        numbered = status;
        PQclear (result);
    }
    if (failed) {
        gch_db_rollback (db);
        return status;
    }
    rc = gch_db_commit (db);
    return rc != 0 ? rc : numbered;
}

void
gch_outbox_batch_clear (Gch__EventsBatch *batch)
{
    for (size_t i = 0; i < batch->n_events; i++) {
        Gch__Event *event = batch->events[i];
        free (event->type);
        PQfreemem (event->payload.data);
        free (event);
    }
    free (batch->events);
    Gch__EventsBatch empty = GCH__EVENTS_BATCH__INIT;
    *batch = empty;
}

int
gch_outbox_fetch (gch_db_t *db, int64_t after_seq, int limit,
                  Gch__EventsBatch *batch)
{
    int rc = gch_outbox_publish (db);
    if (rc < 0)
        return rc;
    char after[24], count[16];
    snprintf (after, sizeof after, "%" PRId64, after_seq);
    snprintf (count, sizeof count, "%d", limit);
    const char *params[2] = {after, count};
    gch_db_status_t status;
    PGresult *result = gch_db_exec (db, "gch_outbox_fetch", params, &status);
    if (!result)
        return status;
    int rows = PQntuples (result);
    batch->events =
        (Gch__Event **) zmalloc (sizeof (Gch__Event *) * (rows + 1));
    for (int row = 0; row < rows; row++) {
        Gch__Event *event = (Gch__Event *) zmalloc (sizeof (Gch__Event));
        gch__event__init (event);
        event->seq = atoll (PQgetvalue (result, row, 0));
        event->type = strdup (PQgetvalue (result, row, 1));
        size_t size = 0;
        event->payload.data = PQunescapeBytea (
            (const unsigned char *) PQgetvalue (result, row, 2), &size);
        event->payload.len = size;
        event->created_ms = atoll (PQgetvalue (result, row, 3));
        batch->events[batch->n_events++] = event;
        batch->last_seq = event->seq;
    }
    PQclear (result);
    result = gch_db_exec (db, "gch_outbox_top", NULL, &status);
    if (result && status > 0)
        batch->last_seq = atoll (PQgetvalue (result, 0, 0));
    PQclear (result);
    return 0;
}

int64_t
gch_outbox_cursor_get (gch_db_t *db, const char *source)
{
    const char *params[1] = {source};
    gch_db_status_t status;
    PGresult *result = gch_db_exec (db, "gch_cursor_get", params, &status);
    if (!result)
        return -1;
    int64_t seq = status > 0 ? atoll (PQgetvalue (result, 0, 0)) : 0;
    PQclear (result);
    return seq;
}

int
gch_outbox_cursor_set (gch_db_t *db, const char *source, int64_t seq)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, seq);
    const char *params[2] = {source, text};
    gch_db_status_t status;
    PGresult *result = gch_db_exec (db, "gch_cursor_set", params, &status);
    PQclear (result);
    return result ? 0 : status;
}

//  The database part runs when GCH_TEST_DB names a database where we may
//  create a throwaway schema (tests/run sets it).
static const gch_db_statement_t s_test_statements[] = {
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0},
};

static gch_db_t *
s_test_connect (const char *conninfo, const char *schema)
{
    gch_db_t *db = gch_db_new (conninfo, s_test_statements);
    assert (db);
    char sql[256];
    snprintf (sql, sizeof sql, "SET search_path = %s", schema);
    gch_db_status_t status;
    PQclear (gch_db_query (db, sql, &status));
    assert (status >= 0);
    return db;
}

static void
s_test_add (gch_db_t *db, int64_t id)
{
    Gch__DossierRef ref = GCH__DOSSIER_REF__INIT;
    ref.id = id;
    assert (gch_outbox_add (db, "test.event", &ref.base) == 0);
}

static void
s_test_database (const char *conninfo)
{
    char schema[64];
    snprintf (schema, sizeof schema, "gch_test_%d", (int) getpid ());
    gch_db_t *admin = gch_db_new (conninfo, NULL);
    assert (admin);
    char sql[512];
    snprintf (sql, sizeof sql, "CREATE SCHEMA %s", schema);
    gch_db_status_t status;
    PQclear (gch_db_query (admin, sql, &status));
    assert (status >= 0);

    //  Migrations: applied once, in order, recorded
    char dir[] = "/tmp/gch_migrations_XXXXXX";
    assert (mkdtemp (dir));
    char path[256];
    snprintf (path, sizeof path, "%s/0001_thing.sql", dir);
    FILE *file = fopen (path, "w");
    fprintf (file, "CREATE TABLE thing (id int PRIMARY KEY);\n");
    fclose (file);
    snprintf (path, sizeof path, "%s/0002_broken.sql", dir);
    file = fopen (path, "w");
    fprintf (file, "CREATE TABLE later (x int);\nTHIS IS NOT SQL;\n");
    fclose (file);
    gch_db_t *first = s_test_connect (conninfo, schema);
    assert (gch_db_migrate (first, dir) == -1);   //  0002 refused...
    assert (gch_db_schema_version (first) == 1);  //  ...0001 kept
    remove (path);
    assert (gch_db_migrate (first, dir) == 1);
    snprintf (path, sizeof path, "%s/0001_thing.sql", dir);
    remove (path);
    rmdir (dir);

    //  Sequence order is commit order: an event committed later gets a
    //  higher number even if it was inserted first.
    gch_db_t *second = s_test_connect (conninfo, schema);
    assert (gch_db_begin (first) == 0);
    s_test_add (first, 1);  //  inserted first, committed last
    assert (gch_db_begin (second) == 0);
    s_test_add (second, 2);
    assert (gch_db_commit (second) == 0);
    assert (gch_outbox_publish (second) == 1);
    Gch__EventsBatch batch = GCH__EVENTS_BATCH__INIT;
    assert (gch_outbox_fetch (second, 0, 10, &batch) == 0);
    assert (batch.n_events == 1 && batch.events[0]->seq == 1);
    Gch__DossierRef *ref = gch__dossier_ref__unpack (
        NULL, batch.events[0]->payload.len, batch.events[0]->payload.data);
    assert (ref && ref->id == 2);
    gch__dossier_ref__free_unpacked (ref, NULL);
    gch_outbox_batch_clear (&batch);
    assert (gch_db_commit (first) == 0);
    assert (gch_outbox_fetch (second, 1, 10, &batch) == 0);
    assert (batch.n_events == 1 && batch.events[0]->seq == 2);
    assert (batch.last_seq == 2);
    gch_outbox_batch_clear (&batch);
    assert (gch_outbox_fetch (second, 2, 10, &batch) == 0);
    assert (batch.n_events == 0 && batch.last_seq == 2);
    gch_outbox_batch_clear (&batch);

    //  Cursor: starts at 0, only moves forward
    assert (gch_outbox_cursor_get (first, "src") == 0);
    assert (gch_outbox_cursor_set (first, "src", 5) == 0);
    assert (gch_outbox_cursor_set (first, "src", 3) == 0);
    assert (gch_outbox_cursor_get (first, "src") == 5);

    //  Unique violation maps to conflict
    PQclear (gch_db_query (first, "INSERT INTO event_cursor VALUES ('src', 1)",
                           &status));
    assert (status == GCH_DB_CONFLICT);

    gch_db_destroy (&second);
    gch_db_destroy (&first);
    snprintf (sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    PQclear (gch_db_query (admin, sql, &status));
    gch_db_destroy (&admin);
}

void
gch_outbox_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_outbox: ");
    Gch__EventsBatch batch = GCH__EVENTS_BATCH__INIT;
    batch.events = (Gch__Event **) zmalloc (sizeof (Gch__Event *));
    Gch__Event *event = (Gch__Event *) zmalloc (sizeof (Gch__Event));
    gch__event__init (event);
    event->type = strdup ("test.event");
    batch.events[batch.n_events++] = event;
    gch_outbox_batch_clear (&batch);
    assert (batch.n_events == 0 && batch.events == NULL);
    const char *conninfo = getenv ("GCH_TEST_DB");
    if (conninfo && *conninfo)
        s_test_database (conninfo);
    else
        printf ("(no GCH_TEST_DB: database part not run) ");
    printf ("OK\n");
}
