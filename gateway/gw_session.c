//  gw_session - sessions and rate limits in Redis.
//
//  Every command is sent with hiredis' argument formatting ("%s", "%b"),
//  never as a formatted command string. Commands that belong together are
//  pipelined, and wrapped in MULTI/EXEC when they must not be split (a
//  session written without its expiry, a counter without its window).
//
//  Entry points: gw_session_load / _create / _delete for sessions,
//  gw_session_rate_hit for rate limits, gw_session_caller to build the bus
//  caller. s_redis gives the calling thread's connection.
#include "gch.h"
#include "gw_session.h"

#include <hiredis.h>
#include <pthread.h>

//  Connect and command timeout: Redis is local and fast, or it is down.
#define S_REDIS_TIMEOUT_MS 1000

//  "session:" + 64 hex characters
#define S_SESSION_KEY_SIZE (8 + 64 + 1)

static pthread_key_t s_redis_key;
static pthread_once_t s_redis_once = PTHREAD_ONCE_INIT;

static void
s_redis_free (void *context)
{
    redisFree ((redisContext *) context);
}

static void
s_redis_key_create (void)
{
    int rc = pthread_key_create (&s_redis_key, s_redis_free);
    assert (rc == 0);
}

//  The calling thread's connection, made if needed; NULL if Redis is down.
static redisContext *
s_redis (const gw_settings_t *settings)
{
    pthread_once (&s_redis_once, s_redis_key_create);
    redisContext *redis = (redisContext *) pthread_getspecific (s_redis_key);
    if (redis && redis->err) {
        redisFree (redis);
        redis = NULL;
        pthread_setspecific (s_redis_key, NULL);
    }
    if (!redis) {
        redis = gch_redis_connect (settings->redis, S_REDIS_TIMEOUT_MS);
        if (redis)
            pthread_setspecific (s_redis_key, redis);
    }
    return redis;
}

//  The connection failed in the middle of a call: free it, the next call
//  makes a new one.
static void
s_redis_drop (const char *what)
{
    redisContext *redis = (redisContext *) pthread_getspecific (s_redis_key);
    if (redis) {
        zsys_warning ("redis: %s failed: %s", what,
                      redis->err ? redis->errstr : "no reply");
        redisFree (redis);
        pthread_setspecific (s_redis_key, NULL);
    }
}

void
gw_session_thread_release (void)
{
    pthread_once (&s_redis_once, s_redis_key_create);
    redisContext *redis = (redisContext *) pthread_getspecific (s_redis_key);
    if (redis) {
        redisFree (redis);
        pthread_setspecific (s_redis_key, NULL);
    }
}

//  Read the replies of count pipelined commands. Returns 0, or -1 (after
//  freeing what was read and dropping the connection) if the connection
//  failed or a command could not be appended (appended == false).
static int
s_replies (redisContext *redis, bool appended, redisReply **replies,
           size_t count, const char *what)
{
    memset (replies, 0, sizeof (redisReply *) * count);
    for (size_t i = 0; appended && i < count; i++) {
        void *reply = NULL;
        if (redisGetReply (redis, &reply) != REDIS_OK || !reply) {
            for (size_t j = 0; j < i; j++)
                freeReplyObject (replies[j]);
            memset (replies, 0, sizeof (redisReply *) * count);
            s_redis_drop (what);
            return -1;
        }
        replies[i] = (redisReply *) reply;
    }
    if (!appended) {
        s_redis_drop (what);
        return -1;
    }
    return 0;
}

static void
s_replies_free (redisReply **replies, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (replies[i])
            freeReplyObject (replies[i]);
}

//  Redis answered, but with an error (LOADING, READONLY, OOM...): Redis is
//  not usable now.
static bool
s_reply_failed (const redisReply *reply, const char *what)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        zsys_warning ("redis: %s: %s", what, reply->str);
        return true;
    }
    return false;
}

static void
s_session_key (const char *token, char *key)
{
    char hash[65];
    gch_sha256_hex (token, strlen (token), hash);
    snprintf (key, S_SESSION_KEY_SIZE, "session:%s", hash);
}

int
gw_session_load (const gw_settings_t *settings, const char *token,
                 gw_session_t **session_p, gw_cache_probe_t *probe)
{
    assert (settings && session_p);
    *session_p = NULL;
    if (probe)
        probe->reply = NULL;
    if (!gw_token_valid (token))
        return 0;
    redisContext *redis = s_redis (settings);
    if (!redis)
        return -1;
    char key[S_SESSION_KEY_SIZE];
    s_session_key (token, key);
    size_t count = probe ? 3 : 2;
    bool appended =
        redisAppendCommand (redis, "HMGET %s account csrf", key) == REDIS_OK &&
        redisAppendCommand (redis, "EXPIRE %s %d", key, GW_SESSION_TTL) ==
            REDIS_OK &&
        (!probe || gch_cache_get_append (redis, probe->name, probe->id));
    redisReply *replies[3];
    if (s_replies (redis, appended, replies, count, "session load") != 0)
        return -1;
    int rc = 0;
    const redisReply *found = replies[0];
    if (s_reply_failed (found, "session load") ||
        s_reply_failed (replies[1], "session touch"))
        rc = -1;
    else if (found->type == REDIS_REPLY_ARRAY && found->elements == 2 &&
             found->element[0]->type == REDIS_REPLY_STRING &&
             found->element[1]->type == REDIS_REPLY_STRING &&
             gw_token_valid (found->element[1]->str)) {
        Gch__Account *account =
            gch__account__unpack (NULL, found->element[0]->len,
                                  (const uint8_t *) found->element[0]->str);
        if (account) {
            gw_session_t *session =
                (gw_session_t *) zmalloc (sizeof (gw_session_t));
            session->account = account;
            strcpy (session->csrf, found->element[1]->str);
            *session_p = session;
            rc = 1;
        }
        else
            zsys_warning ("redis: unreadable session dropped");
    }
    if (probe && rc == 1) {
        probe->reply = replies[2];
        replies[2] = NULL;
    }
    s_replies_free (replies, count);
    return rc;
}

int
gw_session_cache_fill (const gw_settings_t *settings, const char *name,
                       int64_t id, int64_t revision, int64_t owner,
                       const char *body, size_t size)
{
    assert (settings && name && body);
    if (settings->cache_ttl <= 0)
        return 0;
    redisContext *redis = s_redis (settings);
    if (!redis)
        return -1;
    int rc = gch_cache_fill (redis, name, id, revision, owner, body, size,
                             settings->cache_ttl);
    if (rc < 0)
        s_redis_drop ("cache fill");
    return rc;
}

int
gw_session_create (const gw_settings_t *settings, const Gch__Account *account,
                   char *token, char *csrf)
{
    assert (settings && account && token && csrf);
    *token = '\0';
    *csrf = '\0';
    redisContext *redis = s_redis (settings);
    if (!redis)
        return -1;
    gw_token_new (token);
    gw_token_new (csrf);
    char key[S_SESSION_KEY_SIZE];
    s_session_key (token, key);
    uint8_t *data;
    size_t size = gch_pack (&account->base, &data);
    bool appended =
        redisAppendCommand (redis, "MULTI") == REDIS_OK &&
        redisAppendCommand (redis, "HSET %s account %b csrf %s", key,
                            (const char *) data, size, csrf) == REDIS_OK &&
        redisAppendCommand (redis, "EXPIRE %s %d", key, GW_SESSION_TTL) ==
            REDIS_OK &&
        redisAppendCommand (redis, "EXEC") == REDIS_OK;
    free (data);
    redisReply *replies[4];
    if (s_replies (redis, appended, replies, 4, "session create") != 0)
        return -1;
    const redisReply *exec = replies[3];
    int rc = 0;
    if (s_reply_failed (replies[0], "session create") ||
        s_reply_failed (exec, "session create") ||
        exec->type != REDIS_REPLY_ARRAY || exec->elements != 2 ||
        exec->element[0]->type != REDIS_REPLY_INTEGER ||
        exec->element[1]->type != REDIS_REPLY_INTEGER ||
        exec->element[1]->integer != 1) {
        zsys_warning ("redis: session create: unexpected answer");
        rc = -1;
    }
    s_replies_free (replies, 4);
    if (rc != 0) {
        *token = '\0';
        *csrf = '\0';
    }
    return rc;
}

int
gw_session_delete (const gw_settings_t *settings, const char *token)
{
    assert (settings);
    if (!gw_token_valid (token))
        return 0;
    redisContext *redis = s_redis (settings);
    if (!redis)
        return -1;
    char key[S_SESSION_KEY_SIZE];
    s_session_key (token, key);
    bool appended = redisAppendCommand (redis, "DEL %s", key) == REDIS_OK;
    redisReply *replies[1];
    if (s_replies (redis, appended, replies, 1, "session delete") != 0)
        return -1;
    int rc = s_reply_failed (replies[0], "session delete") ? -1 : 0;
    s_replies_free (replies, 1);
    return rc;
}

void
gw_session_destroy (gw_session_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gw_session_t *self = *self_p;
        gch__account__free_unpacked (self->account, NULL);
        free (self);
        *self_p = NULL;
    }
}

void
gw_session_caller (const gw_session_t *session, const char *address,
                   Gch__Caller *caller)
{
    assert (caller);
    gch__caller__init (caller);
    if (address)
        caller->address = (char *) address;
    if (!session)
        return;  //  CALLER_ANONYMOUS
    Gch__Account *account = session->account;
    if (streq (account->kind, "citizen"))
        caller->kind = GCH__CALLER_KIND__CALLER_CITIZEN;
    else if (streq (account->kind, "agent"))
        caller->kind = GCH__CALLER_KIND__CALLER_AGENT;
    else
        return;  //  an unknown kind gets no rights
    caller->id = account->id;
    caller->n_roles = account->n_roles;
    caller->roles = account->roles;
    caller->n_services = account->n_services;
    caller->services = account->services;
    caller->n_communes = account->n_communes;
    caller->communes = account->communes;
    caller->n_communes = account->n_communes;
    caller->communes = account->communes;
    caller->name = account->display_name;
}

int
gw_session_rate_hit (const gw_settings_t *settings, const char *key, int max,
                     int window_s)
{
    assert (settings && key && max >= 0 && window_s > 0);
    redisContext *redis = s_redis (settings);
    if (!redis)
        return -1;
    //  The counter is made with its expiry and incremented in one
    //  transaction: it can never live past its window
    bool appended = redisAppendCommand (redis, "MULTI") == REDIS_OK &&
                    redisAppendCommand (redis, "SET %s 0 EX %d NX", key,
                                        window_s) == REDIS_OK &&
                    redisAppendCommand (redis, "INCR %s", key) == REDIS_OK &&
                    redisAppendCommand (redis, "TTL %s", key) == REDIS_OK &&
                    redisAppendCommand (redis, "EXEC") == REDIS_OK;
    redisReply *replies[5];
    if (s_replies (redis, appended, replies, 5, "rate limit") != 0)
        return -1;
    const redisReply *exec = replies[4];
    int rc;
    if (s_reply_failed (replies[0], "rate limit") ||
        s_reply_failed (exec, "rate limit") ||
        exec->type != REDIS_REPLY_ARRAY || exec->elements != 3 ||
        exec->element[1]->type != REDIS_REPLY_INTEGER ||
        exec->element[2]->type != REDIS_REPLY_INTEGER) {
        zsys_warning ("redis: rate limit: unexpected answer");
        rc = -1;
    }
    else if (exec->element[1]->integer <= max)
        rc = 0;
    else {
        long long ttl = exec->element[2]->integer;
        rc = ttl >= 1 && ttl <= window_s ? (int) ttl : window_s;
    }
    s_replies_free (replies, 5);
    return rc;
}

//  ---------------------------------------------------------------------
//  Self-tests

static void
s_test_account (Gch__Account *account, char **roles)
{
    gch__account__init (account);
    account->id = 42;
    account->email = "agent@demo.guichet.fr";
    account->display_name = "Agnès Agent";
    account->kind = "agent";
    account->verified = true;
    account->n_roles = 1;
    account->roles = roles;
    account->n_services = 1;
    account->services = roles + 1;
}

void
gw_session_test (bool verbose)
{
    (void) verbose;
    printf (" * gw_session: ");
    //  Callers
    char *roles[] = {"instructeur", "police-municipale"};
    Gch__Account account;
    s_test_account (&account, roles);
    gw_session_t session = {&account, ""};
    Gch__Caller caller;
    gw_session_caller (&session, "192.0.2.1", &caller);
    assert (caller.kind == GCH__CALLER_KIND__CALLER_AGENT);
    assert (caller.id == 42 && caller.n_roles == 1);
    assert (streq (caller.roles[0], "instructeur"));
    assert (caller.n_services == 1);
    assert (streq (caller.services[0], "police-municipale"));
    assert (caller.n_communes == 0);
    assert (streq (caller.name, "Agnès Agent"));
    assert (streq (caller.address, "192.0.2.1"));
    account.kind = "citizen";
    gw_session_caller (&session, NULL, &caller);
    assert (caller.kind == GCH__CALLER_KIND__CALLER_CITIZEN);
    account.kind = "admin?";
    gw_session_caller (&session, NULL, &caller);
    assert (caller.kind == GCH__CALLER_KIND__CALLER_ANONYMOUS);
    assert (caller.id == 0 && caller.n_roles == 0);
    gw_session_caller (NULL, "192.0.2.1", &caller);
    assert (caller.kind == GCH__CALLER_KIND__CALLER_ANONYMOUS);
    assert (caller.id == 0);

    //  Session keys are hashes of the token, never the token
    char token[GW_TOKEN_SIZE], key[S_SESSION_KEY_SIZE];
    gw_token_new (token);
    s_session_key (token, key);
    assert (strlen (key) == 72 && strncmp (key, "session:", 8) == 0);
    assert (!strstr (key, token));
    assert (gw_token_valid (key + 8));

    //  Redis unreachable: every call says so, a malformed token needs no
    //  Redis at all
    gw_settings_t settings = {.redis = "127.0.0.1:1"};
    gw_session_t *loaded = NULL;
    assert (gw_session_load (&settings, token, &loaded, NULL) == -1 && !loaded);
    assert (gw_session_load (&settings, "nope", &loaded, NULL) == 0 && !loaded);
    char csrf[GW_TOKEN_SIZE];
    account.kind = "agent";
    assert (gw_session_create (&settings, &account, token, csrf) == -1);
    assert (gw_session_delete (&settings, token) == 0);  //  token emptied
    gw_token_new (token);
    assert (gw_session_delete (&settings, token) == -1);
    assert (gw_session_rate_hit (&settings, "rl:test", 1, 10) == -1);
    settings.redis = "/nonexistent/redis.sock";
    assert (gw_session_rate_hit (&settings, "rl:test", 1, 10) == -1);
    settings.redis = "[::1]:1";
    assert (gw_session_rate_hit (&settings, "rl:test", 1, 10) == -1);
    gw_session_thread_release ();
    printf ("OK\n");
}

void
gw_session_live_test (const char *address, bool verbose)
{
    (void) verbose;
    printf (" * gw_session (Redis %s): ", address);
    gw_settings_t settings = {.redis = address};
    char *roles[] = {"instructeur", "police-municipale"};
    Gch__Account account;
    s_test_account (&account, roles);

    char token[GW_TOKEN_SIZE], csrf[GW_TOKEN_SIZE];
    assert (gw_session_create (&settings, &account, token, csrf) == 0);
    assert (gw_token_valid (token) && gw_token_valid (csrf));
    gw_session_t *session = NULL;
    assert (gw_session_load (&settings, token, &session, NULL) == 1);
    assert (session && session->account->id == 42);
    assert (streq (session->account->kind, "agent"));
    assert (session->account->n_roles == 1);
    assert (streq (session->csrf, csrf));
    gw_session_destroy (&session);
    gw_session_destroy (&session);
    assert (!session);

    //  The TTL is set, and renewed by a load
    char key[S_SESSION_KEY_SIZE];
    s_session_key (token, key);
    redisContext *redis = s_redis (&settings);
    assert (redis);
    redisReply *reply =
        (redisReply *) redisCommand (redis, "EXPIRE %s %d", key, 100);
    assert (reply && reply->integer == 1);
    freeReplyObject (reply);
    assert (gw_session_load (&settings, token, &session, NULL) == 1);
    gw_session_destroy (&session);
    reply = (redisReply *) redisCommand (redis, "TTL %s", key);
    assert (reply && reply->integer > GW_SESSION_TTL - 10);
    freeReplyObject (reply);

    //  A cache probe rides with the session's lookup; hits for its owner
    //  only; none when the cache is off
    int64_t entry = zclock_time ();
    assert (gw_session_cache_fill (&settings, "test", entry, 1, 42, "{}", 2) ==
            0);
    settings.cache_ttl = 60;
    assert (gw_session_cache_fill (&settings, "test", entry, 1, 42, "{}", 2) ==
            1);
    gw_cache_probe_t probe = {"test", entry, NULL};
    assert (gw_session_load (&settings, token, &session, &probe) == 1);
    const char *body;
    size_t size;
    assert (gch_cache_hit (probe.reply, 42, &body, &size) && size == 2);
    assert (!gch_cache_hit (probe.reply, 43, &body, &size));
    freeReplyObject (probe.reply);
    gw_session_destroy (&session);
    reply =
        (redisReply *) redisCommand (redis, "DEL cache:test:%" PRId64, entry);
    assert (reply && reply->integer == 1);
    freeReplyObject (reply);

    //  Another token finds nothing; delete ends the session
    char other[GW_TOKEN_SIZE];
    gw_token_new (other);
    assert (gw_session_load (&settings, other, &session, NULL) == 0 &&
            !session);
    assert (gw_session_delete (&settings, token) == 0);
    assert (gw_session_load (&settings, token, &session, NULL) == 0 &&
            !session);

    //  A dead connection is made again on the next call
    redis = s_redis (&settings);
    redis->err = REDIS_ERR_EOF;
    assert (gw_session_load (&settings, token, &session, NULL) == 0);

    //  Rate limits: max hits pass, the next one learns the wait
    char counter[80];
    snprintf (counter, sizeof counter, "rl:test:%s", other);
    assert (gw_session_rate_hit (&settings, counter, 2, 60) == 0);
    assert (gw_session_rate_hit (&settings, counter, 2, 60) == 0);
    int wait = gw_session_rate_hit (&settings, counter, 2, 60);
    assert (wait >= 1 && wait <= 60);
    redis = s_redis (&settings);
    reply = (redisReply *) redisCommand (redis, "DEL %s", counter);
    assert (reply && reply->integer == 1);
    freeReplyObject (reply);
    gw_session_thread_release ();
    printf ("OK\n");
}
