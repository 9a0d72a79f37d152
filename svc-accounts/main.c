//  svc-accounts - citizens and agents: sign-up, e-mail verification, login,
//  account lookups, agent creation, and the account.created events.
//
//  main reads the configuration table, opens the store (waiting up to
//  S_DB_WAIT_S for PostgreSQL, which may still be starting), applies the
//  migrations of GCH_SQL_DIR, and runs the service loop with the method
//  table of accounts_handlers.c until SIGINT/SIGTERM. Everything it made is
//  destroyed before it returns.
#include "gch.h"
#include "accounts_store.h"
#include "accounts_handlers.h"

#define S_DB_WAIT_S 30  //  seconds to wait for PostgreSQL at start

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS", "tcp://127.0.0.1:5670", "broker endpoint", false},
    {"GCH_DB", "dbname=guichet",
     "libpq conninfo of the svc-accounts role (search_path=accounts)", true},
    {"GCH_SQL_DIR", "svc-accounts/sql", "migrations folder", false},
    {"GCH_VERBOSE", "0", "1 = debug logs", false},
    {NULL, NULL, NULL, false},
};

int
main (int argc, char *argv[])
{
    if (argc > 1) {
        printf ("usage: %s (configuration from the environment)\n", argv[0]);
        gch_config_help (s_config);
        return streq (argv[1], "--help") ? 0 : 1;
    }
    gch_config_t *config = gch_config_new (s_config);
    gch_log_init ("svc-accounts", gch_config_int (config, "GCH_VERBOSE") != 0);
    gch_config_log (config);
    gch_crypto_init ();

    const char *conninfo = gch_config_get (config, "GCH_DB");
    accounts_store_t *store =
        gch_db_setup (conninfo, gch_config_get (config, "GCH_SQL_DIR"),
                      S_DB_WAIT_S) >= 0
            ? accounts_store_new (conninfo)
            : NULL;
    accounts_ctx_t ctx;
    int rc = zsys_interrupted ? 0 : 1;  //  stopped while waiting: clean
    if (store && accounts_ctx_init (&ctx, store) == 0) {
        gch_service_t service = {.name = "accounts",
                                 .bus = gch_config_get (config, "GCH_BUS"),
                                 .methods = accounts_methods,
                                 .ctx = &ctx,
                                 .db = accounts_store_db (store)};
        rc = gch_service_run (&service);
    }
    accounts_store_destroy (&store);
    gch_config_destroy (&config);
    return rc;
}
