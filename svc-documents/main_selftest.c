//  svc-documents self-tests. Run with -v for details.
#include "gch.h"
#include "documents_handlers.h"

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[1], "-v");
    printf ("Running svc-documents self-tests...\n");
    documents_handlers_test (verbose);
    printf ("Tests passed OK\n");
    return 0;
}
