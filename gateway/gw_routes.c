//  gw_routes - the route table and the generic handler of the JSON API.
//
//  s_routes below is the whole API: one row per method + path. The steps of
//  the handler are listed in gw_routes.h; each is one static function here
//  (s_call_session, s_call_auth, s_call_csrf, s_call_input, s_call_rate,
//  s_call_bus, s_call_answer) that either lets the call go on (true) or
//  answers it (false). Nothing in this file knows a particular route but
//  the table.
//
//  Idempotency keys: the bus gets one on every call. A logged-in client's
//  Idempotency-Key header is honoured, scoped to the caller and the method
//  (sha256 of "kind:id:method:key"), so two accounts can never collide on
//  the same key; anonymous callers (sign-up, login) always get a fresh key,
//  because their replay could otherwise hand one anonymous client the
//  answer meant for another.
#include "gch.h"
#include "gw_routes.h"
#include "gw_json.h"

#include <ctype.h>
#include <pthread.h>
#include <strings.h>

//  Rate limit windows (docs/architecture.md: attempts per 5 min, sign-ups
//  per hour).
#define S_LOGIN_WINDOW_S 300
#define S_SIGNUP_WINDOW_S 3600

//  Longest client Idempotency-Key accepted.
#define S_IDEMPOTENCY_KEY_MAX 200

static const char *const s_query_procedures[] = {"q", "commune", "domain",
                                                 NULL};
static const char *const s_query_verify[] = {"token", NULL};
static const char *const s_query_mine[] = {"limit", "before_id", NULL};
static const char *const s_query_queue[] = {"status", "limit", "before_id",
                                            NULL};
static const char *const s_forbid_id[] = {"id", NULL};
static const char *const s_forbid_signup[] = {"verified", NULL};

//  THE route table. Keep gateway/openapi.yaml in step (gw_routes_test).
static const gw_route_t s_routes[] = {
    {
        .method = "GET",
        .path = "/api/v1/health",
        .auth = GW_AUTH_NONE,
        .pre = gw_api_health,
    },
    {
        .method = "POST",
        .path = "/api/v1/accounts",
        .auth = GW_AUTH_NONE,
        .csrf = true,
        .service = "accounts",
        .bus_method = "account.create",
        .input = &gch__account_create__descriptor,
        .body = true,
        .forbidden = s_forbid_signup,
        .status = 202,
        .message = "Si cette adresse peut être utilisée, un e-mail de "
                   "confirmation vient d'y être envoyé.",
        .retry = true,
        .rate = GW_RATE_SIGNUP,
    },
    {
        .method = "GET",
        .path = "/api/v1/accounts/verify",
        .auth = GW_AUTH_NONE,
        .service = "accounts",
        .bus_method = "account.verify",
        .input = &gch__account_verify__descriptor,
        .query = s_query_verify,
        .retry = true,
    },
    {
        .method = "POST",
        .path = "/api/v1/session",
        .auth = GW_AUTH_NONE,
        .csrf = true,
        .service = "accounts",
        .bus_method = "account.login",
        .input = &gch__account_login__descriptor,
        .body = true,
        .output = &gch__account__descriptor,
        .retry = true,
        .rate = GW_RATE_LOGIN,
        .post = gw_api_login,
    },
    {
        .method = "GET",
        .path = "/api/v1/session",
        .auth = GW_AUTH_NONE,
        .service = "accounts",
        .bus_method = "account.get",
        .input = &gch__account_get__descriptor,
        .output = &gch__account__descriptor,
        .retry = true,
        .pre = gw_api_session_get,
        .post = gw_api_session_user,
    },
    {
        .method = "DELETE",
        .path = "/api/v1/session",
        .auth = GW_AUTH_SESSION,
        .csrf = true,
        .pre = gw_api_logout,
    },
    {
        .method = "GET",
        .path = "/api/v1/procedures",
        .auth = GW_AUTH_NONE,
        .service = "dossiers",
        .bus_method = "procedure.list",
        .input = &gch__procedure_list__descriptor,
        .query = s_query_procedures,
        .output = &gch__procedures__descriptor,
        .retry = true,
    },
    {
        .method = "GET",
        .path = "/api/v1/procedures/{slug}",
        .auth = GW_AUTH_NONE,
        .service = "dossiers",
        .bus_method = "procedure.get",
        .input = &gch__procedure_get__descriptor,
        .output = &gch__procedure__descriptor,
        .retry = true,
    },
    {
        .method = "POST",
        .path = "/api/v1/dossiers",
        .auth = GW_AUTH_CITIZEN,
        .csrf = true,
        .service = "dossiers",
        .bus_method = "dossier.create",
        .input = &gch__dossier_create__descriptor,
        .body = true,
        .output = &gch__dossier__descriptor,
        .status = 201,
        .retry = true,
    },
    {
        .method = "GET",
        .path = "/api/v1/dossiers",
        .auth = GW_AUTH_CITIZEN,
        .service = "dossiers",
        .bus_method = "dossier.list_mine",
        .input = &gch__dossier_list_mine__descriptor,
        .query = s_query_mine,
        .output = &gch__dossiers__descriptor,
        .retry = true,
    },
    {
        .method = "GET",
        .path = "/api/v1/dossiers/{id}",
        .auth = GW_AUTH_SESSION,
        .service = "dossiers",
        .bus_method = "dossier.get",
        .input = &gch__dossier_ref__descriptor,
        .output = &gch__dossier__descriptor,
        .retry = true,
        .cache = "dossier",  //  DOSSIERS_CACHE, invalidated by svc-dossiers
        .cache_owner = "citizen_id",
    },
    {
        .method = "PATCH",
        .path = "/api/v1/dossiers/{id}",
        .auth = GW_AUTH_CITIZEN,
        .csrf = true,
        .service = "dossiers",
        .bus_method = "dossier.update",
        .input = &gch__dossier_update__descriptor,
        .body = true,
        .forbidden = s_forbid_id,
        .output = &gch__dossier__descriptor,
        .retry = true,
    },
    {
        .method = "POST",
        .path = "/api/v1/dossiers/{id}/submit",
        .auth = GW_AUTH_CITIZEN,
        .csrf = true,
        .service = "dossiers",
        .bus_method = "dossier.submit",
        .input = &gch__dossier_ref__descriptor,
        .output = &gch__dossier__descriptor,
        .retry = true,
    },
    {
        .method = "POST",
        .path = "/api/v1/dossiers/{id}/answer",
        .auth = GW_AUTH_CITIZEN,
        .csrf = true,
        .service = "dossiers",
        .bus_method = "dossier.answer",
        .input = &gch__dossier_answer__descriptor,
        .body = true,
        .forbidden = s_forbid_id,
        .output = &gch__dossier__descriptor,
        .retry = true,
    },
    {
        .method = "GET",
        .path = "/api/v1/communes",
        .auth = GW_AUTH_NONE,
        .service = "dossiers",
        .bus_method = "commune.list",
        .input = &gch__commune_list__descriptor,
        .output = &gch__communes__descriptor,
        .retry = true,
    },
    {
        .method = "POST",
        .path = "/api/v1/dossiers/{id}/transitions",
        .auth = GW_AUTH_AGENT,
        .csrf = true,
        .service = "dossiers",
        .bus_method = "dossier.transition",
        .input = &gch__dossier_transition__descriptor,
        .body = true,
        .forbidden = s_forbid_id,
        .output = &gch__dossier__descriptor,
        .retry = true,
    },
    {
        .method = "GET",
        .path = "/api/v1/agent/dossiers",
        .auth = GW_AUTH_AGENT,
        .service = "dossiers",
        .bus_method = "dossier.queue",
        .input = &gch__dossier_queue__descriptor,
        .query = s_query_queue,
        .output = &gch__dossiers__descriptor,
        .retry = true,
    },
};

#define S_NROUTES (sizeof s_routes / sizeof s_routes[0])

//  ---------------------------------------------------------------------
//  Matching

//  Match a path against a pattern, segment by segment; {x} matches any
//  non-empty segment and is recorded in params.
static bool
s_path_match (const char *pattern, const char *path, gw_param_t *params,
              size_t *nparams)
{
    size_t count = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++;
        path++;
        const char *pattern_end = strchrnul (pattern, '/');
        const char *path_end = strchrnul (path, '/');
        size_t pattern_len = (size_t) (pattern_end - pattern);
        size_t path_len = (size_t) (path_end - path);
        if (*pattern == '{') {
            if (path_len == 0 || count == GW_PARAMS_MAX)
                return false;
            params[count].name = pattern + 1;
            params[count].name_len = pattern_len - 2;
            params[count].value = path;
            params[count].value_len = path_len;
            count++;
        }
        else if (pattern_len != path_len || memcmp (pattern, path, path_len))
            return false;
        pattern = pattern_end;
        path = path_end;
    }
    if (*pattern || *path)
        return false;
    *nparams = count;
    return true;
}

const gw_route_t *
gw_routes_match (const char *method, const char *path, gw_param_t *params,
                 size_t *nparams, int *http_p)
{
    assert (method && path && params && nparams && http_p);
    bool path_known = false;
    *nparams = 0;
    for (size_t i = 0; i < S_NROUTES; i++) {
        size_t count = 0;
        if (!s_path_match (s_routes[i].path, path, params, &count))
            continue;
        if (streq (s_routes[i].method, method)) {
            *nparams = count;
            return &s_routes[i];
        }
        path_known = true;
    }
    *http_p = path_known ? 405 : 404;
    return NULL;
}

//  Methods allowed on path, "GET, PATCH", for the Allow header.
static void
s_allowed_methods (const char *path, char *buf, size_t size)
{
    gw_param_t params[GW_PARAMS_MAX];
    size_t count;
    *buf = '\0';
    for (size_t i = 0; i < S_NROUTES; i++)
        if (s_path_match (s_routes[i].path, path, params, &count)) {
            if (*buf)
                strncat (buf, ", ", size - strlen (buf) - 1);
            strncat (buf, s_routes[i].method, size - strlen (buf) - 1);
        }
}

//  ---------------------------------------------------------------------
//  The calling thread's bus client

static pthread_key_t s_client_key;
static pthread_once_t s_client_once = PTHREAD_ONCE_INIT;

static void
s_client_free (void *client)
{
    gch_client_t *self = (gch_client_t *) client;
    gch_client_destroy (&self);
}

static void
s_client_key_create (void)
{
    int rc = pthread_key_create (&s_client_key, s_client_free);
    assert (rc == 0);
}

gch_client_t *
gw_routes_client (const gw_settings_t *settings)
{
    pthread_once (&s_client_once, s_client_key_create);
    gch_client_t *client = (gch_client_t *) pthread_getspecific (s_client_key);
    if (!client) {
        client = gch_client_new (settings->bus);
        if (client)
            pthread_setspecific (s_client_key, client);
    }
    return client;
}

void
gw_routes_thread_release (void)
{
    pthread_once (&s_client_once, s_client_key_create);
    gch_client_t *client = (gch_client_t *) pthread_getspecific (s_client_key);
    gch_client_destroy (&client);
    pthread_setspecific (s_client_key, NULL);
}

//  ---------------------------------------------------------------------
//  The generic handler

void
gw_call_error (gw_call_t *call, int status, const char *message,
               const json_t *fields)
{
    assert (call);
    gw_request_reply_error (
        call->request, gch_status_http (status), gch_status_code (status),
        message && *message ? message : gch_status_message (status), fields);
}

//  A JSON string, or "?" if text is not valid UTF-8 (a service's bug must
//  not become ours).
static json_t *
s_json_text (const char *text)
{
    json_t *json = json_string (text ? text : "");
    return json ? json : json_string ("?");
}

//  The read cache entry of a call, from its {id} parameter: false if the
//  route has no cache or the id is not a positive number (the input step
//  will say so).
static bool
s_cache_probe (gw_call_t *call, const gw_param_t *params, size_t nparams)
{
    const gw_route_t *route = call->route;
    if (!route->cache || call->settings->cache_ttl <= 0)
        return false;
    for (size_t i = 0; i < nparams; i++)
        if (params[i].name_len == 2 && memcmp (params[i].name, "id", 2) == 0 &&
            params[i].value_len > 0 && params[i].value_len < 19 &&
            params[i].value[0] != '0') {
            int64_t id = 0;
            for (size_t j = 0; j < params[i].value_len; j++) {
                if (!isdigit ((unsigned char) params[i].value[j]))
                    return false;
                id = id * 10 + (params[i].value[j] - '0');
            }
            call->probe.name = route->cache;
            call->probe.id = id;
            return true;
        }
    return false;
}

//  Load the session named by the gch_session cookie and make the caller;
//  the read cache entry, if any, in the same round trip.
static bool
s_call_session (gw_call_t *call, const gw_param_t *params, size_t nparams)
{
    gw_request_t *request = call->request;
    char value[GW_TOKEN_SIZE + 8];
    if (gw_request_cookie (request, GW_SESSION_COOKIE, value, sizeof value)) {
        if (gw_token_valid (value)) {
            strcpy (call->token, value);
            bool probe = s_cache_probe (call, params, nparams);
            call->session_state =
                gw_session_load (call->settings, value, &call->session,
                                 probe ? &call->probe : NULL);
        }
        if (call->session_state == 0)  //  expired or forged: forget it
            gw_request_set_cookie (request, GW_SESSION_COOKIE, NULL, true);
    }
    if (call->session_state < 0 && call->route->auth != GW_AUTH_NONE) {
        gw_call_error (call, GCH__STATUS__STATUS_UNAVAILABLE,
                       "Sessions momentanément indisponibles", NULL);
        return false;
    }
    if (call->session) {
        //  The client's CSRF cookie must be the session's (a lost cookie
        //  would otherwise lock the client out until the next login)
        const char *cookie = gw_request_csrf_cookie (request);
        if (!cookie || !gw_token_equal (cookie, call->session->csrf))
            gw_request_set_cookie (request, GW_CSRF_COOKIE, call->session->csrf,
                                   false);
    }
    gw_session_caller (call->session, gw_request_address (request),
                       &call->caller);
    return true;
}

static bool
s_call_auth (gw_call_t *call)
{
    Gch__CallerKind kind = call->caller.kind;
    switch (call->route->auth) {
        case GW_AUTH_NONE:
            return true;
        case GW_AUTH_SESSION:
            if (kind == GCH__CALLER_KIND__CALLER_CITIZEN ||
                kind == GCH__CALLER_KIND__CALLER_AGENT)
                return true;
            break;
        case GW_AUTH_CITIZEN:
            if (kind == GCH__CALLER_KIND__CALLER_CITIZEN)
                return true;
            break;
        case GW_AUTH_AGENT:
            if (kind == GCH__CALLER_KIND__CALLER_AGENT)
                return true;
            break;
    }
    if (!call->session)
        gw_call_error (call, GCH__STATUS__STATUS_UNAUTHENTICATED,
                       "Connectez-vous pour continuer", NULL);
    else
        gw_call_error (call, GCH__STATUS__STATUS_FORBIDDEN,
                       "Cette action n'est pas ouverte à votre compte", NULL);
    return false;
}

//  docs/api.md: X-CSRF-Token equal to the gch_csrf cookie, and to the
//  session's token when there is a session.
static bool
s_call_csrf (gw_call_t *call)
{
    if (!call->route->csrf)
        return true;
    const char *header = gw_request_header (call->request, GW_CSRF_HEADER);
    const char *cookie = gw_request_csrf_cookie (call->request);
    bool valid =
        header && cookie && gw_token_equal (header, cookie) &&
        (!call->session || gw_token_equal (header, call->session->csrf));
    if (!valid)
        gw_request_reply_error (call->request, 403, "csrf",
                                "Jeton CSRF manquant ou invalide", NULL);
    return valid;
}

//  True for "application/json", with any parameters ("; charset=utf-8").
static bool
s_content_type_json (const char *type)
{
    static const char json[] = "application/json";
    if (!type || strncasecmp (type, json, sizeof json - 1) != 0)
        return false;
    type += sizeof json - 1;
    while (*type == ' ' || *type == '\t')
        type++;
    return *type == '\0' || *type == ';';
}

typedef struct {
    json_t *fields;       //  field name -> message
    const char *message;  //  error on the whole body, if any
} s_errors_t;

static void
s_on_field_error (void *ctx, const char *field, const char *message)
{
    s_errors_t *errors = (s_errors_t *) ctx;
    if (!field || !*field)
        errors->message = message;
    else
        json_object_set_new (errors->fields, field, s_json_text (message));
}

typedef struct {
    gw_call_t *call;
    s_errors_t *errors;
} s_query_ctx_t;

static int
s_query_parameter (void *ctx, const char *key, const char *value)
{
    s_query_ctx_t *query = (s_query_ctx_t *) ctx;
    const gw_route_t *route = query->call->route;
    bool allowed = false;
    for (const char *const *name = route->query; name && *name; name++)
        if (streq (*name, key))
            allowed = true;
    const char *error = "paramètre inconnu";
    if (allowed && !query->call->input)
        return 0;  //  the body was refused already
    if (allowed &&
        gw_json_set_field (query->call->input, key, value, &error) == 0)
        return 0;
    s_on_field_error (query->errors, key, error ? error : "valeur invalide");
    return 0;
}

//  Parse the body (if any) as a JSON object, or answer 415/400. *json_p is
//  NULL for an empty body.
static bool
s_call_parse_body (gw_call_t *call, json_t **json_p)
{
    *json_p = NULL;
    size_t size;
    const char *body = gw_request_body (call->request, &size);
    bool blank = true;
    for (size_t i = 0; i < size && blank; i++)
        blank = body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
                body[i] == '\n';
    if (blank)
        return true;
    if (!s_content_type_json (
            gw_request_header (call->request, "Content-Type"))) {
        gw_call_error (call, GCH__STATUS__STATUS_UNSUPPORTED,
                       "Le corps doit être du JSON (Content-Type: "
                       "application/json)",
                       NULL);
        return false;
    }
    json_error_t error;
    json_t *json = json_loadb (body, size, JSON_REJECT_DUPLICATES, &error);
    if (!json) {
        char message[160];
        snprintf (message, sizeof message,
                  "JSON mal formé (ligne %d, colonne %d)", error.line,
                  error.column);
        gw_call_error (call, GCH__STATUS__STATUS_INVALID, message, NULL);
        return false;
    }
    if (!json_is_object (json)) {
        json_decref (json);
        gw_call_error (call, GCH__STATUS__STATUS_INVALID,
                       "Le corps doit être un objet JSON", NULL);
        return false;
    }
    *json_p = json;
    return true;
}

//  Build the bus request body from the JSON body, the path parameters and
//  the query parameters; answer 400 with every faulty field.
static bool
s_call_input (gw_call_t *call, const gw_param_t *params, size_t nparams)
{
    const gw_route_t *route = call->route;
    json_t *json;
    if (!s_call_parse_body (call, &json))
        return false;
    s_errors_t errors = {json_object (), NULL};
    json_t *source = json;
    if (json && (!route->body || !route->input)) {
        //  A route without a body accepts at most {}
        const char *key;
        json_t *value;
        json_object_foreach (json, key, value)
            s_on_field_error (&errors, key, "champ inconnu");
        source = NULL;
    }
    if (route->input && json_object_size (errors.fields) == 0) {
        json_t *empty = source ? NULL : json_object ();
        call->input =
            gw_json_to_message (source ? source : empty, route->input,
                                route->forbidden, s_on_field_error, &errors);
        json_decref (empty);
        if (!call->input && !errors.message &&
            !json_object_size (errors.fields))
            errors.message = gch_status_message (GCH__STATUS__STATUS_INVALID);
    }
    json_decref (json);
    //  Path parameters: names are fields of the input (gw_routes_test)
    for (size_t i = 0; call->input && i < nparams; i++) {
        char *name = strndup (params[i].name, params[i].name_len);
        char *value = strndup (params[i].value, params[i].value_len);
        const char *error = NULL;
        if (gw_json_set_field (call->input, name, value, &error) != 0)
            s_on_field_error (&errors, name, error ? error : "valeur invalide");
        free (name);
        free (value);
    }
    s_query_ctx_t query = {call, &errors};
    gw_request_query_foreach (call->request, s_query_parameter, &query);
    bool valid = !errors.message && json_object_size (errors.fields) == 0;
    if (!valid)
        gw_call_error (call, GCH__STATUS__STATUS_INVALID, errors.message,
                       errors.fields);
    json_decref (errors.fields);
    return valid;
}

//  The e-mail of a login body, for its rate limit key.
static const char *
s_input_email (const gw_call_t *call)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (call->route->input,
                                                         "email");
    assert (field && field->type == PROTOBUF_C_TYPE_STRING);
    const char *email =
        *(const char *const *) ((const char *) call->input + field->offset);
    return email ? email : "";
}

//  Count this attempt (every one that got this far, success or failure)
//  against the route's rate limit. Fails closed: no Redis, no attempt.
static bool
s_call_rate (gw_call_t *call)
{
    const gw_route_t *route = call->route;
    const char *address = gw_request_address (call->request);
    char key[200];
    int max, window;
    if (route->rate == GW_RATE_NONE)
        return true;
    if (route->rate == GW_RATE_LOGIN) {
        const char *email = s_input_email (call);
        char *normal = gch_email_normalize (email);
        if (!normal) {
            normal = strdup (email);
            for (char *c = normal; *c; c++)
                *c = (char) tolower ((unsigned char) *c);
        }
        char hash[65];
        gch_sha256_hex (normal, strlen (normal), hash);
        free (normal);
        snprintf (key, sizeof key, "rl:login:%s:%s", address, hash);
        max = call->settings->login_limit;
        window = S_LOGIN_WINDOW_S;
    }
    else {
        snprintf (key, sizeof key, "rl:signup:%s", address);
        max = call->settings->signup_limit;
        window = S_SIGNUP_WINDOW_S;
    }
    int wait = gw_session_rate_hit (call->settings, key, max, window);
    if (wait < 0) {
        gw_call_error (call, GCH__STATUS__STATUS_UNAVAILABLE, NULL, NULL);
        return false;
    }
    if (wait > 0) {
        char seconds[16];
        snprintf (seconds, sizeof seconds, "%d", wait);
        gw_request_add_header (call->request, "Retry-After", seconds);
        gw_call_error (call, GCH__STATUS__STATUS_RATE_LIMITED, NULL, NULL);
        return false;
    }
    return true;
}

//  The idempotency key sent on the bus (see the top of this file). Returns
//  false (answered 400) if the client's key is malformed.
static bool
s_idempotency_key (gw_call_t *call, char *key)
{
    const char *client = gw_request_header (call->request, "Idempotency-Key");
    if (!client || call->caller.kind == GCH__CALLER_KIND__CALLER_ANONYMOUS) {
        gw_token_new (key);
        return true;
    }
    size_t length = strlen (client);
    bool valid = length > 0 && length <= S_IDEMPOTENCY_KEY_MAX;
    for (const char *c = client; valid && *c; c++)
        valid = *c > ' ' && *c < 0x7f;
    if (!valid) {
        json_t *fields =
            json_pack ("{s:s}", "Idempotency-Key",
                       "1 à 200 caractères ASCII visibles, sans espace");
        gw_call_error (call, GCH__STATUS__STATUS_INVALID, NULL, fields);
        json_decref (fields);
        return false;
    }
    char *scoped;
    int size =
        asprintf (&scoped, "%d:%" PRId64 ":%s:%s", (int) call->caller.kind,
                  call->caller.id, call->route->bus_method, client);
    assert (size > 0);
    gch_sha256_hex (scoped, (size_t) size, key);
    free (scoped);
    return true;
}

//  Answer from the read cache if the entry read with the session is the
//  caller's (citizens only: an agent's view depends on their services).
static bool
s_call_cached (gw_call_t *call)
{
    const char *body;
    size_t size;
    if (!call->probe.reply ||
        call->caller.kind != GCH__CALLER_KIND__CALLER_CITIZEN ||
        !gch_cache_hit (call->probe.reply, call->caller.id, &body, &size))
        return false;
    char *text = strndup (body, size);
    gw_request_reply_text (call->request, 200, &text);
    return true;
}

//  The int64 field name of message, 0 if it has none.
static int64_t
s_int64_field (const ProtobufCMessage *message, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (message->descriptor,
                                                         name);
    if (!field || field->type != PROTOBUF_C_TYPE_INT64 ||
        field->label == PROTOBUF_C_LABEL_REPEATED)
        return 0;
    return *(const int64_t *) ((const char *) message + field->offset);
}

//  Keep a citizen's 2xx answer text of a cached route for them.
static void
s_cache_fill (gw_call_t *call, const char *text)
{
    const gw_route_t *route = call->route;
    if (!route->cache || !call->probe.name || !call->output ||
        call->caller.kind != GCH__CALLER_KIND__CALLER_CITIZEN ||
        s_int64_field (call->output, route->cache_owner) != call->caller.id)
        return;
    int64_t revision = s_int64_field (call->output, "revision");
    if (revision > 0)
        gw_session_cache_fill (call->settings, route->cache, call->probe.id,
                               revision, call->caller.id, text, strlen (text));
}

//  A reply made here, for what fails before or after the bus.
static Gch__Reply *
s_reply_new (int status, const char *message)
{
    Gch__Reply *reply = (Gch__Reply *) zmalloc (sizeof (Gch__Reply));
    gch__reply__init (reply);
    reply->status = status;
    reply->message = strdup (message);
    return reply;
}

//  One bus call; call->reply is always set afterwards (unless answered).
static bool
s_call_bus (gw_call_t *call)
{
    const gw_route_t *route = call->route;
    char key[GW_TOKEN_SIZE];
    if (!s_idempotency_key (call, key))
        return false;
    gch_client_t *client = gw_routes_client (call->settings);
    if (!client)
        call->reply =
            s_reply_new (GCH__STATUS__STATUS_UNAVAILABLE, "Bus indisponible");
    else
        call->reply = gch_client_call (
            client, route->service, route->bus_method, &call->caller,
            gw_request_id (call->request), key, route->retry, call->input,
            call->settings->timeout_ms);
    if (gch_status_ok (call->reply->status) && route->output) {
        call->output = gch_reply_unpack (call->reply, route->output);
        if (!call->output) {
            zsys_error ("%s: reply body is not a %s (request %s)",
                        route->bus_method, route->output->name,
                        gw_request_id (call->request));
            gch__reply__free_unpacked (call->reply, NULL);
            call->reply = s_reply_new (GCH__STATUS__STATUS_INTERNAL,
                                       "Réponse illisible du service");
        }
    }
    return true;
}

//  The generic answer: 2xx body as JSON, or the error format.
static void
s_call_answer (gw_call_t *call)
{
    const Gch__Reply *reply = call->reply;
    const gw_route_t *route = call->route;
    if (gch_status_ok (reply->status)) {
        json_t *extra = json_object ();
        if (route->message)
            json_object_set_new (extra, "message",
                                 s_json_text (reply->message && *reply->message
                                                  ? reply->message
                                                  : route->message));
        int http =
            route->status ? route->status : gch_status_http (reply->status);
        if (call->output) {
            char *text = gw_json_encode (call->output, extra);
            if (http == 200 && text)
                s_cache_fill (call, text);
            gw_request_reply_text (call->request, http, &text);
            json_decref (extra);
        }
        else
            gw_request_reply_json (call->request, http, &extra);
        return;
    }
    json_t *fields = json_object ();
    for (size_t i = 0; i < reply->n_fields; i++)
        if (reply->fields[i]->name)
            json_object_set_new (fields, reply->fields[i]->name,
                                 s_json_text (reply->fields[i]->message));
    gw_call_error (call, reply->status, reply->message, fields);
    json_decref (fields);
}

static void
s_call_run (gw_call_t *call, const gw_param_t *params, size_t nparams)
{
    const gw_route_t *route = call->route;
    if (!s_call_session (call, params, nparams) || !s_call_auth (call) ||
        !s_call_csrf (call) || !s_call_input (call, params, nparams) ||
        !s_call_rate (call) || s_call_cached (call))
        return;
    if (route->pre && route->pre (call))
        return;
    assert (route->service);  //  else the pre hook always answers
    if (!s_call_bus (call))
        return;
    if (route->post && route->post (call))
        return;
    s_call_answer (call);
}

void
gw_routes_handle (gw_request_t *request)
{
    const char *method = gw_request_method (request);
    const char *path = gw_request_path (request);
    gw_param_t params[GW_PARAMS_MAX];
    size_t nparams = 0;
    int http = 404;
    const gw_route_t *route =
        gw_routes_match (method, path, params, &nparams, &http);
    if (!route) {
        if (http == 405) {
            char allow[64];
            s_allowed_methods (path, allow, sizeof allow);
            gw_request_add_header (request, "Allow", allow);
            gw_request_reply_error (
                request, 405, "method_not_allowed",
                gch_status_message (GCH__STATUS__STATUS_METHOD_NOT_ALLOWED),
                NULL);
        }
        else
            gw_request_reply_error (request, 404, "not_found",
                                    "Cette adresse n'existe pas dans l'API",
                                    NULL);
        return;
    }
    gw_call_t call = {
        .route = route,
        .request = request,
        .settings = gw_request_settings (request),
    };
    s_call_run (&call, params, nparams);
    gw_session_destroy (&call.session);
    if (call.probe.reply)
        freeReplyObject (call.probe.reply);
    if (call.input)
        protobuf_c_message_free_unpacked (call.input, NULL);
    if (call.output)
        protobuf_c_message_free_unpacked (call.output, NULL);
    if (call.reply)
        gch__reply__free_unpacked (call.reply, NULL);
}

//  ---------------------------------------------------------------------
//  Self-test

//  True if name (name_len bytes) is a field of desc.
static bool
s_is_field (const ProtobufCMessageDescriptor *desc, const char *name,
            size_t name_len)
{
    char field[64];
    if (!desc || name_len >= sizeof field)
        return false;
    memcpy (field, name, name_len);
    field[name_len] = '\0';
    return protobuf_c_message_descriptor_get_field_by_name (desc, field) !=
           NULL;
}

//  Check the table's own rules, row by row.
static void
s_test_table (void)
{
    for (size_t i = 0; i < S_NROUTES; i++) {
        const gw_route_t *route = &s_routes[i];
        assert (strncmp (route->path, "/api/v1/", 8) == 0);
        assert (route->csrf == !streq (route->method, "GET"));
        assert (route->service || route->pre);
        assert (!route->service == !route->bus_method);
        assert (!route->body || route->input);
        assert (!route->status ||
                (route->status >= 200 && route->status < 300));
        //  {param} names, query names and forbidden names are input fields
        gw_param_t params[GW_PARAMS_MAX];
        size_t nparams;
        assert (s_path_match (route->path, route->path, params, &nparams));
        for (size_t p = 0; p < nparams; p++)
            assert (
                s_is_field (route->input, params[p].name, params[p].name_len));
        for (const char *const *q = route->query; q && *q; q++)
            assert (s_is_field (route->input, *q, strlen (*q)));
        for (const char *const *f = route->forbidden; f && *f; f++)
            assert (s_is_field (route->input, *f, strlen (*f)));
        if (route->rate == GW_RATE_LOGIN)
            assert (s_is_field (route->input, "email", 5));
        //  One row per method + path
        for (size_t j = 0; j < i; j++)
            assert (!streq (s_routes[j].method, route->method) ||
                    !streq (s_routes[j].path, route->path));
    }
}

//  Every route of the table is in openapi.yaml and the reverse. Paths are
//  the lines "  /api/...:" of the paths section; operations the lines
//  "    get:" (post, put, patch, delete) under them.
static void
s_test_openapi (bool verbose)
{
    const char *name = "gateway/openapi.yaml";
    FILE *file = fopen (name, "r");
    if (!file) {
        fprintf (stderr,
                 "\ngw_routes_test: cannot open %s: run the test "
                 "from the repository root\n",
                 name);
        assert (file);
    }
    char line[512];
    char path[256] = "";
    bool documented[S_NROUTES];
    memset (documented, 0, sizeof documented);
    size_t operations = 0;
    while (fgets (line, sizeof line, file)) {
        if (line[0] != ' ' && line[0] != '\n' && line[0] != '#')
            *path = '\0';  //  a new top-level section
        if (strncmp (line, "  /", 3) == 0) {
            char *colon = strrchr (line, ':');
            assert (colon && (size_t) (colon - line - 2) < sizeof path);
            memcpy (path, line + 2, (size_t) (colon - line - 2));
            path[colon - line - 2] = '\0';
            continue;
        }
        static const char *methods[] = {"get",   "post",   "put",
                                        "patch", "delete", NULL};
        for (const char **method = methods; *path && *method; method++) {
            size_t length = strlen (*method);
            if (strncmp (line, "    ", 4) != 0 ||
                strncmp (line + 4, *method, length) != 0 ||
                line[4 + length] != ':')
                continue;
            char upper[8];
            for (size_t k = 0; k <= length; k++)
                upper[k] = (char) toupper ((unsigned char) (*method)[k]);
            bool found = false;
            for (size_t i = 0; i < S_NROUTES; i++)
                if (streq (s_routes[i].method, upper) &&
                    streq (s_routes[i].path, path)) {
                    documented[i] = true;
                    found = true;
                }
            if (!found)
                fprintf (stderr, "\nopenapi.yaml: %s %s is not a route\n",
                         upper, path);
            assert (found);
            operations++;
        }
    }
    fclose (file);
    for (size_t i = 0; i < S_NROUTES; i++) {
        if (!documented[i])
            fprintf (stderr, "\nopenapi.yaml lacks %s %s\n", s_routes[i].method,
                     s_routes[i].path);
        assert (documented[i]);
    }
    assert (operations == S_NROUTES);
    if (verbose)
        printf ("(%zu operations documented) ", operations);
}

static void
s_test_matching (void)
{
    gw_param_t params[GW_PARAMS_MAX];
    size_t nparams;
    int http = 0;
    const gw_route_t *route =
        gw_routes_match ("GET", "/api/v1/dossiers/42", params, &nparams, &http);
    assert (route && streq (route->bus_method, "dossier.get"));
    assert (nparams == 1 && params[0].name_len == 2);
    assert (strncmp (params[0].name, "id", 2) == 0);
    assert (params[0].value_len == 2 &&
            strncmp (params[0].value, "42", 2) == 0);
    route = gw_routes_match ("POST", "/api/v1/dossiers/42/submit", params,
                             &nparams, &http);
    assert (route && streq (route->bus_method, "dossier.submit"));
    route = gw_routes_match ("GET", "/api/v1/procedures/tranquillite-vacances",
                             params, &nparams, &http);
    assert (route && streq (route->bus_method, "procedure.get"));
    assert (params[0].value_len == 21);
    route =
        gw_routes_match ("GET", "/api/v1/procedures", params, &nparams, &http);
    assert (route && nparams == 0);
    route =
        gw_routes_match ("PUT", "/api/v1/dossiers/42", params, &nparams, &http);
    assert (!route && http == 405);
    route = gw_routes_match ("GET", "/api/v1/dossiers/42/submit", params,
                             &nparams, &http);
    assert (!route && http == 405);
    const char *unknown[] = {"/api/v1/nope",
                             "/api/v1/dossiers/",
                             "/api/v1/dossiers//submit",
                             "/api/v1/dossiers/42/",
                             "/api/v2/health",
                             "/api",
                             "/api/",
                             "/api/v1",
                             NULL};
    for (const char **path = unknown; *path; path++) {
        http = 0;
        assert (!gw_routes_match ("GET", *path, params, &nparams, &http));
        assert (http == 404);
    }
    char allow[64];
    s_allowed_methods ("/api/v1/session", allow, sizeof allow);
    assert (streq (allow, "POST, GET, DELETE"));
    assert (s_content_type_json ("application/json"));
    assert (s_content_type_json ("Application/JSON; charset=utf-8"));
    assert (s_content_type_json ("application/json ;charset=UTF-8"));
    assert (!s_content_type_json ("application/jsonx"));
    assert (!s_content_type_json ("text/plain"));
    assert (!s_content_type_json (NULL));
}

//  Send one request; returns its status, *response_p the whole response.
static int
s_test_call (int port, const char *method, const char *path,
             const char *headers, const char *body, char **response_p)
{
    char *raw;
    int size = asprintf (&raw,
                         "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "%sContent-Length: %zu\r\n\r\n%s",
                         method, path, headers ? headers : "",
                         body ? strlen (body) : 0, body ? body : "");
    assert (size > 0);
    int status = gw_http_test_request (port, raw, response_p);
    free (raw);
    return status;
}

static bool
s_has (const char *response, const char *text)
{
    return response && strstr (response, text) != NULL;
}

//  The handler end to end, on a real daemon, with neither Redis nor a bus:
//  everything decided before the bus call, and the failures of both.
static void
s_test_handler (void)
{
    gw_settings_t settings = {
        .bus = "tcp://127.0.0.1:9",
        .address = "127.0.0.1",
        .port = 0,
        .redis = "127.0.0.1:1",
        .body_limit = 4096,
        .timeout_ms = 300,
        .www = "gateway/www",
        .login_limit = 10,
        .signup_limit = 20,
        .secure_cookies = false,
    };
    gw_http_t *http = gw_http_new (&settings, gw_routes_handle);
    assert (http);
    int port = gw_http_port (http);
    char *response;
#define S_CSRF                                                                 \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    const char *csrf = "Cookie: gch_csrf=" S_CSRF "\r\n"
                       "X-CSRF-Token: " S_CSRF "\r\n";
    const char *csrf_json = "Cookie: gch_csrf=" S_CSRF "\r\n"
                            "X-CSRF-Token: " S_CSRF "\r\n"
                            "Content-Type: application/json\r\n";
    const char *signup = "{\"email\":\"a@b.fr\",\"password\":\"x\","
                         "\"display_name\":\"A\"}";

    int status =
        s_test_call (port, "GET", "/api/v1/nope", NULL, NULL, &response);
    assert (status == 404 && s_has (response, "\"code\":\"not_found\""));
    assert (s_has (response, "Set-Cookie: gch_csrf="));
    free (response);
    status =
        s_test_call (port, "PUT", "/api/v1/dossiers/7", NULL, NULL, &response);
    assert (status == 405 && s_has (response, "Allow: GET, PATCH"));
    free (response);

    //  CSRF: missing, cookie without header, header not the cookie
    status =
        s_test_call (port, "POST", "/api/v1/accounts",
                     "Content-Type: application/json\r\n", signup, &response);
    assert (status == 403 && s_has (response, "\"code\":\"csrf\""));
    assert (s_has (response, "Jeton CSRF manquant ou invalide"));
    free (response);
    status = s_test_call (port, "POST", "/api/v1/accounts",
                          "Cookie: gch_csrf=" S_CSRF "\r\n", signup, NULL);
    assert (status == 403);
    status = s_test_call (port, "POST", "/api/v1/accounts",
                          "Cookie: gch_csrf=" S_CSRF "\r\n"
                          "X-CSRF-Token: 1123456789abcdef0123456789abcdef"
                          "0123456789abcdef0123456789abcdef\r\n",
                          signup, NULL);
    assert (status == 403);

    //  Body: type, syntax, shape, unknown and forbidden fields
    status = s_test_call (port, "POST", "/api/v1/accounts",
                          "Cookie: gch_csrf=" S_CSRF "\r\n"
                          "X-CSRF-Token: " S_CSRF "\r\n"
                          "Content-Type: text/plain\r\n",
                          signup, &response);
    assert (status == 415 && s_has (response, "\"code\":\"unsupported\""));
    free (response);
    status = s_test_call (port, "POST", "/api/v1/accounts", csrf_json,
                          "{\"email\":", &response);
    assert (status == 400 && s_has (response, "\"code\":\"invalid\""));
    assert (s_has (response, "JSON mal formé"));
    free (response);
    status =
        s_test_call (port, "POST", "/api/v1/accounts", csrf_json, "[1]", NULL);
    assert (status == 400);
    status = s_test_call (port, "POST", "/api/v1/accounts", csrf_json,
                          "{\"email\":\"a@b.fr\",\"bogus\":1,\"verified\":"
                          "true}",
                          &response);
    assert (status == 400 && s_has (response, "\"bogus\":"));
    assert (s_has (response, "\"verified\":"));
    free (response);
    status = s_test_call (port, "POST", "/api/v1/accounts?x=1", csrf_json,
                          signup, &response);
    assert (status == 400 && s_has (response, "\"x\":\"paramètre inconnu\""));
    free (response);

    //  A valid sign-up reaches its rate limit: no Redis, fail closed
    status = s_test_call (port, "POST", "/api/v1/accounts", csrf_json, signup,
                          &response);
    assert (status == 503 && s_has (response, "\"code\":\"unavailable\""));
    free (response);
    status = s_test_call (port, "POST", "/api/v1/session", csrf_json,
                          "{\"email\":\"a@b.fr\",\"password\":\"x\"}", NULL);
    assert (status == 503);

    //  Auth: no session 401; a session cookie with Redis down 503
    status =
        s_test_call (port, "GET", "/api/v1/dossiers", NULL, NULL, &response);
    assert (status == 401 && s_has (response, "\"code\":\"unauthenticated\""));
    free (response);
    status = s_test_call (port, "POST", "/api/v1/dossiers/abc/submit", csrf,
                          NULL, NULL);
    assert (status == 401);
    status = s_test_call (port, "DELETE", "/api/v1/session", csrf, NULL, NULL);
    assert (status == 401);
    status = s_test_call (port, "GET", "/api/v1/dossiers",
                          "Cookie: gch_session=" S_CSRF "\r\n", NULL, NULL);
    assert (status == 503);
    status = s_test_call (port, "GET", "/api/v1/session",
                          "Cookie: gch_session=" S_CSRF "\r\n", NULL, NULL);
    assert (status == 503);

    //  Anonymous session: the CSRF token is the one in the cookie
    status =
        s_test_call (port, "GET", "/api/v1/session", NULL, NULL, &response);
    assert (status == 200 && s_has (response, "\"user\":null"));
    const char *cookie = strstr (response, "gch_csrf=");
    const char *token = strstr (response, "\"csrf_token\":\"");
    assert (cookie && token);
    assert (strncmp (cookie + 9, token + 14, 64) == 0);
    free (response);
    status = s_test_call (port, "GET", "/api/v1/session",
                          "Cookie: gch_csrf=" S_CSRF "\r\n", NULL, &response);
    assert (status == 200 && s_has (response, "\"csrf_token\":\"" S_CSRF));
    assert (!s_has (response, "Set-Cookie"));
    free (response);
    status = s_test_call (port, "GET", "/api/v1/session?x=1", NULL, NULL, NULL);
    assert (status == 400);

    //  Query parameters: unknown, badly typed; then the bus times out
    status = s_test_call (port, "GET", "/api/v1/procedures?bogus=1", NULL, NULL,
                          &response);
    assert (status == 400 && s_has (response, "\"bogus\""));
    free (response);
    status = s_test_call (port, "GET", "/api/v1/agent/dossiers?limit=x", NULL,
                          NULL, NULL);
    assert (status == 401);
    status = s_test_call (port, "GET", "/api/v1/procedures?q=v%C3%A9lo", NULL,
                          NULL, &response);
    assert (status == 504 && s_has (response, "\"code\":\"timeout\""));
    free (response);

    //  Health: every service missing, answered within about a second
    int64_t start = gch_mono_ms ();
    status = s_test_call (port, "GET", "/api/v1/health", NULL, NULL, &response);
    assert (status == 503 && s_has (response, "\"status\":\"degraded\""));
    assert (s_has (response, "\"accounts\":{\"error\""));
    assert (s_has (response, "\"finance\":{\"error\""));
    assert (gch_mono_ms () - start < 4500);  //  5 s if one by one
    free (response);
    gw_http_destroy (&http);
#undef S_CSRF
}

void
gw_routes_test (bool verbose)
{
    printf (" * gw_routes: ");
    s_test_table ();
    s_test_matching ();
    s_test_openapi (verbose);
    s_test_handler ();
    gw_routes_thread_release ();
    gw_session_thread_release ();
    printf ("OK\n");
}
