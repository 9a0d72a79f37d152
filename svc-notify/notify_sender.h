//  notify_sender - hands pending mails to the SMTP server (libcurl).
//
//  Each call of notify_sender_run claims due mails one at a time from the
//  store (locked, so instances never send the same mail at once), sends it
//  and records the outcome in the same transaction: sent, or one more
//  failed attempt with the next one scheduled after a growing delay
//  (notify_mail_backoff_ms, capped at the configured ceiling). A mail is
//  never abandoned: past NOTIFY_MAIL_ALARM_ATTEMPTS it is retried at the
//  ceiling and every failure is logged as an error.
//
//  The one duplicate possible is a crash (or a lost database) between the
//  server's acceptance and the commit of 'sent': the copy sent again has the
//  same Message-ID, so mail clients show one message.
//
//  When the server itself is out of reach (connection refused, timeout,
//  login refused, 421) the sender also pauses as a whole, with the same
//  backoff, rather than try each pending mail in turn.
//
//  Logs name mails by id and Message-ID, never by address or content.
#ifndef NOTIFY_SENDER_H_INCLUDED
#define NOTIFY_SENDER_H_INCLUDED

//  At most this many mails, and this much time, per call.
#define NOTIFY_SENDER_BATCH 20
#define NOTIFY_SENDER_BUDGET_MS 2000

typedef struct _notify_sender_t notify_sender_t;

//  Sender to smtp_url ("smtp://host:port", "smtps://user:password@host")
//  as from ("Display Name <address>"), retrying at most every ceiling_ms.
//  The store is borrowed. Returns NULL (logged) if from has no usable
//  address or libcurl cannot start.
notify_sender_t *notify_sender_new (notify_store_t *store, const char *smtp_url,
                                    const char *from, int ceiling_ms);

//  Free the sender; nullifies *self_p.
void notify_sender_destroy (notify_sender_t **self_p);

//  Send what is due. Returns the number of mails tried (sent or failed),
//  NOTIFY_SENDER_BATCH meaning more may be due now, or -1 if the database
//  failed.
int notify_sender_run (notify_sender_t *self);

#endif
