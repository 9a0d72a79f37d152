//  gw_api_session - the hooks of the routes that are more than one bus call:
//
//    GET    /api/v1/health   gw_api_health: asks every service at once
//    POST   /api/v1/session  gw_api_login: after account.login, creates the
//                            session and sets both cookies
//    GET    /api/v1/session  gw_api_session_get (anonymous answer) and
//                            gw_api_session_user (after account.get)
//    DELETE /api/v1/session  gw_api_logout: ends the session
//
//  The generic handler (gw_routes.c) has already matched the route, loaded
//  the session, checked auth and CSRF, decoded the body and counted the rate
//  limit when a hook runs. A hook answers (returns true) or lets the
//  handler go on (false).
#include "gch.h"
#include "gw_routes.h"
#include "gw_json.h"

#include <pthread.h>

//  Deadline of each health probe: a service that cannot answer its health
//  within a second is not healthy.
#define S_HEALTH_TIMEOUT_MS 1000

//  Every service the platform needs, in the order of the health answer.
static const char *const s_services[] = {"accounts", "dossiers", "documents",
                                         "notify", "finance"};
#define S_NSERVICES (sizeof s_services / sizeof s_services[0])

typedef struct {
    const char *service;        //  service to ask
    const char *bus;            //  broker endpoint
    const Gch__Caller *caller;  //  read-only, shared by the probes
    const char *request_id;     //  the HTTP request's id
    Gch__Reply *reply;          //  the answer, or NULL if no client
    pthread_t thread;           //  the probe's thread
    bool started;               //  thread started (else ran inline)
} s_probe_t;

//  One health call, in its own thread with its own bus client (a client is
//  never shared between threads).
static void *
s_probe_run (void *arg)
{
    s_probe_t *probe = (s_probe_t *) arg;
    gch_client_t *client = gch_client_new (probe->bus);
    if (client) {
        Gch__Empty empty = GCH__EMPTY__INIT;
        probe->reply = gch_client_call (client, probe->service, "health",
                                        probe->caller, probe->request_id, NULL,
                                        true, &empty.base, S_HEALTH_TIMEOUT_MS);
        gch_client_destroy (&client);
    }
    return NULL;
}

//  {HealthReply...} for a healthy service; the same plus "error" (or the
//  error alone) for one that is not.
static json_t *
s_probe_json (const s_probe_t *probe, bool *ok_p)
{
    const Gch__Reply *reply = probe->reply;
    json_t *json = NULL;
    //  An empty body would decode as a HealthReply of defaults
    ProtobufCMessage *health =
        reply && reply->body.len
            ? gch_reply_unpack (reply, &gch__health_reply__descriptor)
            : NULL;
    if (health) {
        json = gw_json_from_message (health);
        protobuf_c_message_free_unpacked (health, NULL);
    }
    else
        json = json_object ();
    int status = reply ? (int) reply->status : GCH__STATUS__STATUS_UNAVAILABLE;
    if (!gch_status_ok (status)) {
        const char *message = reply && reply->message && *reply->message
                                  ? reply->message
                                  : gch_status_message (status);
        json_t *text = json_string (message);
        json_object_set_new (json, "error",
                             json_pack ("{s:s,s:o}", "code",
                                        gch_status_code (status), "message",
                                        text ? text : json_string ("?")));
        *ok_p = false;
    }
    return json;
}

bool
gw_api_health (gw_call_t *call)
{
    s_probe_t probes[S_NSERVICES];
    for (size_t i = 0; i < S_NSERVICES; i++) {
        probes[i] = (s_probe_t){
            .service = s_services[i],
            .bus = call->settings->bus,
            .caller = &call->caller,
            .request_id = gw_request_id (call->request),
        };
        probes[i].started = pthread_create (&probes[i].thread, NULL,
                                            s_probe_run, &probes[i]) == 0;
        if (!probes[i].started)
            s_probe_run (&probes[i]);
    }
    bool ok = true;
    json_t *services = json_object ();
    for (size_t i = 0; i < S_NSERVICES; i++) {
        if (probes[i].started)
            pthread_join (probes[i].thread, NULL);
        json_object_set_new (services, s_services[i],
                             s_probe_json (&probes[i], &ok));
        if (probes[i].reply)
            gch__reply__free_unpacked (probes[i].reply, NULL);
    }
    json_t *json = json_pack ("{s:s,s:o}", "status", ok ? "ok" : "degraded",
                              "services", services);
    gw_request_reply_json (call->request, ok ? 200 : 503, &json);
    return true;
}

bool
gw_api_login (gw_call_t *call)
{
    if (!gch_status_ok (call->reply->status) || !call->output)
        return false;  //  the generic error answer
    const Gch__Account *account = (const Gch__Account *) call->output;
    char token[GW_TOKEN_SIZE], csrf[GW_TOKEN_SIZE];
    if (gw_session_create (call->settings, account, token, csrf) != 0) {
        gw_call_error (call, GCH__STATUS__STATUS_UNAVAILABLE,
                       "Sessions momentanément indisponibles", NULL);
        return true;
    }
    //  Logging in again ends the previous session
    if (call->session)
        gw_session_delete (call->settings, call->token);
    gw_request_set_cookie (call->request, GW_SESSION_COOKIE, token, true);
    gw_request_set_cookie (call->request, GW_CSRF_COOKIE, csrf, false);
    json_t *json =
        json_pack ("{s:o,s:s}", "user", gw_json_from_message (call->output),
                   "csrf_token", csrf);
    gw_request_reply_json (call->request, 200, &json);
    return true;
}

bool
gw_api_session_get (gw_call_t *call)
{
    if (call->session_state < 0) {
        gw_call_error (call, GCH__STATUS__STATUS_UNAVAILABLE,
                       "Sessions momentanément indisponibles", NULL);
        return true;
    }
    if (call->session)
        return false;  //  ask accounts for the current account
    json_t *json = json_pack ("{s:n,s:s}", "user", "csrf_token",
                              gw_request_csrf (call->request));
    gw_request_reply_json (call->request, 200, &json);
    return true;
}

bool
gw_api_session_user (gw_call_t *call)
{
    int status = call->reply->status;
    json_t *user;
    if (gch_status_ok (status) && call->output)
        user = gw_json_from_message (call->output);
    else if (status == GCH__STATUS__STATUS_UNAUTHENTICATED ||
             status == GCH__STATUS__STATUS_FORBIDDEN ||
             status == GCH__STATUS__STATUS_NOT_FOUND) {
        //  The account is gone or closed: so is the session
        gw_session_delete (call->settings, call->token);
        gw_request_set_cookie (call->request, GW_SESSION_COOKIE, NULL, true);
        user = json_null ();
    }
    else {
        //  accounts is unreachable: the copy taken at login will do
        zsys_warning ("session: account.get failed (%s), using the session's "
                      "copy (request %s)",
                      gch_status_code (status), gw_request_id (call->request));
        user = gw_json_from_message (&call->session->account->base);
    }
    json_t *json = json_pack ("{s:o,s:s}", "user", user, "csrf_token",
                              gw_request_csrf (call->request));
    gw_request_reply_json (call->request, 200, &json);
    return true;
}

bool
gw_api_logout (gw_call_t *call)
{
    if (gw_session_delete (call->settings, call->token) != 0) {
        gw_call_error (call, GCH__STATUS__STATUS_UNAVAILABLE,
                       "Sessions momentanément indisponibles", NULL);
        return true;
    }
    gw_request_set_cookie (call->request, GW_SESSION_COOKIE, NULL, true);
    gw_request_set_cookie (call->request, GW_CSRF_COOKIE, NULL, false);
    json_t *json = json_object ();
    gw_request_reply_json (call->request, 200, &json);
    return true;
}
