//  guichetctl - the administrator's command. It speaks to the services over
//  the bus as a system caller, like any other client: no SQL here.
//
//    guichetctl agent-create --email E --password P --name N
//               --service S [--service S2] [--role R]... [--commune C]...
//    guichetctl citizen-create --email E --password P --name N
//               [--commune C] [--verified]
//    guichetctl health [service...]
//
//  Creating what already exists is not an error (exit 0, "exists"), so demo
//  data can be loaded any number of times. Exit 1 on any other failure, 2 on
//  bad usage.
#include "gch.h"

static const gch_config_entry_t s_config[] = {
    {"GCH_BUS", "tcp://127.0.0.1:5670", "broker endpoint", false},
    {"GCH_TIMEOUT_MS", "10000", "deadline of each call", false},
    {NULL, NULL, NULL, false},
};

#define S_MAX_LIST 16

typedef struct {
    const char *email, *password, *name, *commune;
    const char *roles[S_MAX_LIST], *services[S_MAX_LIST], *communes[S_MAX_LIST];
    size_t n_roles, n_services, n_communes;
    bool verified;
} s_args_t;

static int
s_usage (void)
{
    fprintf (stderr,
             "usage: guichetctl agent-create --email E --password P --name N"
             " --service S [--role R]... [--commune C]...\n"
             "       guichetctl citizen-create --email E --password P --name N"
             " [--commune C] [--verified]\n"
             "       guichetctl health [service...]\n");
    return 2;
}

static int
s_parse (int argc, char *argv[], s_args_t *args)
{
    for (int i = 2; i < argc; i++) {
        const char *flag = argv[i];
        if (streq (flag, "--verified")) {
            args->verified = true;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *value = argv[++i];
        if (streq (flag, "--email"))
            args->email = value;
        else if (streq (flag, "--password"))
            args->password = value;
        else if (streq (flag, "--name"))
            args->name = value;
        else if (streq (flag, "--role") && args->n_roles < S_MAX_LIST)
            args->roles[args->n_roles++] = value;
        else if (streq (flag, "--service") && args->n_services < S_MAX_LIST)
            args->services[args->n_services++] = value;
        else if (streq (flag, "--commune") && args->n_communes < S_MAX_LIST) {
            args->communes[args->n_communes++] = value;
            args->commune = value;
        }
        else
            return -1;
    }
    return args->email && args->password && args->name ? 0 : -1;
}

static int
s_report (Gch__Reply *reply, const char *what)
{
    int rc = 0;
    if (gch_status_ok (reply->status))
        printf ("%s: done\n", what);
    else if (reply->status == GCH__STATUS__STATUS_CONFLICT)
        printf ("%s: exists\n", what);
    else {
        fprintf (stderr, "%s: %s (%s)\n", what, reply->message,
                 gch_status_code (reply->status));
        for (size_t i = 0; i < reply->n_fields; i++)
            fprintf (stderr, "  %s: %s\n", reply->fields[i]->name,
                     reply->fields[i]->message);
        rc = 1;
    }
    gch__reply__free_unpacked (reply, NULL);
    return rc;
}

int
main (int argc, char *argv[])
{
    if (argc < 2)
        return s_usage ();
    gch_config_t *config = gch_config_new (s_config);
    gch_log_init ("guichetctl", false);
    gch_client_t *client = gch_client_new (gch_config_get (config, "GCH_BUS"));
    int timeout = gch_config_int (config, "GCH_TIMEOUT_MS");
    Gch__Caller caller = GCH__CALLER__INIT;
    caller.kind = GCH__CALLER_KIND__CALLER_SYSTEM;
    caller.name = (char *) "guichetctl";
    s_args_t args = {0};
    //  One key for this invocation: a write handed to a second instance
    //  (the first died) is recognised as the same write
    char key[33];
    gch_random_hex (key, 16);
    int rc = 0;
    if (!client)
        rc = 1;
    else if (streq (argv[1], "agent-create")) {
        if (s_parse (argc, argv, &args) != 0 || args.n_services == 0)
            rc = s_usage ();
        else {
            Gch__AgentCreate body = GCH__AGENT_CREATE__INIT;
            body.email = (char *) args.email;
            body.password = (char *) args.password;
            body.display_name = (char *) args.name;
            body.roles = (char **) args.roles;
            body.n_roles = args.n_roles;
            body.services = (char **) args.services;
            body.n_services = args.n_services;
            body.communes = (char **) args.communes;
            body.n_communes = args.n_communes;
            rc = s_report (gch_client_call (client, "accounts", "agent.create",
                                            &caller, NULL, key, true,
                                            &body.base, timeout),
                           "agent-create");
        }
    }
    else if (streq (argv[1], "citizen-create")) {
        if (s_parse (argc, argv, &args) != 0)
            rc = s_usage ();
        else {
            Gch__AccountCreate body = GCH__ACCOUNT_CREATE__INIT;
            body.email = (char *) args.email;
            body.password = (char *) args.password;
            body.display_name = (char *) args.name;
            if (args.commune)
                body.commune = (char *) args.commune;
            body.verified = args.verified;
            rc = s_report (
                gch_client_call (client, "accounts", "account.create", &caller,
                                 NULL, args.email, true, &body.base, timeout),
                "citizen-create");
        }
    }
    else if (streq (argv[1], "health")) {
        static const char *all[] = {"accounts", "dossiers", "documents",
                                    "notify",   "finance",  NULL};
        const char **names = argc > 2 ? (const char **) argv + 2 : all;
        for (; *names; names++) {
            Gch__Reply *reply =
                gch_client_call (client, *names, "health", &caller, NULL, NULL,
                                 true, NULL, timeout);
            printf ("%-10s %s\n", *names,
                    gch_status_ok (reply->status) ? "ok" : reply->message);
            if (!gch_status_ok (reply->status))
                rc = 1;
            gch__reply__free_unpacked (reply, NULL);
        }
    }
    else
        rc = s_usage ();
    gch_client_destroy (&client);
    gch_config_destroy (&config);
    return rc;
}
