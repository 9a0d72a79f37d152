//  svc-documents - uploaded files and generated documents (receipts,
//  letters, decisions): their storage, type checks and access rules.
//
//  For now a process on the bus as "documents" with its schema: it waits for
//  its database, applies its migrations and runs the service loop, which
//  answers "health" (database state and schema version included). Stops on
//  SIGINT/SIGTERM.
#include "gch.h"
#include "documents_store.h"
#include "documents_handlers.h"

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS", "tcp://127.0.0.1:5670", "broker endpoint", false},
    {"GCH_DB", "dbname=guichet", "libpq conninfo of role gch_documents", true},
    {"GCH_SQL_DIR", "svc-documents/sql", "migrations folder", false},
    {"GCH_VERBOSE", "0", "1 = debug logs", false},
    {NULL, NULL, NULL, false},
};

int
main (int argc, char *argv[])
{
    if (argc > 1) {
        printf ("svc-documents. Environment:\n");
        gch_config_help (s_config);
        return streq (argv[1], "--help") || streq (argv[1], "-h") ? 0 : 1;
    }
    gch_config_t *config = gch_config_new (s_config);
    gch_log_init ("svc-documents", gch_config_int (config, "GCH_VERBOSE") != 0);
    gch_config_log (config);

    int rc = 1;
    const char *conninfo = gch_config_get (config, "GCH_DB");
    documents_store_t *store =
        gch_db_setup (conninfo, gch_config_get (config, "GCH_SQL_DIR"), 0) >= 0
            ? documents_store_new (conninfo)
            : NULL;
    if (store) {
        gch_service_t service = {
            .name = "documents",
            .bus = gch_config_get (config, "GCH_BUS"),
            .methods = documents_methods,
            .ctx = store,
            .tick = NULL,
            .tick_ms = 0,
            .db = documents_store_db (store),
        };
        rc = gch_service_run (&service);
    }
    else if (zsys_interrupted)
        rc = 0;
    documents_store_destroy (&store);
    gch_config_destroy (&config);
    return rc;
}
