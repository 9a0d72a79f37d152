"""A draft's life (create incomplete, update, submit, then frozen), and the
gateway's promise that a slow service call does not stall unrelated
requests."""

import hashlib
import os
import subprocess
import threading
import time

from gch_testutil import (NUMBER_RE, PROCEDURE, assert_error, assert_status, citizen, client,
                          ident, procedure, redis_cli, valid_form)

PG_BIN = "/usr/lib/postgresql/15/bin"


def test_draft_update_submit(stack):
    c, _ = citizen(stack, "draft")
    full = valid_form(procedure(stack))
    # a draft may be incomplete: only one field
    first_key = sorted(full)[0]
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE,
                                    "form": {first_key: full[first_key]}})
    assert_status(r, 201)
    d = r.json
    did = ident(d["id"])
    assert d["status"] == "draft", "new dossier without submit is not a draft: %r" % d
    assert not d.get("number"), "a draft has no number yet: %r" % d

    # submitting the incomplete draft is refused, field by field, nothing changes
    r = c.post("/api/v1/dossiers/%s/submit" % did)
    err = assert_error(r, 422, "unprocessable")
    missing = [k for k in full if k != first_key and
               any(f.split(".")[-1] == k for f in err.get("fields", {}))]
    assert missing, "no per-field message for the missing fields: %r" % err
    assert stack.psql_value("SELECT status FROM dossiers.dossier WHERE id = %s" % did) == "draft"

    # complete it, read it back
    r = c.patch("/api/v1/dossiers/%s" % did, {"form": full})
    assert_status(r, 200)
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.json["form"] == full, "updated form not stored: %r" % r.json["form"]
    assert r.json["history"] == [], "a draft has no history yet: %r" % r.json["history"]

    # submit: number, status, one history entry, one event
    events_before = int(stack.psql_value(
        "SELECT count(*) FROM dossiers.outbox WHERE type = 'dossier.submitted'"))
    r = c.post("/api/v1/dossiers/%s/submit" % did)
    assert_status(r, 200)
    assert r.json["status"] == "submitted", "not submitted: %r" % r
    assert NUMBER_RE.match(r.json.get("number", "")), "bad number %r" % r.json.get("number")
    events_after = int(stack.psql_value(
        "SELECT count(*) FROM dossiers.outbox WHERE type = 'dossier.submitted'"))
    assert events_after == events_before + 1, "submit wrote %d events" % (
        events_after - events_before)
    r = c.get("/api/v1/dossiers/%s" % did)
    assert [h["to_status"] for h in r.json["history"]] == ["submitted"], r.json["history"]

    # once submitted, the citizen can neither edit nor submit again
    number = r.json["number"]
    assert_error(c.patch("/api/v1/dossiers/%s" % did, {"form": full}), 409, "conflict")
    assert_error(c.post("/api/v1/dossiers/%s/submit" % did), 409, "conflict")
    row = stack.psql("SELECT number, status FROM dossiers.dossier WHERE id = %s" % did)
    assert row == [[number, "submitted"]], "dossier changed after a refused call: %r" % row


def test_slow_call_does_not_stall_others(stack):
    """svc-dossiers is held up by a table lock for a few seconds; meanwhile
    requests that do not need it (GET /api/v1/session, served by
    svc-accounts through the same gateway) answer at once."""
    c, _ = citizen(stack, "patient")
    d = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": valid_form(procedure(stack)),
                                    "submit": True})
    assert_status(d, 201)
    did = ident(d.json["id"])
    hold_s = 3.0
    # A separate psql holds an exclusive lock on the dossier table: reads of
    # it wait in svc-dossiers (every instance) until the lock goes.
    locker = subprocess.Popen(
        [os.path.join(PG_BIN, "psql"), "-X", "-q", "-h", "127.0.0.1",
         "-p", str(stack.ports["pg"]), "-U", "postgres", "-d", "guichet",
         "-c", "BEGIN; LOCK TABLE dossiers.dossier IN ACCESS EXCLUSIVE MODE;"
               " SELECT pg_sleep(%s); COMMIT;" % hold_s],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # wait until the lock is really held
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if stack.psql_value(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " WHERE c.relname = 'dossier' AND l.mode = 'AccessExclusiveLock'"
                    " AND l.granted") == "1":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the test could not take the table lock")
        slow = {}

        def read_dossier():
            t0 = time.monotonic()
            r = c.get("/api/v1/dossiers/%s" % did)
            slow["status"], slow["elapsed"] = r.status, time.monotonic() - t0

        t = threading.Thread(target=read_dossier)
        t.start()
        time.sleep(0.3)       # the slow read is now waiting in svc-dossiers
        other, _ = citizen(stack, "unrelated")
        timings = []
        for _ in range(5):
            t0 = time.monotonic()
            r = other.get("/api/v1/session")
            timings.append(time.monotonic() - t0)
            assert_status(r, 200)
            assert r.json.get("user"), "session lost: %r" % r
        assert max(timings) < 1.0, "unrelated requests waited behind the slow one: %s" % [
            "%.2f" % x for x in timings]
        assert t.is_alive(), "the slow read did not wait for the lock (test is void)"
        t.join(timeout=30)
        assert not t.is_alive(), "the slow read never came back"
        assert slow["status"] == 200, "slow read answered %s" % slow["status"]
        assert slow["elapsed"] >= hold_s - 1.0, "slow read was not slow: %.2fs" % slow["elapsed"]
    finally:
        locker.wait(timeout=30)


def test_session_lifecycle(stack):
    """The session cookie is HttpOnly and SameSite=Lax; Redis holds the
    token's hash, never the token, with a TTL; who-am-I answers the user;
    logout deletes the session server-side, so the old cookie is worthless."""
    c, email = citizen(stack, "session")
    token = c.cookies.get("gch_session")
    assert token and len(token) == 64, "session token is not 256 bits of hex: %r" % token
    raw = c.cookie_header("gch_session")
    assert "HttpOnly" in raw and "SameSite=Lax" in raw, "session cookie attributes: %s" % raw
    assert "HttpOnly" not in (c.cookie_header("gch_csrf") or ""), "CSRF cookie must be readable"

    key = "session:" + hashlib.sha256(token.encode()).hexdigest()
    assert redis_cli(stack, "EXISTS", key) == ["1"], "no %s in Redis" % key
    assert redis_cli(stack, "EXISTS", "session:" + token) == ["0"], "raw token stored in Redis"
    ttl = int(redis_cli(stack, "TTL", key)[0])
    assert 0 < ttl <= 8 * 3600, "session TTL %d" % ttl

    r = c.get("/api/v1/session")
    assert_status(r, 200)
    assert r.json["user"]["email"] == email, "who-am-I: %r" % r.json

    r = c.logout()
    assert_status(r, 200)
    assert redis_cli(stack, "EXISTS", key) == ["0"], "session still in Redis after logout"
    assert_error(c.get("/api/v1/dossiers"), 401, "unauthenticated")
    # the old cookie, replayed by hand, opens nothing
    replay = client(stack)
    replay.cookies["gch_session"] = token
    assert_error(replay.get("/api/v1/dossiers"), 401, "unauthenticated")
    r = replay.get("/api/v1/session")
    assert_status(r, 200)
    assert r.json.get("user") is None, "logged-out session still answers: %r" % r.json


def test_history_append_only(stack):
    """The database itself refuses to rewrite or erase a dossier's history,
    whoever asks (even the superuser): the trigger, not the service's good
    manners, keeps it append-only."""
    c, _ = citizen(stack, "history")
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": valid_form(procedure(stack)),
                                    "submit": True})
    assert_status(r, 201)
    did = ident(r.json["id"])
    before = stack.psql("SELECT seq, to_status, comment, hash FROM dossiers.history"
                        " WHERE dossier_id = %s ORDER BY seq" % did)
    assert len(before) == 1, "expected one history entry: %r" % before
    for sql in ("UPDATE dossiers.history SET comment = 'réécrit' WHERE dossier_id = %s" % did,
                "DELETE FROM dossiers.history WHERE dossier_id = %s" % did,
                "TRUNCATE dossiers.history CASCADE"):
        try:
            stack.psql(sql)
        except Exception:  # noqa: BLE001 - psql failed: what we want
            continue
        raise AssertionError("the database accepted: %s" % sql)
    after = stack.psql("SELECT seq, to_status, comment, hash FROM dossiers.history"
                       " WHERE dossier_id = %s ORDER BY seq" % did)
    assert after == before, "history changed: %r -> %r" % (before, after)
