//  gch_outbox - events written with the change, numbered in commit order,
//  fetched by consumers that keep their own cursor. See gch_outbox.h for
//  the design; this file only runs the statements of GCH_OUTBOX_STATEMENTS.
#include "gch.h"

int
gch_outbox_add (gch_db_t *db, const char *type, const ProtobufCMessage *payload)
{
    uint8_t *data;
    size_t size = gch_pack (payload, &data);
    const char *params[2] = {type, (const char *)data};
    int lengths[2] = {0, (int)size};
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
    bool locked = result && streq (PQgetvalue (result, 0, 0), "t");
    PQclear (result);
    int numbered = 0;
    if (locked) {
        //  Another relay holds the lock otherwise: it numbers for us
        result = gch_db_exec (db, "gch_outbox_number", NULL, &status);
        PQclear (result);
        numbered = result ? status : status;
    }
    if (!result) {
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
    batch->events = (Gch__Event **)zmalloc (sizeof (Gch__Event *) * (rows + 1));
    for (int row = 0; row < rows; row++) {
        Gch__Event *event = (Gch__Event *)zmalloc (sizeof (Gch__Event));
        gch__event__init (event);
        event->seq = atoll (PQgetvalue (result, row, 0));
        event->type = strdup (PQgetvalue (result, row, 1));
        size_t size = 0;
        event->payload.data = PQunescapeBytea (
            (const unsigned char *)PQgetvalue (result, row, 2), &size);
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

void
gch_outbox_test (bool verbose)
{
    (void)verbose;
    printf (" * gch_outbox: ");
    //  The database paths run in the end-to-end tests (tests/e2e); here,
    //  the batch life cycle.
    Gch__EventsBatch batch = GCH__EVENTS_BATCH__INIT;
    batch.events = (Gch__Event **)zmalloc (sizeof (Gch__Event *));
    Gch__Event *event = (Gch__Event *)zmalloc (sizeof (Gch__Event));
    gch__event__init (event);
    event->type = strdup ("test.event");
    batch.events[batch.n_events++] = event;
    gch_outbox_batch_clear (&batch);
    assert (batch.n_events == 0 && batch.events == NULL);
    printf ("OK\n");
}
