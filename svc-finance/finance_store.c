//  finance_store - every SQL statement of svc-finance.
#include "gch.h"
#include "finance_store.h"

static const gch_db_statement_t s_statements[] = {
    //  gch_outbox_* (events this service will publish and consume)
    GCH_OUTBOX_STATEMENTS,
    {NULL, NULL, 0},
};

struct _finance_store_t {
    gch_db_t *db;  //  the service's connection
};

finance_store_t *
finance_store_new (const char *conninfo)
{
    assert (conninfo);
    gch_db_t *db = gch_db_new (conninfo, s_statements);
    if (!db)
        return NULL;
    finance_store_t *self =
        (finance_store_t *) zmalloc (sizeof (finance_store_t));
    self->db = db;
    return self;
}

void
finance_store_destroy (finance_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        finance_store_t *self = *self_p;
        gch_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

gch_db_t *
finance_store_db (finance_store_t *self)
{
    assert (self);
    return self->db;
}
