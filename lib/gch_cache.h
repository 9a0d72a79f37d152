//  gch_cache - the read cache in Redis, kept exact by revisions.
//
//  An entry is the hash "cache:<name>:<id>" = {r: revision, o: owner id,
//  b: body}: a reader (the gateway) stores there the answer it got from
//  the service owning the data, and serves it again to the same owner
//  while it lives. The service bumps the record's revision in the same
//  transaction as every change (e.g. a column set by a trigger) and, once
//  committed, invalidates: the entry becomes a tombstone {r: new revision}
//  with no body. A fill is refused if the entry holds a higher revision,
//  so a reader that read revision 3 before the commit of revision 4 can
//  never put 3 back after the tombstone (the race of plain cache-aside).
//  Both sides run as Lua scripts, atomic in Redis.
//
//  An invalidation that cannot reach Redis is kept and retried
//  (gch_cache_flush, from the service's tick); past GCH_CACHE_PENDING_MAX
//  kept, the next successful connection deletes the whole cache instead.
//  A service that crashes with invalidations pending leaves stale entries
//  for at most their TTL (the gateway's GCH_CACHE_TTL): the bound on
//  staleness when Redis and a service lose each other, written down in
//  docs/architecture.md.
#ifndef GCH_CACHE_H_INCLUDED
#define GCH_CACHE_H_INCLUDED

#include <hiredis.h>

//  Invalidations kept while Redis is unreachable, before purging instead.
#define GCH_CACHE_PENDING_MAX 10000

//  How long a tombstone lives, in seconds: longer than any reader's call
//  (its deadline), so no fill of an older revision can outlive it.
#define GCH_CACHE_TOMBSTONE_S 120

//  ----- Readers: the caller brings its connection (and drops it on -1).

//  Append the lookup of cache:<name>:<id> to redis' pipeline; its reply
//  is read by the caller and given to gch_cache_hit. false if hiredis
//  refused the command.
bool gch_cache_get_append (redisContext *redis, const char *name, int64_t id);

//  The body of a looked-up entry if it is there and belongs to owner:
//  returns true and sets *body_p (borrowed from reply) and *size_p.
bool gch_cache_hit (const redisReply *reply, int64_t owner, const char **body_p,
                    size_t *size_p);

//  Store body as revision of cache:<name>:<id> for owner, for ttl_s
//  seconds, unless the entry holds a higher revision. Returns 1 stored, 0
//  refused (a newer revision is known), -1 on a Redis error.
int gch_cache_fill (redisContext *redis, const char *name, int64_t id,
                    int64_t revision, int64_t owner, const char *body,
                    size_t size, int ttl_s);

//  ----- Writers: a service invalidating what it changed.

typedef struct _gch_cache_t gch_cache_t;

//  A writer for the Redis at address; NULL or "" = no cache (every call
//  is a no-op). Connects on first use.
gch_cache_t *gch_cache_new (const char *address);

void gch_cache_destroy (gch_cache_t **self_p);

//  Record that cache:<name>:<id> is now at revision (call after COMMIT).
//  Never blocks longer than Redis' timeout; kept for later if Redis is
//  unreachable.
void gch_cache_invalidate (gch_cache_t *self, const char *name, int64_t id,
                           int64_t revision);

//  Retry what is kept. Returns how many invalidations are still kept.
size_t gch_cache_flush (gch_cache_t *self);

//  Self-test; the parts that need Redis run if GCH_TEST_REDIS is set
//  (host:port).
void gch_cache_test (bool verbose);

#endif
