//  gch_service - the loop every service runs.
//
//  A worker on the bus feeds requests to a dispatch table. Before any
//  handler runs, the loop drops requests whose deadline has passed (the
//  caller already has its answer), answers unknown methods with NOT_FOUND
//  and answers "health" itself. Each request is logged in one line: method,
//  request id, status, milliseconds. A periodic tick lets a service do
//  background work (polling events, sending mail) in the same thread: one
//  thread per process, scale with processes.
#include "gch.h"

static int64_t s_started_ms;
bool gch_verbose = false;

void
gch_log_init (const char *ident, bool verbose)
{
    //  With TZ unset, glibc's localtime () stats /etc/localtime at every
    //  call, that is at every log line; with TZ set it reads the zone once.
    setenv ("TZ", ":/etc/localtime", 0);
    zsys_init ();
    zsys_set_logident (ident);
    zsys_set_logstream (stderr);
    gch_verbose = verbose;
}

static int
s_health (const gch_service_t *service, Gch__Reply *reply)
{
    Gch__HealthReply health = GCH__HEALTH_REPLY__INIT;
    char instance[64];
    snprintf (instance, sizeof instance, "%d", (int) getpid ());
    health.service = (char *) service->name;
    health.instance = instance;
    health.uptime_s = (gch_mono_ms () - s_started_ms) / 1000;
    health.database = service->db ? gch_db_ok (service->db) : true;
    health.schema_version = service->db && health.database
                                ? gch_db_schema_version (service->db)
                                : 0;
    gch_reply_body (reply, &health.base);
    if (!health.database)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNAVAILABLE,
                                "Base de données injoignable");
    return GCH__STATUS__STATUS_OK;
}

//  events.fetch, for every service with a database: the outbox is lib's,
//  so is the answer. Consumers (svc-notify, ...) call it as the system.
#define S_EVENTS_LIMIT 100      //  default batch
#define S_EVENTS_LIMIT_MAX 500  //  largest batch

static int
s_events_fetch (const gch_service_t *service, const Gch__Request *request,
                Gch__Reply *reply)
{
    if (!gch_caller_is (request, GCH__CALLER_KIND__CALLER_SYSTEM))
        return gch_reply_error (reply, GCH__STATUS__STATUS_FORBIDDEN, NULL);
    Gch__EventsFetch *in = (Gch__EventsFetch *) gch_request_unpack (
        request, &gch__events_fetch__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    int64_t after_seq = in->after_seq;
    int limit = in->limit;
    gch__events_fetch__free_unpacked (in, NULL);
    if (after_seq < 0)
        gch_reply_field (reply, "after_seq", "Séquence invalide");
    if (limit < 0)
        gch_reply_field (reply, "limit", "Limite invalide");
    if (gch_reply_nfields (reply) > 0)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);
    limit = limit == 0 ? S_EVENTS_LIMIT : limit;
    limit = limit > S_EVENTS_LIMIT_MAX ? S_EVENTS_LIMIT_MAX : limit;

    //  Fetching again after a soft error is harmless: numbering is
    //  idempotent and nothing else changes
    Gch__EventsBatch batch = GCH__EVENTS_BATCH__INIT;
    int rc = gch_outbox_fetch (service->db, after_seq, limit, &batch);
    if (rc == GCH_DB_SOFT) {
        gch_outbox_batch_clear (&batch);
        rc = gch_outbox_fetch (service->db, after_seq, limit, &batch);
    }
    int status = GCH__STATUS__STATUS_OK;
    if (rc == GCH_DB_SOFT)
        status = gch_reply_error (reply, GCH__STATUS__STATUS_UNAVAILABLE, NULL);
    else if (rc < 0)
        status = gch_reply_error (reply, GCH__STATUS__STATUS_INTERNAL, NULL);
    else
        gch_reply_body (reply, &batch.base);
    gch_outbox_batch_clear (&batch);
    return status;
}

static void
s_handle (const gch_service_t *service, const Gch__Request *request,
          Gch__Reply *reply)
{
    //  An unknown method is not "no such record": a distinct status, so a
    //  calling service cannot mistake a missing method for missing data
    int status = GCH__STATUS__STATUS_METHOD_NOT_ALLOWED;
    if (streq (request->method, "health"))
        status = s_health (service, reply);
    else if (streq (request->method, "events.fetch") && service->db)
        status = s_events_fetch (service, request, reply);
    else {
        const gch_method_t *method = service->methods;
        while (method && method->method &&
               !streq (method->method, request->method))
            method++;
        if (method && method->method)
            status = method->handler (service->ctx, request, reply);
        else
            gch_reply_error (reply, status, "Méthode inconnue");
    }
    reply->status = status;
    if (!gch_status_ok (status) && !*reply->message)
        gch_reply_error (reply, status, NULL);
}

int
gch_service_run (const gch_service_t *service)
{
    assert (service && service->name && service->bus);
    s_started_ms = gch_mono_ms ();
    gch_worker_t *worker = gch_worker_new (service->bus, service->name);
    zpoller_t *poller = zpoller_new (gch_worker_sock (worker), NULL);
    int tick_ms = service->tick_ms > 0 ? service->tick_ms : 1000;
    int64_t next_tick = gch_mono_ms () + (service->tick ? 0 : tick_ms);
    zsys_notice ("%s ready on %s", service->name, service->bus);
    while (!zsys_interrupted) {
        int64_t wait = service->tick ? next_tick - gch_mono_ms () : 1000;
        void *which = zpoller_wait (poller, wait > 0 ? (int) wait : 0);
        if (which) {
            gch_work_t work;
            int rc = gch_worker_recv (worker, &work);
            if (rc == -1)
                break;
            if (rc == 0) {
                int64_t start = gch_mono_ms ();
                const Gch__Request *request = work.request;
                Gch__Reply reply;
                gch_reply_init (&reply);
                if (request->deadline_ms &&
                    request->deadline_ms < gch_now_ms ()) {
                    zsys_warning ("%s %s dropped: deadline passed",
                                  request->method, request->request_id);
                    gch_reply_error (&reply, GCH__STATUS__STATUS_TIMEOUT, NULL);
                }
                else
                    s_handle (service, request, &reply);
                zsys_info ("%s %s %d %" PRId64 "ms", request->method,
                           request->request_id, gch_status_http (reply.status),
                           gch_mono_ms () - start);
                gch_worker_reply (worker, &work, &reply);
                gch_reply_clear (&reply);
            }
        }
        else if (zpoller_terminated (poller))
            break;
        if (service->tick && gch_mono_ms () >= next_tick) {
            int delay = service->tick (service->ctx);
            next_tick = gch_mono_ms () + (delay >= 0 ? delay : tick_ms);
        }
    }
    zsys_notice ("%s stopping", service->name);
    zpoller_destroy (&poller);
    gch_worker_destroy (&worker);
    return 0;
}

ProtobufCMessage *
gch_request_unpack (const Gch__Request *request,
                    const ProtobufCMessageDescriptor *desc, Gch__Reply *reply)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack (
        desc, NULL, request->body.len, request->body.data);
    if (!msg)
        gch_reply_error (reply, GCH__STATUS__STATUS_INVALID,
                         "Corps de requête illisible");
    return msg;
}

bool
gch_caller_is (const Gch__Request *request, Gch__CallerKind kind)
{
    return request->caller && request->caller->kind == kind;
}

bool
gch_caller_has_role (const Gch__Request *request, const char *role)
{
    if (!request->caller)
        return false;
    for (size_t i = 0; i < request->caller->n_roles; i++)
        if (streq (request->caller->roles[i], role))
            return true;
    return false;
}

bool
gch_caller_in_service (const Gch__Request *request, const char *service)
{
    if (!request->caller)
        return false;
    for (size_t i = 0; i < request->caller->n_services; i++)
        if (streq (request->caller->services[i], service))
            return true;
    return false;
}

//  Self-test: a service with one method on a real broker.
static int
s_test_echo (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    (*(int *) ctx)++;
    Gch__DossierRef *ref = (Gch__DossierRef *) gch_request_unpack (
        request, &gch__dossier_ref__descriptor, reply);
    if (!ref)
        return GCH__STATUS__STATUS_INVALID;
    if (ref->id < 0) {
        gch_reply_field (reply, "id", "doit être positif");
        protobuf_c_message_free_unpacked (&ref->base, NULL);
        return GCH__STATUS__STATUS_UNPROCESSABLE;
    }
    gch_reply_body (reply, &ref->base);
    protobuf_c_message_free_unpacked (&ref->base, NULL);
    return GCH__STATUS__STATUS_OK;
}

static int s_test_calls;
static int s_test_ticks;

static int
s_test_tick (void *ctx)
{
    (void) ctx;
    s_test_ticks++;
    return 20;
}

//  As if SIGTERM arrived while a handler runs: the reply must still go out,
//  then the loop must end (it once hung sending to a worker actor that had
//  already left on the signal).
static int
s_test_interrupt (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    (void) ctx;
    (void) request;
    (void) reply;
    zsys_interrupted = 1;
    zclock_sleep (GCH_HEARTBEAT_MS * 2);  //  the worker actor polls meanwhile
    return GCH__STATUS__STATUS_OK;
}

//  With GCH_TEST_DB, the test service gets a database (a throwaway schema
//  holding lib's migration 0) so that events.fetch runs for real.
static const gch_db_statement_t s_test_statements[] = {
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0},
};
static gch_db_t *s_test_db;

static void
s_test_db_open (const char *conninfo, char *schema, size_t size)
{
    snprintf (schema, size, "gch_svc_test_%d", (int) getpid ());
    char sql[256];
    gch_db_status_t status;
    s_test_db = gch_db_new (conninfo, s_test_statements);
    assert (s_test_db);
    snprintf (sql, sizeof sql, "CREATE SCHEMA %s; SET search_path = %s", schema,
              schema);
    PQclear (gch_db_query (s_test_db, sql, &status));
    assert (status >= 0);
    char dir[] = "/tmp/gch_svc_test_XXXXXX";
    assert (mkdtemp (dir));
    assert (gch_db_migrate (s_test_db, dir) == 0);  //  migration 0 only
    rmdir (dir);
}

static void
s_test_db_close (const char *schema)
{
    char sql[128];
    gch_db_status_t status;
    snprintf (sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    PQclear (gch_db_query (s_test_db, sql, &status));
    gch_db_destroy (&s_test_db);
}

static void
s_test_events_fetch (gch_client_t *client)
{
    Gch__Caller citizen = GCH__CALLER__INIT, system = GCH__CALLER__INIT;
    citizen.kind = GCH__CALLER_KIND__CALLER_CITIZEN;
    system.kind = GCH__CALLER_KIND__CALLER_SYSTEM;
    Gch__EventsFetch fetch = GCH__EVENTS_FETCH__INIT;
    Gch__Reply *reply =
        gch_client_call (client, "testsvc", "events.fetch", &citizen, NULL,
                         NULL, true, &fetch.base, 2000);
    assert (reply->status == GCH__STATUS__STATUS_FORBIDDEN);
    gch__reply__free_unpacked (reply, NULL);
    fetch.after_seq = -1;
    reply = gch_client_call (client, "testsvc", "events.fetch", &system, NULL,
                             NULL, true, &fetch.base, 2000);
    assert (reply->status == GCH__STATUS__STATUS_UNPROCESSABLE);
    assert (reply->n_fields == 1 &&
            streq (reply->fields[0]->name, "after_seq"));
    gch__reply__free_unpacked (reply, NULL);
    fetch.after_seq = 0;
    reply = gch_client_call (client, "testsvc", "events.fetch", &system, NULL,
                             NULL, true, &fetch.base, 2000);
    assert (reply->status == GCH__STATUS__STATUS_OK);
    Gch__EventsBatch *batch = (Gch__EventsBatch *) gch_reply_unpack (
        reply, &gch__events_batch__descriptor);
    assert (batch && batch->n_events == 0);
    protobuf_c_message_free_unpacked (&batch->base, NULL);
    gch__reply__free_unpacked (reply, NULL);
}

static void *
s_test_service_thread (void *args)
{
    static const gch_method_t methods[] = {
        {"test.echo", s_test_echo, &gch__dossier_ref__descriptor},
        {"test.interrupt", s_test_interrupt, NULL},
        {NULL, NULL, NULL},
    };
    gch_service_t service = {"testsvc",     (const char *) args, methods,
                             &s_test_calls, s_test_tick,         20,
                             s_test_db};
    gch_service_run (&service);
    return NULL;
}

void
gch_service_test (bool verbose)
{
    printf (" * gch_service: ");
    zactor_t *broker =
        zactor_new (gch_broker_actor, (void *) "tcp://127.0.0.1:*");
    if (verbose)
        zstr_send (broker, "VERBOSE");
    zstr_send (broker, "PORT");
    char *port = zstr_recv (broker);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%s", port);
    free (port);
    const char *conninfo = getenv ("GCH_TEST_DB");
    char schema[64] = "";
    if (conninfo && *conninfo)
        s_test_db_open (conninfo, schema, sizeof schema);
    pthread_t thread;
    pthread_create (&thread, NULL, s_test_service_thread, endpoint);
    gch_client_t *client = gch_client_new (endpoint);
    if (s_test_db)
        s_test_events_fetch (client);

    Gch__DossierRef ref = GCH__DOSSIER_REF__INIT;
    ref.id = 5;
    Gch__Reply *reply = gch_client_call (client, "testsvc", "test.echo", NULL,
                                         NULL, NULL, true, &ref.base, 2000);
    assert (reply->status == GCH__STATUS__STATUS_OK);
    gch__reply__free_unpacked (reply, NULL);

    ref.id = -1;
    reply = gch_client_call (client, "testsvc", "test.echo", NULL, NULL, NULL,
                             true, &ref.base, 2000);
    assert (reply->status == GCH__STATUS__STATUS_UNPROCESSABLE);
    assert (reply->n_fields == 1 && streq (reply->fields[0]->name, "id"));
    assert (*reply->message);  //  default message filled in
    gch__reply__free_unpacked (reply, NULL);

    reply = gch_client_call (client, "testsvc", "test.nothing", NULL, NULL,
                             NULL, true, NULL, 2000);
    assert (reply->status == GCH__STATUS__STATUS_METHOD_NOT_ALLOWED);
    gch__reply__free_unpacked (reply, NULL);

    reply = gch_client_call (client, "testsvc", "health", NULL, NULL, NULL,
                             true, NULL, 2000);
    assert (reply->status == GCH__STATUS__STATUS_OK);
    Gch__HealthReply *health = (Gch__HealthReply *) gch_reply_unpack (
        reply, &gch__health_reply__descriptor);
    assert (health && streq (health->service, "testsvc"));
    protobuf_c_message_free_unpacked (&health->base, NULL);
    gch__reply__free_unpacked (reply, NULL);
    assert (s_test_calls == 2);

    reply = gch_client_call (client, "testsvc", "test.interrupt", NULL, NULL,
                             NULL, false, NULL, 2000);
    assert (reply->status == GCH__STATUS__STATUS_OK);
    gch__reply__free_unpacked (reply, NULL);
    pthread_join (thread, NULL);  //  hangs if the loop cannot end
    zsys_interrupted = 0;
    if (s_test_db)
        s_test_db_close (schema);
    assert (s_test_ticks > 0);
    gch_client_destroy (&client);
    zactor_destroy (&broker);
    printf ("OK\n");
}
