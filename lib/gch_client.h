//  gch_client - the caller side of the bus: one request, one reply, within a
//  deadline, never a hang.
//
//  A client holds one DEALER socket to the broker; it is not thread-safe
//  (a zsock never crosses threads): one client per thread.
//  Frames sent: ["C", correlation, service, deadline_ms, retry, envelope].
//  The broker answers ["R", correlation, reply]. A reply whose correlation
//  is not the one awaited (a late answer to an earlier call) is dropped.
#ifndef GCH_CLIENT_H_INCLUDED
#define GCH_CLIENT_H_INCLUDED

typedef struct _gch_client_t gch_client_t;

//  Connect to the broker at endpoint. Returns NULL if the endpoint is bad.
gch_client_t *gch_client_new (const char *endpoint);
void gch_client_destroy (gch_client_t **self_p);

//  Call service/method with the packed body. The request's deadline is now +
//  timeout_ms; `retry` tells the broker it may hand the request to another
//  instance if the first one dies (reads, or writes with an idempotency key).
//  Always returns a reply (caller owns it: gch__reply__free_unpacked): a
//  deadline passed gives STATUS_TIMEOUT, a broken bus STATUS_UNAVAILABLE.
//  caller and idempotency_key may be NULL; request_id may be NULL (one is
//  made).
Gch__Reply *gch_client_call (gch_client_t *self, const char *service,
                             const char *method, const Gch__Caller *caller,
                             const char *request_id,
                             const char *idempotency_key, bool retry,
                             const ProtobufCMessage *body, int timeout_ms);

//  Unpack a reply body with the given descriptor; NULL if the body is not
//  such a message. Caller owns the result (protobuf_c_message_free_unpacked).
ProtobufCMessage *gch_reply_unpack (const Gch__Reply *reply,
                                    const ProtobufCMessageDescriptor *desc);

void gch_client_test (bool verbose);

#endif
