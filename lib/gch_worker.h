//  gch_worker - the service side of the bus. An actor thread owns the DEALER
//  socket to the broker: it announces the service, heartbeats while the
//  service thread works (so a busy instance is not taken for dead and a
//  killed one is noticed), reconnects when the broker goes silent, and hands
//  requests to the service thread over a pipe.
//
//  Broker to worker: ["REQ", route..., envelope], ["HB"], ["BYE"].
//  Worker to broker: ["READY", service], ["HB"], ["REP", route..., reply].
#ifndef GCH_WORKER_H_INCLUDED
#define GCH_WORKER_H_INCLUDED

typedef struct _gch_worker_t gch_worker_t;

//  One request in hand: the envelope and where the reply goes.
typedef struct {
    Gch__Request *request;  //  unpacked envelope
    zmsg_t *route;          //  opaque routing frames for the reply
} gch_work_t;

//  Start the actor and connect to the broker as an instance of service.
gch_worker_t *gch_worker_new (const char *endpoint, const char *service);
void gch_worker_destroy (gch_worker_t **self_p);

//  Socket to poll for incoming requests (borrowed).
zsock_t *gch_worker_sock (gch_worker_t *self);

//  Receive one request once the socket is readable. Returns 0 and fills
//  *work, -1 on interrupt, -2 if the envelope was malformed (the worker has
//  already answered it with STATUS_INVALID).
int gch_worker_recv (gch_worker_t *self, gch_work_t *work);

//  Send the reply for work and release work's contents.
void gch_worker_reply (gch_worker_t *self, gch_work_t *work,
                       const Gch__Reply *reply);

void gch_worker_test (bool verbose);

#endif
