//  guichet-bus - the bus broker process. Thin: configuration, the broker
//  actor, wait for SIGINT/SIGTERM, stop.
#include "gch.h"

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS_BIND", "tcp://127.0.0.1:5670", "endpoint the broker binds",
     false},
    {"GCH_VERBOSE", "0", "1 = debug logs", false},
    {"GCH_BUS_LIVENESS_MS", "1000",
     "silence after which a service instance is dead", false},
    {NULL, NULL, NULL, false},
};

int
main (int argc, char *argv[])
{
    if (argc > 1 && (streq (argv[1], "-h") || streq (argv[1], "--help"))) {
        printf ("guichet-bus - the Guichet bus broker\n");
        gch_config_help (s_config);
        return 0;
    }
    gch_config_t *config = gch_config_new (s_config);
    bool verbose = gch_config_int (config, "GCH_VERBOSE") == 1;
    gch_log_init ("guichet-bus", verbose);
    gch_config_log (config);
    const char *endpoint = gch_config_get (config, "GCH_BUS_BIND");
    zactor_t *broker = zactor_new (gch_broker_actor, (void *) endpoint);
    int rc = 0;
    char *port = NULL;
    if (broker) {
        zstr_send (broker, "PORT");
        port = zstr_recv (broker);
    }
    if (!broker || !port || atoi (port) < 0) {
        zsys_error ("bus: cannot start on %s", endpoint);
        rc = 1;
    }
    else {
        if (verbose)
            zstr_send (broker, "VERBOSE");
        zstr_sendx (broker, "LIVENESS",
                    gch_config_get (config, "GCH_BUS_LIVENESS_MS"), NULL);
        zsys_notice ("bus listening on %s", endpoint);
        while (!zsys_interrupted)
            zclock_sleep (200);
    }
    freen (port);
    zactor_destroy (&broker);
    gch_config_destroy (&config);
    return rc;
}
