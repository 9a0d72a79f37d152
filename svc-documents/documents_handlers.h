//  documents_handlers - the methods of svc-documents on the bus.
//
//  None yet: the service runs, owns its schema and answers "health"
//  (answered by the service loop itself); its capabilities come with later
//  issues. To add a method: write a static handler in documents_handlers.c and
//  list it in documents_methods, with its input message type.
#ifndef DOCUMENTS_HANDLERS_H_INCLUDED
#define DOCUMENTS_HANDLERS_H_INCLUDED

//  NULL-method-terminated method table, for gch_service_t.methods.
extern const gch_method_t documents_methods[];

//  Check the method table: each entry has a handler, no name twice, no
//  "health" (the loop's). Prints " * documents: OK".
void documents_handlers_test (bool verbose);

#endif
