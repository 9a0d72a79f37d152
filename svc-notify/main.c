//  svc-notify - e-mails of Guichet.
//
//  Reads its configuration, waits for its database and brings the schema up
//  to date, then runs the service loop: on the bus as "notify", and every
//  GCH_POLL_MS a tick that turns new events of svc-accounts and
//  svc-dossiers into mails and sends the mails that are due
//  (notify_handlers.c). Stops on SIGINT/SIGTERM.
#include "gch.h"
#include <curl/curl.h>
#include "notify_mail.h"
#include "notify_store.h"
#include "notify_consumer.h"
#include "notify_sender.h"
#include "notify_handlers.h"

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS", "tcp://127.0.0.1:5670", "broker endpoint", false},
    {"GCH_DB", "dbname=guichet", "libpq conninfo of role gch_notify", true},
    {"GCH_SQL_DIR", "svc-notify/sql", "migrations folder", false},
    {"GCH_SMTP_URL", "smtp://127.0.0.1:2525",
     "SMTP server, smtp[s]://[user:password@]host:port", true},
    {"GCH_MAIL_FROM", "Guichet <ne-pas-repondre@guichet.localhost>",
     "sender of every mail", false},
    {"GCH_PUBLIC_URL", "http://127.0.0.1:8080", "base URL of links in mails",
     false},
    {"GCH_RETRY_MAX_MS", "60000", "ceiling of the SMTP retry delay, ms", false},
    {"GCH_POLL_MS", "200", "event polling and sending period, ms", false},
    {"GCH_VERBOSE", "0", "1 = debug logs", false},
    {NULL, NULL, NULL, false},
};

int
main (int argc, char *argv[])
{
    if (argc > 1) {
        printf ("svc-notify - e-mails of Guichet. Environment:\n");
        gch_config_help (s_config);
        return streq (argv[1], "--help") || streq (argv[1], "-h") ? 0 : 1;
    }
    //  Before any thread: libcurl's global state is not thread-safe.
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf (stderr, "svc-notify: cannot initialise libcurl\n");
        return 1;
    }
    gch_config_t *config = gch_config_new (s_config);
    gch_log_init ("svc-notify", gch_config_int (config, "GCH_VERBOSE") != 0);
    gch_config_log (config);
    srandom ((unsigned) gch_now_ms () ^ ((unsigned) getpid () << 16));

    int rc = 1;
    gch_client_t *client = NULL;
    notify_consumer_t *consumer = NULL;
    notify_sender_t *sender = NULL;
    const char *conninfo = gch_config_get (config, "GCH_DB");
    notify_store_t *store =
        gch_db_setup (conninfo, gch_config_get (config, "GCH_SQL_DIR"), 0) >= 0
            ? notify_store_new (conninfo)
            : NULL;
    if (!store) {
        rc = zsys_interrupted ? 0 : 1;
        goto cleanup;
    }
    client = gch_client_new (gch_config_get (config, "GCH_BUS"));
    if (!client) {
        zsys_error ("GCH_BUS: bad endpoint");
        goto cleanup;
    }
    const char *from = gch_config_get (config, "GCH_MAIL_FROM");
    sender =
        notify_sender_new (store, gch_config_get (config, "GCH_SMTP_URL"), from,
                           gch_config_int (config, "GCH_RETRY_MAX_MS"));
    if (!sender)
        goto cleanup;
    consumer = notify_consumer_new (
        client, store, gch_config_get (config, "GCH_PUBLIC_URL"), from);

    int poll_ms = gch_config_int (config, "GCH_POLL_MS");
    if (poll_ms < 1)
        poll_ms = 200;
    notify_t notify = {store, consumer, sender, poll_ms, false};
    gch_service_t service = {
        .name = "notify",
        .bus = gch_config_get (config, "GCH_BUS"),
        .methods = notify_methods,
        .ctx = &notify,
        .tick = notify_tick,
        .tick_ms = poll_ms,
        .db = notify_store_db (store),
    };
    rc = gch_service_run (&service);

cleanup:
    notify_consumer_destroy (&consumer);
    notify_sender_destroy (&sender);
    gch_client_destroy (&client);
    notify_store_destroy (&store);
    gch_config_destroy (&config);
    curl_global_cleanup ();
    return rc;
}
