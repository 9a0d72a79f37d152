//  notify_handlers - the method table of svc-notify and its tick.
#include "gch.h"
#include "notify_mail.h"
#include "notify_store.h"
#include "notify_consumer.h"
#include "notify_sender.h"
#include "notify_handlers.h"

//  Methods come with later issues (mail status for operators, in-portal
//  notifications); "health" is answered by the service loop.
const gch_method_t notify_methods[] = {
    {NULL, NULL, NULL},
};

int
notify_tick (void *ctx)
{
    notify_t *self = (notify_t *) ctx;
    assert (self);
    if (!notify_store_ok (self->store)) {
        if (!self->db_down)
            zsys_error ("database unavailable; events and mails wait");
        self->db_down = true;
        return self->poll_ms;
    }
    if (self->db_down)
        zsys_notice ("database available again");
    self->db_down = false;

    bool more = false;
    notify_consumer_poll (self->consumer, &more);
    if (notify_sender_run (self->sender) >= NOTIFY_SENDER_BATCH)
        more = true;
    //  1 ms, not 0: let the loop answer requests between two batches.
    return more ? 1 : self->poll_ms;
}

void
notify_handlers_test (bool verbose)
{
    (void) verbose;
    printf (" * notify_handlers: ");
    for (const gch_method_t *method = notify_methods; method->method;
         method++) {
        assert (method->handler);
        assert (!streq (method->method, "health"));  //  the loop's
        for (const gch_method_t *other = notify_methods; other != method;
             other++)
            assert (!streq (other->method, method->method));
    }
    printf ("OK\n");
}
