//  gch_client - one request, one reply, within a deadline.
//
//  The client owns a DEALER socket connected to the broker. A call sends
//  ["C", correlation, service, deadline_ms, retry, envelope] and waits for
//  ["R", correlation, reply] until a little after the deadline: the broker
//  answers TIMEOUT at the deadline itself, so the grace only covers the hop
//  back. Replies to earlier calls that arrive late carry another
//  correlation and are dropped. Nothing here can block past the deadline.
#include "gch.h"

//  Time allowed after the deadline for the broker's own timeout reply.
#define S_GRACE_MS 200

struct _gch_client_t {
    zsock_t *dealer;    //  to the broker
    uint64_t sequence;  //  correlation counter
    char *endpoint;
};

gch_client_t *
gch_client_new (const char *endpoint)
{
    assert (endpoint);
    gch_client_t *self = (gch_client_t *) zmalloc (sizeof (gch_client_t));
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 0);
    zsock_set_sndhwm (self->dealer, 0);
    if (zsock_connect (self->dealer, "%s", endpoint) != 0) {
        zsys_error ("bus: cannot connect to %s", endpoint);
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    self->endpoint = strdup (endpoint);
    return self;
}

void
gch_client_destroy (gch_client_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gch_client_t *self = *self_p;
        zsock_destroy (&self->dealer);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

//  A reply made here, for failures of the bus itself.
static Gch__Reply *
s_reply_new (int status, const char *message)
{
    Gch__Reply *reply = (Gch__Reply *) zmalloc (sizeof (Gch__Reply));
    gch__reply__init (reply);
    reply->status = status;
    reply->message = strdup (message);
    return reply;
}

Gch__Reply *
gch_client_call (gch_client_t *self, const char *service, const char *method,
                 const Gch__Caller *caller, const char *request_id,
                 const char *idempotency_key, bool retry,
                 const ProtobufCMessage *body, int timeout_ms)
{
    assert (self);
    assert (service && method);
    int64_t now = gch_now_ms ();
    int64_t deadline = now + timeout_ms;
    char made_id[17];
    if (!request_id) {
        gch_random_hex (made_id, 8);
        request_id = made_id;
    }
    Gch__Request request = GCH__REQUEST__INIT;
    request.method = (char *) method;
    request.caller = (Gch__Caller *) caller;
    request.request_id = (char *) request_id;
    request.deadline_ms = deadline;
    if (idempotency_key)
        request.idempotency_key = (char *) idempotency_key;
    uint8_t *body_data = NULL;
    if (body) {
        request.body.len = gch_pack (body, &body_data);
        request.body.data = body_data;
    }
    uint8_t *envelope;
    size_t envelope_size = gch_pack (&request.base, &envelope);
    free (body_data);

    char correlation[24];
    snprintf (correlation, sizeof correlation, "%" PRIu64, ++self->sequence);
    char deadline_text[24];
    snprintf (deadline_text, sizeof deadline_text, "%" PRId64, deadline);

    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "C");
    zmsg_addstr (msg, correlation);
    zmsg_addstr (msg, service);
    zmsg_addstr (msg, deadline_text);
    zmsg_addstr (msg, retry ? "1" : "0");
    zmsg_addmem (msg, envelope, envelope_size);
    free (envelope);
    if (zmsg_send (&msg, self->dealer) != 0) {
        zmsg_destroy (&msg);
        return s_reply_new (GCH__STATUS__STATUS_UNAVAILABLE,
                            "Bus indisponible");
    }

    void *handle = zsock_resolve (self->dealer);
    while (true) {
        int64_t wait = deadline + S_GRACE_MS - gch_now_ms ();
        if (wait <= 0)
            break;
        zmq_pollitem_t item = {handle, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, (long) wait);
        if (rc < 0) {
            if (errno == EINTR && !zsys_interrupted)
                continue;
            return s_reply_new (GCH__STATUS__STATUS_UNAVAILABLE,
                                "Appel interrompu");
        }
        if (rc == 0)
            break;
        zmsg_t *answer = zmsg_recv (self->dealer);
        if (!answer)
            continue;
        char *kind = zmsg_popstr (answer);
        char *corr = zmsg_popstr (answer);
        zframe_t *frame = zmsg_pop (answer);
        bool mine = kind && corr && frame && streq (kind, "R") &&
                    streq (corr, correlation);
        Gch__Reply *reply = NULL;
        if (mine) {
            reply = gch__reply__unpack (NULL, zframe_size (frame),
                                        zframe_data (frame));
            if (!reply)
                reply = s_reply_new (GCH__STATUS__STATUS_INTERNAL,
                                     "Réponse illisible sur le bus");
        }
        freen (kind);
        freen (corr);
        zframe_destroy (&frame);
        zmsg_destroy (&answer);
        if (reply)
            return reply;
    }
    return s_reply_new (GCH__STATUS__STATUS_TIMEOUT,
                        gch_status_message (GCH__STATUS__STATUS_TIMEOUT));
}

ProtobufCMessage *
gch_reply_unpack (const Gch__Reply *reply,
                  const ProtobufCMessageDescriptor *desc)
{
    return protobuf_c_message_unpack (desc, NULL, reply->body.len,
                                      reply->body.data);
}

//  The self-test runs a broker and a worker in-process: see gch_broker_test.
void
gch_client_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_client: ");
    //  No broker at all: the call must come back at its deadline.
    gch_client_t *client = gch_client_new ("tcp://127.0.0.1:9");
    assert (client);
    int64_t start = gch_mono_ms ();
    Gch__Reply *reply = gch_client_call (client, "nobody", "health", NULL, NULL,
                                         NULL, false, NULL, 300);
    int64_t elapsed = gch_mono_ms () - start;
    assert (reply->status == GCH__STATUS__STATUS_TIMEOUT);
    assert (elapsed >= 300 && elapsed < 300 + S_GRACE_MS + 300);
    gch__reply__free_unpacked (reply, NULL);
    gch_client_destroy (&client);
    assert (client == NULL);
    printf ("OK\n");
}
