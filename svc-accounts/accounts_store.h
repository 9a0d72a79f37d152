//  accounts_store - every SQL statement of svc-accounts. One connection,
//  statements prepared once from the table at the top of accounts_store.c,
//  gch_db_status_t from every call: n > 0 rows, 0 none, GCH_DB_SOFT (retry
//  later), GCH_DB_HARD, GCH_DB_CONFLICT (e-mail already taken). Each
//  function owns its transaction, outbox events included, and runs it once
//  more after a soft error (a connection the server dropped) before
//  reporting one. Handlers never see
//  a PGresult; accounts come back as Gch__Account messages.
//
//  Agents' roles, services and communes are text[] columns of account (no
//  child table): they are read with the account every time and never
//  queried on their own.
#ifndef ACCOUNTS_STORE_H_INCLUDED
#define ACCOUNTS_STORE_H_INCLUDED

//  Lifetime of an e-mail verification link.
#define ACCOUNTS_VERIFY_TTL_HOURS 48

typedef struct _accounts_store_t accounts_store_t;

//  A new account, normalised and validated by the handlers. Strings are
//  borrowed for the duration of the call.
typedef struct {
    const char *email;              //  normalised (gch_email_normalize)
    const char *password_hash;      //  crypto_pwhash_str string
    const char *display_name;       //  trimmed
    const char *commune;            //  citizen's INSEE code, "" or NULL: none
    bool verified;                  //  citizen created verified: no token
    const char *verify_token;       //  raw token, for the account.created
                                    //  event; unused when verified
    const char *verify_token_hash;  //  its hex sha256, what the table keeps
    char **roles;                   //  agents only
    size_t n_roles;
    char **services;  //  agents only
    size_t n_services;
    char **communes;  //  agents only; none = every commune
    size_t n_communes;
} accounts_new_t;

//  Connect. Returns NULL (logged) if the server is unreachable.
//  Statements are prepared on first use, so migrations come first.
accounts_store_t *accounts_store_new (const char *conninfo);

//  Close and free; nullifies *self_p.
void accounts_store_destroy (accounts_store_t **self_p);

//  Borrowed connection, for the health answer of the service loop.
gch_db_t *accounts_store_db (accounts_store_t *self);

//  Insert a citizen account. Unless account->verified, also its
//  verification token (valid ACCOUNTS_VERIFY_TTL_HOURS) and an
//  account.created event carrying the raw token, all in one transaction.
//  Returns 1 and sets *id_p, GCH_DB_CONFLICT (nothing changed) if the
//  e-mail is taken, or < 0.
gch_db_status_t accounts_store_create_citizen (accounts_store_t *self,
                                               const accounts_new_t *account,
                                               int64_t *id_p);

//  Insert a verified agent account with its roles, services and communes
//  (no event). Returns 1 and sets *account_p (caller owns it:
//  gch__account__free_unpacked), GCH_DB_CONFLICT if the e-mail is taken,
//  or < 0.
gch_db_status_t accounts_store_create_agent (accounts_store_t *self,
                                             const accounts_new_t *account,
                                             Gch__Account **account_p);

//  Use a verification token: if its hash is known, unused and not expired,
//  mark it used and its account verified, atomically. Returns 1, 0 if the
//  token is unknown, used or expired, or < 0.
gch_db_status_t accounts_store_verify (accounts_store_t *self,
                                       const char *token_hash);

//  Find an account by normalised e-mail. Returns 1 and sets *account_p and
//  *password_hash_p (caller owns both: gch__account__free_unpacked, free;
//  the hash is NULL for an account without a password), 0 if there is none,
//  or < 0.
gch_db_status_t accounts_store_by_email (accounts_store_t *self,
                                         const char *email,
                                         Gch__Account **account_p,
                                         char **password_hash_p);

//  Find an account by id. Returns 1 and sets *account_p (caller owns it:
//  gch__account__free_unpacked), 0 if there is none, or < 0.
gch_db_status_t accounts_store_by_id (accounts_store_t *self, int64_t id,
                                      Gch__Account **account_p);

//  Record a successful login (last_login_at). Returns 1, 0 if the account
//  is gone, or < 0.
gch_db_status_t accounts_store_record_login (accounts_store_t *self,
                                             int64_t id);

//  Self-test of what needs no database (text[] literals both ways).
void accounts_store_test (bool verbose);

#endif
