//  svc-finance self-tests. Run with -v for details.
#include "gch.h"
#include "finance_handlers.h"

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[1], "-v");
    printf ("Running svc-finance self-tests...\n");
    finance_handlers_test (verbose);
    printf ("Tests passed OK\n");
    return 0;
}
