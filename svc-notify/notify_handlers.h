//  notify_handlers - what svc-notify does on the bus and on its timer.
//
//  svc-notify learns what to send by polling the events of other services,
//  not by being called, so its method table is empty for now (the service
//  loop answers "health" itself). Its work is the tick: apply new events
//  (notify_consumer), then send what is due (notify_sender).
//
//  To add a method: write a static handler in notify_handlers.c and list it
//  in notify_methods, with its input message type.
#ifndef NOTIFY_HANDLERS_H_INCLUDED
#define NOTIFY_HANDLERS_H_INCLUDED

//  The service's context, passed to handlers and to the tick. main owns
//  every member.
typedef struct {
    notify_store_t *store;        //  svc-notify's database
    notify_consumer_t *consumer;  //  events to mails
    notify_sender_t *sender;      //  mails to SMTP
    int poll_ms;                  //  GCH_POLL_MS, the tick period
    bool db_down;                 //  the last tick found the database down
} notify_t;

//  NULL-method-terminated method table, for gch_service_t.methods.
extern const gch_method_t notify_methods[];

//  Tick (gch_tick_fn): consume, then send. ctx is a notify_t. Returns the
//  delay before the next tick: almost none while work is waiting, else
//  poll_ms.
int notify_tick (void *ctx);

//  Check the method table (no handler is unit-testable without a bus).
void notify_handlers_test (bool verbose);

#endif
