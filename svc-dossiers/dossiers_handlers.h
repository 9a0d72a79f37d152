//  dossiers_handlers - the methods of svc-dossiers on the bus, one static
//  handler each (list at the top of proto/dossiers.proto), run by
//  gch_service_run with a dossiers_context_t.
#ifndef DOSSIERS_HANDLERS_H_INCLUDED
#define DOSSIERS_HANDLERS_H_INCLUDED

#include "dossiers_catalog.h"
#include "dossiers_store.h"

//  What every handler works with (both borrowed, owned by main).
typedef struct {
    dossiers_store_t *store;      //  the database
    dossiers_catalog_t *catalog;  //  the procedure definitions
    gch_cache_t *cache;           //  read cache the store invalidates
} dossiers_context_t;

//  The method table, NULL-method-terminated; ctx is a dossiers_context_t.
extern const gch_method_t dossiers_methods[];

//  Self-test of what needs no database: the procedure methods, and the
//  refusals every method makes before reaching the store (callers, bodies,
//  form data, comments). Run from the repository root.
void dossiers_handlers_test (bool verbose);

#endif
