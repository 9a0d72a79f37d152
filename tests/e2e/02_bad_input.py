"""Bad input gets a clear error of the contract and changes nothing.

Each test checks the HTTP status, the {"error":{"code","message","fields"}}
shape, and that accounts.account, dossiers.dossier and dossiers.history have
the same number of rows before and after (tests/lib/gch_testutil.py)."""

from gch_testutil import (PASSWORD, PROCEDURE, assert_error, assert_status,
                          assert_unchanged, citizen, client, db_counts, demo_agent,
                          file_dossier, filed_dossier, ident, new_agent, procedure,
                          unique_email, valid_form)


def test_malformed_json(stack):
    c, _ = citizen(stack, "malformed")
    before = db_counts(stack)
    for body in ['{"procedure": "%s", "form": {' % PROCEDURE, "not json", "[1, 2]",
                 '{"procedure": "%s", "form": {}, "submit": true} trailing' % PROCEDURE,
                 '{"procedure": "%s", "procedure": "%s"}' % (PROCEDURE, PROCEDURE)]:
        r = c.request("POST", "/api/v1/dossiers", body=body)
        assert r.status == 400, "malformed body %r: expected 400, got %r" % (body, r)
        assert_error(r, 400, "invalid")
    # an empty body is read as {} by the gateway: refused by the rules, not a 5xx
    r = c.request("POST", "/api/v1/dossiers", body="")
    assert r.status in (400, 422), "empty body: %r" % r
    assert_error(r, r.status)
    assert_unchanged(stack, before, "(malformed JSON)")


def test_wrong_field_type(stack):
    c, _ = citizen(stack, "wrongtype")
    before = db_counts(stack)
    r = c.post("/api/v1/dossiers", {"procedure": 42, "form": valid_form(procedure(stack)),
                                    "submit": True})
    assert_error(r, 400, "invalid", fields=["procedure"])
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": valid_form(procedure(stack)),
                                    "submit": "oui"})
    assert_error(r, 400, "invalid", fields=["submit"])
    email = unique_email("wrongtype-signup")
    r = client(stack).signup(["liste"], PASSWORD, "Nom")
    assert_error(r, 400, "invalid", fields=["email"])
    r = client(stack).signup(email, 12345678, "Nom")
    assert_error(r, 400, "invalid", fields=["password"])
    assert_unchanged(stack, before, "(wrong types)")
    assert stack.psql_value("SELECT count(*) FROM accounts.account WHERE email = '%s'"
                            % email) == "0"


def test_unknown_field(stack):
    before = db_counts(stack)
    email = unique_email("unknownfield")
    r = client(stack).signup(email, PASSWORD, "Nom", is_admin=True)
    assert_error(r, 400, "invalid", fields=["is_admin"])
    assert stack.psql_value("SELECT count(*) FROM accounts.account WHERE email = '%s'"
                            % email) == "0", "account created despite the unknown field"
    c, _ = citizen(stack, "unknownfield")
    before = db_counts(stack)
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": valid_form(procedure(stack)),
                                    "submit": True, "status": "accepted"})
    assert_error(r, 400, "invalid", fields=["status"])
    assert_unchanged(stack, before, "(unknown field)")


def test_body_too_large(stack):
    c, _ = citizen(stack, "toolarge")
    limit = int(stack.setting("GCH_BODY_LIMIT"))
    before = db_counts(stack)
    form = valid_form(procedure(stack))
    form["commentaire"] = "x" * (limit + 1)
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": form, "submit": True})
    assert_error(r, 413, "too_large")
    assert_unchanged(stack, before, "(body over the limit)")
    # a body under the limit is not refused for its size
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": {"adresse": "x" * 100},
                                    "submit": False})
    assert r.status != 413, "small body refused as too large: %r" % r


def test_unsupported_content_type(stack):
    c, _ = citizen(stack, "ctype")
    before = db_counts(stack)
    r = c.request("POST", "/api/v1/dossiers", body="procedure=%s" % PROCEDURE,
                  content_type="application/x-www-form-urlencoded")
    assert_error(r, 415, "unsupported")
    assert_unchanged(stack, before, "(form-encoded body)")


def test_unknown_procedure(stack):
    c, _ = citizen(stack, "unknownproc")
    before = db_counts(stack)
    r = c.post("/api/v1/dossiers", {"procedure": "demarche-inexistante",
                                    "form": valid_form(procedure(stack)), "submit": True})
    assert_error(r, 422, "unprocessable", fields=["procedure"])
    r = client(stack).get("/api/v1/procedures/demarche-inexistante")
    assert_error(r, 404, "not_found")
    assert_unchanged(stack, before, "(unknown procedure)")


def test_invalid_form_on_submit(stack):
    c, _ = citizen(stack, "badform")
    before = db_counts(stack)
    form = valid_form(procedure(stack))
    missing = "adresse" if "adresse" in form else sorted(form)[0]
    del form[missing]
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": form, "submit": True})
    err = assert_error(r, 422, "unprocessable")
    names = set((err.get("fields") or {}).keys())
    assert names & {missing, "form." + missing}, \
        "error.fields does not name the missing %r: %r" % (missing, r)
    assert_unchanged(stack, before, "(form without %s)" % missing)


def test_transition_not_allowed(stack):
    c, _ = citizen(stack, "transition")
    d = filed_dossier(stack, c)
    did = ident(d["id"])
    agent = demo_agent(stack)
    before = db_counts(stack)
    # submitted -> accepted skips in_instruction: not in the workflow
    r = agent.post("/api/v1/dossiers/%s/transitions" % did, {"to": "accepted", "comment": "trop tôt"})
    assert_error(r, 409, "conflict")
    # a status that does not exist at all
    r = agent.post("/api/v1/dossiers/%s/transitions" % did, {"to": "archive-secrete", "comment": ""})
    assert r.status in (409, 422), "unknown target status: %r" % r
    assert_error(r, r.status)
    assert_unchanged(stack, before, "(transition not allowed)")
    r = c.get("/api/v1/dossiers/%s" % did)
    assert_status(r, 200)
    assert r.json.get("status") == "submitted", "status moved: %r" % r.json.get("status")
    # a citizen may not fire transitions at all
    before = db_counts(stack)
    r = c.post("/api/v1/dossiers/%s/transitions" % did, {"to": "in_instruction", "comment": ""})
    assert r.status in (403, 404), "citizen fired a transition: %r" % r
    assert_error(r, r.status)
    assert_unchanged(stack, before, "(citizen transition)")


def test_agent_of_other_service(stack):
    c, _ = citizen(stack, "otherservice")
    d = filed_dossier(stack, c)
    did = ident(d["id"])
    other, _ = new_agent(stack, "etat-civil", "agent-etatcivil")
    before = db_counts(stack)
    r = other.get("/api/v1/dossiers/%s" % did)
    assert_error(r, 404, "not_found")
    r = other.post("/api/v1/dossiers/%s/transitions" % did, {"to": "in_instruction", "comment": "x"})
    assert_error(r, 404, "not_found")
    r = other.get("/api/v1/agent/dossiers")
    assert_status(r, 200)
    ids = [ident(x.get("id")) for x in r.json.get("dossiers", [])]
    assert did not in ids, "agent of etat-civil sees a police-municipale dossier in the queue"
    assert_unchanged(stack, before, "(agent of another service)")
    assert stack.psql_value("SELECT status FROM dossiers.dossier WHERE id = %s" % did) == "submitted"


def test_citizen_reads_other_dossier(stack):
    a, _ = citizen(stack, "owner")
    d = filed_dossier(stack, a)
    did = ident(d["id"])
    draft = file_dossier(stack, a, submit=False)
    assert_status(draft, 201)
    draft_id = ident(draft.json["id"])
    b, _ = citizen(stack, "intruder")
    before = db_counts(stack)
    r_other = b.get("/api/v1/dossiers/%s" % did)
    err_other = assert_error(r_other, 404, "not_found")
    r_none = b.get("/api/v1/dossiers/999999999")
    err_none = assert_error(r_none, 404, "not_found")
    assert err_other == err_none, "another's dossier and a missing one answer differently: %r / %r" % (
        r_other, r_none)
    r = b.patch("/api/v1/dossiers/%s" % draft_id, {"form": {"adresse": "chez moi"}})
    assert_error(r, 404, "not_found")
    r = b.post("/api/v1/dossiers/%s/submit" % draft_id)
    assert_error(r, 404, "not_found")
    r = b.get("/api/v1/dossiers")
    assert_status(r, 200)
    assert not [x for x in r.json.get("dossiers", []) if ident(x.get("id")) in (did, draft_id)], \
        "another citizen's dossiers are listed"
    assert_unchanged(stack, before, "(other citizen)")
    r = a.get("/api/v1/dossiers/%s" % draft_id)
    assert_status(r, 200)
    assert r.json.get("status") == "draft", "draft changed by another citizen: %r" % r


def test_no_session(stack):
    c = client(stack)
    c.fetch_csrf()
    before = db_counts(stack)
    assert_error(c.get("/api/v1/dossiers"), 401, "unauthenticated")
    assert_error(c.get("/api/v1/dossiers/1"), 401, "unauthenticated")
    assert_error(c.get("/api/v1/agent/dossiers"), 401, "unauthenticated")
    r = c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": valid_form(procedure(stack)),
                                    "submit": True})
    assert_error(r, 401, "unauthenticated")
    # a forged session cookie is no session
    c.cookies["gch_session"] = "0" * 64
    assert_error(c.get("/api/v1/dossiers"), 401, "unauthenticated")
    r = c.get("/api/v1/session")
    assert_status(r, 200)
    assert r.json.get("user") is None, "forged cookie gave a user: %r" % r
    assert_unchanged(stack, before, "(no session)")


def test_missing_csrf(stack):
    c, email = citizen(stack, "csrf")
    before = db_counts(stack)
    body = {"procedure": PROCEDURE, "form": valid_form(procedure(stack)), "submit": True}
    assert_error(c.post("/api/v1/dossiers", body, csrf=False), 403, "csrf")
    assert_error(c.post("/api/v1/dossiers", body, csrf="0" * 64), 403, "csrf")
    assert_error(c.delete("/api/v1/session", csrf=False), 403, "csrf")
    # the token of before the login is no longer good (rotated at login)
    fresh = client(stack)
    fresh.fetch_csrf()
    old = fresh.csrf_token
    assert old, "GET /api/v1/session gave no csrf_token"
    r = fresh.login(email, PASSWORD)
    assert_status(r, 200)
    assert_error(fresh.post("/api/v1/dossiers", body, csrf=old), 403, "csrf")
    # sign-up and login are writes too
    other = client(stack)
    e2 = unique_email("csrf-signup")
    r = other.post("/api/v1/accounts", {"email": e2, "password": PASSWORD,
                                        "display_name": "Nom"}, csrf=False)
    assert_error(r, 403, "csrf")
    assert_error(other.post("/api/v1/session", {"email": email, "password": PASSWORD},
                            csrf=False), 403, "csrf")
    assert_unchanged(stack, before, "(missing CSRF token)")
    # the session still works with the right token
    r = c.get("/api/v1/dossiers")
    assert_status(r, 200)


def test_login_rate_limit(stack):
    limit = int(stack.setting("GCH_LOGIN_LIMIT"))
    c, email = citizen(stack, "ratelimit")   # one successful login already
    attacker = client(stack)
    before = db_counts(stack)
    statuses = []
    for _ in range(limit - 1):
        r = attacker.login(email, "mauvais-mot-de-passe")
        statuses.append(r.status)
        assert_error(r, 401)
    # `limit` attempts were made (one good, limit-1 bad): the next is refused,
    # whatever the password
    r = attacker.login(email, "mauvais-mot-de-passe")
    statuses.append(r.status)
    assert_error(r, 429, "rate_limited")
    r = attacker.login(email, PASSWORD)
    statuses.append(r.status)
    assert_error(r, 429, "rate_limited")
    assert r.header("Retry-After"), "429 without Retry-After: %r" % r
    assert int(r.header("Retry-After")) > 0
    assert "gch_session" not in attacker.cookies, "a rate-limited login opened a session"
    assert_unchanged(stack, before, "(rate-limited logins)")
    # the limit is per address + e-mail: another account still logs in
    other, _ = citizen(stack, "ratelimit-other")
    assert_status(other.get("/api/v1/dossiers"), 200)
    assert statuses[:limit - 1] == [401] * (limit - 1), "statuses: %s" % statuses
