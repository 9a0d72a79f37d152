//  guichet-gateway_selftest - the self-test of every gateway module. Run it
//  from the repository root (gw_routes_test reads gateway/openapi.yaml).
//
//    guichet-gateway_selftest [module] [-v]
//
//  None of these tests needs Redis or the bus. When GCH_TEST_REDIS names a
//  Redis ("127.0.0.1:6390"), gw_session is also tested against it.
#include "gch.h"
#include "gw_http.h"
#include "gw_json.h"
#include "gw_routes.h"
#include "gw_session.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_test_t;

static const s_test_t s_tests[] = {
    {"gw_json", gw_json_test},
    {"gw_http", gw_http_test},
    {"gw_session", gw_session_test},
    {"gw_routes", gw_routes_test},
    {NULL, NULL},
};

static const gch_config_entry_t s_config[] = {
    {"GCH_TEST_REDIS", "", "Redis for the live session test, empty = skip",
     false},
    {NULL, NULL, NULL, false},
};

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[argc - 1], "-v");
    const char *only = argc > 1 && !streq (argv[1], "-v") ? argv[1] : NULL;
    gch_log_init ("gateway_selftest", verbose);
    gch_crypto_init ();
    //  Request log lines would drown the test output
    if (!verbose)
        zsys_set_logstream (NULL);
    gch_config_t *config = gch_config_new (s_config);
    const char *redis = gch_config_get (config, "GCH_TEST_REDIS");

    printf ("Running gateway self-tests...\n");
    bool ran = false;
    for (const s_test_t *t = s_tests; t->name; t++)
        if (!only || streq (only, t->name)) {
            t->test (verbose);
            ran = true;
        }
    if (*redis && (!only || streq (only, "gw_session"))) {
        gw_session_live_test (redis, verbose);
        ran = true;
    }
    gch_config_destroy (&config);
    if (!ran) {
        printf ("No test named %s\n", only);
        return 1;
    }
    printf ("Tests passed OK\n");
    return 0;
}
