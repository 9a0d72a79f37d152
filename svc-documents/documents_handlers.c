//  documents_handlers - one static function per method of svc-documents.
#include "gch.h"
#include "documents_handlers.h"

//  Empty on purpose: svc-documents will handle uploaded files and generated
//  documents (receipts, letters, decisions), their storage, type checks and
//  access rules; those methods come in later issues. "health" is answered
//  by the service loop.
const gch_method_t documents_methods[] = {
    {NULL, NULL, NULL},
};

void
documents_handlers_test (bool verbose)
{
    (void) verbose;
    printf (" * documents: ");
    size_t count = 0;
    for (const gch_method_t *method = documents_methods; method->method;
         method++) {
        assert (method->handler);
        assert (strchr (method->method, '.'));  //  "resource.verb"
        assert (!streq (method->method, "health"));
        for (const gch_method_t *other = documents_methods; other != method;
             other++)
            assert (!streq (other->method, method->method));
        count++;
    }
    assert (documents_methods[count].handler == NULL);  //  terminated
    printf ("OK\n");
}
