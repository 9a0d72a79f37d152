//  svc-dossiers_selftest - the self-tests of svc-dossiers that need no
//  database or bus. Run from the repository root (the catalog is read from
//  svc-dossiers/catalog). "-v" for verbose output.
#include "gch.h"
#include "dossiers_handlers.h"
#include "dossiers_fields.h"

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[1], "-v");
    printf ("Running svc-dossiers self-tests...\n");
    dossiers_fields_test (verbose);
    dossiers_template_test (verbose);
    dossiers_form_test (verbose);
    dossiers_catalog_test (verbose);
    dossiers_store_test (verbose);
    dossiers_handlers_test (verbose);
    printf ("Tests passed OK\n");
    return 0;
}
