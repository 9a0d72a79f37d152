//  accounts_store - every SQL statement of svc-accounts (see
//  accounts_store.h for the contract of each function).
//
//  The statement table just below is the whole SQL of the service; each
//  entry names the function that uses it. A function that changes more than
//  one row opens its own transaction (BEGIN ... COMMIT, ROLLBACK on any
//  failure); a single statement is its own transaction. The account.created
//  event goes to the outbox (gch_outbox_add) in the transaction that
//  creates the account, so the event exists if and only if the account does.
//
//  An e-mail already taken is detected with INSERT ... ON CONFLICT (email)
//  DO NOTHING, not by catching the unique violation: no error is raised, so
//  neither our log nor the server's ever shows the address, and the caller
//  still gets GCH_DB_CONFLICT.
//
//  Agents' roles, services and communes are text[] columns, written as
//  array literals built by s_array_literal and read back with s_array_parse
//  (both covered by accounts_store_test).
//
//  A call that meets a soft error (typically a connection the server
//  dropped, which libpq only notices when it next uses it) runs once more:
//  gch_db reconnects first. Every function here is safe to run twice, as
//  the comments at s_exec and accounts_store_create_citizen explain.
//
//  To add a query: a statement in s_statements with its caller named, a
//  function in the header, rows turned into protobuf messages here.
#include "gch.h"
#include "accounts_store.h"

//  Columns of an account, in the order s_account_from_row reads them.
#define S_ACCOUNT_COLUMNS                                                      \
    "id, email, display_name, kind, verified, roles, services, communes,"      \
    " coalesce(commune, ''),"                                                  \
    " (extract(epoch FROM created_at) * 1000)::bigint"
#define S_ACCOUNT_NCOLUMNS 10

static const gch_db_statement_t s_statements[] = {
    //  accounts_store_create_citizen ()
    {"account_insert_citizen",
     "INSERT INTO account (email, password_hash, display_name, kind,"
     " verified, commune) VALUES ($1, $2, $3, 'citizen', $4, $5)"
     " ON CONFLICT (email) DO NOTHING RETURNING id",
     5},
    //  accounts_store_create_citizen ()
    {"verify_token_insert",
     "INSERT INTO verify_token (token_hash, account_id, expires_at)"
     " VALUES ($1, $2, now() + make_interval(hours => $3::int))",
     3},
    //  accounts_store_create_agent ()
    {"account_insert_agent",
     "INSERT INTO account (email, password_hash, display_name, kind,"
     " verified, roles, services, communes)"
     " VALUES ($1, $2, $3, 'agent', true, $4, $5, $6)"
     " ON CONFLICT (email) DO NOTHING RETURNING " S_ACCOUNT_COLUMNS,
     6},
    //  accounts_store_verify ()
    {"account_verify",
     "WITH token AS (UPDATE verify_token SET used_at = now()"
     " WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()"
     " RETURNING account_id)"
     " UPDATE account SET verified = true FROM token"
     " WHERE account.id = token.account_id RETURNING account.id",
     1},
    //  accounts_store_by_email ()
    {"account_by_email",
     "SELECT " S_ACCOUNT_COLUMNS ", password_hash FROM account"
     " WHERE email = $1",
     1},
    //  accounts_store_by_id ()
    {"account_by_id", "SELECT " S_ACCOUNT_COLUMNS " FROM account WHERE id = $1",
     1},
    //  accounts_store_record_login ()
    {"account_record_login",
     "UPDATE account SET last_login_at = now() WHERE id = $1", 1},
    //  gch_outbox_add () from accounts_store_create_citizen (), and
    //  gch_outbox_fetch () from accounts_store_events ()
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0},
};

#define S_ATTEMPTS 2  //  runs of a call that met a soft error

struct _accounts_store_t {
    gch_db_t *db;  //  the connection, s_statements prepared
};

//  Copy of a string; aborts when memory is exhausted, like zmalloc.
static char *
s_strdup (const char *text)
{
    char *copy = strdup (text);
    assert (copy);
    return copy;
}

//  PostgreSQL array literal of items, every element quoted and escaped:
//  {"a","b\"c"}. Caller owns the result.
static char *
s_array_literal (char *const *items, size_t count)
{
    size_t size = 3;
    for (size_t i = 0; i < count; i++)
        size += 2 * strlen (items[i]) + 3;
    char *literal = (char *) zmalloc (size);
    assert (literal);
    char *out = literal;
    *out++ = '{';
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            *out++ = ',';
        *out++ = '"';
        for (const char *in = items[i]; *in; in++) {
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

//  Parse the text output of a one-dimensional text[] ({}, {a,"b c"}),
//  skipping NULL elements. Returns 0 and sets *items_p (NULL when empty;
//  caller owns the array and each string) and *count_p, or -1 if the text
//  is not such a literal.
static int
s_array_parse (const char *text, char ***items_p, size_t *count_p)
{
    *items_p = NULL;
    *count_p = 0;
    if (*text++ != '{')
        return -1;
    if (streq (text, "}"))
        return 0;

    size_t capacity = 1;
    for (const char *p = text; *p; p++)
        capacity += *p == ',';
    char **items = (char **) zmalloc (capacity * sizeof (char *));
    char *buffer = (char *) zmalloc (strlen (text) + 1);
    assert (items && buffer);
    size_t count = 0;
    int rc = -1;
    while (true) {
        size_t size = 0;
        bool null = false;
        if (*text == '"') {
            for (text++; *text && *text != '"'; text++) {
                if (*text == '\\' && text[1])
                    text++;
                buffer[size++] = *text;
            }
            if (*text++ != '"')
                break;
        }
        else {
            for (; *text && !strchr (",}", *text); text++)
                buffer[size++] = *text;
            if (size == 0 || memchr (buffer, '{', size) ||
                memchr (buffer, '"', size) || memchr (buffer, '\\', size))
                break;
            null = size == 4 && strncasecmp (buffer, "NULL", 4) == 0;
        }
        if (!null) {
            items[count] = strndup (buffer, size);
            assert (items[count]);
            count++;
        }
        if (*text == ',') {
            text++;
            continue;
        }
        if (streq (text, "}"))
            rc = 0;
        break;
    }
    free (buffer);
    if (rc < 0 || count == 0) {
        while (count > 0)
            free (items[--count]);
        freen (items);
    }
    *items_p = items;
    *count_p = count;
    return rc;
}

//  One of the text[] columns of an account into a repeated field; a value
//  we cannot read is logged and left empty.
static void
s_array_column (PGresult *result, int row, int column, char ***items_p,
                size_t *count_p)
{
    if (s_array_parse (PQgetvalue (result, row, column), items_p, count_p))
        zsys_error ("accounts_store: unreadable array in column %d", column);
}

//  Gch__Account from a row that starts with S_ACCOUNT_COLUMNS. Caller owns
//  the result (gch__account__free_unpacked).
static Gch__Account *
s_account_from_row (PGresult *result, int row)
{
    Gch__Account *account = (Gch__Account *) zmalloc (sizeof (Gch__Account));
    assert (account);
    gch__account__init (account);
    account->id = strtoll (PQgetvalue (result, row, 0), NULL, 10);
    account->email = s_strdup (PQgetvalue (result, row, 1));
    account->display_name = s_strdup (PQgetvalue (result, row, 2));
    account->kind = s_strdup (PQgetvalue (result, row, 3));
    account->verified = streq (PQgetvalue (result, row, 4), "t");
    s_array_column (result, row, 5, &account->roles, &account->n_roles);
    s_array_column (result, row, 6, &account->services, &account->n_services);
    s_array_column (result, row, 7, &account->communes, &account->n_communes);
    account->commune = s_strdup (PQgetvalue (result, row, 8));
    account->created_ms = strtoll (PQgetvalue (result, row, 9), NULL, 10);
    return account;
}

//  Run a statement on its own (autocommit). A soft error is most often a
//  connection the server dropped (restart, idle timeout) that libpq only
//  notices now: gch_db reconnects on the next call, so run it once more.
//  Only statements whose second run is harmless come here: reads, and
//  writes that a lost first run would turn into a conflict or a no-op.
static PGresult *
s_exec (accounts_store_t *self, const char *name, const char *const *params,
        gch_db_status_t *status_p)
{
    PGresult *result = gch_db_exec (self->db, name, params, status_p);
    for (int attempt = 1; attempt < S_ATTEMPTS && *status_p == GCH_DB_SOFT;
         attempt++)
        result = gch_db_exec (self->db, name, params, status_p);
    return result;
}

accounts_store_t *
accounts_store_new (const char *conninfo)
{
    assert (conninfo);
    gch_db_t *db = gch_db_new (conninfo, s_statements);
    if (!db)
        return NULL;
    accounts_store_t *self =
        (accounts_store_t *) zmalloc (sizeof (accounts_store_t));
    assert (self);
    self->db = db;
    return self;
}

void
accounts_store_destroy (accounts_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        accounts_store_t *self = *self_p;
        gch_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

gch_db_t *
accounts_store_db (accounts_store_t *self)
{
    assert (self);
    return self->db;
}

//  accounts_store_create_citizen, inside its transaction: the account row.
static gch_db_status_t
s_insert_citizen (accounts_store_t *self, const accounts_new_t *account,
                  int64_t *id_p)
{
    const char *commune =
        account->commune && *account->commune ? account->commune : NULL;
    const char *params[] = {account->email, account->password_hash,
                            account->display_name,
                            account->verified ? "true" : "false", commune};
    gch_db_status_t rc;
    PGresult *result =
        gch_db_exec (self->db, "account_insert_citizen", params, &rc);
    if (rc == 0)
        rc = GCH_DB_CONFLICT;  //  ON CONFLICT DO NOTHING: e-mail taken
    else if (rc > 0)
        *id_p = strtoll (PQgetvalue (result, 0, 0), NULL, 10);
    PQclear (result);
    return rc;
}

//  accounts_store_create_citizen, inside its transaction: the token row
//  and the account.created event.
static gch_db_status_t
s_insert_verification (accounts_store_t *self, const accounts_new_t *account,
                       int64_t id)
{
    char id_text[24];
    snprintf (id_text, sizeof (id_text), "%" PRId64, id);
    char ttl_text[16];
    snprintf (ttl_text, sizeof (ttl_text), "%d", ACCOUNTS_VERIFY_TTL_HOURS);
    const char *params[] = {account->verify_token_hash, id_text, ttl_text};
    gch_db_status_t rc;
    PGresult *result =
        gch_db_exec (self->db, "verify_token_insert", params, &rc);
    PQclear (result);
    if (rc <= 0)
        return rc < 0 ? rc : GCH_DB_HARD;

    Gch__AccountCreated event = GCH__ACCOUNT_CREATED__INIT;
    event.account_id = id;
    event.email = (char *) account->email;
    event.display_name = (char *) account->display_name;
    event.verify_token = (char *) account->verify_token;
    rc = gch_outbox_add (self->db, "account.created", &event.base);
    return rc < 0 ? rc : 1;
}

//  accounts_store_create_citizen, one run of its transaction.
static gch_db_status_t
s_create_citizen (accounts_store_t *self, const accounts_new_t *account,
                  int64_t *id_p)
{
    gch_db_status_t rc = gch_db_begin (self->db);
    if (rc < 0)
        return rc;
    rc = s_insert_citizen (self, account, id_p);
    if (rc > 0 && !account->verified)
        rc = s_insert_verification (self, account, *id_p);
    if (rc > 0) {
        int commit = gch_db_commit (self->db);
        if (commit < 0)
            rc = commit;
    }
    else
        gch_db_rollback (self->db);
    return rc;
}

gch_db_status_t
accounts_store_create_citizen (accounts_store_t *self,
                               const accounts_new_t *account, int64_t *id_p)
{
    assert (self);
    assert (account);
    assert (account->verified ||
            (account->verify_token && account->verify_token_hash));
    assert (id_p);
    //  A soft error means the transaction is gone: run it again. Even when
    //  the connection died just after COMMIT, the second run only meets
    //  the e-mail taken (GCH_DB_CONFLICT), which callers answer the same.
    int64_t id = 0;
    gch_db_status_t rc = s_create_citizen (self, account, &id);
    for (int attempt = 1; attempt < S_ATTEMPTS && rc == GCH_DB_SOFT; attempt++)
        rc = s_create_citizen (self, account, &id);
    if (rc > 0)
        *id_p = id;
    return rc;
}

gch_db_status_t
accounts_store_create_agent (accounts_store_t *self,
                             const accounts_new_t *account,
                             Gch__Account **account_p)
{
    assert (self);
    assert (account);
    assert (account_p);
    char *roles = s_array_literal (account->roles, account->n_roles);
    char *services = s_array_literal (account->services, account->n_services);
    char *communes = s_array_literal (account->communes, account->n_communes);
    const char *params[] = {account->email,
                            account->password_hash,
                            account->display_name,
                            roles,
                            services,
                            communes};
    gch_db_status_t rc;
    PGresult *result = s_exec (self, "account_insert_agent", params, &rc);
    if (rc == 0)
        rc = GCH_DB_CONFLICT;  //  ON CONFLICT DO NOTHING: e-mail taken
    else if (rc > 0)
        *account_p = s_account_from_row (result, 0);
    PQclear (result);
    free (roles);
    free (services);
    free (communes);
    return rc;
}

gch_db_status_t
accounts_store_verify (accounts_store_t *self, const char *token_hash)
{
    assert (self);
    assert (token_hash);
    const char *params[] = {token_hash};
    gch_db_status_t rc;
    PGresult *result = s_exec (self, "account_verify", params, &rc);
    PQclear (result);
    return rc;
}

gch_db_status_t
accounts_store_by_email (accounts_store_t *self, const char *email,
                         Gch__Account **account_p, char **password_hash_p)
{
    assert (self);
    assert (email);
    assert (account_p);
    assert (password_hash_p);
    const char *params[] = {email};
    gch_db_status_t rc;
    PGresult *result = s_exec (self, "account_by_email", params, &rc);
    if (rc > 0) {
        *account_p = s_account_from_row (result, 0);
        *password_hash_p =
            PQgetisnull (result, 0, S_ACCOUNT_NCOLUMNS)
                ? NULL
                : s_strdup (PQgetvalue (result, 0, S_ACCOUNT_NCOLUMNS));
    }
    PQclear (result);
    return rc;
}

gch_db_status_t
accounts_store_by_id (accounts_store_t *self, int64_t id,
                      Gch__Account **account_p)
{
    assert (self);
    assert (account_p);
    char id_text[24];
    snprintf (id_text, sizeof (id_text), "%" PRId64, id);
    const char *params[] = {id_text};
    gch_db_status_t rc;
    PGresult *result = s_exec (self, "account_by_id", params, &rc);
    if (rc > 0)
        *account_p = s_account_from_row (result, 0);
    PQclear (result);
    return rc;
}

gch_db_status_t
accounts_store_record_login (accounts_store_t *self, int64_t id)
{
    assert (self);
    char id_text[24];
    snprintf (id_text, sizeof (id_text), "%" PRId64, id);
    const char *params[] = {id_text};
    gch_db_status_t rc;
    PGresult *result = s_exec (self, "account_record_login", params, &rc);
    PQclear (result);
    return rc;
}

//  Parse literal and compare with the expected items (count of them).
static bool
s_array_is (const char *literal, const char *const *expected, size_t count)
{
    char **items;
    size_t n;
    if (s_array_parse (literal, &items, &n) != 0)
        return false;
    bool same = n == count;
    for (size_t i = 0; same && i < n; i++)
        same = streq (items[i], expected[i]);
    for (size_t i = 0; i < n; i++)
        free (items[i]);
    free (items);
    return same;
}

void
accounts_store_test (bool verbose)
{
    printf (" * accounts_store: ");
    if (verbose)
        printf ("\n");

    //  Literals we write
    char *literal = s_array_literal (NULL, 0);
    assert (streq (literal, "{}"));
    freen (literal);
    char *tricky[] = {"a",    "b c", "x\"y", "back\\slash", "",
                      "NULL", "é",   "{z}",  "p,q"};
    size_t ntricky = sizeof (tricky) / sizeof (tricky[0]);
    literal = s_array_literal (tricky, 2);
    assert (streq (literal, "{\"a\",\"b c\"}"));
    freen (literal);

    //  Round trip of awkward values
    literal = s_array_literal (tricky, ntricky);
    assert (s_array_is (literal, (const char *const *) tricky, ntricky));
    freen (literal);

    //  What PostgreSQL prints
    const char *two[] = {"instructeur", "admin"};
    assert (s_array_is ("{}", NULL, 0));
    assert (s_array_is ("{instructeur,admin}", two, 2));
    const char *quoted[] = {"b c", "x\"y", "NULL"};
    assert (s_array_is ("{\"b c\",\"x\\\"y\",NULL,\"NULL\"}", quoted, 3));
    const char *one[] = {"86194"};
    assert (s_array_is ("{86194}", one, 1));

    //  Not one-dimensional text[] output
    char **items = (char **) &literal;
    size_t count = 99;
    const char *bad[] = {"",      "a",    "{",     "{a",       "{a,}",  "{,a}",
                         "{\"a}", "{a}x", "{{a}}", "{\"a\"b}", "{a\"b}"};
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        assert (s_array_parse (bad[i], &items, &count) == -1);
        assert (items == NULL && count == 0);
    }
    printf ("OK\n");
}
