//  accounts_handlers - the methods of svc-accounts on the bus.
//
//  accounts_methods is the dispatch table given to gch_service_run; each
//  entry is one static handler in accounts_handlers.c that reads top to
//  bottom: unpack, validate (per-field errors, French), authorise (from the
//  envelope's caller), one store call, pack the reply. Methods and replies
//  are listed in proto/accounts.proto; statuses in accounts_handlers.c.
//
//  To add a method: the messages in proto/accounts.proto, a store function
//  if it needs SQL, a static handler, a row in accounts_methods.
#ifndef ACCOUNTS_HANDLERS_H_INCLUDED
#define ACCOUNTS_HANDLERS_H_INCLUDED

#include <sodium.h>

//  What every handler gets as ctx.
typedef struct {
    accounts_store_t *store;                  //  borrowed, outlives the context
    char dummy_hash[crypto_pwhash_STRBYTES];  //  hash of a random password,
                                              //  verified when a login finds
                                              //  no account (same timing)
} accounts_ctx_t;

//  Prepare ctx for handlers using store (borrowed). Needs gch_crypto_init
//  first. Returns 0, or -1 if the dummy hash could not be computed (out of
//  memory, logged).
int accounts_ctx_init (accounts_ctx_t *ctx, accounts_store_t *store);

//  The NULL-method-terminated dispatch table, for gch_service_run.
extern const gch_method_t accounts_methods[];

#endif
