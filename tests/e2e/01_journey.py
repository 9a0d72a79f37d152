"""The whole journey of docs/api.md: a citizen signs up, verifies the address
from the e-mail, logs in, files an "Opération Tranquillité Vacances" dossier;
the demo agent instructs and accepts it; the citizen sees the decision, the
tamper-evident history, and gets the status e-mails."""

import hashlib

from gch_mail import Mailbox
from gch_testutil import (HEX64_RE, NUMBER_RE, PASSWORD, PROCEDURE, assert_error,
                          assert_status, client, demo_agent, ident, unique_email,
                          valid_form)


def history_hash(prev_hash, dossier_id, h):
    """sha256 hex of the previous hash followed by "<bytes>:<field>;" for
    dossier id, seq, at_ms, actor_kind, actor_id, actor_name, from_status,
    to_status, comment (svc-dossiers/sql/0001_init.sql, history.hash)."""
    fields = [str(dossier_id), str(h.get("seq", 0)), str(h.get("at_ms", 0)),
              h.get("actor_kind", ""), str(h.get("actor_id", 0)), h.get("actor_name", ""),
              h.get("from_status", ""), h.get("to_status", ""), h.get("comment", "")]
    text = prev_hash.encode() + b"".join(
        b"%d:%s;" % (len(f.encode()), f.encode()) for f in fields)
    return hashlib.sha256(text).hexdigest()


def test_journey(stack):
    mail = Mailbox(stack.maildir)
    c = client(stack)
    email = unique_email("journey")

    # -- sign-up: 202 with a message; one account row, and no session yet
    r = c.signup(email, PASSWORD, "Camille Parcours")
    assert_status(r, 202)
    assert isinstance(r.json, dict) and r.json.get("message"), "202 without message: %r" % r
    n = stack.psql_value("SELECT count(*) FROM accounts.account WHERE email = '%s'" % email)
    assert n == "1", "expected 1 account row for %s, found %s" % (email, n)
    assert "gch_session" not in c.cookies, "sign-up must not open a session"

    # the same answer when the address already exists (no account enumeration)
    r2 = client(stack).signup(email, PASSWORD, "Quelqu'un d'autre")
    assert_status(r2, 202)
    assert r2.json == r.json, "sign-up answers differ for a known address: %r vs %r" % (r, r2)

    # -- the verification e-mail reaches the SMTP catcher
    got = mail.wait_to(email, timeout=15)
    assert got, "no verification e-mail to %s within 15 s (maildir %s)" % (email, stack.maildir)
    m = got[0]
    assert m.message_id, "verification e-mail has no Message-ID: %r" % m
    assert m.msg.get("From"), "verification e-mail has no From"
    link = m.verify_link()
    assert link, "no link with token= in the verification e-mail:\n%s" % m.text[:1500]
    assert link.startswith(stack.public_url), "link %s does not start with GCH_PUBLIC_URL %s" % (
        link, stack.public_url)
    token = link.split("token=", 1)[1].split("&", 1)[0]
    assert len(token) >= 32, "verification token too short: %r" % token

    path = link[len(stack.public_url):] or "/"
    r = c.get(path)
    assert_status(r, 200)
    api_path = "/api/v1/accounts/verify?token=" + token
    if not path.startswith("/api/v1/accounts/verify"):
        # the link opens a portal page, which calls the API with the token
        r = c.get(api_path)
        assert_status(r, 200)
    # a used token is refused
    assert_error(c.get(api_path), 404)

    # -- login: session cookie HttpOnly + SameSite=Lax, CSRF token rotated
    before = c.csrf_token
    r = c.login(email, PASSWORD)
    assert_status(r, 200)
    user = r.json.get("user") or {}
    assert user.get("email") == email, "login user.email: %r" % r
    assert user.get("kind") == "citizen", "login user.kind: %r" % r
    assert user.get("verified") is True, "verified account not marked verified: %r" % r
    assert r.json.get("csrf_token"), "login answer lacks csrf_token: %r" % r
    assert r.json["csrf_token"] != before, "CSRF token not rotated at login"
    cookie = c.cookie_header("gch_session") or ""
    assert cookie, "login did not set gch_session"
    low = cookie.lower()
    assert "httponly" in low and "samesite=lax" in low and "path=/" in low, \
        "gch_session cookie attributes: %s" % cookie
    csrf_cookie = (c.cookie_header("gch_csrf") or "").lower()
    assert csrf_cookie and "httponly" not in csrf_cookie, \
        "gch_csrf must be readable by scripts: %s" % csrf_cookie
    r = c.get("/api/v1/session")
    assert_status(r, 200)
    assert (r.json.get("user") or {}).get("email") == email, "GET session: %r" % r

    # -- the catalog
    r = c.get("/api/v1/procedures")
    assert_status(r, 200)
    slugs = [p.get("slug") for p in r.json.get("procedures", [])]
    assert PROCEDURE in slugs, "procedure list lacks %s: %s" % (PROCEDURE, slugs)
    r = c.get("/api/v1/procedures/" + PROCEDURE)
    assert_status(r, 200)
    proc = r.json
    assert proc.get("service") == "police-municipale", "procedure service: %r" % proc.get("service")
    codes = {s.get("code") for s in proc.get("statuses", [])}
    for s in ("draft", "submitted", "in_instruction", "accepted", "refused"):
        assert s in codes, "status %s missing from the workflow: %s" % (s, codes)
    assert isinstance(proc.get("form"), (dict, list)), "procedure form is not JSON: %r" % proc.get("form")

    # -- file a dossier
    form = valid_form(proc)
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": form, "submit": True})
    assert_status(r, 201)
    d = r.json
    dossier_id = ident(d.get("id"))
    assert dossier_id not in ("", "0", "None"), "no dossier id: %r" % r
    assert NUMBER_RE.match(d.get("number", "")), "number %r is not NNNN-NNNNNN" % d.get("number")
    assert d.get("status") == "submitted", "status after submit: %r" % d.get("status")
    assert d.get("procedure") == PROCEDURE
    assert d.get("form") == form, "form not kept as sent: %r vs %r" % (d.get("form"), form)
    number = d["number"]
    row = stack.psql("SELECT status FROM dossiers.dossier WHERE id = %s" % dossier_id)
    assert row == [["submitted"]], "database row of dossier %s: %r" % (dossier_id, row)

    r = c.get("/api/v1/dossiers")
    assert_status(r, 200)
    mine = [x for x in r.json.get("dossiers", []) if ident(x.get("id")) == dossier_id]
    assert len(mine) == 1, "GET /api/v1/dossiers does not list %s once: %r" % (dossier_id, r)
    assert mine[0].get("number") == number

    # -- the agent of police-municipale instructs, then accepts
    agent = demo_agent(stack)
    r = agent.get("/api/v1/agent/dossiers")
    assert_status(r, 200)
    queue = [ident(x.get("id")) for x in r.json.get("dossiers", [])]
    assert dossier_id in queue, "agent queue lacks %s: %s" % (dossier_id, queue)
    r = agent.get("/api/v1/dossiers/%s" % dossier_id)
    assert_status(r, 200)
    offered = {t.get("to") for t in r.json.get("transitions", [])}
    assert "in_instruction" in offered, "transitions offered to the agent: %s" % offered

    r = agent.post("/api/v1/dossiers/%s/transitions" % dossier_id,
                   {"to": "in_instruction", "comment": "Prise en charge"})
    assert_status(r, 200)
    assert r.json.get("status") == "in_instruction", "after instruct: %r" % r
    r = agent.post("/api/v1/dossiers/%s/transitions" % dossier_id,
                   {"to": "accepted", "comment": "Surveillance programmée"})
    assert_status(r, 200)
    assert r.json.get("status") == "accepted", "after accept: %r" % r

    # -- the citizen sees the decision and the chained history
    r = c.get("/api/v1/dossiers/%s" % dossier_id)
    assert_status(r, 200)
    d = r.json
    assert d.get("status") == "accepted", "citizen sees status %r" % d.get("status")
    label = d.get("status_label")
    assert label, "no status_label on the dossier"
    hist = d.get("history") or []
    assert len(hist) >= 3, "history has %d entries, expected >= 3: %r" % (len(hist), hist)
    seqs = [int(h.get("seq", 0)) for h in hist]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "history out of order: %s" % seqs
    tos = [h.get("to_status") for h in hist]
    i_sub, i_ins, i_acc = (tos.index(s) if s in tos else -1
                           for s in ("submitted", "in_instruction", "accepted"))
    assert 0 <= i_sub < i_ins < i_acc, "history statuses not in order: %s" % tos
    for prev, cur in zip(hist, hist[1:]):
        assert cur.get("from_status") == prev.get("to_status"), \
            "history not contiguous: %r then %r" % (prev, cur)
    hashes = [h.get("hash", "") for h in hist]
    assert all(HEX64_RE.match(h) for h in hashes), "history hashes not sha256 hex: %s" % hashes
    assert len(set(hashes)) == len(hashes), "history hashes repeat: %s" % hashes
    assert hist[i_acc].get("comment") == "Surveillance programmée", \
        "accept comment lost: %r" % hist[i_acc]
    # the chain can be checked by anyone from the reply alone
    prev = ""
    for h in hist:
        expected = history_hash(prev, dossier_id, h)
        assert h["hash"] == expected, "history entry %s: hash %s, recomputed %s" % (
            h.get("seq"), h["hash"], expected)
        prev = h["hash"]
    db_hist = int(stack.psql_value(
        "SELECT count(*) FROM dossiers.history WHERE dossier_id = %s" % dossier_id))
    assert db_hist == len(hist), "dossiers.history has %d rows, API shows %d" % (db_hist, len(hist))

    # -- status e-mails to the citizen (beyond the verification one)
    about = mail.wait(lambda m: email in m.recipients and number in (m.subject + m.text)
                      and label in (m.subject + m.text), timeout=15)
    assert about, "no e-mail to %s about %s with the label %r within 15 s; got: %s" % (
        email, number, label, mail.to(email))
    ids = [m.message_id for m in mail.to(email)]
    assert len(ids) == len(set(ids)), "the citizen got the same Message-ID twice: %s" % ids
