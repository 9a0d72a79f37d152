"""Two instances of svc-dossiers; one is killed with SIGKILL in the middle of
a burst of filings. Every request gets an answer within the gateway's
deadline (GCH_TIMEOUT_MS) plus 2 s, never a hang; every filing answered 2xx
is in the database; nothing is filed twice."""

import signal
import threading
import time

from gch_testutil import (PROCEDURE, assert_error, citizen, ident, procedure,
                          valid_form)

THREADS = 4
PER_THREAD = 50
KILL_AFTER = 40


def _burst(stack, users, victim, deadline_s):
    """Filings from every user's thread; victim killed after KILL_AFTER
    answers. Returns (records, answers seen when the kill happened)."""
    form = valid_form(procedure(stack))
    records = []          # (status or None, elapsed s, response or error text)
    lock = threading.Lock()
    halt = threading.Event()            # set if the test gives up (watchdog)

    def worker(c):
        c.timeout = deadline_s + 30     # a hang shows as a long elapsed time
        for _ in range(PER_THREAD):
            if halt.is_set():
                return
            t0 = time.monotonic()
            try:
                r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": form,
                                                "submit": True})
                rec = (r.status, time.monotonic() - t0, r)
            except Exception as e:  # noqa: BLE001 - a request without an answer
                rec = (None, time.monotonic() - t0, repr(e))
            with lock:
                records.append(rec)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c, _ in users]
    for t in threads:
        t.start()
    try:
        wait_until = time.monotonic() + 60
        while len(records) < KILL_AFTER and time.monotonic() < wait_until:
            time.sleep(0.01)
        stack.kill(victim, signal.SIGKILL)
        killed_at = len(records)
        for t in threads:
            t.join(timeout=240)
    finally:
        halt.set()
    assert not any(t.is_alive() for t in threads), "filing threads still running after 240 s"
    return records, killed_at


def test_dossiers_failover(stack):
    deadline_s = int(stack.setting("GCH_TIMEOUT_MS")) / 1000.0
    first = stack.find("svc-dossiers")
    assert first, "no svc-dossiers running"
    victim = first[0]
    second = stack.start_service("dossiers")
    try:
        time.sleep(2.0)       # the new instance registers with the broker (heartbeats)
        assert second.alive(), "second svc-dossiers exited at start"
        users = [citizen(stack, "failover") for _ in range(THREADS)]
        records, killed_at = _burst(stack, users, victim, deadline_s)

        total = THREADS * PER_THREAD
        assert len(records) == total, "%d of %d requests recorded" % (len(records), total)
        assert KILL_AFTER <= killed_at < total, "kill did not happen during the burst"
        no_answer = [r for r in records if r[0] is None]
        assert not no_answer, "%d requests got no HTTP answer: %s" % (len(no_answer),
                                                                     no_answer[:3])
        slowest = max(r[1] for r in records)
        assert slowest < deadline_s + 2, "slowest answer took %.2fs (deadline %.1fs + 2s)" % (
            slowest, deadline_s)

        ok = [r[2] for r in records if 200 <= r[0] < 300]
        bad = [r[2] for r in records if not 200 <= r[0] < 300]
        for r in bad:
            assert r.status in (503, 504), "unexpected answer during failover: %r" % r
            assert_error(r, r.status)
        assert len(bad) <= THREADS, (
            "%d of %d filings refused (%s); at most one in flight per client (%d) may "
            "be lost with the killed instance" % (len(bad), total,
                                                  sorted({r.status for r in bad}), THREADS))
        for r in ok:
            assert r.status == 201 and r.json.get("status") == "submitted", "bad 2xx: %r" % r

        ids = [ident(r.json["id"]) for r in ok]
        numbers = {ident(r.json["id"]): r.json["number"] for r in ok}
        assert len(set(ids)) == len(ids), "the same dossier id answered twice"
        assert len(set(numbers.values())) == len(ids), "the same number given twice"
        rows = {}
        for i in range(0, len(ids), 100):
            chunk = ids[i:i + 100]
            for rid, num in stack.psql("SELECT id, number FROM dossiers.dossier WHERE id IN (%s)"
                                       % ",".join(chunk)):
                rows[rid] = num
        lost = [i for i in ids if i not in rows]
        assert not lost, "%d filings answered 2xx are not in the database: %s" % (
            len(lost), lost[:10])
        wrong = [i for i in ids if rows[i] != numbers[i]]
        assert not wrong, "numbers differ between answers and database: %s" % wrong[:5]
        citizen_ids = ",".join(ident(c.user["id"]) for c, _ in users)
        in_db = int(stack.psql_value(
            "SELECT count(*) FROM dossiers.dossier WHERE citizen_id IN (%s)" % citizen_ids))
        assert len(ok) <= in_db <= len(ok) + len(bad), (
            "%d dossiers in the database for %d 2xx and %d refused filings (duplicates?)"
            % (in_db, len(ok), len(bad)))
    finally:
        # back to normal: one fresh instance replaces the killed one; the extra
        # one is stopped cleanly (its exit status is checked at teardown)
        if victim.alive():
            stack.kill(victim)
        stack.start_service("dossiers")
        time.sleep(1.0)
        stack.terminate(second)
        stack.wait_healthy()
