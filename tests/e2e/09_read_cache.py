"""The gateway's read cache (lib/gch_cache.h): a citizen's GET of their
dossier is kept in Redis and served from there; svc-dossiers invalidates it
after every change, so no reader ever sees an older state than one it
could have read from the database; others never get someone's entry."""

from gch_testutil import (assert_error, assert_status, citizen, demo_agent, filed_dossier,
                          file_dossier, ident, redis_cli, valid_form, procedure)


def _entry(stack, did):
    """The cache entry of dossier did: revision "r" and owner "o" if set,
    "b" if it has a body (empty if there is no entry)."""
    key = "cache:dossier:%s" % did
    entry = {}
    for field in ("r", "o"):
        value = redis_cli(stack, "HGET", key, field)
        if value:
            entry[field] = value[0]
    if redis_cli(stack, "HEXISTS", key, "b") == ["1"]:
        entry["b"] = True
    return entry


def test_read_cache(stack):
    c, _ = citizen(stack, "cache")
    filed = filed_dossier(stack, c)
    did = ident(filed["id"])
    assert _entry(stack, did) == {}, "entry before any read"

    # The first read fills the entry for its owner, at revision 1
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    first = r.body
    assert r.json["revision"] == 1, r.json
    entry = _entry(stack, did)
    assert entry.get("r") == "1", entry
    assert entry.get("o") == str(r.json["citizen_id"]), entry
    ttl = int(redis_cli(stack, "TTL", "cache:dossier:%s" % did)[0])
    assert 0 < ttl <= 300, "cache entry TTL %d" % ttl

    # The next read is the entry, byte for byte; the entry is really used:
    # a marker put into it comes back (nothing else could answer it)
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.body == first, "cached answer differs from the first"
    marked = first.replace(b'"status":"submitted"', b'"status":"marker"')
    assert marked != first
    redis_cli(stack, "HSET", "cache:dossier:%s" % did, "b", marked.decode())
    r = c.get("/api/v1/dossiers/%s" % did)
    assert r.json["status"] == "marker", "the gateway did not answer from the cache"

    # Another citizen never gets the entry: 404 as without a cache
    other, _ = citizen(stack, "cacheother")
    assert_error(other.get("/api/v1/dossiers/%s" % did), 404, "not_found")
    # An agent reads through the service (their view depends on their
    # services): the real status, and the transitions offered to them
    agent = demo_agent(stack)
    r = agent.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.json["status"] == "submitted" and r.json["transitions"], r.json

    # A change invalidates: the citizen sees it at once, never the marker
    r = agent.post("/api/v1/dossiers/%s/transitions" % did,
                   {"to": "in_instruction", "comment": "Prise en charge"})
    assert_status(r, 200)
    entry = _entry(stack, did)
    assert entry.get("r") == "2" and "b" not in entry, "no tombstone after the change: %s" % entry
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.json["status"] == "in_instruction" and r.json["revision"] == 2, r.json
    assert len(r.json["history"]) == 2, r.json["history"]
    assert _entry(stack, did).get("r") == "2"

    # A reader that read revision 1 before the change cannot put it back
    # (the fill is refused, as the gateway's would be)
    res = redis_cli(stack, "EVAL",
                    "local r = tonumber(redis.call('HGET', KEYS[1], 'r'))\n"
                    "if r and tonumber(ARGV[1]) < r then return 0 end\n"
                    "redis.call('HSET', KEYS[1], 'r', ARGV[1], 'b', 'stale')\n"
                    "return 1", "1", "cache:dossier:%s" % did, "1")
    assert res == ["0"], "an older revision was accepted: %s" % res


def test_read_cache_drafts(stack):
    """A draft's updates invalidate too, and a wrong id is answered as
    without a cache."""
    c, _ = citizen(stack, "cachedraft")
    form = valid_form(procedure(stack))
    r = file_dossier(stack, c, submit=False, form=form)
    assert_status(r, 201)
    did = ident(r.json["id"])
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    entry = _entry(stack, did)
    assert entry.get("r") == "1", "draft entry %s, answer %s" % (entry, r.json)
    form["commentaire"] = "Deuxième version du brouillon"
    r = c.patch("/api/v1/dossiers/%s" % did, {"form": form})
    assert_status(r, 200)
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.json["form"]["commentaire"] == "Deuxième version du brouillon", r.json["form"]
    assert r.json["revision"] == 2, r.json
    r = c.post("/api/v1/dossiers/%s/submit" % did, {})
    assert_status(r, 200)
    r = c.get("/api/v1/dossiers/%s" % did)
    assert r.json["status"] == "submitted" and r.json["revision"] == 3, r.json
    for bad in ("0", "007", "x1", "99999999999999999999"):
        r = c.get("/api/v1/dossiers/%s" % bad)
        assert r.status in (400, 404), "GET /api/v1/dossiers/%s: %s" % (bad, r)
