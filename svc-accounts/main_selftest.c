//  svc-accounts_selftest - the unit tests of svc-accounts that need no
//  database and no bus: input rules, text[] literals. The store and the
//  handlers against PostgreSQL are exercised by the end-to-end tests.
//
//  Usage: svc-accounts_selftest [-v]
#include "gch.h"
#include "accounts_rules.h"
#include "accounts_store.h"

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[1], "-v");
    printf ("Running svc-accounts selftests...\n");
    accounts_rules_test (verbose);
    accounts_store_test (verbose);
    printf ("Tests passed OK\n");
    return 0;
}
