//  guichet-gateway - the only HTTP face of Guichet: the JSON API (one bus
//  call per request), the static web apps, sessions in Redis.
//
//  Configuration is the table below, read from the environment once.
//  main blocks SIGINT and SIGTERM before any thread starts, so every thread
//  (MHD's, ZeroMQ's) inherits the mask and main alone receives them in
//  sigwait; then it stops the daemon (which waits for the connection
//  threads) and frees everything.
#include "gch.h"
#include "gw_http.h"
#include "gw_routes.h"
#include "gw_session.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS", "tcp://127.0.0.1:5670", "broker endpoint", false},
    {"GCH_HTTP_ADDR", "127.0.0.1", "HTTP listening address (IPv4 or IPv6)",
     false},
    {"GCH_HTTP_PORT", "8080", "HTTP listening port (0 = any free port)", false},
    {"GCH_REDIS", "127.0.0.1:6379", "Redis, host:port or a socket path", false},
    {"GCH_BODY_LIMIT", "65536", "request body limit in bytes", false},
    {"GCH_TIMEOUT_MS", "5000", "deadline of each bus call in ms", false},
    {"GCH_WWW", "gateway/www", "static files folder", false},
    {"GCH_LOGIN_LIMIT", "10", "login attempts per 5 min per address+e-mail",
     false},
    {"GCH_SIGNUP_LIMIT", "20", "sign-ups per hour per address", false},
    {"GCH_SECURE_COOKIES", "0", "1 = Secure cookies (served over TLS)", false},
    {"GCH_CACHE_TTL", "300",
     "seconds a citizen's dossier stays in the read cache (0 = no cache)",
     false},
    {"GCH_VERBOSE", "0", "1 = debug logs", false},
    {NULL, NULL, NULL, false},
};

//  Each connection thread holds an HTTP socket, a bus socket and a Redis
//  connection: allow as many files and ZeroMQ sockets as the system lets us.
static void
s_raise_limits (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 &&
        limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    zsys_set_max_sockets (0);
}

int
main (int argc, char *argv[])
{
    if (argc > 1) {
        printf ("guichet-gateway - Guichet's HTTP gateway; no arguments, "
                "configuration from the environment:\n");
        gch_config_help (s_config);
        return streq (argv[1], "--help") || streq (argv[1], "-h") ? 0 : 1;
    }
    gch_config_t *config = gch_config_new (s_config);
    gch_log_init ("gateway", gch_config_int (config, "GCH_VERBOSE") != 0);
    gch_crypto_init ();
    gch_config_log (config);

    gw_settings_t settings = {
        .bus = gch_config_get (config, "GCH_BUS"),
        .address = gch_config_get (config, "GCH_HTTP_ADDR"),
        .port = gch_config_int (config, "GCH_HTTP_PORT"),
        .redis = gch_config_get (config, "GCH_REDIS"),
        .body_limit = (size_t) gch_config_int (config, "GCH_BODY_LIMIT"),
        .timeout_ms = gch_config_int (config, "GCH_TIMEOUT_MS"),
        .www = gch_config_get (config, "GCH_WWW"),
        .login_limit = gch_config_int (config, "GCH_LOGIN_LIMIT"),
        .signup_limit = gch_config_int (config, "GCH_SIGNUP_LIMIT"),
        .secure_cookies = gch_config_int (config, "GCH_SECURE_COOKIES") != 0,
        .cache_ttl = gch_config_int (config, "GCH_CACHE_TTL"),
    };
    if (gch_config_int (config, "GCH_BODY_LIMIT") <= 0 ||
        settings.timeout_ms <= 0 || settings.login_limit <= 0 ||
        settings.signup_limit <= 0) {
        zsys_error ("GCH_BODY_LIMIT, GCH_TIMEOUT_MS, GCH_LOGIN_LIMIT and "
                    "GCH_SIGNUP_LIMIT must be positive");
        gch_config_destroy (&config);
        return 1;
    }

    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    s_raise_limits ();

    gw_http_t *http = gw_http_new (&settings, gw_routes_handle);
    if (!http) {
        gch_config_destroy (&config);
        return 1;
    }
    bool ipv6 = strchr (settings.address, ':') != NULL;
    zsys_notice ("gateway listening on http://%s%s%s:%d", ipv6 ? "[" : "",
                 settings.address, ipv6 ? "]" : "", gw_http_port (http));
    int signal_number = 0;
    while (sigwait (&signals, &signal_number) != 0)
        ;
    zsys_notice ("gateway stopping (signal %d)", signal_number);
    gw_http_destroy (&http);
    gw_routes_thread_release ();
    gw_session_thread_release ();
    gch_config_destroy (&config);
    return 0;
}
