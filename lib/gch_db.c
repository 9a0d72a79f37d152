//  gch_db - one PostgreSQL connection of a service.
//
//  Statements come from one table per service, prepared on the connection
//  the first time they are needed (migrations must run before: statements
//  name tables that migrations create) and again after a reconnection.
//  Every call maps failures to gch_db_status_t: unique violation ->
//  GCH_DB_CONFLICT, serialization failure, deadlock or lost connection ->
//  GCH_DB_SOFT (retry the transaction), anything else -> GCH_DB_HARD with
//  the server's message logged.
#include "gch.h"
#include <dirent.h>
#include <ctype.h>

struct _gch_db_t {
    PGconn *conn;
    char *conninfo;
    const gch_db_statement_t *table;  //  borrowed
    bool prepared;                    //  table prepared on this connection
};

static int
s_prepare (gch_db_t *self)
{
    for (const gch_db_statement_t *s = self->table; s && s->name; s++) {
        PGresult *result =
            PQprepare (self->conn, s->name, s->sql, s->nparams, NULL);
        bool ok = PQresultStatus (result) == PGRES_COMMAND_OK;
        if (!ok)
            zsys_error ("db: cannot prepare %s: %s", s->name,
                        PQresultErrorMessage (result));
        PQclear (result);
        if (!ok) {
            //  All or nothing: the next attempt starts from a clean slate
            //  (else it fails on "already exists" for the ones before)
            PQclear (PQexec (self->conn, "DEALLOCATE ALL"));
            return -1;
        }
    }
    self->prepared = true;
    return 0;
}

//  Server notices (NOTICE, WARNING) go to the debug log, not to stderr.
static void
s_notice (void *arg, const char *message)
{
    (void) arg;
    gch_debug ("db: %s", message);
}

gch_db_t *
gch_db_new (const char *conninfo, const gch_db_statement_t *table)
{
    assert (conninfo);
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        zsys_warning ("db: cannot connect: %s", PQerrorMessage (conn));
        PQfinish (conn);
        return NULL;
    }
    PQsetNoticeProcessor (conn, s_notice, NULL);
    gch_db_t *self = (gch_db_t *) zmalloc (sizeof (gch_db_t));
    self->conn = conn;
    self->conninfo = strdup (conninfo);
    self->table = table;
    return self;
}

bool
gch_db_wait (const char *conninfo, int seconds)
{
    int64_t give_up = gch_mono_ms () + (int64_t) seconds * 1000;
    bool told = false;
    while (!zsys_interrupted) {
        //  PQPING_NO_ATTEMPT (bad conninfo) will not get better by waiting
        PGPing ping = PQping (conninfo);
        if (ping == PQPING_OK || ping == PQPING_NO_ATTEMPT)
            return ping == PQPING_OK;
        if (seconds > 0 && gch_mono_ms () >= give_up)
            break;
        if (!told)
            zsys_notice ("db: waiting for PostgreSQL");
        told = true;
        zclock_sleep (500);
    }
    if (!zsys_interrupted)
        zsys_error ("db: PostgreSQL unreachable after %d s", seconds);
    return false;
}

void
gch_db_destroy (gch_db_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gch_db_t *self = *self_p;
        PQfinish (self->conn);
        free (self->conninfo);
        free (self);
        *self_p = NULL;
    }
}

PGconn *
gch_db_conn (gch_db_t *self)
{
    return self->conn;
}

bool
gch_db_ok (gch_db_t *self)
{
    if (PQstatus (self->conn) != CONNECTION_OK) {
        PQreset (self->conn);
        self->prepared = false;
        if (PQstatus (self->conn) != CONNECTION_OK)
            return false;
        zsys_notice ("db: reconnected");
    }
    if (!self->prepared && s_prepare (self) != 0)
        return false;
    return true;
}

gch_db_status_t
gch_db_status_of (PGresult *result)
{
    const char *state =
        result ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return GCH_DB_SOFT;  //  no result: the connection went away
    if (streq (state, "23505"))
        return GCH_DB_CONFLICT;
    if (streq (state, "40001") || streq (state, "40P01") ||
        strncmp (state, "08", 2) == 0 || streq (state, "57P01"))
        return GCH_DB_SOFT;
    zsys_error ("db: %s %s", state, PQresultErrorMessage (result));
    return GCH_DB_HARD;
}

static PGresult *
s_check (gch_db_t *self, PGresult *result, gch_db_status_t *status_p)
{
    ExecStatusType type = PQresultStatus (result);
    if (type == PGRES_TUPLES_OK) {
        *status_p = PQntuples (result);
        return result;
    }
    if (type == PGRES_COMMAND_OK) {
        *status_p = atoi (PQcmdTuples (result));
        return result;
    }
    *status_p = gch_db_status_of (result);
    if (PQstatus (self->conn) != CONNECTION_OK)
        *status_p = GCH_DB_SOFT;
    PQclear (result);
    return NULL;
}

PGresult *
gch_db_exec_params (gch_db_t *self, const char *name, const char *const *params,
                    const int *lengths, const int *formats,
                    gch_db_status_t *status_p)
{
    assert (self && name && status_p);
    //  Only reconnect outside a transaction: inside one, the transaction
    //  is gone with the connection and the caller must start again.
    PGTransactionStatusType tx = PQtransactionStatus (self->conn);
    if (tx == PQTRANS_IDLE || tx == PQTRANS_UNKNOWN) {
        if (!gch_db_ok (self)) {
            *status_p = GCH_DB_SOFT;
            return NULL;
        }
    }
    else if (!self->prepared && s_prepare (self) != 0) {
        *status_p = GCH_DB_HARD;
        return NULL;
    }
    int nparams = 0;
    for (const gch_db_statement_t *s = self->table; s && s->name; s++)
        if (streq (s->name, name)) {
            nparams = s->nparams;
            break;
        }
    PGresult *result =
        PQexecPrepared (self->conn, name, nparams, params, lengths, formats, 0);
    return s_check (self, result, status_p);
}

PGresult *
gch_db_exec (gch_db_t *self, const char *name, const char *const *params,
             gch_db_status_t *status_p)
{
    return gch_db_exec_params (self, name, params, NULL, NULL, status_p);
}

PGresult *
gch_db_query (gch_db_t *self, const char *sql, gch_db_status_t *status_p)
{
    return s_check (self, PQexec (self->conn, sql), status_p);
}

static int
s_simple (gch_db_t *self, const char *sql)
{
    gch_db_status_t status;
    PGresult *result = gch_db_query (self, sql, &status);
    PQclear (result);
    return result ? 0 : status;
}

int
gch_db_begin (gch_db_t *self)
{
    if (PQtransactionStatus (self->conn) == PQTRANS_IDLE ||
        PQstatus (self->conn) != CONNECTION_OK)
        if (!gch_db_ok (self))
            return GCH_DB_SOFT;
    return s_simple (self, "BEGIN");
}

int
gch_db_commit (gch_db_t *self)
{
    return s_simple (self, "COMMIT");
}

void
gch_db_rollback (gch_db_t *self)
{
    if (PQtransactionStatus (self->conn) != PQTRANS_IDLE)
        s_simple (self, "ROLLBACK");
}

int
gch_db_schema_version (gch_db_t *self)
{
    gch_db_status_t status;
    PGresult *result = gch_db_query (
        self, "SELECT coalesce(max(version), 0) FROM schema_migrations",
        &status);
    int version = result && status > 0 ? atoi (PQgetvalue (result, 0, 0)) : -1;
    PQclear (result);
    return version;
}

static int
s_name_compare (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  Apply one migration in its own transaction and record it.
static int
s_apply_sql (gch_db_t *self, const char *sql, const char *name, int version)
{
    //  Plain BEGIN: gch_db_begin would prepare statements naming tables
    //  that this very migration may create.
    int rc = s_simple (self, "BEGIN");
    if (rc == 0)
        rc = s_simple (self, sql);
    if (rc == 0) {
        char version_text[16];
        snprintf (version_text, sizeof version_text, "%d", version);
        const char *params[2] = {version_text, name};
        PGresult *result = PQexecParams (
            self->conn,
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
            NULL, params, NULL, NULL, 0);
        gch_db_status_t status;
        PQclear (s_check (self, result, &status));
        rc = status < 0 ? status : 0;
    }
    if (rc == 0)
        rc = gch_db_commit (self);
    if (rc != 0) {
        zsys_error ("db: migration %s failed", name);
        gch_db_rollback (self);
        return -1;
    }
    zsys_notice ("db: applied migration %s", name);
    return 0;
}

//  Apply one migration file.
static int
s_apply (gch_db_t *self, const char *dir, const char *name, int version)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = NULL;
    if (file && zfile_input (file) == 0)
        chunk = zfile_read (file, zfile_cursize (file), 0);
    zfile_destroy (&file);
    if (!chunk) {
        zsys_error ("db: cannot read migration %s", path);
        return -1;
    }
    char *sql = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    int rc = s_apply_sql (self, sql, name, version);
    free (sql);
    return rc;
}

int
gch_db_migrate (gch_db_t *self, const char *dir)
{
    assert (self && dir);
    if (s_simple (self, "SELECT pg_advisory_lock(hashtext(current_schema()"
                        " || '.migrations'))") != 0)
        return -1;
    int rc = s_simple (self, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             " version int PRIMARY KEY, name text NOT NULL,"
                             " applied_at timestamptz NOT NULL DEFAULT now())");
    //  Migration 0: the tables of lib/ itself (the event outbox), the same
    //  in every service's schema
    gch_db_status_t status = 0;
    PGresult *result = rc == 0 ? gch_db_query (self,
                                               "SELECT 1 FROM schema_migrations"
                                               " WHERE version = 0",
                                               &status)
                               : NULL;
    PQclear (result);
    if (rc == 0 && (!result || status == 0))
        rc = s_apply_sql (self, gch_outbox_schema, "0000_gch_outbox (lib)", 0);
    int current = rc == 0 ? gch_db_schema_version (self) : -1;
    int highest = current;
    DIR *handle = current >= 0 ? opendir (dir) : NULL;
    if (current >= 0 && !handle)
        zsys_error ("db: cannot open migrations folder %s", dir);
    if (handle) {
        char *names[1000];
        size_t count = 0;
        struct dirent *entry;
        while ((entry = readdir (handle)) && count < 1000) {
            size_t size = strlen (entry->d_name);
            if (size > 9 && isdigit ((unsigned char) entry->d_name[0]) &&
                entry->d_name[4] == '_' &&
                streq (entry->d_name + size - 4, ".sql"))
                names[count++] = strdup (entry->d_name);
        }
        closedir (handle);
        qsort (names, count, sizeof (char *), s_name_compare);
        for (size_t i = 0; i < count; i++) {
            int version = atoi (names[i]);
            if (highest >= 0 && version > current) {
                if (s_apply (self, dir, names[i], version) == 0)
                    highest = version;
                else
                    highest = -1;
            }
            free (names[i]);
        }
    }
    else
        highest = -1;
    s_simple (self, "SELECT pg_advisory_unlock(hashtext(current_schema()"
                    " || '.migrations'))");
    self->prepared = false;
    return highest;
}

int
gch_db_setup (const char *conninfo, const char *dir, int wait_s)
{
    if (!gch_db_wait (conninfo, wait_s))
        return -1;
    gch_db_t *db = gch_db_new (conninfo, NULL);
    int version = db ? gch_db_migrate (db, dir) : -1;
    gch_db_destroy (&db);
    if (version < 0)
        zsys_error ("db: migrations of %s failed", dir);
    else
        zsys_notice ("db: schema at version %d", version);
    return version;
}

void
gch_db_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_db: ");
    //  Without a server: a clean NULL, not a crash
    gch_db_t *db = gch_db_new ("host=127.0.0.1 port=9 connect_timeout=1", NULL);
    assert (db == NULL);
    gch_db_destroy (&db);
    //  Nothing listens there: no wait beyond the limit
    int64_t start = gch_mono_ms ();
    assert (!gch_db_wait ("host=127.0.0.1 port=9 connect_timeout=1", 1));
    assert (gch_mono_ms () - start < 3000);
    //  Status mapping without a result means a lost connection
    assert (gch_db_status_of (NULL) == GCH_DB_SOFT);
    const char *conninfo = getenv ("GCH_TEST_DB");
    if (conninfo && *conninfo) {
        //  A table with a statement that cannot be prepared: every attempt
        //  fails on that statement, none leaves the others prepared
        static const gch_db_statement_t table[] = {
            {"good", "SELECT 1", 0},
            {"bad", "SELECT * FROM gch_no_such_table", 0},
            {NULL, NULL, 0}};
        db = gch_db_new (conninfo, table);
        assert (db);
        for (int attempt = 0; attempt < 2; attempt++) {
            gch_db_status_t status;
            assert (!gch_db_exec (db, "good", NULL, &status));
            PGresult *left = gch_db_query (
                db, "SELECT count(*) FROM pg_prepared_statements", &status);
            assert (left && streq (PQgetvalue (left, 0, 0), "0"));
            PQclear (left);
        }
        gch_db_destroy (&db);
    }
    printf ("OK\n");
}
