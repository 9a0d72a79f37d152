//  notify_consumer - turns the events of svc-accounts and svc-dossiers into
//  mails, exactly once.
//
//  Each poll asks every source for the events after the cursor recorded in
//  svc-notify's database (events.fetch, as a system caller), makes the mail
//  of each event and records mail and cursor in one transaction
//  (notify_store_record). Events are applied in sequence order; the first
//  one that cannot be applied now (a service or the database unavailable)
//  stops that source, with its cursor left before it, until a later poll
//  (spaced out while the source stays stalled).
//
//  Events and their mails:
//    accounts  account.created         e-mail verification link
//    dossiers  dossier.submitted       "Votre dossier ... : Déposé"
//    dossiers  dossier.status_changed  "Votre dossier ... : <label>"
//  The dossier mails go to the address given by account.contact; a citizen
//  account that does not exist (any more) skips the event with a warning.
//  Other event types are skipped. To react to a new event: add a branch to
//  s_mail_for in notify_consumer.c and its mail to notify_mail.
#ifndef NOTIFY_CONSUMER_H_INCLUDED
#define NOTIFY_CONSUMER_H_INCLUDED

//  Events asked for per source and poll; bus timeout of each call.
#define NOTIFY_CONSUMER_BATCH 100
#define NOTIFY_CONSUMER_TIMEOUT_MS 2000
//  A stalled source is polled again after 250 ms, doubling up to 5 s:
//  calls to a service that is down take the whole timeout, in the thread
//  that also answers the bus and sends mail.
#define NOTIFY_CONSUMER_STALL_MIN_MS 250
#define NOTIFY_CONSUMER_STALL_MAX_MS 5000

typedef struct _notify_consumer_t notify_consumer_t;

//  Consumer calling services through client and recording in store (both
//  borrowed). Links in mails start with public_url; Message-IDs end with
//  "@" + the domain of the from address (GCH_MAIL_FROM).
notify_consumer_t *notify_consumer_new (gch_client_t *client,
                                        notify_store_t *store,
                                        const char *public_url,
                                        const char *from);

//  Free the consumer; nullifies *self_p.
void notify_consumer_destroy (notify_consumer_t **self_p);

//  Apply at most one batch of events per source. Returns how many events
//  were applied; sets *more_p if a source had more to give.
int notify_consumer_poll (notify_consumer_t *self, bool *more_p);

#endif
