//  gch_cache - the read cache in Redis, kept exact by revisions.
#include "gch.h"

#define S_TIMEOUT_MS 500

//  KEYS[1] entry; ARGV: revision, owner, body, ttl.
static const char s_fill_lua[] =
    "local r = tonumber(redis.call('HGET', KEYS[1], 'r'))\n"
    "if r and tonumber(ARGV[1]) < r then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'r', ARGV[1], 'o', ARGV[2], 'b', ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "return 1\n";

//  KEYS[1] entry; ARGV: revision, tombstone ttl. An entry already at this
//  revision was filled after the commit: it is right, keep it.
static const char s_invalidate_lua[] =
    "local r = tonumber(redis.call('HGET', KEYS[1], 'r'))\n"
    "if r and tonumber(ARGV[1]) <= r then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'r', ARGV[1])\n"
    "redis.call('HDEL', KEYS[1], 'o', 'b')\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "return 1\n";

//  Delete every entry, a batch of keys at a time.
static const char s_purge_lua[] =
    "local cursor = ARGV[1]\n"
    "local found = redis.call('SCAN', cursor, 'MATCH', 'cache:*', 'COUNT', "
    "1000)\n"
    "for _, key in ipairs(found[2]) do redis.call('UNLINK', key) end\n"
    "return found[1]\n";

static void
s_key (char *buf, size_t size, const char *name, int64_t id)
{
    snprintf (buf, size, "cache:%s:%" PRId64, name, id);
}

bool
gch_cache_get_append (redisContext *redis, const char *name, int64_t id)
{
    assert (redis && name);
    char key[128];
    s_key (key, sizeof key, name, id);
    return redisAppendCommand (redis, "HMGET %s o b", key) == REDIS_OK;
}

bool
gch_cache_hit (const redisReply *reply, int64_t owner, const char **body_p,
               size_t *size_p)
{
    assert (body_p && size_p);
    *body_p = NULL;
    *size_p = 0;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
        return false;
    const redisReply *o = reply->element[0];
    const redisReply *b = reply->element[1];
    if (o->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING)
        return false;
    char expected[24];
    int length = snprintf (expected, sizeof expected, "%" PRId64, owner);
    if ((size_t) length != o->len || memcmp (expected, o->str, o->len) != 0)
        return false;
    *body_p = b->str;
    *size_p = b->len;
    return true;
}

//  1 or 0 from a script's integer answer, -1 on any other answer.
static int
s_script_rc (redisContext *redis, redisReply *reply, const char *what)
{
    int rc = -1;
    if (!reply)
        zsys_warning ("cache: %s: %s", what,
                      redis->err ? redis->errstr : "no reply");
    else if (reply->type == REDIS_REPLY_INTEGER)
        rc = reply->integer ? 1 : 0;
    else
        zsys_warning ("cache: %s: %s", what,
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "unexpected answer");
    if (reply)
        freeReplyObject (reply);
    return rc;
}

int
gch_cache_fill (redisContext *redis, const char *name, int64_t id,
                int64_t revision, int64_t owner, const char *body, size_t size,
                int ttl_s)
{
    assert (redis && name && body);
    char key[128];
    s_key (key, sizeof key, name, id);
    redisReply *reply = (redisReply *) redisCommand (
        redis, "EVAL %s 1 %s %" PRId64 " %" PRId64 " %b %d", s_fill_lua, key,
        revision, owner, body, size, ttl_s > 0 ? ttl_s : 1);
    return s_script_rc (redis, reply, "fill");
}

//  ---------------------------------------------------------------------
//  Writers

struct _gch_cache_t {
    char *address;        //  NULL = no cache
    redisContext *redis;  //  or NULL until connected
    zhashx_t *pending;    //  key -> revision (int64_t *), kept for retry
    bool purge;           //  too many kept: delete everything instead
    int64_t next_try_ms;  //  no reconnection before this time
};

gch_cache_t *
gch_cache_new (const char *address)
{
    gch_cache_t *self = (gch_cache_t *) zmalloc (sizeof (gch_cache_t));
    if (address && *address)
        self->address = strdup (address);
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
gch_cache_destroy (gch_cache_t **self_p)
{
    assert (self_p);
    gch_cache_t *self = *self_p;
    if (self) {
        if (zhashx_size (self->pending) || self->purge)
            zsys_warning ("cache: %zu invalidations lost at exit (entries "
                          "expire by their TTL)",
                          zhashx_size (self->pending));
        if (self->redis)
            redisFree (self->redis);
        zhashx_destroy (&self->pending);
        free (self->address);
        free (self);
        *self_p = NULL;
    }
}

//  The connection, or NULL (at most one attempt per second).
static redisContext *
s_redis (gch_cache_t *self)
{
    if (self->redis && self->redis->err) {
        redisFree (self->redis);
        self->redis = NULL;
    }
    if (!self->redis && zclock_mono () >= self->next_try_ms) {
        self->redis = gch_redis_connect (self->address, S_TIMEOUT_MS);
        if (!self->redis)
            self->next_try_ms = zclock_mono () + 1000;
    }
    return self->redis;
}

//  Run one invalidation; 0 done, -1 Redis failed (connection dropped).
static int
s_invalidate (gch_cache_t *self, const char *key, int64_t revision)
{
    redisContext *redis = s_redis (self);
    if (!redis)
        return -1;
    redisReply *reply = (redisReply *) redisCommand (
        redis, "EVAL %s 1 %s %" PRId64 " %d", s_invalidate_lua, key, revision,
        GCH_CACHE_TOMBSTONE_S);
    if (s_script_rc (redis, reply, "invalidate") < 0) {
        redisFree (self->redis);
        self->redis = NULL;
        return -1;
    }
    return 0;
}

//  Delete every entry; 0 done, -1 Redis failed.
static int
s_purge (gch_cache_t *self)
{
    redisContext *redis = s_redis (self);
    if (!redis)
        return -1;
    char cursor[32] = "0";
    do {
        redisReply *reply = (redisReply *) redisCommand (redis, "EVAL %s 0 %s",
                                                         s_purge_lua, cursor);
        if (!reply || reply->type != REDIS_REPLY_STRING ||
            reply->len >= sizeof cursor) {
            if (reply)
                freeReplyObject (reply);
            redisFree (self->redis);
            self->redis = NULL;
            return -1;
        }
        memcpy (cursor, reply->str, reply->len);
        cursor[reply->len] = '\0';
        freeReplyObject (reply);
    } while (!streq (cursor, "0"));
    zsys_notice ("cache: purged after losing Redis");
    return 0;
}

static void
s_keep (gch_cache_t *self, const char *key, int64_t revision)
{
    if (self->purge)
        return;
    if (zhashx_size (self->pending) >= GCH_CACHE_PENDING_MAX) {
        zsys_warning ("cache: %d invalidations kept, the cache will be "
                      "purged instead",
                      GCH_CACHE_PENDING_MAX);
        zhashx_purge (self->pending);
        self->purge = true;
        return;
    }
    char *kept = (char *) zhashx_lookup (self->pending, key);
    if (kept && strtoll (kept, NULL, 10) >= revision)
        return;
    zhashx_update (self->pending, key, zsys_sprintf ("%" PRId64, revision));
}

void
gch_cache_invalidate (gch_cache_t *self, const char *name, int64_t id,
                      int64_t revision)
{
    assert (self && name);
    if (!self->address)
        return;
    char key[128];
    s_key (key, sizeof key, name, id);
    if (self->purge || zhashx_size (self->pending) ||
        s_invalidate (self, key, revision) < 0) {
        s_keep (self, key, revision);
        gch_cache_flush (self);
    }
}

size_t
gch_cache_flush (gch_cache_t *self)
{
    assert (self);
    if (self->purge) {
        if (s_purge (self) < 0)
            return GCH_CACHE_PENDING_MAX;
        self->purge = false;
    }
    zlistx_t *keys = zhashx_keys (self->pending);
    for (const char *key = (const char *) zlistx_first (keys); key;
         key = (const char *) zlistx_next (keys)) {
        int64_t revision =
            strtoll ((char *) zhashx_lookup (self->pending, key), NULL, 10);
        if (s_invalidate (self, key, revision) < 0)
            break;
        zhashx_delete (self->pending, key);
    }
    zlistx_destroy (&keys);
    return zhashx_size (self->pending);
}

//  ---------------------------------------------------------------------
//  Self-test

//  Look up cache:<name>:<id> for owner on redis; the body or NULL (owned).
static char *
s_test_get (redisContext *redis, const char *name, int64_t id, int64_t owner)
{
    assert (gch_cache_get_append (redis, name, id));
    void *reply = NULL;
    assert (redisGetReply (redis, &reply) == REDIS_OK && reply);
    const char *body;
    size_t size;
    char *copy = NULL;
    if (gch_cache_hit ((redisReply *) reply, owner, &body, &size))
        copy = strndup (body, size);
    freeReplyObject (reply);
    return copy;
}

void
gch_cache_test (bool verbose)
{
    printf (" * gch_cache: ");
    //  Without Redis: a disabled writer is a no-op; hits need both fields
    gch_cache_t *off = gch_cache_new (NULL);
    gch_cache_invalidate (off, "dossier", 1, 2);
    assert (gch_cache_flush (off) == 0);
    gch_cache_destroy (&off);
    const char *body;
    size_t size;
    assert (!gch_cache_hit (NULL, 1, &body, &size));

    const char *address = getenv ("GCH_TEST_REDIS");
    if (!address || !*address) {
        printf ("OK (no GCH_TEST_REDIS: Redis parts skipped)\n");
        return;
    }
    redisContext *redis = gch_redis_connect (address, 1000);
    assert (redis);
    int64_t id = zclock_time ();  //  a key no earlier run used
    //  Fill, hit for the owner only
    assert (gch_cache_fill (redis, "test", id, 3, 42, "{\"a\":1}", 7, 60) == 1);
    char *got = s_test_get (redis, "test", id, 42);
    assert (got && streq (got, "{\"a\":1}"));
    free (got);
    assert (!s_test_get (redis, "test", id, 43));
    assert (!s_test_get (redis, "test", id + 1, 42));

    //  The writer: invalidation to revision 4 leaves a tombstone
    gch_cache_t *cache = gch_cache_new (address);
    gch_cache_invalidate (cache, "test", id, 4);
    assert (gch_cache_flush (cache) == 0);
    assert (!s_test_get (redis, "test", id, 42));
    //  The race: a reader that read revision 3 before the commit cannot
    //  put it back; revision 4 can be filled
    assert (gch_cache_fill (redis, "test", id, 3, 42, "old", 3, 60) == 0);
    assert (!s_test_get (redis, "test", id, 42));
    assert (gch_cache_fill (redis, "test", id, 4, 42, "new", 3, 60) == 1);
    got = s_test_get (redis, "test", id, 42);
    assert (got && streq (got, "new"));
    free (got);
    //  An invalidation to the revision already filled keeps the entry
    gch_cache_invalidate (cache, "test", id, 4);
    got = s_test_get (redis, "test", id, 42);
    assert (got && streq (got, "new"));
    free (got);
    //  The tombstone expires
    redisReply *ttl =
        (redisReply *) redisCommand (redis, "TTL cache:test:%" PRId64, id);
    assert (ttl && ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0 &&
            ttl->integer <= 60);
    freeReplyObject (ttl);
    gch_cache_invalidate (cache, "test", id, 5);
    ttl = (redisReply *) redisCommand (redis, "TTL cache:test:%" PRId64, id);
    assert (ttl && ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 60 &&
            ttl->integer <= GCH_CACHE_TOMBSTONE_S);
    freeReplyObject (ttl);
    gch_cache_destroy (&cache);

    //  Unreachable Redis: invalidations are kept (the highest revision per
    //  key), then purged instead past the limit
    cache = gch_cache_new ("127.0.0.1:1");
    gch_cache_invalidate (cache, "test", id, 6);
    gch_cache_invalidate (cache, "test", id, 7);
    gch_cache_invalidate (cache, "test", id + 1, 2);
    assert (zhashx_size (cache->pending) == 2);
    char key[128];
    s_key (key, sizeof key, "test", id);
    assert (streq ((char *) zhashx_lookup (cache->pending, key), "7"));
    for (int i = 0; i < GCH_CACHE_PENDING_MAX; i++) {
        snprintf (key, sizeof key, "cache:test:k%d", i);
        s_keep (cache, key, 1);
    }
    assert (cache->purge && zhashx_size (cache->pending) == 0);
    //  ... and once Redis is back, the purge deletes every entry
    free (cache->address);
    cache->address = strdup (address);
    cache->next_try_ms = 0;
    assert (gch_cache_fill (redis, "test", id + 2, 1, 42, "x", 1, 60) == 1);
    assert (gch_cache_flush (cache) == 0 && !cache->purge);
    assert (!s_test_get (redis, "test", id + 2, 42));
    gch_cache_destroy (&cache);
    redisFree (redis);
    if (verbose)
        printf ("(verbose) ");
    printf ("OK\n");
}
