//  notify_store - every SQL statement of svc-notify, on one connection.
//
//  Two sides share the mail table (sql/0001_init.sql):
//  - the consumer records, for each event it applies, the mail it makes and
//    the source's cursor in one transaction (notify_store_record), so an
//    event gives its mail exactly once;
//  - the sender claims one due mail at a time, locked FOR UPDATE SKIP
//    LOCKED (so several instances share the work), and closes that
//    transaction with notify_store_sent or notify_store_failed.
//
//  Calls return a gch_db_status_t: n > 0 rows, 0 none, GCH_DB_SOFT (retry
//  later: connection lost, serialization failure), GCH_DB_HARD.
#ifndef NOTIFY_STORE_H_INCLUDED
#define NOTIFY_STORE_H_INCLUDED

typedef struct _notify_store_t notify_store_t;

//  Connect. Statements are prepared on first use, so run the migrations
//  (gch_db_migrate on the store's db) before any other call. Returns NULL
//  (logged) if unreachable.
notify_store_t *notify_store_new (const char *conninfo);

//  Close and free; nullifies *self_p.
void notify_store_destroy (notify_store_t **self_p);

//  Borrowed connection, for the service loop's health answer.
gch_db_t *notify_store_db (notify_store_t *self);

//  True if the connection is up; reconnects if it was not.
bool notify_store_ok (notify_store_t *self);

//  Last sequence applied from source (0 if none yet), or -1 on error.
int64_t notify_store_cursor (notify_store_t *self, const char *source);

//  Apply event seq of source: insert mail (may be NULL: the event gives no
//  mail) and advance the source's cursor to seq, in one transaction. A mail
//  whose Message-ID is already recorded is not inserted again. Returns 1 if
//  the mail was inserted, 0 if there was none to insert, < 0 on error
//  (nothing changed).
gch_db_status_t notify_store_record (notify_store_t *self, const char *source,
                                     int64_t seq, const notify_mail_t *mail);

//  Open a transaction and lock the oldest pending mail that is due and not
//  locked by another instance. Returns 1 and sets *mail_p (caller owns it)
//  with the transaction left open: close it with notify_store_sent or
//  notify_store_failed. Returns 0 (none due) or < 0 with no transaction
//  open.
gch_db_status_t notify_store_claim (notify_store_t *self,
                                    notify_mail_t **mail_p);

//  Mark the claimed mail sent and commit. Returns 1 or < 0 (the mail stays
//  pending and will be sent again).
gch_db_status_t notify_store_sent (notify_store_t *self, int64_t id);

//  Count a failed attempt of the claimed mail, schedule the next one in
//  delay_ms, keep error (no personal data) and commit. Returns 1 or < 0.
gch_db_status_t notify_store_failed (notify_store_t *self, int64_t id,
                                     int delay_ms, const char *error);

#endif
