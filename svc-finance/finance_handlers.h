//  finance_handlers - the methods of svc-finance on the bus.
//
//  None yet: the service runs, owns its schema and answers "health"
//  (answered by the service loop itself); its capabilities come with later
//  issues. To add a method: write a static handler in finance_handlers.c and
//  list it in finance_methods, with its input message type.
#ifndef FINANCE_HANDLERS_H_INCLUDED
#define FINANCE_HANDLERS_H_INCLUDED

//  NULL-method-terminated method table, for gch_service_t.methods.
extern const gch_method_t finance_methods[];

//  Check the method table: each entry has a handler, no name twice, no
//  "health" (the loop's). Prints " * finance: OK".
void finance_handlers_test (bool verbose);

#endif
