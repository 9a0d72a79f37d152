//  gw_session - everything the gateway keeps in Redis: sessions and rate
//  limit counters. The only module that talks to Redis.
//
//  A session is the Redis hash `session:<sha256 hex of token>` with fields
//  `account` (the packed Gch__Account returned by account.login: id, kind,
//  roles, services, communes, display name - what the caller envelope
//  needs) and `csrf` (the session's CSRF token). Its TTL is 8 hours, pushed
//  back at every use (sliding). The raw token lives only in the client's
//  cookie: a copy of Redis does not let anyone log in.
//
//  A rate limit is a counter `rl:...` created with its expiry in the same
//  transaction as its first increment (so a counter never outlives its
//  window); once over the limit the caller learns how many seconds remain.
//
//  Each thread has its own Redis connection, made on first use and freed
//  when the thread exits. A connection that fails (NULL reply, c->err) is
//  freed and made again on the next call. Every call says when Redis is
//  unavailable (-1), and callers decide: the gateway answers 503 for what
//  needs a session or a rate limit (fail closed).
#ifndef GW_SESSION_H_INCLUDED
#define GW_SESSION_H_INCLUDED

#include "gw_http.h"

//  Session lifetime in seconds, renewed at each use.
#define GW_SESSION_TTL (8 * 3600)

typedef struct {
    Gch__Account *account;     //  as of login, owned
    char csrf[GW_TOKEN_SIZE];  //  the session's CSRF token
} gw_session_t;

//  A read cache lookup (lib/gch_cache.h) sent with the session's, in the
//  same round trip to Redis.
typedef struct {
    const char *name;   //  cache name, "dossier"
    int64_t id;         //  entry id
    redisReply *reply;  //  out: the entry as read, owned (freeReplyObject),
                        //  NULL if Redis was not asked or failed
} gw_cache_probe_t;

//  Look up the session of a token. Returns 1 and sets *session_p (caller
//  owns it: gw_session_destroy), 0 if there is no such session (or the token
//  is malformed), -1 if Redis is unavailable. Renews the session's TTL.
//  probe, if not NULL, is looked up in the same round trip.
int gw_session_load (const gw_settings_t *settings, const char *token,
                     gw_session_t **session_p, gw_cache_probe_t *probe);

//  Keep body, the answer for owner at revision, in the read cache entry
//  name:id for settings->cache_ttl seconds (gch_cache_fill). Returns 1
//  kept, 0 refused (a newer revision is known, or the cache is off), -1 if
//  Redis is unavailable.
int gw_session_cache_fill (const gw_settings_t *settings, const char *name,
                           int64_t id, int64_t revision, int64_t owner,
                           const char *body, size_t size);

//  Create a session for account with a new token and a new CSRF token,
//  written into token and csrf (GW_TOKEN_SIZE bytes each). Returns 0, or -1
//  if Redis is unavailable.
int gw_session_create (const gw_settings_t *settings,
                       const Gch__Account *account, char *token, char *csrf);

//  Delete the session of token, if any. Returns 0, or -1 if Redis is
//  unavailable.
int gw_session_delete (const gw_settings_t *settings, const char *token);

//  Free a session; nullifies *self_p.
void gw_session_destroy (gw_session_t **self_p);

//  Fill caller from the session (borrowed pointers into session->account:
//  keep the session alive while the caller is used). address is the
//  client IP, borrowed too. A NULL session gives an anonymous caller.
void gw_session_caller (const gw_session_t *session, const char *address,
                        Gch__Caller *caller);

//  Count one hit on the rate limit counter key, allowing max hits per
//  window_s seconds. Returns 0 if under the limit, the number of seconds
//  until the window ends (>= 1) if over it, -1 if Redis is unavailable.
int gw_session_rate_hit (const gw_settings_t *settings, const char *key,
                         int max, int window_s);

//  Free the calling thread's Redis connection now (threads that exit are
//  cleaned automatically; this is for the main thread before exit).
void gw_session_thread_release (void);

//  Self-test without Redis (an unreachable address: every call says -1).
void gw_session_test (bool verbose);

//  Self-test against the live Redis at address ("host:port"): sessions,
//  TTL, rate limits. Leaves no key behind.
void gw_session_live_test (const char *address, bool verbose);

#endif
