//  gch_redis - connecting to Redis.
#include "gch.h"

//  Split address into host and port; false if malformed.
static bool
s_host_port (const char *address, char *host, size_t size, int *port_p)
{
    int port = 6379;
    const char *start = address;
    const char *end = NULL;
    if (*start == '[') {
        start++;
        end = strchr (start, ']');
        if (!end)
            return false;
        if (end[1] == ':')
            port = atoi (end + 2);
        else if (end[1])
            return false;
    }
    else {
        end = strrchr (start, ':');
        if (end)
            port = atoi (end + 1);
    }
    if (!end)
        end = start + strlen (start);
    if (end == start || (size_t) (end - start) >= size || port <= 0 ||
        port > 65535)
        return false;
    memcpy (host, start, (size_t) (end - start));
    host[end - start] = '\0';
    *port_p = port;
    return true;
}

redisContext *
gch_redis_connect (const char *address, int timeout_ms)
{
    assert (address);
    struct timeval timeout = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *redis = NULL;
    if (address[0] == '/')
        redis = redisConnectUnixWithTimeout (address, timeout);
    else {
        char host[256];
        int port;
        if (!s_host_port (address, host, sizeof host, &port)) {
            zsys_error ("redis: bad address '%s'", address);
            return NULL;
        }
        redis = redisConnectWithTimeout (host, port, timeout);
    }
    if (!redis || redis->err) {
        zsys_warning ("redis: cannot connect to %s: %s", address,
                      redis ? redis->errstr : "out of memory");
        if (redis)
            redisFree (redis);
        return NULL;
    }
    redisSetTimeout (redis, timeout);
    return redis;
}

void
gch_redis_test (bool verbose)
{
    printf (" * gch_redis: ");
    char host[64];
    int port = 0;
    assert (s_host_port ("127.0.0.1:6380", host, sizeof host, &port));
    assert (streq (host, "127.0.0.1") && port == 6380);
    assert (s_host_port ("redis", host, sizeof host, &port));
    assert (streq (host, "redis") && port == 6379);
    assert (s_host_port ("[::1]:7000", host, sizeof host, &port));
    assert (streq (host, "::1") && port == 7000);
    assert (!s_host_port ("[::1", host, sizeof host, &port));
    assert (!s_host_port ("host:0", host, sizeof host, &port));
    assert (!s_host_port (":6379", host, sizeof host, &port));
    assert (!s_host_port ("host:99999", host, sizeof host, &port));
    //  Nothing listens on port 1: NULL, no hang
    assert (!gch_redis_connect ("127.0.0.1:1", 200));
    if (verbose)
        printf ("(verbose) ");
    printf ("OK\n");
}
