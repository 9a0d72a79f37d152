//  accounts_handlers - one static function per method of svc-accounts.
//
//    account.create   AccountCreate -> Empty    ACCEPTED whether or not the
//                     e-mail already had an account (nothing changes then);
//                     UNPROCESSABLE with fields for bad input
//    account.verify   AccountVerify -> Empty    OK; NOT_FOUND for an
//                     unknown, used or expired link
//    account.login    AccountLogin -> Account   OK; UNAUTHENTICATED for a
//                     wrong e-mail or password; FORBIDDEN if not verified
//    account.get      AccountGet -> Account     OK; id 0 = the caller; a
//                     citizen or agent reads only their own (else
//                     NOT_FOUND), system callers any; anonymous:
//                     UNAUTHENTICATED
//    account.contact  AccountGet -> Account     OK; system callers only
//                     (svc-notify), else FORBIDDEN
//    agent.create     AgentCreate -> Account    CREATED; system caller or
//                     agent with role admin, else FORBIDDEN; CONFLICT on
//                     field email when taken
//    (events.fetch and health are answered by lib/gch_service.c)
//
//  Every handler: unpack (gch_request_unpack answers INVALID), validate
//  (per-field errors, then UNPROCESSABLE), authorise, one store call, pack.
//  Store failures answer UNAVAILABLE (soft: retry later) or INTERNAL.
//
//  Existence of an e-mail address never shows: sign-up answers the same
//  either way after the same password hashing, and a login with an unknown
//  address verifies the password against a dummy hash, as long as a real
//  one. Passwords, tokens and e-mail addresses are never logged; password
//  copies are wiped once used.
#include "gch.h"
#include "accounts_rules.h"
#include "accounts_store.h"
#include "accounts_handlers.h"

#define S_TOKEN_BYTES 32  //  random bytes of a verification token

#define S_CREATE_ANSWER                                                        \
    "Demande enregistrée. Si cette adresse peut être utilisée, vous allez " \
    "recevoir un e-mail pour confirmer votre compte."
#define S_VERIFY_INVALID "Lien de vérification invalide ou expiré"
#define S_LOGIN_WRONG "Adresse e-mail ou mot de passe incorrect"
#define S_LOGIN_UNVERIFIED "Adresse e-mail non vérifiée"
#define S_ACCOUNT_UNKNOWN "Compte introuvable"
#define S_REQUIRED "Champ obligatoire"

//  Answer a failed store call: log it (no personal data), UNAVAILABLE for
//  soft errors, CONFLICT for an unexpected unique violation, else INTERNAL.
static int
s_store_failed (const Gch__Request *request, Gch__Reply *reply,
                gch_db_status_t rc)
{
    zsys_warning ("accounts: %s %s: store failed (%d)", request->method,
                  request->request_id, rc);
    if (rc == GCH_DB_SOFT)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNAVAILABLE, NULL);
    if (rc == GCH_DB_CONFLICT)
        return gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT, NULL);
    return gch_reply_error (reply, GCH__STATUS__STATUS_INTERNAL, NULL);
}

//  Caller's account id, 0 when anonymous or system.
static int64_t
s_caller_id (const Gch__Request *request)
{
    return request->caller ? request->caller->id : 0;
}

//  Wipe a secret held in an unpacked message before it is freed.
static void
s_forget (char *secret)
{
    if (secret && *secret)
        sodium_memzero (secret, strlen (secret));
}

//  argon2id string of password into hash. Returns 0, -1 when out of memory.
static int
s_hash_password (const char *password, char hash[crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str_alg (
        hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
        crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

//  True if password matches hash; with no hash (no account, or an account
//  without password) the dummy hash is verified and the answer is false.
static bool
s_password_matches (accounts_ctx_t *self, const char *hash,
                    const char *password)
{
    const char *against = hash ? hash : self->dummy_hash;
    bool matches =
        crypto_pwhash_str_verify (against, password, strlen (password)) == 0;
    return matches && hash != NULL;
}

//  Validate what citizens and agents share. Sets *email_p and *name_p to
//  the normalised values or NULL (caller frees both), adds field errors.
static void
s_validate_identity (Gch__Reply *reply, const char *email, const char *password,
                     const char *display_name, char **email_p, char **name_p)
{
    *email_p = accounts_rules_utf8_length (email) >= 0
                   ? gch_email_normalize (email)
                   : NULL;
    if (!*email_p)
        gch_reply_field (reply, "email",
                         *email ? "Adresse e-mail invalide" : S_REQUIRED);
    const char *problem = accounts_rules_password (password);
    if (problem)
        gch_reply_field (reply, "password", problem);
    *name_p = accounts_rules_display_name (display_name);
    if (!*name_p)
        gch_reply_field (reply, "display_name",
                         "Le nom doit contenir de 1 à 100 caractères");
}

//  Validate a list of codes with rule; one field error for the list.
static void
s_validate_list (Gch__Reply *reply, const char *field, char **items,
                 size_t count, const char *(*rule) (const char *) )
{
    if (count > ACCOUNTS_LIST_MAX) {
        gch_reply_field (reply, field, "Liste trop longue");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *problem = *items[i] ? rule (items[i]) : S_REQUIRED;
        if (problem) {
            gch_reply_field (reply, field, problem);
            return;
        }
    }
}

//  Validate an agent's services (at least one), roles and communes.
static void
s_validate_grants (Gch__Reply *reply, const Gch__AgentCreate *in)
{
    if (in->n_services == 0)
        gch_reply_field (reply, "services", "Au moins un service est requis");
    s_validate_list (reply, "services", in->services, in->n_services,
                     accounts_rules_code);
    s_validate_list (reply, "roles", in->roles, in->n_roles,
                     accounts_rules_code);
    s_validate_list (reply, "communes", in->communes, in->n_communes,
                     accounts_rules_commune);
}

//  Reply with the account of id (the one store call of account.get and
//  account.contact).
static int
s_reply_account (accounts_ctx_t *self, const Gch__Request *request,
                 Gch__Reply *reply, int64_t id)
{
    Gch__Account *account = NULL;
    gch_db_status_t rc = accounts_store_by_id (self->store, id, &account);
    if (rc == 0)
        return gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND,
                                S_ACCOUNT_UNKNOWN);
    if (rc < 0)
        return s_store_failed (request, reply, rc);
    gch_reply_body (reply, &account->base);
    gch__account__free_unpacked (account, NULL);
    return GCH__STATUS__STATUS_OK;
}

//  account.create - a citizen signs up. Anyone may (the gateway rate-limits
//  sign-ups); `verified` is honoured for system callers only, and then no
//  token and no event are made.
static int
s_account_create (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    accounts_ctx_t *self = (accounts_ctx_t *) ctx;
    Gch__AccountCreate *in = (Gch__AccountCreate *) gch_request_unpack (
        request, &gch__account_create__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;

    char *email, *name;
    s_validate_identity (reply, in->email, in->password, in->display_name,
                         &email, &name);
    const char *problem = accounts_rules_commune (in->commune);
    if (problem)
        gch_reply_field (reply, "commune", problem);

    char hash[crypto_pwhash_STRBYTES];
    char token[2 * S_TOKEN_BYTES + 1];
    char token_hash[65];
    int status;
    if (gch_reply_nfields (reply) > 0)
        status =
            gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);
    else if (s_hash_password (in->password, hash) != 0)
        status = gch_reply_error (reply, GCH__STATUS__STATUS_UNAVAILABLE, NULL);
    else {
        gch_random_hex (token, S_TOKEN_BYTES);
        gch_sha256_hex (token, strlen (token), token_hash);
        accounts_new_t account = {
            .email = email,
            .password_hash = hash,
            .display_name = name,
            .commune = in->commune,
            .verified =
                in->verified &&
                gch_caller_is (request, GCH__CALLER_KIND__CALLER_SYSTEM),
            .verify_token = token,
            .verify_token_hash = token_hash};
        int64_t id = 0;
        gch_db_status_t rc =
            accounts_store_create_citizen (self->store, &account, &id);
        if (rc > 0 || rc == GCH_DB_CONFLICT) {  //  same answer either way
            Gch__Empty empty = GCH__EMPTY__INIT;
            gch_reply_body (reply, &empty.base);
            status = gch_reply_error (reply, GCH__STATUS__STATUS_ACCEPTED,
                                      S_CREATE_ANSWER);
        }
        else
            status = s_store_failed (request, reply, rc);
        sodium_memzero (token, sizeof (token));
    }
    s_forget (in->password);
    free (email);
    free (name);
    gch__account_create__free_unpacked (in, NULL);
    return status;
}

//  account.verify - the citizen followed the link of the account.created
//  e-mail. The token is the proof: no caller check.
static int
s_account_verify (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    accounts_ctx_t *self = (accounts_ctx_t *) ctx;
    Gch__AccountVerify *in = (Gch__AccountVerify *) gch_request_unpack (
        request, &gch__account_verify__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;

    //  A malformed token is just another invalid link.
    size_t length = strlen (in->token);
    bool well_formed = length == 2 * S_TOKEN_BYTES &&
                       strspn (in->token, "0123456789abcdef") == length;
    gch_db_status_t rc = 0;
    if (well_formed) {
        char token_hash[65];
        gch_sha256_hex (in->token, length, token_hash);
        rc = accounts_store_verify (self->store, token_hash);
    }
    s_forget (in->token);
    gch__account_verify__free_unpacked (in, NULL);

    if (rc == 0)
        return gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND,
                                S_VERIFY_INVALID);
    if (rc < 0)
        return s_store_failed (request, reply, rc);
    Gch__Empty empty = GCH__EMPTY__INIT;
    gch_reply_body (reply, &empty.base);
    return GCH__STATUS__STATUS_OK;
}

//  account.login - check e-mail and password, answer the account for the
//  gateway's session. A wrong e-mail and a wrong password look the same,
//  in answer and in time; "not verified" is told only to the right password.
static int
s_account_login (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    accounts_ctx_t *self = (accounts_ctx_t *) ctx;
    Gch__AccountLogin *in = (Gch__AccountLogin *) gch_request_unpack (
        request, &gch__account_login__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;

    if (*in->email == 0)
        gch_reply_field (reply, "email", S_REQUIRED);
    if (*in->password == 0)
        gch_reply_field (reply, "password", S_REQUIRED);
    Gch__Account *account = NULL;
    char *hash = NULL;
    int status;
    if (gch_reply_nfields (reply) > 0)
        status =
            gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);
    else {
        //  An address that cannot be normalised has no account.
        char *email = accounts_rules_utf8_length (in->email) >= 0
                          ? gch_email_normalize (in->email)
                          : NULL;
        gch_db_status_t rc =
            email
                ? accounts_store_by_email (self->store, email, &account, &hash)
                : 0;
        free (email);
        if (rc < 0)
            status = s_store_failed (request, reply, rc);
        else if (!s_password_matches (self, hash, in->password))
            status = gch_reply_error (
                reply, GCH__STATUS__STATUS_UNAUTHENTICATED, S_LOGIN_WRONG);
        else if (!account->verified)
            status = gch_reply_error (reply, GCH__STATUS__STATUS_FORBIDDEN,
                                      S_LOGIN_UNVERIFIED);
        else {
            if (accounts_store_record_login (self->store, account->id) < 0)
                zsys_warning ("accounts: %s: last login not recorded",
                              request->request_id);
            gch_reply_body (reply, &account->base);
            status = GCH__STATUS__STATUS_OK;
        }
    }
    s_forget (in->password);
    free (hash);
    if (account)
        gch__account__free_unpacked (account, NULL);
    gch__account_login__free_unpacked (in, NULL);
    return status;
}

//  account.get - an account; id 0 is the caller's own. Citizens and agents
//  read only their own (another id is NOT_FOUND, as if it did not exist);
//  system callers read any.
static int
s_account_get (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    accounts_ctx_t *self = (accounts_ctx_t *) ctx;
    Gch__AccountGet *in = (Gch__AccountGet *) gch_request_unpack (
        request, &gch__account_get__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    int64_t id = in->id;
    gch__account_get__free_unpacked (in, NULL);

    if (id < 0)
        gch_reply_field (reply, "id", "Identifiant de compte invalide");
    if (gch_reply_nfields (reply) > 0)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);

    if (gch_caller_is (request, GCH__CALLER_KIND__CALLER_CITIZEN) ||
        gch_caller_is (request, GCH__CALLER_KIND__CALLER_AGENT)) {
        int64_t own = s_caller_id (request);
        if (id == 0)
            id = own;
        if (id != own || own <= 0)
            return gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND,
                                    S_ACCOUNT_UNKNOWN);
    }
    else if (!gch_caller_is (request, GCH__CALLER_KIND__CALLER_SYSTEM))
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNAUTHENTICATED,
                                NULL);
    else if (id == 0)  //  a system caller has no account of its own
        return gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND,
                                S_ACCOUNT_UNKNOWN);

    return s_reply_account (self, request, reply, id);
}

//  account.contact - an account's address for svc-notify: system callers
//  only.
static int
s_account_contact (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    accounts_ctx_t *self = (accounts_ctx_t *) ctx;
    Gch__AccountGet *in = (Gch__AccountGet *) gch_request_unpack (
        request, &gch__account_get__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    int64_t id = in->id;
    gch__account_get__free_unpacked (in, NULL);

    if (id <= 0)
        gch_reply_field (reply, "id", "Identifiant de compte invalide");
    if (gch_reply_nfields (reply) > 0)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);

    if (!gch_caller_is (request, GCH__CALLER_KIND__CALLER_SYSTEM))
        return gch_reply_error (reply, GCH__STATUS__STATUS_FORBIDDEN, NULL);

    return s_reply_account (self, request, reply, id);
}

//  agent.create - a verified agent account, by a system caller (guichetctl,
//  demo data) or an agent with role admin.
static int
s_agent_create (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    accounts_ctx_t *self = (accounts_ctx_t *) ctx;
    Gch__AgentCreate *in = (Gch__AgentCreate *) gch_request_unpack (
        request, &gch__agent_create__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;

    char *email, *name;
    s_validate_identity (reply, in->email, in->password, in->display_name,
                         &email, &name);
    s_validate_grants (reply, in);

    char hash[crypto_pwhash_STRBYTES];
    int status;
    if (gch_reply_nfields (reply) > 0)
        status =
            gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);
    else if (!gch_caller_is (request, GCH__CALLER_KIND__CALLER_SYSTEM) &&
             !(gch_caller_is (request, GCH__CALLER_KIND__CALLER_AGENT) &&
               gch_caller_has_role (request, "admin")))
        status = gch_reply_error (reply, GCH__STATUS__STATUS_FORBIDDEN, NULL);
    else if (s_hash_password (in->password, hash) != 0)
        status = gch_reply_error (reply, GCH__STATUS__STATUS_UNAVAILABLE, NULL);
    else {
        accounts_new_t agent = {.email = email,
                                .password_hash = hash,
                                .display_name = name,
                                .roles = in->roles,
                                .n_roles = in->n_roles,
                                .services = in->services,
                                .n_services = in->n_services,
                                .communes = in->communes,
                                .n_communes = in->n_communes};
        Gch__Account *account = NULL;
        gch_db_status_t rc =
            accounts_store_create_agent (self->store, &agent, &account);
        if (rc == GCH_DB_CONFLICT) {
            gch_reply_field (reply, "email",
                             "Cette adresse e-mail est déjà utilisée");
            status =
                gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT, NULL);
        }
        else if (rc < 0)
            status = s_store_failed (request, reply, rc);
        else {
            gch_reply_body (reply, &account->base);
            gch__account__free_unpacked (account, NULL);
            status = GCH__STATUS__STATUS_CREATED;
        }
    }
    s_forget (in->password);
    free (email);
    free (name);
    gch__agent_create__free_unpacked (in, NULL);
    return status;
}

const gch_method_t accounts_methods[] = {
    {"account.create", s_account_create, &gch__account_create__descriptor},
    {"account.verify", s_account_verify, &gch__account_verify__descriptor},
    {"account.login", s_account_login, &gch__account_login__descriptor},
    {"account.get", s_account_get, &gch__account_get__descriptor},
    {"account.contact", s_account_contact, &gch__account_get__descriptor},
    {"agent.create", s_agent_create, &gch__agent_create__descriptor},
    {NULL, NULL, NULL},
};

int
accounts_ctx_init (accounts_ctx_t *ctx, accounts_store_t *store)
{
    assert (ctx);
    assert (store);
    ctx->store = store;
    char password[2 * S_TOKEN_BYTES + 1];
    gch_random_hex (password, S_TOKEN_BYTES);
    int rc = s_hash_password (password, ctx->dummy_hash);
    sodium_memzero (password, sizeof (password));
    if (rc != 0)
        zsys_error ("accounts: cannot compute the dummy password hash");
    return rc == 0 ? 0 : -1;
}
