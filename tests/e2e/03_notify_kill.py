"""svc-notify killed with SIGKILL, again and again, while accounts are being
created: every verification e-mail still arrives, each account's mail keeps
one Message-ID, and a copy is sent twice at most once per kill (a kill
between the SMTP answer and the commit of "sent")."""

import collections
import signal
import threading
import time

from gch_mail import Mailbox
from gch_testutil import PASSWORD, assert_status, client, unique_email

ACCOUNTS = 20
KILLS = 3


def test_notify_kill(stack):
    mail = Mailbox(stack.maildir)
    emails = [unique_email("notifykill") for _ in range(ACCOUNTS)]
    answers = {}
    errors = []

    def sign_up_all():
        c = client(stack)
        for e in emails:
            try:
                answers[e] = c.signup(e, PASSWORD, "Usager Résistant")
            except Exception as ex:  # noqa: BLE001 - reported below
                errors.append("%s: %r" % (e, ex))
            time.sleep(0.15)

    t = threading.Thread(target=sign_up_all)
    t.start()
    kills = 0
    try:
        for _ in range(KILLS):
            time.sleep(0.8)
            alive = stack.find("svc-notify")
            assert alive, "no svc-notify running before kill %d" % (kills + 1)
            for h in alive:
                stack.kill(h, signal.SIGKILL)
            kills += 1
            time.sleep(0.3)
            stack.start_service("notify")
    finally:
        t.join(timeout=120)
        if not stack.find("svc-notify"):
            stack.start_service("notify")
    assert not t.is_alive(), "sign-ups did not finish"
    assert not errors, "sign-up requests failed: %s" % errors
    for e in emails:
        assert_status(answers[e], 202)

    def all_arrived():
        return all(mail.to(e) for e in emails)
    deadline = time.monotonic() + 45
    while not all_arrived() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)   # let late duplicates land, so they are counted
    missing = [e for e in emails if not mail.to(e)]
    assert not missing, "%d of %d verification e-mails never arrived: %s" % (
        len(missing), len(emails), missing[:5])

    copies = collections.Counter()
    owner = {}
    for e in emails:
        got = mail.to(e)
        ids = {m.message_id for m in got}
        assert "" not in ids, "an e-mail to %s has no Message-ID" % e
        assert len(ids) == 1, "%s got %d different Message-IDs (same mail sent as new): %s" % (
            e, len(ids), sorted(ids))
        for m in got:
            copies[m.message_id] += 1
            assert owner.setdefault(m.message_id, e) == e, \
                "Message-ID %s used for two accounts" % m.message_id
    extra = sum(n - 1 for n in copies.values())
    assert extra <= kills, "%d duplicate copies for %d kills: %s" % (
        extra, kills, {k: v for k, v in copies.items() if v > 1})
