"""The SMTP server is down: the verification e-mail waits in notify.mail
(status pending, attempts counted, retried with backoff capped at
GCH_RETRY_MAX_MS = 1 s in tests); once the server is back it arrives, once,
and the row is marked sent."""

import time

from gch_mail import Mailbox
from gch_testutil import PASSWORD, assert_status, client, poll, unique_email


def _rows(stack, email):
    """[(status, attempts)] of notify.mail for recipient email."""
    return [(s, int(a)) for s, a in stack.psql(
        "SELECT status, attempts FROM notify.mail WHERE recipient = '%s' ORDER BY id" % email)]


def test_smtp_down(stack):
    mail = Mailbox(stack.maildir)
    email = unique_email("smtpdown")
    stack.stop_smtp()
    try:
        r = client(stack).signup(email, PASSWORD, "Usager Patient")
        assert_status(r, 202)
        rows = poll(lambda: [x for x in _rows(stack, email) if x[1] > 0], timeout=10)
        assert rows, "no notify.mail row for %s with attempts > 0 within 10 s: %s" % (
            email, _rows(stack, email))
        assert len(_rows(stack, email)) == 1, "several notify.mail rows for one verification: %s" % (
            _rows(stack, email))
        status, first = rows[0]
        assert status == "pending", "status %r while SMTP is down" % status
        time.sleep(3.0)
        status, later = _rows(stack, email)[0]
        assert later > first, "not retried while SMTP is down: attempts %d then %d" % (first, later)
        assert status == "pending"
        assert not mail.to(email), "a mail arrived while the SMTP server was down"
    finally:
        stack.start_smtp()
    got = mail.wait_to(email, timeout=15)
    assert got, "the mail did not arrive within 15 s of SMTP coming back"
    sent = poll(lambda: _rows(stack, email)[0][0] == "sent", timeout=5)
    assert sent, "notify.mail row not marked sent: %s" % _rows(stack, email)
    time.sleep(2.0)
    assert len(mail.to(email)) == 1, "sent %d times" % len(mail.to(email))
