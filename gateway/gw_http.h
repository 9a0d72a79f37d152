//  gw_http - the gateway's HTTP face: the libmicrohttpd daemon, one
//  gw_request_t per HTTP request, body accumulation under a size limit,
//  cookies, static files, response helpers and the one error format.
//
//  Threading: the daemon runs one thread per connection, so a slow bus call
//  stalls only its own connection. A request is handled entirely in its
//  connection's thread; nothing here is shared between threads except the
//  read-only settings.
//
//  Life of a request: MHD hands us the headers (a Content-Length over the
//  limit is answered 413 at once), then the body in chunks (accumulated, or
//  discarded once over the limit), then the end of the request. Paths under
//  /api/ go to the api handler given to gw_http_new, which answers with
//  gw_request_reply_json or gw_request_reply_error; other paths are static
//  files from settings->www. gw_http then adds the common headers and the
//  CSRF cookie when the client lacks one, queues the response and logs one
//  info line (method, path, status, ms, request id). Cookies, tokens and
//  bodies are never logged.
#ifndef GW_HTTP_H_INCLUDED
#define GW_HTTP_H_INCLUDED

#include <jansson.h>

//  Cookie and header names of the API contract (docs/api.md).
#define GW_SESSION_COOKIE "gch_session"
#define GW_CSRF_COOKIE "gch_csrf"
#define GW_CSRF_HEADER "X-CSRF-Token"

//  Session and CSRF tokens: 32 random bytes, 64 lower-case hex characters.
#define GW_TOKEN_BYTES 32
#define GW_TOKEN_SIZE (2 * GW_TOKEN_BYTES + 1)

//  The gateway's configuration, filled once by main from the environment and
//  read-only afterwards (every thread reads it, nobody writes it).
typedef struct {
    const char *bus;      //  broker endpoint, "tcp://127.0.0.1:5670"
    const char *address;  //  listening address, "127.0.0.1" or "::1"
    int port;             //  listening port, 0 = any free port
    const char *redis;    //  "host:port" or a unix socket path
    size_t body_limit;    //  request body limit in bytes
    int timeout_ms;       //  deadline of each bus call
    const char *www;      //  static files folder
    int login_limit;      //  login attempts per 5 min per address+e-mail
    int signup_limit;     //  sign-ups per hour per address
    bool secure_cookies;  //  add Secure to cookies (served over TLS)
    int cache_ttl;        //  seconds a cached answer lives, 0 = no cache
} gw_settings_t;

typedef struct _gw_http_t gw_http_t;
typedef struct _gw_request_t gw_request_t;

//  Handles one complete /api/ request in its connection's thread. Must answer
//  with gw_request_reply_json or gw_request_reply_error.
typedef void (gw_api_fn) (gw_request_t *request);

//  Start the daemon on settings->address:settings->port. settings must
//  outlive the daemon. Returns NULL (logged) if it cannot listen.
gw_http_t *gw_http_new (const gw_settings_t *settings, gw_api_fn *api);

//  Stop the daemon: waits for the connection threads to finish. Nullifies
//  *self_p.
void gw_http_destroy (gw_http_t **self_p);

//  The port the daemon listens on (useful when settings->port is 0).
int gw_http_port (gw_http_t *self);

//  ---------------------------------------------------------------------
//  Request accessors. Every returned string is borrowed and lives as long as
//  the request.

const gw_settings_t *gw_request_settings (gw_request_t *self);
const char *gw_request_method (gw_request_t *self);

//  Decoded path, without the query string.
const char *gw_request_path (gw_request_t *self);

//  Random id of this request (16 hex characters), sent back in X-Request-Id
//  and given to the bus for tracing.
const char *gw_request_id (gw_request_t *self);

//  Client IP address, textual.
const char *gw_request_address (gw_request_t *self);

//  Value of a request header (case-insensitive name), or NULL.
const char *gw_request_header (gw_request_t *self, const char *name);

//  Copy the value of cookie name into buf (size bytes). Returns true if the
//  cookie is present and fits, false otherwise (buf is then "").
bool gw_request_cookie (gw_request_t *self, const char *name, char *buf,
                        size_t size);

//  The request body (not NUL-terminated) and its size; NULL when empty.
const char *gw_request_body (gw_request_t *self, size_t *size_p);

//  Call fn (ctx, key, value) for every query parameter, in order; value is
//  "" for a bare key. Stops at the first non-zero return and returns it.
int gw_request_query_foreach (gw_request_t *self,
                              int (*fn) (void *ctx, const char *key,
                                         const char *value),
                              void *ctx);

//  The client's gch_csrf cookie if it holds a well-formed token, else NULL.
const char *gw_request_csrf_cookie (gw_request_t *self);

//  The CSRF token the client holds once this response is received: the one
//  the handler set, else the client's cookie, else the fresh one this
//  response will set.
const char *gw_request_csrf (gw_request_t *self);

//  ---------------------------------------------------------------------
//  Responses. A request is answered once; a second answer replaces the
//  first.

//  Answer with a JSON text already encoded (gw_json_encode); takes
//  ownership of *text_p (malloc) and nullifies it.
void gw_request_reply_text (gw_request_t *self, int http_status, char **text_p);

//  Answer with a JSON document; takes ownership of *json_p and nullifies it.
void gw_request_reply_json (gw_request_t *self, int http_status,
                            json_t **json_p);

//  Answer with the one error format:
//  {"error":{"code":code,"message":message,"fields":{...}}}. fields is a JSON
//  object of field name -> French message, borrowed, or NULL for {}.
void gw_request_reply_error (gw_request_t *self, int http_status,
                             const char *code, const char *message,
                             const json_t *fields);

//  Add a response header (copied). Content-Type and the common headers are
//  set by gw_http; use this for Retry-After, Allow, ...
void gw_request_add_header (gw_request_t *self, const char *name,
                            const char *value);

//  Set a cookie on the response: Path=/; SameSite=Lax, HttpOnly when asked,
//  Secure when settings->secure_cookies. value NULL expires the cookie.
//  Setting gch_csrf here replaces the automatic one.
void gw_request_set_cookie (gw_request_t *self, const char *name,
                            const char *value, bool http_only);

//  ---------------------------------------------------------------------
//  Helpers, pure functions (no daemon needed).

//  Find cookie name in a Cookie header value ("a=1; b=2") and copy its value
//  (surrounding double quotes removed) into buf. Returns true if found and it
//  fits in size bytes; else false and buf is "".
bool gw_cookie_find (const char *header, const char *name, char *buf,
                     size_t size);

//  Fill buf (GW_TOKEN_SIZE bytes) with a new random token.
void gw_token_new (char *buf);

//  True if token is exactly 64 lower-case hex characters.
bool gw_token_valid (const char *token);

//  Constant-time comparison of two tokens; false if either is not valid.
bool gw_token_equal (const char *a, const char *b);

//  Send raw to 127.0.0.1:port, read the answer until the server closes, and
//  return its HTTP status (-1 on socket error). *response_p, if not NULL,
//  gets the whole response text (caller frees it). For self-tests.
int gw_http_test_request (int port, const char *raw, char **response_p);

void gw_http_test (bool verbose);

#endif
