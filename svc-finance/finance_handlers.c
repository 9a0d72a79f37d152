//  finance_handlers - one static function per method of svc-finance.
#include "gch.h"
#include "finance_handlers.h"

//  Empty on purpose: svc-finance will be the bridge to the finance
//  software (supplier invoices, "service fait" certification, payment
//  orders, subsidies); those methods come in later issues. "health" is
//  answered by the service loop.
const gch_method_t finance_methods[] = {
    {NULL, NULL, NULL},
};

void
finance_handlers_test (bool verbose)
{
    (void) verbose;
    printf (" * finance: ");
    size_t count = 0;
    for (const gch_method_t *method = finance_methods; method->method;
         method++) {
        assert (method->handler);
        assert (strchr (method->method, '.'));  //  "resource.verb"
        assert (!streq (method->method, "health"));
        for (const gch_method_t *other = finance_methods; other != method;
             other++)
            assert (!streq (other->method, method->method));
        count++;
    }
    assert (finance_methods[count].handler == NULL);  //  terminated
    printf ("OK\n");
}
