//  finance_store - every SQL statement of svc-finance, on one connection.
//
//  For now only the outbox statements (GCH_OUTBOX_STATEMENTS) that every
//  service carries; the queries of svc-finance come with its capabilities.
#ifndef FINANCE_STORE_H_INCLUDED
#define FINANCE_STORE_H_INCLUDED

typedef struct _finance_store_t finance_store_t;

//  Connect. Statements are prepared on first use, so run the migrations
//  (gch_db_migrate on the store's db) before any other call. Returns NULL
//  (logged) if unreachable.
finance_store_t *finance_store_new (const char *conninfo);

//  Close and free; nullifies *self_p.
void finance_store_destroy (finance_store_t **self_p);

//  Borrowed connection, for the service loop's health answer.
gch_db_t *finance_store_db (finance_store_t *self);

#endif
