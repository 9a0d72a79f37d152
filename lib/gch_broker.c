//  gch_broker - the bus broker (after Majordomo, ZeroMQ RFC 7).
//
//  One ROUTER socket serves clients and workers. The first frame after the
//  peer identity tells which: "C" from a client, "W" from a worker.
//
//    client -> broker  ["C", correlation, service, deadline_ms, retry, envelope]
//    broker -> client  ["R", correlation, reply]
//    worker -> broker  ["W", "READY", service] | ["W", "HB"] | ["W", "BYE"]
//                      | ["W", "REP", client, correlation, reply]
//    broker -> worker  ["REQ", client, correlation, deadline_ms, envelope]
//                      | ["HB"] | ["BYE"]
//
//  Each service has a queue of requests and a list of idle workers; a
//  worker holds at most one request. Every GCH_HEARTBEAT_MS the broker
//  heartbeats each worker, drops the silent ones and answers, or hands to
//  another instance, the requests they held, and answers TIMEOUT for queued
//  requests whose deadline has passed. So a caller always gets an answer by
//  its deadline, whether instances come, go or die.
//
//  The broker reads no envelope: it only needs the frames above, which keeps
//  it fast and lets it route any service without knowing it.
#include "gch.h"

typedef struct _s_service_t s_service_t;

typedef struct {
    zframe_t *client;  //  client identity
    char *correlation;
    int64_t deadline;  //  ms since the epoch
    bool retry;        //  may go to another instance if its worker dies
    zframe_t *envelope;
} s_request_t;

typedef struct {
    char *key;  //  identity, printable
    zframe_t *identity;
    s_service_t *service;
    int64_t expiry;        //  mono ms
    s_request_t *request;  //  in hand, or NULL when idle
} s_worker_t;

struct _s_service_t {
    char *name;
    zlistx_t *requests;  //  of s_request_t, waiting
    zlistx_t *idle;      //  of s_worker_t, borrowed from workers
    size_t workers;      //  instances known, idle or busy
};

typedef struct {
    zsock_t *pipe;
    zsock_t *router;
    zhashx_t *services;  //  name -> s_service_t
    zhashx_t *workers;   //  key -> s_worker_t
    bool verbose;
    int64_t liveness_ms;  //  silence after which a worker is dead
} s_broker_t;

static void
s_request_destroy (s_request_t **self_p)
{
    if (*self_p) {
        s_request_t *self = *self_p;
        zframe_destroy (&self->client);
        zframe_destroy (&self->envelope);
        free (self->correlation);
        free (self);
        *self_p = NULL;
    }
}

static void
s_service_destroy (s_service_t **self_p)
{
    if (*self_p) {
        s_service_t *self = *self_p;
        s_request_t *request = (s_request_t *) zlistx_first (self->requests);
        while (request) {
            s_request_destroy (&request);
            request = (s_request_t *) zlistx_next (self->requests);
        }
        zlistx_destroy (&self->requests);
        zlistx_destroy (&self->idle);
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

static void
s_worker_destroy (s_worker_t **self_p)
{
    if (*self_p) {
        s_worker_t *self = *self_p;
        s_request_destroy (&self->request);
        zframe_destroy (&self->identity);
        free (self->key);
        free (self);
        *self_p = NULL;
    }
}

static s_service_t *
s_service_require (s_broker_t *self, const char *name)
{
    s_service_t *service = (s_service_t *) zhashx_lookup (self->services, name);
    if (!service) {
        service = (s_service_t *) zmalloc (sizeof (s_service_t));
        service->name = strdup (name);
        service->requests = zlistx_new ();
        service->idle = zlistx_new ();
        zhashx_insert (self->services, name, service);
    }
    return service;
}

//  Answer a client with a reply made by the broker.
static void
s_reply_error (s_broker_t *self, s_request_t *request, int status,
               const char *message)
{
    Gch__Reply reply = GCH__REPLY__INIT;
    reply.status = status;
    reply.message = (char *) message;
    uint8_t *data;
    size_t size = gch_pack (&reply.base, &data);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (request->client)});
    zmsg_addstr (msg, "R");
    zmsg_addstr (msg, request->correlation);
    zmsg_addmem (msg, data, size);
    free (data);
    zmsg_send (&msg, self->router);
}

//  Give queued requests of service to its idle workers.
static void
s_dispatch (s_broker_t *self, s_service_t *service)
{
    while (zlistx_size (service->requests) && zlistx_size (service->idle)) {
        s_request_t *request = (s_request_t *) zlistx_first (service->requests);
        zlistx_delete (service->requests, zlistx_cursor (service->requests));
        if (request->deadline <= gch_now_ms ()) {
            s_reply_error (self, request, GCH__STATUS__STATUS_TIMEOUT, NULL);
            s_request_destroy (&request);
            continue;
        }
        s_worker_t *worker = (s_worker_t *) zlistx_first (service->idle);
        zlistx_delete (service->idle, zlistx_cursor (service->idle));
        char deadline[24];
        snprintf (deadline, sizeof deadline, "%" PRId64, request->deadline);
        zmsg_t *msg = zmsg_new ();
        zmsg_append (msg, &(zframe_t *){zframe_dup (worker->identity)});
        zmsg_addstr (msg, "REQ");
        zmsg_append (msg, &(zframe_t *){zframe_dup (request->client)});
        zmsg_addstr (msg, request->correlation);
        zmsg_addstr (msg, deadline);
        zmsg_append (msg, &(zframe_t *){zframe_dup (request->envelope)});
        zmsg_send (&msg, self->router);
        worker->request = request;
    }
}

//  Forget a worker; its request goes back to the queue or gets an error.
static void
s_worker_delete (s_broker_t *self, s_worker_t *worker, bool disconnect)
{
    s_service_t *service = worker->service;
    if (disconnect) {
        zmsg_t *msg = zmsg_new ();
        zmsg_append (msg, &(zframe_t *){zframe_dup (worker->identity)});
        zmsg_addstr (msg, "BYE");
        zmsg_send (&msg, self->router);
    }
    if (service) {
        void *handle = zlistx_find (service->idle, worker);
        if (handle)
            zlistx_delete (service->idle, handle);
        service->workers--;
        s_request_t *request = worker->request;
        worker->request = NULL;
        if (request && request->retry && request->deadline > gch_now_ms ()) {
            zsys_notice ("bus: %s instance lost, request handed to another",
                         service->name);
            zlistx_add_start (service->requests, request);
        }
        else if (request) {
            s_reply_error (self, request, GCH__STATUS__STATUS_UNAVAILABLE,
                           "L'instance du service a disparu pendant la "
                           "requête");
            s_request_destroy (&request);
        }
    }
    zhashx_delete (self->workers, worker->key);
    if (service)
        s_dispatch (self, service);
}

static void
s_client_request (s_broker_t *self, zframe_t *identity, zmsg_t *msg)
{
    if (zmsg_size (msg) != 5)
        return;  //  malformed: dropped
    char *correlation = zmsg_popstr (msg);
    char *service_name = zmsg_popstr (msg);
    char *deadline = zmsg_popstr (msg);
    char *retry = zmsg_popstr (msg);
    s_request_t *request = (s_request_t *) zmalloc (sizeof (s_request_t));
    request->client = zframe_dup (identity);
    request->correlation = correlation;
    request->deadline = atoll (deadline);
    request->retry = streq (retry, "1");
    request->envelope = zmsg_pop (msg);
    free (deadline);
    free (retry);
    if (request->deadline <= gch_now_ms ()) {
        //  Queued while the broker was away: too late to be of use
        s_reply_error (self, request, GCH__STATUS__STATUS_TIMEOUT, NULL);
        s_request_destroy (&request);
    }
    else {
        s_service_t *service = s_service_require (self, service_name);
        zlistx_add_end (service->requests, request);
        s_dispatch (self, service);
    }
    free (service_name);
}

static void
s_worker_message (s_broker_t *self, zframe_t *identity, zmsg_t *msg)
{
    char *key = zframe_strhex (identity);
    char *command = zmsg_popstr (msg);
    s_worker_t *worker = (s_worker_t *) zhashx_lookup (self->workers, key);
    int64_t expiry = gch_mono_ms () + self->liveness_ms;
    if (command && streq (command, "READY") && zmsg_size (msg) == 1) {
        if (worker)
            s_worker_delete (self, worker, false);
        char *name = zmsg_popstr (msg);
        worker = (s_worker_t *) zmalloc (sizeof (s_worker_t));
        worker->key = strdup (key);
        worker->identity = zframe_dup (identity);
        worker->service = s_service_require (self, name);
        worker->service->workers++;
        worker->expiry = expiry;
        zhashx_insert (self->workers, key, worker);
        zlistx_add_end (worker->service->idle, worker);
        if (self->verbose)
            zsys_debug ("bus: %s instance ready", name);
        free (name);
        s_dispatch (self, worker->service);
    }
    else if (!worker) {
        //  A worker we do not know (we restarted): ask it to announce again
        zmsg_t *bye = zmsg_new ();
        zmsg_append (bye, &(zframe_t *){zframe_dup (identity)});
        zmsg_addstr (bye, "BYE");
        zmsg_send (&bye, self->router);
    }
    else if (streq (command, "HB"))
        worker->expiry = expiry;
    else if (streq (command, "REP") && zmsg_size (msg) == 3) {
        worker->expiry = expiry;
        zmsg_t *out = zmsg_new ();
        zframe_t *frame = zmsg_pop (msg);  //  client identity
        zmsg_append (out, &frame);
        zmsg_addstr (out, "R");
        frame = zmsg_pop (msg);  //  correlation
        zmsg_append (out, &frame);
        frame = zmsg_pop (msg);  //  reply
        zmsg_append (out, &frame);
        zmsg_send (&out, self->router);
        if (worker->request) {
            s_request_destroy (&worker->request);
            zlistx_add_end (worker->service->idle, worker);
            s_dispatch (self, worker->service);
        }
    }
    else if (streq (command, "BYE"))
        s_worker_delete (self, worker, false);
    free (key);
    freen (command);
}

//  Heartbeat workers, drop the dead, expire waiting requests.
static void
s_heartbeat (s_broker_t *self)
{
    int64_t now = gch_mono_ms ();
    zlistx_t *dead = zlistx_new ();
    s_worker_t *worker = (s_worker_t *) zhashx_first (self->workers);
    while (worker) {
        if (worker->expiry < now)
            zlistx_add_end (dead, worker);
        else {
            zmsg_t *msg = zmsg_new ();
            zmsg_append (msg, &(zframe_t *){zframe_dup (worker->identity)});
            zmsg_addstr (msg, "HB");
            zmsg_send (&msg, self->router);
        }
        worker = (s_worker_t *) zhashx_next (self->workers);
    }
    worker = (s_worker_t *) zlistx_first (dead);
    while (worker) {
        zsys_warning ("bus: %s instance silent, dropped",
                      worker->service->name);
        s_worker_delete (self, worker, true);
        worker = (s_worker_t *) zlistx_next (dead);
    }
    zlistx_destroy (&dead);

    int64_t wall = gch_now_ms ();
    s_service_t *service = (s_service_t *) zhashx_first (self->services);
    while (service) {
        s_request_t *request = (s_request_t *) zlistx_first (service->requests);
        while (request) {
            void *cursor = zlistx_cursor (service->requests);
            s_request_t *next = (s_request_t *) zlistx_next (service->requests);
            if (request->deadline <= wall) {
                if (service->workers == 0)
                    s_reply_error (self, request,
                                   GCH__STATUS__STATUS_UNAVAILABLE, NULL);
                else
                    s_reply_error (self, request, GCH__STATUS__STATUS_TIMEOUT,
                                   NULL);
                zlistx_delete (service->requests, cursor);
                s_request_destroy (&request);
            }
            request = next;
        }
        service = (s_service_t *) zhashx_next (self->services);
    }
}

static void
s_router_message (s_broker_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    char *kind = zmsg_popstr (msg);
    if (identity && kind && streq (kind, "C"))
        s_client_request (self, identity, msg);
    else if (identity && kind && streq (kind, "W"))
        s_worker_message (self, identity, msg);
    freen (kind);
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

void
gch_broker_actor (zsock_t *pipe, void *args)
{
    const char *endpoint = (const char *) args;
    s_broker_t self = {pipe,  zsock_new (ZMQ_ROUTER),
                       NULL,  NULL,
                       false, GCH_HEARTBEAT_MS * GCH_HEARTBEAT_LIVENESS};
    assert (self.router);
    zsock_set_linger (self.router, 0);
    zsock_set_rcvhwm (self.router, 0);
    zsock_set_sndhwm (self.router, 0);
    int port = zsock_bind (self.router, "%s", endpoint);
    if (port < 0) {
        //  Answer PORT with -1 so that the owner can tell and give up
        zsys_error ("bus: cannot bind %s", endpoint);
        zsock_destroy (&self.router);
        zsock_signal (pipe, 0);
        while (true) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            if (command && streq (command, "PORT"))
                zstr_send (pipe, "-1");
            freen (command);
            if (term)
                return;
        }
    }
    self.services = zhashx_new ();
    zhashx_set_destructor (self.services,
                           (zhashx_destructor_fn *) s_service_destroy);
    self.workers = zhashx_new ();
    zhashx_set_destructor (self.workers,
                           (zhashx_destructor_fn *) s_worker_destroy);
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, self.router, NULL);
    zpoller_set_nonstop (poller, true);  //  the owner says $TERM
    int64_t heartbeat_at = gch_mono_ms () + GCH_HEARTBEAT_MS;
    while (true) {
        int64_t wait = heartbeat_at - gch_mono_ms ();
        void *which = zpoller_wait (poller, wait > 0 ? (int) wait : 0);
        if (which == self.router)
            s_router_message (&self);
        else if (which == pipe) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool term = !command || streq (command, "$TERM");
            if (command && streq (command, "PORT"))
                zstr_sendf (pipe, "%d", port);
            else if (command && streq (command, "VERBOSE"))
                self.verbose = true;
            else if (command && streq (command, "LIVENESS")) {
                char *value = zmsg_popstr (msg);
                if (value && atoi (value) > 0)
                    self.liveness_ms = atoi (value);
                freen (value);
            }
            freen (command);
            zmsg_destroy (&msg);
            if (term)
                break;
        }
        if (gch_mono_ms () >= heartbeat_at) {
            s_heartbeat (&self);
            heartbeat_at = gch_mono_ms () + GCH_HEARTBEAT_MS;
        }
    }
    zpoller_destroy (&poller);
    //  Workers first: their requests point into no service list
    zhashx_destroy (&self.workers);
    zhashx_destroy (&self.services);
    zsock_destroy (&self.router);
}

//  Self-test: broker, two worker instances of one service, clients.
static void *
s_echo_thread (void *args)
{
    const char *endpoint = (const char *) args;
    gch_worker_t *worker = gch_worker_new (endpoint, "echo");
    zpoller_t *poller = zpoller_new (gch_worker_sock (worker), NULL);
    while (true) {
        void *which = zpoller_wait (poller, 2000);
        if (!which)
            break;
        gch_work_t work;
        if (gch_worker_recv (worker, &work) != 0)
            break;
        Gch__Reply reply = GCH__REPLY__INIT;
        bool stop = streq (work.request->method, "stop");
        if (streq (work.request->method, "slow"))
            zclock_sleep (300);
        reply.message = work.request->method;
        reply.body = work.request->body;
        //  The reply borrows from the request, sent before it is freed
        gch_worker_reply (worker, &work, &reply);
        if (stop)
            break;
    }
    zpoller_destroy (&poller);
    gch_worker_destroy (&worker);
    return NULL;
}

void
gch_broker_test (bool verbose)
{
    printf (" * gch_broker: ");
    zactor_t *broker =
        zactor_new (gch_broker_actor, (void *) "tcp://127.0.0.1:*");
    assert (broker);
    if (verbose)
        zstr_send (broker, "VERBOSE");
    zstr_send (broker, "PORT");
    char *port = zstr_recv (broker);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%s", port);
    free (port);

    gch_client_t *client = gch_client_new (endpoint);
    //  No instance yet: UNAVAILABLE at the deadline, not a hang
    int64_t start = gch_mono_ms ();
    Gch__Reply *reply = gch_client_call (client, "echo", "ping", NULL, NULL,
                                         NULL, false, NULL, 400);
    assert (reply->status == GCH__STATUS__STATUS_UNAVAILABLE ||
            reply->status == GCH__STATUS__STATUS_TIMEOUT);
    assert (gch_mono_ms () - start < 1200);
    gch__reply__free_unpacked (reply, NULL);

    //  A request sent before any instance exists waits for one
    pthread_t first;
    pthread_create (&first, NULL, s_echo_thread, endpoint);
    Gch__DossierRef ref = GCH__DOSSIER_REF__INIT;
    ref.id = 99;
    reply = gch_client_call (client, "echo", "ping", NULL, NULL, NULL, false,
                             &ref.base, 2000);
    assert (reply->status == GCH__STATUS__STATUS_OK);
    assert (streq (reply->message, "ping"));
    Gch__DossierRef *back = (Gch__DossierRef *) gch_reply_unpack (
        reply, &gch__dossier_ref__descriptor);
    assert (back && back->id == 99);
    protobuf_c_message_free_unpacked (&back->base, NULL);
    gch__reply__free_unpacked (reply, NULL);

    //  A slow call times out at its deadline; the late answer is dropped
    //  and the next call gets its own answer
    reply = gch_client_call (client, "echo", "slow", NULL, NULL, NULL, false,
                             NULL, 100);
    assert (reply->status == GCH__STATUS__STATUS_TIMEOUT);
    gch__reply__free_unpacked (reply, NULL);
    reply = gch_client_call (client, "echo", "after", NULL, NULL, NULL, false,
                             NULL, 2000);
    assert (reply->status == GCH__STATUS__STATUS_OK);
    assert (streq (reply->message, "after"));
    gch__reply__free_unpacked (reply, NULL);

    //  A second instance is picked up with no configuration
    pthread_t second;
    pthread_create (&second, NULL, s_echo_thread, endpoint);
    zclock_sleep (100);
    for (int i = 0; i < 20; i++) {
        reply = gch_client_call (client, "echo", "n", NULL, NULL, NULL, true,
                                 NULL, 2000);
        assert (reply->status == GCH__STATUS__STATUS_OK);
        gch__reply__free_unpacked (reply, NULL);
    }
    for (int i = 0; i < 2; i++) {
        reply = gch_client_call (client, "echo", "stop", NULL, NULL, NULL,
                                 false, NULL, 2000);
        assert (reply->status == GCH__STATUS__STATUS_OK);
        gch__reply__free_unpacked (reply, NULL);
    }
    pthread_join (first, NULL);
    pthread_join (second, NULL);
    gch_client_destroy (&client);
    zactor_destroy (&broker);
    printf ("OK\n");
}
