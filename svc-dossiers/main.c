//  svc-dossiers - the procedure catalog, dossiers and their history.
//
//  Reads its configuration from the environment, loads the catalog
//  (refusing to start if a definition is wrong: first, so a bad file fails
//  fast and touches no database), connects to its database (waiting for it
//  up to S_CONNECT_S seconds), applies its migrations, then serves
//  dossiers_methods on the bus until SIGINT/SIGTERM.
#include "gch.h"
#include "dossiers_handlers.h"

//  How long to wait for the database at start, in seconds.
#define S_CONNECT_S 30

//  Retry invalidations of the read cache kept while Redis was unreachable.
static int
s_tick (void *ctx)
{
    dossiers_context_t *context = (dossiers_context_t *) ctx;
    gch_cache_flush (context->cache);
    return -1;
}

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS", "tcp://127.0.0.1:5670", "bus broker endpoint", false},
    {"GCH_DB", "dbname=guichet", "libpq conninfo of the gch_dossiers role",
     true},
    {"GCH_SQL_DIR", "svc-dossiers/sql", "migrations folder", false},
    {"GCH_REDIS", "127.0.0.1:6379",
     "Redis of the gateway's read cache (invalidated after every change); "
     "empty = no cache",
     false},
    {"GCH_CATALOG", "svc-dossiers/catalog", "procedure definitions folder",
     false},
    {"GCH_VERBOSE", "0", "1 = debug logs", false},
    {NULL, NULL, NULL, false}};

int
main (int argc, char *argv[])
{
    if (argc > 1 && (streq (argv[1], "-h") || streq (argv[1], "--help"))) {
        printf ("svc-dossiers - procedures and dossiers. Environment:\n");
        gch_config_help (s_config);
        return 0;
    }
    gch_config_t *config = gch_config_new (s_config);
    gch_log_init ("svc-dossiers", gch_config_int (config, "GCH_VERBOSE") != 0);
    gch_config_log (config);

    int rc = 1;
    char *error = NULL;
    dossiers_store_t *store = NULL;
    gch_cache_t *cache = gch_cache_new (gch_config_get (config, "GCH_REDIS"));
    dossiers_catalog_t *catalog =
        dossiers_catalog_new (gch_config_get (config, "GCH_CATALOG"), &error);
    if (!catalog) {
        zsys_error ("invalid procedure definition, not starting: %s", error);
        goto done;
    }
    const char *conninfo = gch_config_get (config, "GCH_DB");
    if (gch_db_setup (conninfo, gch_config_get (config, "GCH_SQL_DIR"),
                      S_CONNECT_S) < 0 ||
        !(store = dossiers_store_new (conninfo))) {
        zsys_error ("database unreachable or not migrated, not starting");
        goto done;
    }
    zsys_notice ("%zu procedure definitions", dossiers_catalog_size (catalog));

    dossiers_store_set_cache (store, cache);
    dossiers_context_t context = {store, catalog, cache};
    gch_service_t service = {.name = "dossiers",
                             .bus = gch_config_get (config, "GCH_BUS"),
                             .methods = dossiers_methods,
                             .ctx = &context,
                             .tick = s_tick,
                             .tick_ms = 1000,
                             .db = dossiers_store_db (store)};
    rc = gch_service_run (&service);

done:
    free (error);
    dossiers_catalog_destroy (&catalog);
    dossiers_store_destroy (&store);
    gch_cache_destroy (&cache);
    gch_config_destroy (&config);
    return rc == 0 ? 0 : 1;
}
