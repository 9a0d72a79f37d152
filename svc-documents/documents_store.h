//  documents_store - every SQL statement of svc-documents, on one connection.
//
//  For now only the outbox statements (GCH_OUTBOX_STATEMENTS) that every
//  service carries; the queries of svc-documents come with its capabilities.
#ifndef DOCUMENTS_STORE_H_INCLUDED
#define DOCUMENTS_STORE_H_INCLUDED

typedef struct _documents_store_t documents_store_t;

//  Connect. Statements are prepared on first use, so run the migrations
//  (gch_db_migrate on the store's db) before any other call. Returns NULL
//  (logged) if unreachable.
documents_store_t *documents_store_new (const char *conninfo);

//  Close and free; nullifies *self_p.
void documents_store_destroy (documents_store_t **self_p);

//  Borrowed connection, for the service loop's health answer.
gch_db_t *documents_store_db (documents_store_t *self);

#endif
