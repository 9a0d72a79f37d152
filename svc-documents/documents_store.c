//  documents_store - every SQL statement of svc-documents.
#include "gch.h"
#include "documents_store.h"

static const gch_db_statement_t s_statements[] = {
    //  gch_outbox_* (events this service will publish and consume)
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0},
};

struct _documents_store_t {
    gch_db_t *db;  //  the service's connection
};

documents_store_t *
documents_store_new (const char *conninfo)
{
    assert (conninfo);
    gch_db_t *db = gch_db_new (conninfo, s_statements);
    if (!db)
        return NULL;
    documents_store_t *self =
        (documents_store_t *) zmalloc (sizeof (documents_store_t));
    self->db = db;
    return self;
}

void
documents_store_destroy (documents_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        documents_store_t *self = *self_p;
        gch_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

gch_db_t *
documents_store_db (documents_store_t *self)
{
    assert (self);
    return self->db;
}
