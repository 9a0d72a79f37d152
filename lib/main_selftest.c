//  gch_selftest - runs the self-test of every lib/ module. One argument
//  selects a module by name ("gch_broker").
#include "gch.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_test_t;

static const s_test_t s_tests[] = {
    {"gch_status", gch_status_test},
    {"gch_util", gch_util_test},
    {"gch_config", gch_config_test},
    {"gch_reply", gch_reply_test},
    {"gch_db", gch_db_test},
    {"gch_outbox", gch_outbox_test},
    {"gch_client", gch_client_test},
    {"gch_worker", gch_worker_test},
    {"gch_broker", gch_broker_test},
    {"gch_service", gch_service_test},
    {"gch_redis", gch_redis_test},
    {"gch_cache", gch_cache_test},
    {"gch_jsonschema", gch_jsonschema_test},
    {NULL, NULL},
};

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[argc - 1], "-v");
    const char *only = argc > 1 && !streq (argv[1], "-v") ? argv[1] : NULL;
    gch_log_init ("gch_selftest", verbose);
    gch_crypto_init ();
    printf ("Running lib self-tests...\n");
    for (const s_test_t *t = s_tests; t->name; t++)
        if (!only || streq (only, t->name))
            t->test (verbose);
    printf ("Tests passed OK\n");
    return 0;
}
