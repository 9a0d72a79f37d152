//  gw_routes - THE route table of the JSON API, and the one generic handler
//  that runs it.
//
//  Every /api/ route is one row of s_routes (gw_routes.c): method, path
//  pattern with {param} segments, who may call it, the bus service and
//  method, the protobuf types in and out, and a few options. The generic
//  handler does, in this order, for every request:
//
//    match the route (404 unknown path, 405 known path + other method)
//    load the session from the gch_session cookie (Redis)
//    auth: none / any session / citizen / agent (401, 403; 503 if Redis
//      is down and the route needs a session)
//    CSRF for non-GET: X-CSRF-Token == gch_csrf cookie (== the session's
//      token when there is a session), else 403 "csrf"
//    body: Content-Type application/json (415), JSON (400), decoded into
//      the input message by gw_json (400 with per-field errors); then path
//      and query parameters into the same message (unknown parameter: 400)
//    rate limit (login, signup; 429 with Retry-After, 503 if Redis is down)
//    read cache (routes with .cache): a citizen's GET answered from the
//      entry read with the session, if it is theirs (gch_cache)
//    pre hook (may answer by itself)
//    one bus call: caller from the session, request id, idempotency key,
//      GCH_TIMEOUT_MS deadline
//    post hook (may answer by itself)
//    2xx: the output message as JSON (kept in the read cache for its
//      owner on routes with .cache); else the error format with the
//      reply's status, message and field errors.
//
//  To add a route: add a row to s_routes, and the path to openapi.yaml
//  (gw_routes_test fails until both agree). Hooks are for the few routes
//  that are not "one JSON body in, one bus call, one JSON body out": they
//  live in gw_api_session.c.
#ifndef GW_ROUTES_H_INCLUDED
#define GW_ROUTES_H_INCLUDED

#include "gw_http.h"
#include "gw_session.h"

//  Who may call a route.
typedef enum {
    GW_AUTH_NONE,     //  anyone; the session, if any, still names the caller
    GW_AUTH_SESSION,  //  any logged-in account
    GW_AUTH_CITIZEN,  //  a citizen account
    GW_AUTH_AGENT,    //  an agent account
} gw_auth_t;

//  Which rate limit a route counts against.
typedef enum {
    GW_RATE_NONE,
    GW_RATE_LOGIN,   //  per address + e-mail, GCH_LOGIN_LIMIT per 5 min
    GW_RATE_SIGNUP,  //  per address, GCH_SIGNUP_LIMIT per hour
} gw_rate_t;

typedef struct _gw_call_t gw_call_t;

//  A hook returns true if it answered the request (the handler stops),
//  false to let the handler go on.
typedef bool (gw_hook_fn) (gw_call_t *call);

typedef struct {
    const char *method;      //  "GET", "POST", "PATCH", "DELETE"
    const char *path;        //  "/api/v1/dossiers/{id}"; {x} fills field x
    gw_auth_t auth;          //  who may call
    bool csrf;               //  X-CSRF-Token required (every non-GET)
    const char *service;     //  bus service, NULL = the pre hook answers
    const char *bus_method;  //  "dossier.get"
    const ProtobufCMessageDescriptor *input;  //  bus request body type
    bool body;                     //  a JSON body is decoded into input
    const char *const *query;      //  allowed query parameters, or NULL
    const char *const *forbidden;  //  body fields the client may not set
    const ProtobufCMessageDescriptor *output;  //  2xx reply body, NULL = {}
    int status;               //  HTTP status on success, 0 = the reply's
    const char *message;      //  "message" added to the 2xx JSON, if any
    bool retry;               //  the broker may retry on another instance
    gw_rate_t rate;           //  rate limit to count against
    gw_hook_fn *pre;          //  before the bus call, or NULL
    gw_hook_fn *post;         //  after the bus call, or NULL
    const char *cache;        //  GET read cache name (lib/gch_cache.h): the
                              //  2xx answer to the owner is kept in Redis,
                              //  keyed by the {id} parameter; NULL = none
    const char *cache_owner;  //  output field naming the owner's citizen id
} gw_route_t;

//  One API call in progress: what the generic handler has found so far.
//  Hooks read and fill it.
struct _gw_call_t {
    const gw_route_t *route;        //  the matched row
    gw_request_t *request;          //  the HTTP request
    const gw_settings_t *settings;  //  read-only configuration
    char token[GW_TOKEN_SIZE];      //  gch_session cookie if well-formed
    int session_state;              //  1 session, 0 none, -1 Redis down
    gw_session_t *session;          //  the session, or NULL; owned
    Gch__Caller caller;             //  from the session, borrowed strings
    ProtobufCMessage *input;        //  bus request body, owned, or NULL
    Gch__Reply *reply;              //  bus reply, owned, or NULL
    ProtobufCMessage *output;       //  unpacked 2xx body, owned, or NULL
    gw_cache_probe_t probe;         //  read cache lookup, reply owned
};

//  A path parameter found by gw_routes_match, pointing into the route's
//  pattern (name) and the request path (value). Not NUL-terminated.
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} gw_param_t;

#define GW_PARAMS_MAX 4

//  Find the route of method + path. Returns the row and fills params and
//  *nparams; or NULL with *http_p = 404 (no such path) or 405 (the path
//  exists for other methods).
const gw_route_t *gw_routes_match (const char *method, const char *path,
                                   gw_param_t *params, size_t *nparams,
                                   int *http_p);

//  The api handler given to gw_http_new: runs the route table.
void gw_routes_handle (gw_request_t *request);

//  The calling thread's bus client, made on first use, freed when the
//  thread exits. NULL if it cannot be made.
gch_client_t *gw_routes_client (const gw_settings_t *settings);

//  Free the calling thread's bus client now (for the main thread).
void gw_routes_thread_release (void);

//  Answer the call with the error format for a bus status; message NULL =
//  the status' default message; fields borrowed, may be NULL.
void gw_call_error (gw_call_t *call, int status, const char *message,
                    const json_t *fields);

//  Hooks of the special routes (gw_api_session.c).
bool gw_api_health (gw_call_t *call);        //  pre: fan-out to services
bool gw_api_login (gw_call_t *call);         //  post: create the session
bool gw_api_session_get (gw_call_t *call);   //  pre: anonymous answer
bool gw_api_session_user (gw_call_t *call);  //  post: user + csrf token
bool gw_api_logout (gw_call_t *call);        //  pre: end the session

//  Self-test: matching, and the table against gateway/openapi.yaml (read
//  from the current directory, the repository root). Also runs the handler
//  end to end on the paths that need neither Redis nor the bus.
void gw_routes_test (bool verbose);

#endif
