"""gch_testutil - helpers shared by tests/e2e/*.py.

Every e2e test function gets the running Stack (deploy/stack.py). These
helpers make users and dossiers, check error answers against the contract of
docs/api.md, and count rows so a test can prove that bad input changed
nothing.
"""

import datetime
import itertools
import os
import re
import subprocess
import time
import uuid

from gch_client import Client

PASSWORD = "Mot-de-passe-solide-2026"
PROCEDURE = "tranquillite-vacances"
RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count(1)

# Tables written only by request handlers (nothing asynchronous), so their
# counts before and after a refused request must be equal.
COUNTED_TABLES = ["accounts.account", "dossiers.dossier", "dossiers.history"]


def unique_email(prefix):
    """A fresh address: rate limits are per address+e-mail, so tests that use
    distinct addresses never trip each other's limits."""
    return "%s-%s-%d@test.guichet.fr" % (prefix, RUN_ID, next(_counter))


def client(stack, timeout=30.0):
    """A new Client; its socket timeout outlasts the gateway's deadline."""
    deadline = int(stack.setting("GCH_TIMEOUT_MS")) / 1000.0
    return Client(stack.url, timeout=max(timeout, deadline + 30))


# ---- assertions ------------------------------------------------------------

def assert_status(resp, *statuses):
    assert resp.status in statuses, "expected HTTP %s, got %r" % (
        "/".join(map(str, statuses)), resp)


def assert_error(resp, status, code=None, fields=()):
    """resp is an error answer of the contract:
    {"error":{"code":"...","message":"...","fields":{"name":"..."}}}."""
    assert_status(resp, status)
    ctype = resp.header("Content-Type") or ""
    assert "application/json" in ctype, "error answer not JSON (%s): %r" % (ctype, resp)
    err = resp.error
    assert err is not None, "no {\"error\":{...}} object in %r" % resp
    assert isinstance(err.get("code"), str) and err["code"], "error.code missing: %r" % resp
    assert isinstance(err.get("message"), str) and err["message"], \
        "error.message missing: %r" % resp
    if code is not None:
        assert err["code"] == code, "expected error code %r, got %r in %r" % (
            code, err["code"], resp)
    if fields:
        got = err.get("fields")
        assert isinstance(got, dict), "error.fields missing or not an object: %r" % resp
        for f in fields:
            assert f in got, "error.fields does not name %r: %r" % (f, resp)
            assert isinstance(got[f], str) and got[f], "error.fields[%r] empty: %r" % (f, resp)
    return err


def db_counts(stack, tables=COUNTED_TABLES):
    return {t: int(stack.psql_value("SELECT count(*) FROM %s" % t)) for t in tables}


def assert_unchanged(stack, before, what=""):
    after = db_counts(stack, list(before))
    assert after == before, "database changed by refused request %s: %s -> %s" % (
        what, before, after)


def poll(fn, timeout=15.0, interval=0.1):
    """Call fn until it returns a true value or timeout; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def ident(value):
    """Ids may come as JSON numbers or strings (proto3 int64): compare as text."""
    return str(value)


# ---- users -----------------------------------------------------------------

def citizen(stack, prefix="citizen", name="Camille Test"):
    """A verified citizen made with guichetctl, logged in. Returns (client, email)."""
    email = unique_email(prefix)
    stack.create_citizen(email, PASSWORD, name, verified=True)
    c = client(stack)
    r = c.login(email, PASSWORD)
    assert_status(r, 200)
    return c, email


def demo_agent(stack):
    """The demo agent (police-municipale, instructeur), logged in once per
    stack run and reused (one login, so the login rate limit stays far)."""
    cache = stack.__dict__.setdefault("_test_cache", {})
    if "agent" not in cache:
        c = client(stack)
        r = c.login("agent@demo.guichet.fr", "Agent-demo-2026")
        assert_status(r, 200)
        cache["agent"] = c
    return cache["agent"]


def forget_sessions(stack):
    """After Redis lost its data: the logged-in clients kept for reuse are
    logged out, make new ones."""
    stack.__dict__.setdefault("_test_cache", {}).pop("agent", None)


def new_agent(stack, service, prefix="agent", role="instructeur"):
    email = unique_email(prefix)
    stack.create_agent(email, PASSWORD, "Agent %s" % service, role, service)
    c = client(stack)
    r = c.login(email, PASSWORD)
    assert_status(r, 200)
    return c, email


# ---- procedures and forms ---------------------------------------------------

def redis_cli(stack, *args):
    """Run one command on the stack's Redis; its answer, split on blanks."""
    r = subprocess.run(["redis-cli", "-p", str(stack.ports["redis"]), "--raw"] + list(args),
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, "redis-cli %s: %s" % (args, r.stderr)
    return r.stdout.split()


def procedure(stack, slug=PROCEDURE):
    cache = stack.__dict__.setdefault("_test_cache", {})
    key = "procedure:" + slug
    if key not in cache:
        r = client(stack).get("/api/v1/procedures/" + slug)
        assert_status(r, 200)
        cache[key] = r.json
    return cache[key]


def _today(days):
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


ADDRESS = {"street": "12 rue de la Paix", "postcode": "86000", "commune": "86194"}

KNOWN_VALUES = {
    "adresse": ADDRESS,
    "complement_adresse": "Bâtiment B",
    "code_postal": "86000",
    "commune": "86194",
    "ville": "Poitiers",
    "date_depart": _today(10),
    "date_retour": _today(24),
    "telephone": "0549123456",
    "telephone_urgence": "0612345678",
    "email": "contact@example.fr",
    "nom": "Martin",
    "prenom": "Camille",
}


def _form_fields(form_def):
    """Field definitions found in a procedure's form, whatever its nesting
    ({"fields":[...]}, sections, or a JSON-schema "properties" map)."""
    found = []

    def walk(x):
        if isinstance(x, dict):
            props = x.get("properties")
            if isinstance(props, dict):
                req = x.get("required") if isinstance(x.get("required"), list) else []
                for n, spec in props.items():
                    if isinstance(spec, dict):
                        found.append(dict(spec, name=n, required=n in req))
                return
            name = x.get("name") or x.get("id") or x.get("key")
            if isinstance(name, str) and ("type" in x or "label" in x):
                found.append(x)
                return
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(form_def)
    return found


TYPE_VALUES = {
    "address": ADDRESS,
    "insee": "86194",
    "plate": "AB-123-CD",
    "iban": "FR7630006000011234567890189",
    "siret": "73282932000074",
    "longtext": "Texte de test",
}


# A value for each pattern of the shipped catalog (text fields).
PATTERN_VALUES = {
    "[A-Z0-9]{6,12}": "ABC123",
    "([0-9]{2}|2A|2B|97[1-6])": "86",
    "([01][0-9]|2[0-3]):[0-5][0-9]": "10:30",
    "[0-9]{4}-[0-9]{6}": "2026-000123",
    "[0-9]{7}": "1234567",
    "W[0-9A-Z]{9}": "W861234567",
    "[0-9]{16}": "1234567890123456",
}


def _date_bound(bound):
    """A definition's date bound ("2026-01-01", "today", "today+7") as a date."""
    if not isinstance(bound, str):
        return None
    if bound.startswith("today"):
        return datetime.date.today() + datetime.timedelta(days=int(bound[5:] or 0))
    return datetime.date.fromisoformat(bound)


def _date_for(field, days):
    """today + days, moved inside the field's bounds."""
    value = datetime.date.today() + datetime.timedelta(days=days)
    lo, hi = _date_bound(field.get("min")), _date_bound(field.get("max"))
    if hi and value > hi:
        value = hi
    if lo and value < lo:
        value = lo
    return value.isoformat()


def _value_for(field):
    name = field.get("name") or field.get("id") or field.get("key")
    ftype = str(field.get("type", "text")).lower()
    if field.get("pattern") in PATTERN_VALUES:
        return PATTERN_VALUES[field["pattern"]]
    if "date" == ftype:
        return _date_for(field, 21 if "retour" in name or "fin" in name else 10)
    if name in KNOWN_VALUES and (name != "adresse" or ftype == "address"):
        return KNOWN_VALUES[name]
    if ftype in TYPE_VALUES:
        return TYPE_VALUES[ftype]
    if ftype == "file":
        ref = {"id": "piece-1", "name": "piece.pdf",
               "type": (field.get("accept") or ["application/pdf"])[0].replace("*", "png"),
               "size": 1000}
        return [ref] if field.get("max_files", 1) > 1 else ref
    if ftype == "group":
        item = {}
        for sub in field.get("fields", []):
            if (sub.get("required") or sub.get("required_if")) and not sub.get("computed"):
                item[sub["name"]] = _value_for(sub)
        return [item] * max(1, field.get("min_items", 1))
    if ftype == "multichoice":
        first = field["choices"][0]
        return [first.get("value") if isinstance(first, dict) else first]
    options = field.get("options") or field.get("choices") or field.get("enum")
    if isinstance(options, list) and options:
        first = options[0]
        return first.get("value", first.get("code")) if isinstance(first, dict) else first
    if "date" in ftype:
        return _today(21 if "retour" in name or "fin" in name else 10)
    if ftype in ("tel", "phone", "telephone"):
        return "0549123456"
    if ftype == "email":
        return "contact@example.fr"
    if ftype in ("number", "integer", "int", "amount", "money"):
        return max(1, field.get("min", 1))
    if ftype == "decimal":
        return max(1.5, field.get("min", 1.5))
    if ftype in ("boolean", "bool", "checkbox", "consent"):
        return True
    return "Texte de test"


def valid_form(proc=None):
    """A form the procedure accepts: every required field (and every field
    whose name we know) filled with a plausible value."""
    fields = _form_fields(proc.get("form")) if proc else []
    if not fields:
        return {k: KNOWN_VALUES[k] for k in ("adresse", "date_depart", "date_retour",
                                             "telephone")}
    has_required = any("required" in f for f in fields)
    form = {}
    for f in fields:
        name = f.get("name") or f.get("id") or f.get("key")
        if f.get("computed"):
            continue  # a hidden field's value is dropped by the server: harmless
        if f.get("required_if"):
            form[name] = _value_for(f)
            continue
        if (not has_required or f.get("required") or name in KNOWN_VALUES or
                (f.get("type") == "group" and f.get("min_items", 0) > 0)):
            form[name] = _value_for(f)
    return form


def file_dossier(stack, c, submit=True, form=None):
    """POST /api/v1/dossiers with a valid form; returns the Response."""
    if form is None:
        form = valid_form(procedure(stack))
    return c.post("/api/v1/dossiers", {"procedure": PROCEDURE, "form": form,
                                       "submit": submit})


def filed_dossier(stack, c):
    """A submitted dossier of citizen c (asserted); returns its JSON."""
    r = file_dossier(stack, c)
    assert_status(r, 201)
    assert r.json.get("status") == "submitted", "filed dossier not submitted: %r" % r
    return r.json


NUMBER_RE = re.compile(r"^\d{4}-\d{6}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
