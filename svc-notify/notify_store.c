//  notify_store - every SQL statement of svc-notify.
//
//  The statement table below is the only SQL of the service; each entry
//  names the function that runs it. Times are the database's (now ()), so
//  instances on different machines agree on what is due.
#include "gch.h"
#include "notify_mail.h"
#include "notify_store.h"

static const gch_db_statement_t s_statements[] = {
    //  notify_store_record (); an already recorded Message-ID is the same
    //  event applied by another instance (or before a crash): no new row.
    {"mail_insert",
     "INSERT INTO mail (message_id, recipient, subject, body)"
     " VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
     4},
    //  notify_store_claim ()
    {"mail_claim",
     "SELECT id, message_id, recipient, subject, body, attempts,"
     " (extract(epoch FROM created_at) * 1000)::bigint"
     " FROM mail WHERE status = 'pending' AND next_attempt_at <= now()"
     " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
     0},
    //  notify_store_sent ()
    {"mail_sent",
     "UPDATE mail SET status = 'sent', sent_at = now(), last_error = NULL"
     " WHERE id = $1",
     1},
    //  notify_store_failed ()
    {"mail_failed",
     "UPDATE mail SET attempts = attempts + 1, last_error = $3,"
     " next_attempt_at = now() + $2::double precision"
     " * interval '1 millisecond' WHERE id = $1",
     3},
    //  notify_store_cursor (), notify_store_record (), via gch_outbox
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0},
};

struct _notify_store_t {
    gch_db_t *db;  //  the service's connection
};

notify_store_t *
notify_store_new (const char *conninfo)
{
    assert (conninfo);
    gch_db_t *db = gch_db_new (conninfo, s_statements);
    if (!db)
        return NULL;
    notify_store_t *self = (notify_store_t *) zmalloc (sizeof (notify_store_t));
    self->db = db;
    return self;
}

void
notify_store_destroy (notify_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        notify_store_t *self = *self_p;
        gch_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

gch_db_t *
notify_store_db (notify_store_t *self)
{
    assert (self);
    return self->db;
}

bool
notify_store_ok (notify_store_t *self)
{
    assert (self);
    return gch_db_ok (self->db);
}

int64_t
notify_store_cursor (notify_store_t *self, const char *source)
{
    assert (self);
    assert (source);
    return gch_outbox_cursor_get (self->db, source);
}

gch_db_status_t
notify_store_record (notify_store_t *self, const char *source, int64_t seq,
                     const notify_mail_t *mail)
{
    assert (self);
    assert (source);
    int rc = gch_db_begin (self->db);
    if (rc < 0)
        return rc;
    gch_db_status_t status = 0;
    if (mail) {
        const char *params[] = {mail->message_id, mail->recipient,
                                mail->subject, mail->body};
        PGresult *result =
            gch_db_exec (self->db, "mail_insert", params, &status);
        if (!result)
            goto failed;
        PQclear (result);
    }
    rc = gch_outbox_cursor_set (self->db, source, seq);
    if (rc < 0) {
        status = rc;
        goto failed;
    }
    rc = gch_db_commit (self->db);
    if (rc < 0)
        return rc;
    return status > 0 ? 1 : 0;

failed:
    gch_db_rollback (self->db);
    return status < 0 ? status : GCH_DB_HARD;
}

//  Copy of a text column. Caller owns the result.
static char *
s_column (PGresult *result, int column)
{
    char *copy = strdup (PQgetvalue (result, 0, column));
    assert (copy);
    return copy;
}

gch_db_status_t
notify_store_claim (notify_store_t *self, notify_mail_t **mail_p)
{
    assert (self);
    assert (mail_p);
    *mail_p = NULL;
    int rc = gch_db_begin (self->db);
    if (rc < 0)
        return rc;
    gch_db_status_t status = 0;
    PGresult *result = gch_db_exec (self->db, "mail_claim", NULL, &status);
    if (!result) {
        gch_db_rollback (self->db);
        return status < 0 ? status : GCH_DB_HARD;
    }
    if (PQntuples (result) == 0) {
        PQclear (result);
        gch_db_rollback (self->db);
        return 0;
    }
    notify_mail_t *mail = notify_mail_new ();
    mail->id = strtoll (PQgetvalue (result, 0, 0), NULL, 10);
    mail->message_id = s_column (result, 1);
    mail->recipient = s_column (result, 2);
    mail->subject = s_column (result, 3);
    mail->body = s_column (result, 4);
    mail->attempts = atoi (PQgetvalue (result, 0, 5));
    mail->created_ms = strtoll (PQgetvalue (result, 0, 6), NULL, 10);
    PQclear (result);
    *mail_p = mail;
    return 1;
}

//  Run one statement on the claimed mail, then commit (or roll back).
static gch_db_status_t
s_close_claim (notify_store_t *self, const char *name,
               const char *const *params)
{
    gch_db_status_t status = 0;
    PGresult *result = gch_db_exec (self->db, name, params, &status);
    if (!result) {
        gch_db_rollback (self->db);
        return status < 0 ? status : GCH_DB_HARD;
    }
    PQclear (result);
    int rc = gch_db_commit (self->db);
    if (rc < 0)
        return rc;
    return 1;
}

gch_db_status_t
notify_store_sent (notify_store_t *self, int64_t id)
{
    assert (self);
    char id_text[24];
    snprintf (id_text, sizeof (id_text), "%" PRId64, id);
    const char *params[] = {id_text};
    return s_close_claim (self, "mail_sent", params);
}

gch_db_status_t
notify_store_failed (notify_store_t *self, int64_t id, int delay_ms,
                     const char *error)
{
    assert (self);
    char id_text[24], delay_text[16];
    snprintf (id_text, sizeof (id_text), "%" PRId64, id);
    snprintf (delay_text, sizeof (delay_text), "%d", delay_ms);
    const char *params[] = {id_text, delay_text, error ? error : "?"};
    return s_close_claim (self, "mail_failed", params);
}
