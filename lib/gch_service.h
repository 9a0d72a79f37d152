//  gch_service - the loop every service runs: a worker on the bus, a
//  dispatch table of methods, a periodic tick, clean shutdown on SIGTERM.
//
//  The loop unpacks nothing itself but the envelope: it drops requests whose
//  deadline has passed, answers unknown methods with METHOD_NOT_ALLOWED,
//  answers "health" for every service and "events.fetch" (the service's
//  outbox, system callers only) for every service with a database, logs one
//  line per request (method, request id, status, ms), and calls the handler
//  with a fresh reply.
#ifndef GCH_SERVICE_H_INCLUDED
#define GCH_SERVICE_H_INCLUDED

//  A handler reads the request, fills the reply, returns its status.
typedef int (gch_handler_fn) (void *ctx, const Gch__Request *request,
                              Gch__Reply *reply);

//  Called every tick_ms; returns the delay in ms before the next call
//  (tick_ms if < 0).
typedef int (gch_tick_fn) (void *ctx);

typedef struct {
    const char *method;  //  "dossier.submit"
    gch_handler_fn *handler;
    const ProtobufCMessageDescriptor *input;  //  request body type, NULL = none
} gch_method_t;

typedef struct {
    const char *name;             //  service name on the bus, "dossiers"
    const char *bus;              //  broker endpoint
    const gch_method_t *methods;  //  NULL-method-terminated table
    void *ctx;                    //  passed to handlers and tick
    gch_tick_fn *tick;            //  may be NULL
    int tick_ms;
    gch_db_t *db;  //  for health, may be NULL
} gch_service_t;

//  Run until interrupted (SIGINT/SIGTERM). Returns 0.
int gch_service_run (const gch_service_t *service);

//  Unpack the request body as the method's input type. Returns NULL (and
//  sets STATUS_INVALID on reply) if the body is not such a message.
//  Caller owns the result (protobuf_c_message_free_unpacked).
ProtobufCMessage *gch_request_unpack (const Gch__Request *request,
                                      const ProtobufCMessageDescriptor *desc,
                                      Gch__Reply *reply);

//  Caller helpers.
bool gch_caller_is (const Gch__Request *request, Gch__CallerKind kind);
bool gch_caller_has_role (const Gch__Request *request, const char *role);
bool gch_caller_in_service (const Gch__Request *request, const char *service);

//  Set up logging for a process: ident, and debug when verbose.
void gch_log_init (const char *ident, bool verbose);

//  Debug logging, only after gch_log_init (..., true).
extern bool gch_verbose;
#define gch_debug(...)                                                         \
    do {                                                                       \
        if (gch_verbose)                                                       \
            zsys_debug (__VA_ARGS__);                                          \
    } while (0)

void gch_service_test (bool verbose);

#endif
