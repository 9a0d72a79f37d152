//  gch_redis - connecting to Redis, for the gateway and the services.
//
//  Redis holds only what may be lost (DESIGN.md): sessions, rate limits,
//  the read cache (gch_cache). Every caller keeps its own connection and
//  drops it on the first error; the next use makes a new one.
#ifndef GCH_REDIS_H_INCLUDED
#define GCH_REDIS_H_INCLUDED

#include <hiredis.h>

//  Connect to address: "host:port", "[v6]:port", "host" (port 6379), or a
//  Unix socket path starting with '/'. Connect, read and write time out
//  after timeout_ms. NULL (with a warning) if Redis cannot be reached or
//  the address is malformed.
redisContext *gch_redis_connect (const char *address, int timeout_ms);

//  Self-test (parsing of addresses; no server needed).
void gch_redis_test (bool verbose);

#endif
