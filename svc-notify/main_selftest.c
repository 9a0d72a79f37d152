//  svc-notify self-tests: every module that runs without a database or a
//  bus. Run with -v for details.
#include "gch.h"
#include "notify_mail.h"
#include "notify_store.h"
#include "notify_consumer.h"
#include "notify_sender.h"
#include "notify_handlers.h"

int
main (int argc, char *argv[])
{
    bool verbose = argc > 1 && streq (argv[1], "-v");
    printf ("Running svc-notify self-tests...\n");
    notify_mail_test (verbose);
    notify_handlers_test (verbose);
    printf ("Tests passed OK\n");
    return 0;
}
