//  gch_worker - the service side of the bus.
//
//  An actor thread owns the DEALER socket to the broker so that heartbeats
//  keep flowing while the service thread is busy in a handler: a busy
//  instance is never taken for dead, and a killed one stops heartbeating
//  and is noticed by the broker within GCH_HEARTBEAT_MS * LIVENESS.
//
//  Actor <-> broker:  ["W", "READY", service], ["W", "HB"],
//                     ["W", "REP", client, correlation, reply] out;
//                     ["REQ", client, correlation, deadline, envelope],
//                     ["HB"], ["BYE"] in.
//  Actor <-> service thread (the actor pipe):
//                     ["REQ", client, correlation, deadline, envelope] out,
//                     ["REP", client, correlation, reply] in.
//  When the broker is silent for too long, or says BYE (it restarted and
//  does not know us), the actor reconnects with a fresh socket and
//  announces itself again.
#include "gch.h"

struct _gch_worker_t {
    zactor_t *actor;
};

typedef struct {
    zsock_t *pipe;    //  to the service thread
    zsock_t *dealer;  //  to the broker
    zpoller_t *poller;
    char *endpoint;
    char *service;
    int64_t broker_expiry;  //  mono ms after which the broker is deemed gone
    int64_t heartbeat_at;   //  mono ms of our next heartbeat
} s_actor_t;

static void
s_actor_connect (s_actor_t *self)
{
    if (self->dealer) {
        zpoller_remove (self->poller, self->dealer);
        zsock_destroy (&self->dealer);
    }
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 0);
    zsock_set_sndhwm (self->dealer, 0);
    zsock_connect (self->dealer, "%s", self->endpoint);
    zpoller_add (self->poller, self->dealer);
    zstr_sendx (self->dealer, "W", "READY", self->service, NULL);
    self->broker_expiry =
        gch_mono_ms () + GCH_HEARTBEAT_MS * GCH_HEARTBEAT_LIVENESS;
    self->heartbeat_at = gch_mono_ms () + GCH_HEARTBEAT_MS;
}

//  One message from the broker.
static void
s_actor_from_broker (s_actor_t *self)
{
    zmsg_t *msg = zmsg_recv (self->dealer);
    if (!msg)
        return;
    self->broker_expiry =
        gch_mono_ms () + GCH_HEARTBEAT_MS * GCH_HEARTBEAT_LIVENESS;
    char *command = zmsg_popstr (msg);
    if (command && streq (command, "REQ") && zmsg_size (msg) == 4) {
        zmsg_pushstr (msg, "REQ");
        zmsg_send (&msg, self->pipe);
    }
    else if (command && streq (command, "BYE"))
        s_actor_connect (self);
    //  HB only refreshes the expiry; anything else is dropped
    freen (command);
    zmsg_destroy (&msg);
}

//  One message from the service thread. Returns -1 on $TERM.
static int
s_actor_from_pipe (s_actor_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    int rc = 0;
    if (command && streq (command, "$TERM"))
        rc = -1;
    else if (command && streq (command, "REP")) {
        zmsg_pushstr (msg, "REP");
        zmsg_pushstr (msg, "W");
        zmsg_send (&msg, self->dealer);
    }
    else
        assert (!"unknown worker pipe command");
    freen (command);
    zmsg_destroy (&msg);
    return rc;
}

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    char **config = (char **) args;
    s_actor_t self = {pipe,
                      NULL,
                      zpoller_new (pipe, NULL),
                      strdup (config[0]),
                      strdup (config[1]),
                      0,
                      0};
    //  Leave on $TERM only: on SIGTERM the service thread may still be in a
    //  handler, and its reply must find us here (a send to a gone actor
    //  blocks forever)
    zpoller_set_nonstop (self.poller, true);
    s_actor_connect (&self);
    zsock_signal (pipe, 0);
    while (true) {
        int64_t wait = self.heartbeat_at - gch_mono_ms ();
        void *which = zpoller_wait (self.poller, wait > 0 ? (int) wait : 0);
        if (which == pipe) {
            if (s_actor_from_pipe (&self) < 0)
                break;
        }
        else if (which == self.dealer)
            s_actor_from_broker (&self);
        int64_t now = gch_mono_ms ();
        //  Only a poll that found nothing proves the broker silent: after
        //  a stall of this thread its heartbeats wait in the socket.
        if (!which && now >= self.broker_expiry) {
            zsys_warning ("bus: broker silent, reconnecting to %s",
                          self.endpoint);
            s_actor_connect (&self);
        }
        else if (now >= self.heartbeat_at) {
            zstr_sendx (self.dealer, "W", "HB", NULL);
            self.heartbeat_at = now + GCH_HEARTBEAT_MS;
        }
    }
    //  Tell the broker we leave, so it stops sending us work at once
    zstr_sendx (self.dealer, "W", "BYE", NULL);
    zpoller_destroy (&self.poller);
    zsock_destroy (&self.dealer);
    free (self.endpoint);
    free (self.service);
}

gch_worker_t *
gch_worker_new (const char *endpoint, const char *service)
{
    assert (endpoint && service);
    const char *config[2] = {endpoint, service};
    gch_worker_t *self = (gch_worker_t *) zmalloc (sizeof (gch_worker_t));
    //  The actor copies both strings before it signals, so the array on
    //  our stack may go away after zactor_new returns.
    self->actor = zactor_new (s_worker_actor, (void *) config);
    assert (self->actor);
    return self;
}

void
gch_worker_destroy (gch_worker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gch_worker_t *self = *self_p;
        zactor_destroy (&self->actor);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
gch_worker_sock (gch_worker_t *self)
{
    return zactor_sock (self->actor);
}

static void
s_send_reply (gch_worker_t *self, zmsg_t *route, const Gch__Reply *reply)
{
    uint8_t *data;
    size_t size = gch_pack (&reply->base, &data);
    zmsg_t *msg = zmsg_dup (route);
    zmsg_pushstr (msg, "REP");
    zmsg_addmem (msg, data, size);
    free (data);
    zmsg_send (&msg, zactor_sock (self->actor));
}

int
gch_worker_recv (gch_worker_t *self, gch_work_t *work)
{
    assert (self && work);
    zmsg_t *msg = zmsg_recv (zactor_sock (self->actor));
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    assert (command && streq (command, "REQ"));
    free (command);
    //  [client, correlation, deadline, envelope]
    zframe_t *envelope = zmsg_last (msg);
    Gch__Request *request = gch__request__unpack (NULL, zframe_size (envelope),
                                                  zframe_data (envelope));
    zmsg_remove (msg, envelope);
    zframe_destroy (&envelope);
    zframe_t *deadline = zmsg_last (msg);
    zmsg_remove (msg, deadline);
    zframe_destroy (&deadline);
    if (!request) {
        Gch__Reply reply = GCH__REPLY__INIT;
        reply.status = GCH__STATUS__STATUS_INVALID;
        reply.message = (char *) "Enveloppe illisible";
        s_send_reply (self, msg, &reply);
        zmsg_destroy (&msg);
        return -2;
    }
    work->request = request;
    work->route = msg;
    return 0;
}

void
gch_worker_reply (gch_worker_t *self, gch_work_t *work, const Gch__Reply *reply)
{
    assert (self && work && work->route);
    s_send_reply (self, work->route, reply);
    zmsg_destroy (&work->route);
    gch__request__free_unpacked (work->request, NULL);
    work->request = NULL;
}

//  Exercised with a broker in gch_broker_test.
void
gch_worker_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_worker: ");
    //  A worker with no broker starts and stops cleanly
    gch_worker_t *worker = gch_worker_new ("tcp://127.0.0.1:9", "nobody");
    assert (worker);
    assert (gch_worker_sock (worker));
    zclock_sleep (50);
    gch_worker_destroy (&worker);
    assert (worker == NULL);
    printf ("OK\n");
}
