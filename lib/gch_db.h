//  gch_db - one PostgreSQL connection of a service: connect, migrations under
//  an advisory lock, statements prepared once from a table, SQLSTATE mapped
//  to gch_db_status_t, reconnection when the server went away.
#ifndef GCH_DB_H_INCLUDED
#define GCH_DB_H_INCLUDED

//  Results of store calls: n > 0 rows, 0 none, -1 soft (retry the
//  transaction: serialization failure, deadlock, connection lost), -2 hard,
//  -3 unique violation (the caller decides what that conflict means).
typedef int gch_db_status_t;
#define GCH_DB_SOFT -1
#define GCH_DB_HARD -2
#define GCH_DB_CONFLICT -3

typedef struct {
    const char *name;  //  prepared statement name
    const char *sql;   //  text with $1..$n
    int nparams;
} gch_db_statement_t;

typedef struct _gch_db_t gch_db_t;

//  Connect with conninfo and prepare the NULL-name-terminated table. The
//  table is borrowed and must outlive the connection. Returns NULL (logged)
//  if the server is unreachable.
gch_db_t *gch_db_new (const char *conninfo, const gch_db_statement_t *table);
void gch_db_destroy (gch_db_t **self_p);

//  Wait until the server at conninfo accepts connections (it may still be
//  starting), checking every 500 ms, for at most `seconds` (0 = no limit).
//  Returns true when it does, false on timeout or interrupt (logged).
bool gch_db_wait (const char *conninfo, int seconds);

//  What a service does at start: wait up to wait_s seconds (0 = no limit)
//  for the server, then apply its migrations from dir on a connection of
//  its own. Returns the schema version (>= 0), or -1 (logged) if the server
//  stayed unreachable, we were interrupted, or a migration failed.
int gch_db_setup (const char *conninfo, const char *dir, int wait_s);

//  Apply every sql/NNNN_*.sql file of dir not yet recorded in
//  schema_migrations, each in its own transaction, under an advisory lock
//  keyed on the schema name. Returns the highest version applied (>= 0) or
//  -1 (logged).
int gch_db_migrate (gch_db_t *self, const char *dir);

//  Run a prepared statement with text parameters (NULL = SQL NULL). Returns
//  the result (caller owns it: PQclear) or NULL when the statement failed,
//  with *status_p set to the failure's gch_db_status_t. On success
//  *status_p is the number of rows (or of rows affected).
PGresult *gch_db_exec (gch_db_t *self, const char *name,
                       const char *const *params, gch_db_status_t *status_p);

//  Same, with lengths and formats for binary parameters.
PGresult *gch_db_exec_params (gch_db_t *self, const char *name,
                              const char *const *params, const int *lengths,
                              const int *formats, gch_db_status_t *status_p);

//  BEGIN / COMMIT / ROLLBACK. Return 0 or a gch_db_status_t < 0.
int gch_db_begin (gch_db_t *self);
int gch_db_commit (gch_db_t *self);
void gch_db_rollback (gch_db_t *self);

//  Plain SQL with no parameters (for migrations and tools). Same result
//  contract as gch_db_exec.
PGresult *gch_db_query (gch_db_t *self, const char *sql,
                        gch_db_status_t *status_p);

//  True if the connection is up (reconnects and re-prepares if it was not).
bool gch_db_ok (gch_db_t *self);

//  Highest migration version applied.
int gch_db_schema_version (gch_db_t *self);

//  Borrowed connection, for the outbox module.
PGconn *gch_db_conn (gch_db_t *self);

//  Map a libpq error result to a status (logs hard errors).
gch_db_status_t gch_db_status_of (PGresult *result);

void gch_db_test (bool verbose);

#endif
