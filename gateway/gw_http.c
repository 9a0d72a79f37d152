//  gw_http - the libmicrohttpd daemon, per-request state, bodies, cookies,
//  static files and responses.
//
//  Entry points: gw_http_new starts the daemon; s_access is MHD's access
//  handler, called several times per request (headers, body chunks, end);
//  s_completed frees the request. A handler answers through
//  gw_request_reply_json / gw_request_reply_error, which only record the
//  answer: s_respond turns it into an MHD response once the handler returns,
//  adding the common headers and the CSRF cookie, and logs the request.
//
//  To serve a new kind of static file, add its extension to s_mime_types.
//  Anything the API needs goes through the api handler (gw_routes).
#include "gch.h"
#include "gw_http.h"

#include <microhttpd.h>
#include <arpa/inet.h>
#include <strings.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

//  At most this many headers of our own per response (cookies included).
#define S_HEADERS_MAX 16

//  MHD limits: connections, and seconds of inactivity before closing one.
#define S_CONNECTION_LIMIT 1024
#define S_CONNECTION_TIMEOUT 30

//  Longest static path we look at.
#define S_STATIC_PATH_MAX 512

struct _gw_http_t {
    struct MHD_Daemon *daemon;      //  the libmicrohttpd daemon
    const gw_settings_t *settings;  //  borrowed, outlives the daemon
    gw_api_fn *api;                 //  handler of /api/ requests
    int port;                       //  actual listening port
};

typedef struct {
    char *name;   //  owned
    char *value;  //  owned
} s_header_t;

struct _gw_request_t {
    gw_http_t *http;                    //  the daemon this request came to
    struct MHD_Connection *connection;  //  MHD's connection, borrowed
    const char *method;                 //  borrowed from MHD
    const char *path;                   //  borrowed from MHD, decoded
    char id[17];                        //  request id, 8 random bytes hex
    char address[INET6_ADDRSTRLEN];     //  client IP
    int64_t started_ms;                 //  monotonic, for the log line
    char *body;                         //  accumulated body, owned
    size_t body_size;                   //  bytes in body
    size_t body_capacity;               //  bytes allocated for body
    bool too_large;                     //  body over the limit: 413
    bool queued;                        //  response handed to MHD
    char csrf_cookie[GW_TOKEN_SIZE];    //  client's valid gch_csrf, or ""
    char csrf_fresh[GW_TOKEN_SIZE];     //  token to set if none, or ""
    char csrf_set[GW_TOKEN_SIZE];       //  token the handler set, or ""
    bool csrf_handled;                  //  handler set or expired gch_csrf
    int status;                         //  answer's HTTP status, 0 = none
    const char *content_type;           //  answer's type, static string
    char *content;                      //  answer's body, owned (malloc)
    size_t content_size;                //  bytes in content
    int fd;                             //  file to send instead, or -1
    uint64_t fd_size;                   //  bytes of fd to send
    s_header_t headers[S_HEADERS_MAX];  //  extra response headers
    size_t nheaders;                    //  used entries of headers
};

//  ---------------------------------------------------------------------
//  Pure helpers

bool
gw_cookie_find (const char *header, const char *name, char *buf, size_t size)
{
    assert (name && buf && size > 0);
    buf[0] = '\0';
    if (!header)
        return false;
    size_t name_len = strlen (name);
    const char *cursor = header;
    while (*cursor) {
        //  One "name=value" pair, up to ';' or the end
        while (*cursor == ' ' || *cursor == '\t' || *cursor == ';')
            cursor++;
        const char *end = strchr (cursor, ';');
        if (!end)
            end = cursor + strlen (cursor);
        const char *equal = memchr (cursor, '=', (size_t) (end - cursor));
        if (equal) {
            const char *key_end = equal;
            while (key_end > cursor &&
                   (key_end[-1] == ' ' || key_end[-1] == '\t'))
                key_end--;
            if ((size_t) (key_end - cursor) == name_len &&
                memcmp (cursor, name, name_len) == 0) {
                const char *value = equal + 1;
                const char *value_end = end;
                while (value < value_end && (*value == ' ' || *value == '\t'))
                    value++;
                while (value_end > value &&
                       (value_end[-1] == ' ' || value_end[-1] == '\t'))
                    value_end--;
                if (value_end - value >= 2 && *value == '"' &&
                    value_end[-1] == '"') {
                    value++;
                    value_end--;
                }
                size_t length = (size_t) (value_end - value);
                if (length >= size)
                    return false;
                memcpy (buf, value, length);
                buf[length] = '\0';
                return true;
            }
        }
        cursor = end;
    }
    return false;
}

void
gw_token_new (char *buf)
{
    gch_random_hex (buf, GW_TOKEN_BYTES);
}

bool
gw_token_valid (const char *token)
{
    if (!token)
        return false;
    size_t i = 0;
    for (; token[i]; i++) {
        char c = token[i];
        if (i >= 2 * GW_TOKEN_BYTES ||
            !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return i == 2 * GW_TOKEN_BYTES;
}

bool
gw_token_equal (const char *a, const char *b)
{
    if (!gw_token_valid (a) || !gw_token_valid (b))
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < 2 * GW_TOKEN_BYTES; i++)
        diff |= (unsigned char) (a[i] ^ b[i]);
    return diff == 0;
}

//  Percent-decode text in place, except %00, which stays as the three
//  characters "%00": a NUL must not cut a path or a parameter short (MHD's
//  own decoder would). Returns the new length.
static size_t
s_unescape (char *text)
{
    char *read = text;
    char *write = text;
    while (*read) {
        int high = read[0] == '%' ? gch_hex_digit (read[1]) : -1;
        int low = high >= 0 ? gch_hex_digit (read[2]) : -1;
        if (low >= 0 && (high | low) != 0) {
            *write++ = (char) (high * 16 + low);
            read += 3;
        }
        else
            *write++ = *read++;
    }
    *write = '\0';
    return (size_t) (write - text);
}

static size_t
s_unescape_callback (void *cls, struct MHD_Connection *connection, char *text)
{
    (void) cls;
    (void) connection;
    return s_unescape (text);
}

//  ---------------------------------------------------------------------
//  Request state

static gw_request_t *
s_request_new (gw_http_t *http, struct MHD_Connection *connection,
               const char *method, const char *url)
{
    gw_request_t *self = (gw_request_t *) zmalloc (sizeof (gw_request_t));
    self->http = http;
    self->connection = connection;
    self->method = method;
    self->path = url;
    self->fd = -1;
    self->started_ms = gch_mono_ms ();
    gch_random_hex (self->id, 8);
    strcpy (self->address, "unknown");
    const union MHD_ConnectionInfo *info = MHD_get_connection_info (
        connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr) {
        const struct sockaddr *addr = info->client_addr;
        if (addr->sa_family == AF_INET)
            inet_ntop (AF_INET, &((const struct sockaddr_in *) addr)->sin_addr,
                       self->address, sizeof self->address);
        else if (addr->sa_family == AF_INET6)
            inet_ntop (AF_INET6,
                       &((const struct sockaddr_in6 *) addr)->sin6_addr,
                       self->address, sizeof self->address);
    }
    //  The CSRF cookie the client holds, if well-formed; else one to set
    char value[GW_TOKEN_SIZE + 8];
    if (gw_request_cookie (self, GW_CSRF_COOKIE, value, sizeof value) &&
        gw_token_valid (value))
        strcpy (self->csrf_cookie, value);
    else
        gw_token_new (self->csrf_fresh);
    return self;
}

static void
s_request_clear_answer (gw_request_t *self)
{
    freen (self->content);
    self->content_size = 0;
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
}

static void
s_request_destroy (gw_request_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gw_request_t *self = *self_p;
        free (self->body);
        s_request_clear_answer (self);
        for (size_t i = 0; i < self->nheaders; i++) {
            free (self->headers[i].name);
            free (self->headers[i].value);
        }
        free (self);
        *self_p = NULL;
    }
}

const gw_settings_t *
gw_request_settings (gw_request_t *self)
{
    assert (self);
    return self->http->settings;
}

const char *
gw_request_method (gw_request_t *self)
{
    assert (self);
    return self->method;
}

const char *
gw_request_path (gw_request_t *self)
{
    assert (self);
    return self->path;
}

const char *
gw_request_id (gw_request_t *self)
{
    assert (self);
    return self->id;
}

const char *
gw_request_address (gw_request_t *self)
{
    assert (self);
    return self->address;
}

const char *
gw_request_header (gw_request_t *self, const char *name)
{
    assert (self && name);
    return MHD_lookup_connection_value (self->connection, MHD_HEADER_KIND,
                                        name);
}

typedef struct {
    const char *name;  //  cookie wanted
    char *buf;         //  where its value goes
    size_t size;       //  bytes available in buf
    bool found;        //  found in some Cookie header
} s_cookie_search_t;

static enum MHD_Result
s_cookie_header (void *cls, enum MHD_ValueKind kind, const char *key,
                 const char *value)
{
    (void) kind;
    s_cookie_search_t *search = (s_cookie_search_t *) cls;
    if (strcasecmp (key, MHD_HTTP_HEADER_COOKIE) == 0 &&
        gw_cookie_find (value, search->name, search->buf, search->size)) {
        search->found = true;
        return MHD_NO;
    }
    return MHD_YES;
}

bool
gw_request_cookie (gw_request_t *self, const char *name, char *buf, size_t size)
{
    assert (self && name && buf && size > 0);
    //  A client may send several Cookie headers: look at each
    s_cookie_search_t search = {name, buf, size, false};
    MHD_get_connection_values (self->connection, MHD_HEADER_KIND,
                               s_cookie_header, &search);
    if (!search.found)
        buf[0] = '\0';
    return search.found;
}

const char *
gw_request_body (gw_request_t *self, size_t *size_p)
{
    assert (self && size_p);
    *size_p = self->body_size;
    return self->body_size ? self->body : NULL;
}

typedef struct {
    int (*fn) (void *ctx, const char *key, const char *value);
    void *ctx;
    int rc;
} s_query_walk_t;

static enum MHD_Result
s_query_argument (void *cls, enum MHD_ValueKind kind, const char *key,
                  const char *value)
{
    (void) kind;
    s_query_walk_t *walk = (s_query_walk_t *) cls;
    walk->rc = walk->fn (walk->ctx, key, value ? value : "");
    return walk->rc == 0 ? MHD_YES : MHD_NO;
}

int
gw_request_query_foreach (gw_request_t *self,
                          int (*fn) (void *ctx, const char *key,
                                     const char *value),
                          void *ctx)
{
    assert (self && fn);
    s_query_walk_t walk = {fn, ctx, 0};
    MHD_get_connection_values (self->connection, MHD_GET_ARGUMENT_KIND,
                               s_query_argument, &walk);
    return walk.rc;
}

const char *
gw_request_csrf_cookie (gw_request_t *self)
{
    assert (self);
    return *self->csrf_cookie ? self->csrf_cookie : NULL;
}

const char *
gw_request_csrf (gw_request_t *self)
{
    assert (self);
    if (*self->csrf_set)
        return self->csrf_set;
    if (*self->csrf_cookie)
        return self->csrf_cookie;
    return self->csrf_fresh;
}

//  ---------------------------------------------------------------------
//  Answers

void
gw_request_reply_json (gw_request_t *self, int http_status, json_t **json_p)
{
    assert (self && json_p && *json_p);
    s_request_clear_answer (self);
    self->status = http_status;
    self->content_type = "application/json";
    self->content = json_dumps (*json_p, JSON_COMPACT);
    assert (self->content);
    self->content_size = strlen (self->content);
    json_decref (*json_p);
    *json_p = NULL;
}

void
gw_request_reply_text (gw_request_t *self, int http_status, char **text_p)
{
    assert (self && text_p && *text_p);
    s_request_clear_answer (self);
    self->status = http_status;
    self->content_type = "application/json";
    self->content = *text_p;
    self->content_size = strlen (self->content);
    *text_p = NULL;
}

void
gw_request_reply_error (gw_request_t *self, int http_status, const char *code,
                        const char *message, const json_t *fields)
{
    assert (self && code && message);
    json_t *text = json_string (message);
    if (!text)  //  not UTF-8: a bug elsewhere, not a reason to fail here
        text = json_string (gch_status_message (GCH__STATUS__STATUS_INTERNAL));
    json_t *error = json_object ();
    json_object_set_new (error, "code", json_string (code));
    json_object_set_new (error, "message", text);
    json_object_set_new (error, "fields",
                         fields ? json_deep_copy (fields) : json_object ());
    json_t *json = json_object ();
    json_object_set_new (json, "error", error);
    gw_request_reply_json (self, http_status, &json);
}

void
gw_request_add_header (gw_request_t *self, const char *name, const char *value)
{
    assert (self && name && value);
    if (self->nheaders == S_HEADERS_MAX) {
        zsys_error ("http: too many response headers, %s dropped", name);
        return;
    }
    self->headers[self->nheaders].name = strdup (name);
    self->headers[self->nheaders].value = strdup (value);
    self->nheaders++;
}

void
gw_request_set_cookie (gw_request_t *self, const char *name, const char *value,
                       bool http_only)
{
    assert (self && name);
    char cookie[256];
    snprintf (cookie, sizeof cookie, "%s=%s; Path=/%s; SameSite=Lax%s%s", name,
              value ? value : "", value ? "" : "; Max-Age=0",
              http_only ? "; HttpOnly" : "",
              self->http->settings->secure_cookies ? "; Secure" : "");
    //  A cookie set twice (expired, then set at login) is sent once
    size_t name_len = strlen (name);
    bool replaced = false;
    for (size_t i = 0; i < self->nheaders && !replaced; i++)
        if (streq (self->headers[i].name, MHD_HTTP_HEADER_SET_COOKIE) &&
            strncmp (self->headers[i].value, name, name_len) == 0 &&
            self->headers[i].value[name_len] == '=') {
            free (self->headers[i].value);
            self->headers[i].value = strdup (cookie);
            replaced = true;
        }
    if (!replaced)
        gw_request_add_header (self, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    if (streq (name, GW_CSRF_COOKIE)) {
        *self->csrf_set = '\0';
        self->csrf_handled = true;
        if (value && strlen (value) < sizeof self->csrf_set)
            strcpy (self->csrf_set, value);
    }
}

//  ---------------------------------------------------------------------
//  Static files

typedef struct {
    const char *extension;
    const char *type;
    bool cacheable;  //  false: revalidate each time (pages link the rest)
} s_mime_type_t;

static const s_mime_type_t s_mime_types[] = {
    {"html", "text/html; charset=utf-8", false},
    {"css", "text/css; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"json", "application/json", true},
    {"svg", "image/svg+xml", true},
    {"png", "image/png", true},
    {"ico", "image/x-icon", true},
    {NULL, NULL, false},
};

static const char s_not_found_page[] =
    "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
    "<title>Page introuvable - Guichet</title></head>\n"
    "<body><h1>Page introuvable</h1>"
    "<p>Cette page n'existe pas. <a href=\"/\">Retour à l'accueil</a></p>"
    "</body></html>\n";

//  True if path may name a file under www: it starts with '/', uses only
//  letters, digits, '-', '_', '.' and '/', and no segment starts with '.'
//  (which rules out "..", "." and hidden files). Backslashes, "%00" and
//  anything unusual are refused.
static bool
s_static_path_valid (const char *path)
{
    if (!path || path[0] != '/' || strlen (path) > S_STATIC_PATH_MAX)
        return false;
    for (const char *c = path; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                  *c == '.' || *c == '/';
        if (!ok)
            return false;
        if (*c == '.' && c[-1] == '/')
            return false;
        if (*c == '/' && c[1] == '/')
            return false;
    }
    return true;
}

static const s_mime_type_t *
s_mime_type (const char *path)
{
    const char *dot = strrchr (path, '.');
    const char *slash = strrchr (path, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (const s_mime_type_t *mime = s_mime_types; mime->extension; mime++)
        if (streq (dot + 1, mime->extension))
            return mime;
    return NULL;
}

static void
s_answer_text (gw_request_t *self, int status, const char *type,
               const char *text)
{
    s_request_clear_answer (self);
    self->status = status;
    self->content_type = type;
    self->content = strdup (text);
    self->content_size = strlen (text);
}

static void
s_serve_static (gw_request_t *self)
{
    if (!streq (self->method, "GET") && !streq (self->method, "HEAD")) {
        gw_request_add_header (self, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        gw_request_reply_error (
            self, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
            gch_status_message (GCH__STATUS__STATUS_METHOD_NOT_ALLOWED), NULL);
        return;
    }
    const s_mime_type_t *mime = NULL;
    int fd = -1;
    if (s_static_path_valid (self->path)) {
        char *file = NULL;
        const char *path = self->path;
        bool folder = path[strlen (path) - 1] == '/';
        if (asprintf (&file, "%s%s%s", self->http->settings->www, path,
                      folder ? "index.html" : "") < 0)
            file = NULL;
        mime = file ? s_mime_type (file) : NULL;
        if (mime)
            fd = open (file, O_RDONLY | O_CLOEXEC);
        free (file);
    }
    struct stat info;
    if (fd >= 0 && (fstat (fd, &info) != 0 || !S_ISREG (info.st_mode))) {
        close (fd);
        fd = -1;
    }
    if (fd < 0) {
        s_answer_text (self, MHD_HTTP_NOT_FOUND, "text/html; charset=utf-8",
                       s_not_found_page);
        gw_request_add_header (self, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        return;
    }
    s_request_clear_answer (self);
    self->status = MHD_HTTP_OK;
    self->content_type = mime->type;
    self->fd = fd;
    self->fd_size = (uint64_t) info.st_size;
    gw_request_add_header (self, MHD_HTTP_HEADER_CACHE_CONTROL,
                           mime->cacheable ? "public, max-age=3600"
                                           : "no-cache");
}

//  ---------------------------------------------------------------------
//  The daemon

static bool
s_is_api (const char *path)
{
    return strncmp (path, "/api/", 5) == 0 || streq (path, "/api");
}

//  Path printable in a log line: control characters become '?', long
//  paths are cut.
static void
s_log_path (const char *path, char *buf, size_t size)
{
    size_t i = 0;
    for (; path[i] && i < size - 1; i++)
        buf[i] =
            (unsigned char) path[i] < 0x20 || path[i] == 0x7f ? '?' : path[i];
    buf[i] = '\0';
}

//  Turn the recorded answer into an MHD response, queue it, log the request.
static enum MHD_Result
s_respond (gw_request_t *self)
{
    if (self->status == 0) {
        zsys_error ("http: no answer for %s %s (request %s)", self->method,
                    self->path, self->id);
        gw_request_reply_error (
            self, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
            gch_status_message (GCH__STATUS__STATUS_INTERNAL), NULL);
    }
    struct MHD_Response *response;
    if (self->fd >= 0) {
        response = MHD_create_response_from_fd64 (self->fd_size, self->fd);
        if (response)
            self->fd = -1;  //  MHD closes it
    }
    else {
        response = MHD_create_response_from_buffer (
            self->content_size, self->content, MHD_RESPMEM_MUST_FREE);
        if (response)
            self->content = NULL;  //  MHD frees it
    }
    if (!response)
        return MHD_NO;
    bool api = s_is_api (self->path);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             self->content_type);
    MHD_add_response_header (response, "X-Request-Id", self->id);
    MHD_add_response_header (response, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS,
                             "nosniff");
    MHD_add_response_header (response, MHD_HTTP_HEADER_X_FRAME_OPTIONS, "DENY");
    MHD_add_response_header (response, "Referrer-Policy", "same-origin");
    if (api)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL,
                                 "no-store");
    for (size_t i = 0; i < self->nheaders; i++)
        MHD_add_response_header (response, self->headers[i].name,
                                 self->headers[i].value);
    //  docs/api.md: every response that lacks one sets gch_csrf
    if (!self->csrf_handled && !*self->csrf_cookie) {
        char cookie[128];
        snprintf (cookie, sizeof cookie, "%s=%s; Path=/; SameSite=Lax%s",
                  GW_CSRF_COOKIE, self->csrf_fresh,
                  self->http->settings->secure_cookies ? "; Secure" : "");
        MHD_add_response_header (response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    }
    enum MHD_Result rc = MHD_queue_response (self->connection,
                                             (unsigned) self->status, response);
    self->queued = true;
    MHD_destroy_response (response);

    char path[200];
    s_log_path (self->path, path, sizeof path);
    zsys_info ("%s %s %d %" PRId64 "ms %s", self->method, path, self->status,
               gch_mono_ms () - self->started_ms, self->id);
    return rc;
}

//  The request is complete: answer it.
static enum MHD_Result
s_handle (gw_request_t *self)
{
    if (self->too_large)
        gw_request_reply_error (
            self, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
            gch_status_message (GCH__STATUS__STATUS_TOO_LARGE), NULL);
    else if (s_is_api (self->path))
        self->http->api (self);
    else
        s_serve_static (self);
    return s_respond (self);
}

static void
s_body_append (gw_request_t *self, const char *data, size_t size)
{
    size_t limit = self->http->settings->body_limit;
    if (self->too_large)
        return;  //  discard the rest
    if (size > limit || self->body_size > limit - size) {
        self->too_large = true;
        freen (self->body);
        self->body_size = self->body_capacity = 0;
        return;
    }
    if (self->body_size + size > self->body_capacity) {
        size_t capacity = self->body_capacity ? self->body_capacity : 1024;
        while (capacity < self->body_size + size)
            capacity *= 2;
        if (capacity > limit)
            capacity = limit;
        self->body = (char *) realloc (self->body, capacity);
        assert (self->body);
        self->body_capacity = capacity;
    }
    memcpy (self->body + self->body_size, data, size);
    self->body_size += size;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    (void) version;
    gw_http_t *http = (gw_http_t *) cls;
    gw_request_t *self = (gw_request_t *) *con_cls;
    if (!self) {
        //  Headers only, so far
        self = s_request_new (http, connection, method, url);
        *con_cls = self;
        const char *length = MHD_lookup_connection_value (
            connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length) {
            char *end;
            errno = 0;
            unsigned long long value = strtoull (length, &end, 10);
            if (errno == 0 && end != length &&
                value > http->settings->body_limit) {
                //  Answer before the body is sent (no 100 Continue)
                self->too_large = true;
                return s_handle (self);
            }
        }
        return MHD_YES;
    }
    if (self->queued) {
        //  Answered early (413 on Content-Length): ignore the rest
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        s_body_append (self, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return s_handle (self);
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void) cls;
    (void) connection;
    (void) code;
    gw_request_t *self = (gw_request_t *) *con_cls;
    s_request_destroy (&self);
    *con_cls = NULL;
}

gw_http_t *
gw_http_new (const gw_settings_t *settings, gw_api_fn *api)
{
    assert (settings && api);
    struct sockaddr_storage storage;
    memset (&storage, 0, sizeof storage);
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                         MHD_USE_ERROR_LOG;
    if (settings->port < 0 || settings->port > 65535) {
        zsys_error ("http: bad port %d", settings->port);
        return NULL;
    }
    struct sockaddr_in *ipv4 = (struct sockaddr_in *) &storage;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *) &storage;
    if (inet_pton (AF_INET, settings->address, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons ((uint16_t) settings->port);
    }
    else if (inet_pton (AF_INET6, settings->address, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons ((uint16_t) settings->port);
        flags |= MHD_USE_IPv6;
    }
    else {
        zsys_error ("http: bad address '%s' (an IPv4 or IPv6 address)",
                    settings->address);
        return NULL;
    }
    gw_http_t *self = (gw_http_t *) zmalloc (sizeof (gw_http_t));
    self->settings = settings;
    self->api = api;
    self->daemon = MHD_start_daemon (
        flags, (uint16_t) settings->port, NULL, NULL, s_access, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &storage,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) S_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) S_CONNECTION_TIMEOUT,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, s_unescape_callback, NULL,
        MHD_OPTION_END);
    if (!self->daemon) {
        zsys_error ("http: cannot listen on %s port %d", settings->address,
                    settings->port);
        free (self);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : settings->port;
    return self;
}

void
gw_http_destroy (gw_http_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gw_http_t *self = *self_p;
        MHD_stop_daemon (self->daemon);
        free (self);
        *self_p = NULL;
    }
}

int
gw_http_port (gw_http_t *self)
{
    assert (self);
    return self->port;
}

//  ---------------------------------------------------------------------
//  Self-test

int
gw_http_test_request (int port, const char *raw, char **response_p)
{
    assert (raw);
    if (response_p)
        *response_p = NULL;
    int sock = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -1;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) port);
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct timeval timeout = {10, 0};
    setsockopt (sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect (sock, (struct sockaddr *) &addr, sizeof addr) != 0) {
        close (sock);
        return -1;
    }
    //  The server may answer and close before reading everything (413):
    //  send errors are not fatal, the answer is what counts
    size_t size = strlen (raw);
    for (size_t sent = 0; sent < size;) {
        ssize_t rc = send (sock, raw + sent, size - sent, MSG_NOSIGNAL);
        if (rc <= 0)
            break;
        sent += (size_t) rc;
    }
    size_t capacity = 4096, length = 0;
    char *response = (char *) malloc (capacity);
    assert (response);
    while (true) {
        if (length + 1024 > capacity) {
            capacity *= 2;
            response = (char *) realloc (response, capacity);
            assert (response);
        }
        ssize_t rc = recv (sock, response + length, capacity - length - 1, 0);
        if (rc <= 0)
            break;
        length += (size_t) rc;
    }
    response[length] = '\0';
    close (sock);
    int status = -1;
    if (strncmp (response, "HTTP/1.", 7) == 0 && length > 12)
        status = atoi (response + 9);
    if (response_p)
        *response_p = response;
    else
        free (response);
    return status;
}

//  Test api handler: echoes method, path, body size, query and cookie.
static int
s_test_query (void *ctx, const char *key, const char *value)
{
    json_object_set_new ((json_t *) ctx, key, json_string (value));
    return 0;
}

static void
s_test_api (gw_request_t *request)
{
    if (streq (gw_request_path (request), "/api/error")) {
        json_t *fields = json_pack ("{s:s}", "email", "champ inconnu");
        gw_request_reply_error (request, 400, "invalid", "Requête invalide",
                                fields);
        json_decref (fields);
        return;
    }
    if (streq (gw_request_path (request), "/api/login")) {
        gw_request_set_cookie (request, GW_SESSION_COOKIE,
                               "0123456789abcdef0123456789abcdef"
                               "0123456789abcdef0123456789abcdef",
                               true);
        gw_request_set_cookie (request, GW_CSRF_COOKIE,
                               "fedcba9876543210fedcba9876543210"
                               "fedcba9876543210fedcba9876543210",
                               false);
    }
    size_t size;
    gw_request_body (request, &size);
    json_t *query = json_object ();
    gw_request_query_foreach (request, s_test_query, query);
    char cookie[32];
    gw_request_cookie (request, "flavour", cookie, sizeof cookie);
    json_t *json = json_pack (
        "{s:s,s:s,s:I,s:o,s:s,s:s}", "method", gw_request_method (request),
        "path", gw_request_path (request), "size", (json_int_t) size, "query",
        query, "cookie", cookie, "csrf", gw_request_csrf (request));
    gw_request_reply_json (request, 200, &json);
}

static bool
s_has (const char *response, const char *text)
{
    return response && strstr (response, text) != NULL;
}

void
gw_http_test (bool verbose)
{
    (void) verbose;
    printf (" * gw_http: ");

    //  Cookies
    char buf[80];
    assert (
        gw_cookie_find ("a=1; gch_csrf=abc; b=2", "gch_csrf", buf, sizeof buf));
    assert (streq (buf, "abc"));
    assert (
        gw_cookie_find ("gch_csrf=\"quoted\"", "gch_csrf", buf, sizeof buf));
    assert (streq (buf, "quoted"));
    assert (gw_cookie_find ("x=1;gch_session = tok ;y=2", "gch_session", buf,
                            sizeof buf));
    assert (streq (buf, "tok"));
    assert (!gw_cookie_find ("xgch_csrf=1; gch_csrfx=2", "gch_csrf", buf,
                             sizeof buf));
    assert (*buf == '\0');
    assert (!gw_cookie_find ("gch_csrf=toolong", "gch_csrf", buf, 4));
    assert (!gw_cookie_find (NULL, "gch_csrf", buf, sizeof buf));
    assert (!gw_cookie_find ("", "a", buf, sizeof buf));
    assert (!gw_cookie_find ("novalue; a", "a", buf, sizeof buf));
    assert (gw_cookie_find ("a=", "a", buf, sizeof buf) && *buf == '\0');

    //  Tokens
    char token[GW_TOKEN_SIZE], other[GW_TOKEN_SIZE];
    gw_token_new (token);
    gw_token_new (other);
    assert (strlen (token) == 64 && gw_token_valid (token));
    assert (!streq (token, other));
    assert (gw_token_equal (token, token));
    assert (!gw_token_equal (token, other));
    assert (!gw_token_valid (NULL) && !gw_token_valid (""));
    assert (!gw_token_valid ("abc"));
    char upper[GW_TOKEN_SIZE];
    strcpy (upper, token);
    upper[0] = 'A';
    assert (!gw_token_valid (upper));
    assert (!gw_token_equal (upper, upper));
    char longer[GW_TOKEN_SIZE + 1];
    snprintf (longer, sizeof longer, "%s0", token);
    assert (!gw_token_valid (longer));

    //  Unescaping keeps %00
    char text[32];
    strcpy (text, "/a%20b%2Fc%00d%zz%4");
    assert (s_unescape (text) == 15);
    assert (streq (text, "/a b/c%00d%zz%4"));

    //  Static paths
    assert (s_static_path_valid ("/"));
    assert (s_static_path_valid ("/index.html"));
    assert (s_static_path_valid ("/css/site-1.css"));
    assert (!s_static_path_valid ("/../etc/passwd"));
    assert (!s_static_path_valid ("/a/../b"));
    assert (!s_static_path_valid ("/.git/config"));
    assert (!s_static_path_valid ("/a\\b"));
    assert (!s_static_path_valid ("/a%00.html"));
    assert (!s_static_path_valid ("//etc/passwd"));
    assert (!s_static_path_valid ("relative"));
    assert (s_mime_type ("/x/index.html") == &s_mime_types[0]);
    assert (!s_mime_type ("/x.d/README"));
    assert (!s_mime_type ("/x.exe"));

    //  A live daemon on a free port, with a www folder of our own
    char www[] = "/tmp/gw_http_test_XXXXXX";
    assert (mkdtemp (www));
    char *file;
    assert (asprintf (&file, "%s/index.html", www) > 0);
    FILE *handle = fopen (file, "w");
    assert (handle);
    fputs ("<p>bonjour</p>\n", handle);
    fclose (handle);
    free (file);
    assert (asprintf (&file, "%s/secret.txt", www) > 0);
    handle = fopen (file, "w");
    assert (handle);
    fputs ("secret\n", handle);
    fclose (handle);
    free (file);

    gw_settings_t settings = {
        .bus = "tcp://127.0.0.1:9",
        .address = "127.0.0.1",
        .port = 0,
        .redis = "127.0.0.1:1",
        .body_limit = 100,
        .timeout_ms = 1000,
        .www = www,
        .login_limit = 10,
        .signup_limit = 20,
        .secure_cookies = true,
    };
    gw_http_t *http = gw_http_new (&settings, s_test_api);
    assert (http);
    int port = gw_http_port (http);
    assert (port > 0);
    char *response;

    //  Static page, with the CSRF cookie every response carries
    int status = gw_http_test_request (
        port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        &response);
    assert (status == 200);
    assert (s_has (response, "bonjour"));
    assert (s_has (response, "text/html; charset=utf-8"));
    assert (s_has (response, "Set-Cookie: gch_csrf="));
    assert (s_has (response, "; Path=/; SameSite=Lax; Secure"));
    assert (s_has (response, "X-Request-Id: "));
    free (response);

    //  A client holding the cookie gets no new one
    status = gw_http_test_request (
        port,
        "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Cookie: gch_csrf=0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef\r\n\r\n",
        &response);
    assert (status == 200 && !s_has (response, "Set-Cookie"));
    free (response);

    //  Unknown type, missing file, traversal, NUL, backslash: 404
    const char *missing[] = {"/secret.txt",
                             "/nothing.html",
                             "/../etc/passwd",
                             "/%2e%2e/etc/passwd",
                             "/index.html%00.png",
                             "/a%5cb.html",
                             NULL};
    for (const char **path = missing; *path; path++) {
        char *raw;
        assert (asprintf (&raw,
                          "GET %s HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\n\r\n",
                          *path) > 0);
        status = gw_http_test_request (port, raw, &response);
        assert (status == 404);
        assert (s_has (response, "Page introuvable"));
        free (response);
        free (raw);
    }
    status = gw_http_test_request (
        port, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL);
    assert (status == 405);

    //  API requests go to the handler, with query, body and cookies
    status = gw_http_test_request (
        port,
        "POST /api/echo?q=v%C3%A9lo&bare HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\nCookie: a=1\r\nCookie: flavour=vanille\r\n"
        "Content-Length: 5\r\n\r\nhello",
        &response);
    assert (status == 200);
    assert (s_has (response, "\"path\":\"/api/echo\""));
    assert (s_has (response, "\"size\":5"));
    assert (s_has (response, "\"q\":\"v\\u00e9lo\"") ||
            s_has (response, "\"q\":\"vélo\""));
    assert (s_has (response, "\"bare\":\"\""));
    assert (s_has (response, "\"cookie\":\"vanille\""));
    assert (s_has (response, "Cache-Control: no-store"));
    assert (s_has (response, "Content-Type: application/json"));
    free (response);

    //  The error format
    status = gw_http_test_request (
        port, "GET /api/error HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        &response);
    assert (status == 400);
    assert (s_has (response, "{\"error\":{\"code\":\"invalid\",\"message\":"
                             "\"Requête invalide\",\"fields\":{\"email\":"
                             "\"champ inconnu\"}}}"));
    free (response);

    //  Handler-set cookies replace the automatic CSRF cookie
    status = gw_http_test_request (
        port, "GET /api/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        &response);
    assert (status == 200);
    assert (s_has (response, "gch_session=0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef; Path=/; "
                             "SameSite=Lax; HttpOnly; Secure"));
    assert (s_has (response, "\"csrf\":\"fedcba9876543210"));
    const char *first = strstr (response, "gch_csrf=");
    assert (first && !strstr (first + 1, "gch_csrf="));
    free (response);

    //  Body limit: announced length, then a chunked body that grows past it
    status = gw_http_test_request (
        port,
        "POST /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Length: 101\r\n\r\n",
        &response);
    assert (status == 413);
    assert (s_has (response, "\"code\":\"too_large\""));
    free (response);
    char chunked[1024];
    int offset = snprintf (chunked, sizeof chunked,
                           "POST /api/echo HTTP/1.1\r\nHost: x\r\n"
                           "Connection: close\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++)
        offset += snprintf (chunked + offset, sizeof chunked - (size_t) offset,
                            "28\r\n%040d\r\n", i);
    snprintf (chunked + offset, sizeof chunked - (size_t) offset, "0\r\n\r\n");
    status = gw_http_test_request (port, chunked, NULL);
    assert (status == 413);
    status = gw_http_test_request (
        port,
        "POST /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Length: 100\r\n\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789"
        "012345678901234567890123456789",
        &response);
    assert (status == 200 && s_has (response, "\"size\":100"));
    free (response);

    gw_http_destroy (&http);
    gw_http_destroy (&http);
    assert (http == NULL);

    //  Clean the www folder
    assert (asprintf (&file, "%s/index.html", www) > 0);
    unlink (file);
    free (file);
    assert (asprintf (&file, "%s/secret.txt", www) > 0);
    unlink (file);
    free (file);
    rmdir (www);
    printf ("OK\n");
}
