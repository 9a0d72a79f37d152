"""Redis holds only what may be lost. With Redis gone, what needs it (log in,
a session) answers 503 and what does not (the catalog) still works; when it
comes back empty, sessions are gone (log in again) and no data is lost."""

import signal
import time

from gch_testutil import (PASSWORD, PROCEDURE, assert_error, assert_status, citizen, client,
                          forget_sessions, ident, procedure, valid_form)


def test_redis_loss(stack):
    c, email = citizen(stack, "redisloss")
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": valid_form(procedure(stack)),
                                    "submit": True})
    assert_status(r, 201)
    did, number = ident(r.json["id"]), r.json["number"]

    redis = stack.find("redis")
    assert redis, "no redis running"
    stack.kill(redis[0], signal.SIGKILL)
    try:
        # anonymous routes do not need Redis
        assert_status(client(stack).get("/api/v1/procedures"), 200)
        # a session cannot be checked: 503, not 401 and not a hang
        t0 = time.monotonic()
        assert_error(c.get("/api/v1/dossiers/%s" % did), 503, "unavailable")
        assert time.monotonic() - t0 < 5, "the gateway hung on a dead Redis"
        # nor created: login fails closed (its rate limit lives in Redis)
        other = client(stack)
        assert_error(other.login(email, PASSWORD), 503, "unavailable")
    finally:
        stack.start_redis()
        forget_sessions(stack)
    # Redis is back, empty: the old session is gone, the data is not
    assert_error(c.get("/api/v1/dossiers/%s" % did), 401, "unauthenticated")
    again = client(stack)
    assert_status(again.login(email, PASSWORD), 200)
    r = again.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.json["number"] == number and r.json["status"] == "submitted", r.json
