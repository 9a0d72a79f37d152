"""The procedure engine end to end (issue #3): the shipped catalog, listing by
commune/text/domain, per-field validation with French messages, conditions
and repeated groups, computed amounts, availability and routing by commune,
the workflow with roles, actions (deadline, pieces loop, payment, document,
e-mail) and a dossier filed under version 1 processed after version 2."""

import copy
import json
import os
import shutil
import tempfile

from gch_mail import Mailbox
from gch_testutil import (PASSWORD, REPO, assert_error, assert_status, assert_unchanged,
                          citizen, client, db_counts, ident, procedure, unique_email,
                          valid_form)

ALSH, VAE, OTV = "alsh-inscription", "aide-vae", "tranquillite-vacances"
POITIERS, BUXEROLLES, BERUGES = "86194", "86041", "86024"


def _address(insee, postcode):
    return {"street": "3 place du Marché", "postcode": postcode, "commune": insee}


def _agent(stack, service, *roles, communes=()):
    """A new agent of service with roles (and a commune scope), logged in."""
    email = unique_email("agent")
    args = ["agent-create", "--email", email, "--password", PASSWORD,
            "--name", "Agent %s" % service, "--service", service]
    for role in roles:
        args += ["--role", role]
    for commune in communes:
        args += ["--commune", commune]
    stack.ctl(*args)
    c = client(stack)
    assert_status(c.login(email, PASSWORD), 200)
    return c


def _file(c, slug, form, submit=True):
    return c.post("/api/v1/dossiers", {"procedure": slug, "form": form, "submit": submit})


def test_catalog(stack):
    """At least 15 procedures; filters by commune, text (accents ignored) and
    domain; the 40 communes of the territory."""
    anon = client(stack)
    r = anon.get("/api/v1/procedures")
    assert_status(r, 200)
    slugs = {p["slug"] for p in r.json["procedures"]}
    assert len(slugs) >= 15, "only %d procedures: %s" % (len(slugs), sorted(slugs))
    for slug in (ALSH, VAE, OTV, "encombrants", "acte-etat-civil", "contact-sve"):
        assert slug in slugs, "%s missing from the catalog" % slug
    # OTV is not offered in Béruges; every-commune procedures are
    r = anon.get("/api/v1/procedures?commune=" + BERUGES)
    here = {p["slug"] for p in r.json["procedures"]}
    assert OTV not in here and VAE in here, sorted(here)
    r = anon.get("/api/v1/procedures?commune=" + POITIERS)
    assert OTV in {p["slug"] for p in r.json["procedures"]}
    # text search ignores case and accents
    r = anon.get("/api/v1/procedures?q=VELO")
    assert [p["slug"] for p in r.json["procedures"]] == [VAE], r.json
    r = anon.get("/api/v1/procedures?domain=environnement-cadre-de-vie")
    domains = {p["domain"] for p in r.json["procedures"]}
    assert domains == {"environnement-cadre-de-vie"} and len(r.json["procedures"]) >= 3, domains
    # one definition: what a renderer needs
    r = anon.get("/api/v1/procedures/" + ALSH)
    assert_status(r, 200)
    pages = r.json["form"]["pages"]
    assert pages and all("fields" in p for p in pages), r.json["form"]
    assert r.json["statuses"] and r.json["transitions"]
    # the communes
    r = anon.get("/api/v1/communes")
    assert_status(r, 200)
    communes = {c["insee"]: c for c in r.json["communes"]}
    assert len(communes) == 40, len(communes)
    assert communes[POITIERS]["name"] == "Poitiers" and "86000" in communes[POITIERS]["postcodes"]
    assert all(c["pole"] for c in communes.values()), "a commune without a pôle"


def test_every_procedure_files(stack):
    """Every shipped procedure takes a filing of a form made from its
    definition (in Poitiers), and answers it with its number."""
    c, _ = citizen(stack, "every")
    slugs = [p["slug"] for p in client(stack).get("/api/v1/procedures").json["procedures"]]
    failed = {}
    for slug in slugs:
        r = _file(c, slug, valid_form(procedure(stack, slug)))
        if r.status != 201:
            failed[slug] = r.json
        else:
            assert r.json["number"] and r.json["status"] == "submitted", r.json
    assert not failed, json.dumps(failed, ensure_ascii=False, indent=1)


def test_field_validation(stack):
    """Every failing value gets its own French message in one answer; a bad
    filing changes nothing."""
    c, _ = citizen(stack, "fields")
    form = valid_form(procedure(stack, VAE))
    form.update({"iban": "FR7630006000011234567890188", "prix_ttc": "12,345",
                 "telephone": "12345", "adresse": _address("75101", "75001")})
    form.pop("facture", None)
    before = db_counts(stack)
    r = _file(c, VAE, form)
    assert_error(r, 422, fields=("form.iban", "form.prix_ttc", "form.telephone",
                                 "form.facture"))
    fields = r.json["error"]["fields"]
    assert "IBAN" in fields["form.iban"], fields
    assert "obligatoire" in fields["form.facture"] or "pièce" in fields["form.facture"], fields
    assert any(k.startswith("form.adresse") for k in fields), fields
    assert_unchanged(stack, before, "refused filing")
    # a field that is not in the form
    form = valid_form(procedure(stack, VAE))
    form["inconnu"] = 1
    assert_error(_file(c, VAE, form, submit=False), 422, fields=("form.inconnu",))
    # a draft may be incomplete, not wrong
    r = _file(c, VAE, {"prix_ttc": 10000}, submit=False)
    assert_status(r, 201)
    assert_error(_file(c, VAE, {"prix_ttc": -5}, submit=False), 422, fields=("form.prix_ttc",))


def _alsh_form(stack, qf, children):
    form = valid_form(procedure(stack, ALSH))
    form["quotient_familial"] = qf
    form["enfants"] = children
    return form


def _child(name, days, allergies=False, details=None):
    child = {"prenom": name, "date_naissance": "2018-05-12", "jours": days,
             "allergies": allergies}
    if details is not None:
        child["details_allergies"] = details
    return child


def test_groups_conditions_price(stack):
    """One block per child; a detail shown (and required) only with
    allergies, dropped otherwise; the price from the family-quotient
    bracket times the days, summed over the children."""
    c, _ = citizen(stack, "alsh")
    # QF 650: 600 cents a day; 3 + 2 days
    form = _alsh_form(stack, 650, [_child("Léa", 3, False, "ignoré"),
                                   _child("Tom", 2, True, "Arachides")])
    r = _file(c, ALSH, form)
    assert_status(r, 201)
    stored = r.json["form"]
    assert stored["montant_total"] == 3000, stored
    assert "details_allergies" not in stored["enfants"][0], "hidden field kept"
    assert stored["enfants"][1]["details_allergies"] == "Arachides"
    # brackets: 500 is in the first (350), 1201 in the last (1200)
    for qf, days, total in ((500, 1, 350), (1201, 2, 2400)):
        r = _file(c, ALSH, _alsh_form(stack, qf, [_child("A", days)]))
        assert_status(r, 201)
        assert r.json["form"]["montant_total"] == total, (qf, r.json["form"])
    # a client cannot set the computed price
    form = _alsh_form(stack, 100, [_child("A", 1)])
    form["montant_total"] = 1
    r = _file(c, ALSH, form)
    assert_status(r, 201)
    assert r.json["form"]["montant_total"] == 350
    # condition on: the detail is required; paths name the child
    form = _alsh_form(stack, 650, [_child("A", 1), _child("B", 1, True)])
    assert_error(_file(c, ALSH, form), 422, fields=("form.enfants[1].details_allergies",))
    # group bounds
    assert_error(_file(c, ALSH, _alsh_form(stack, 650, [])), 422, fields=("form.enfants",))
    assert_error(_file(c, ALSH, _alsh_form(stack, 650, [_child("A", 1)] * 7)), 422,
                 fields=("form.enfants",))


def test_ebike_amount_capped(stack):
    """The aid is 25 % of the price, capped at 250 €."""
    c, _ = citizen(stack, "vae")
    for price, aid in ((80000, 20000), (150000, 25000), ("999,99", 25000), ("400,00", 10000)):
        form = valid_form(procedure(stack, VAE))
        form["prix_ttc"] = price
        r = _file(c, VAE, form)
        assert_status(r, 201)
        assert r.json["form"]["montant_aide"] == aid, (price, r.json["form"])


def test_commune_offer_and_routing(stack):
    """OTV cannot be filed from Béruges; Buxerolles goes to its own police;
    Poitiers to the pôle of Poitiers."""
    c, _ = citizen(stack, "routing")
    form = valid_form(procedure(stack, OTV))
    form["adresse"] = _address(BERUGES, "86190")
    before = db_counts(stack)
    r = _file(c, OTV, form)
    assert_error(r, 422, fields=("form.adresse",))
    assert "proposée" in r.json["error"]["fields"]["form.adresse"]
    assert_unchanged(stack, before, "filing outside the offer")
    form["adresse"] = _address(BUXEROLLES, "86180")
    r = _file(c, OTV, form)
    assert_status(r, 201)
    assert r.json["service"] == "police-municipale-buxerolles", r.json
    assert r.json["commune"] == BUXEROLLES
    pole_of = {x["insee"]: x["pole"] for x in client(stack).get("/api/v1/communes").json["communes"]}
    form["adresse"] = _address(POITIERS, "86000")
    r = _file(c, OTV, form)
    assert_status(r, 201)
    assert r.json["service"] == "police-municipale" and r.json["pole"] == pole_of[POITIERS], r.json
    # a draft is routed when it is submitted
    r = _file(c, OTV, dict(form, adresse=_address(BUXEROLLES, "86180")), submit=False)
    did = ident(r.json["id"])
    r = c.post("/api/v1/dossiers/%s/submit" % did, {})
    assert_status(r, 200)
    assert r.json["service"] == "police-municipale-buxerolles", r.json


def test_workflow_pieces_payment(stack):
    """aide-vae: roles per transition, states per transition, deadline on
    instruction, the pieces loop back to the agent, then acceptance with its
    payment, document and e-mail."""
    c, email = citizen(stack, "vaeflow")
    form = valid_form(procedure(stack, VAE))
    form["prix_ttc"] = 120000
    r = _file(c, VAE, form)
    assert_status(r, 201)
    did, number = ident(r.json["id"]), r.json["number"]
    instructeur = _agent(stack, "mobilites-stationnement", "instructeur")
    valideur = _agent(stack, "mobilites-stationnement", "valideur")
    other = _agent(stack, "dechets", "instructeur", "valideur")
    url = "/api/v1/dossiers/%s" % did
    # another service does not see it; the offered transitions follow roles
    assert_error(other.get(url), 404, "not_found")
    r = instructeur.get(url)
    offered = {t["name"] for t in r.json["transitions"]}
    assert "instruct" in offered and "accept" not in offered, offered
    assert {t["name"] for t in valideur.get(url).json["transitions"]} & {"instruct"} == set()
    # accept is neither from this state nor for this role
    assert_error(valideur.post(url + "/transitions", {"to": "accepted"}), 409)
    r = instructeur.post(url + "/transitions", {"to": "instruct"})
    assert_status(r, 200)
    assert r.json["status"] == "in_instruction" and r.json["deadline_ms"] > 0, r.json
    assert_error(instructeur.post(url + "/transitions", {"to": "accept"}), 403, "forbidden")
    # pieces: a comment is required; then the dossier is the citizen's
    assert_error(instructeur.post(url + "/transitions", {"to": "ask_pieces"}), 422,
                 fields=("comment",))
    r = instructeur.post(url + "/transitions",
                         {"to": "ask_pieces", "comment": "La facture est illisible."})
    assert_status(r, 200)
    assert r.json["status"] == "pieces_requested", r.json
    r = c.get(url)
    assert r.json["awaiting_citizen"] is True and r.json["editable"], r.json
    editable = set(r.json["editable"])
    assert "facture" in editable, editable
    # the agent cannot move it meanwhile, the citizen may change only those
    assert_error(instructeur.post(url + "/transitions", {"to": "accept"}), 409)
    assert "nom" not in editable
    assert_error(c.post(url + "/answer", {"form": {"nom": "Autre"}}), 422,
                 fields=("form.nom",))
    new_invoice = {"id": "facture-2", "name": "facture.pdf", "type": "application/pdf",
                   "size": 2048}
    r = c.post(url + "/answer", {"form": {"facture": new_invoice}})
    assert_status(r, 200)
    assert r.json["status"] == "in_instruction" and not r.json["awaiting_citizen"], r.json
    assert r.json["form"]["facture"]["id"] == "facture-2"
    last = c.get(url).json["history"][-1]
    assert last["actor_kind"] == "citizen" and last["to_status"] == "in_instruction", last
    assert_error(c.post(url + "/answer", {"form": {"facture": new_invoice}}), 409)
    # acceptance: payment of the computed aid, a document, an e-mail
    r = valideur.post(url + "/transitions", {"to": "accept"})
    assert_status(r, 200)
    assert r.json["status"] == "accepted" and r.json["payment_cents"] == 25000, r.json
    r = c.get(url)
    assert r.json["documents"], "no document for the citizen"
    assert number in json.dumps(r.json["documents"], ensure_ascii=False)
    events = stack.psql_value(
        "SELECT count(*) FROM dossiers.outbox WHERE type = 'dossier.payment_requested'"
        " AND payload IS NOT NULL")
    assert int(events) >= 1
    paid = stack.psql_value("SELECT amount_cents FROM dossiers.dossier_payment"
                            " WHERE dossier_id = %s" % did)
    assert int(paid) == 25000
    # the history chains every step
    steps = [h["to_status"] for h in r.json["history"]]
    assert steps == ["submitted", "in_instruction", "pieces_requested", "in_instruction",
                     "accepted"], steps
    # the e-mails of the workflow reached the citizen
    # the decision e-mail of the "decision" template, and the pieces request
    box = Mailbox(stack.maildir)
    decision = box.wait(lambda m: email in m.recipients and "accordée" in m.subject,
                        count=1, timeout=30)
    assert decision, [m.subject for m in box.messages() if email in m.recipients]
    assert number in decision[0].text, decision[0].text
    pieces = box.wait(lambda m: email in m.recipients and "compléments" in m.subject
                      and number in m.subject, count=1, timeout=30)
    assert pieces and "La facture est illisible." in pieces[0].text, pieces


def test_version_in_flight(stack):
    """A dossier filed under version 1 keeps its workflow to the end after
    version 2 is published; new dossiers get version 2."""
    c, _ = citizen(stack, "version")
    form = valid_form(procedure(stack, OTV))
    r = _file(c, OTV, form)
    assert_status(r, 201)
    did = ident(r.json["id"])
    assert r.json["procedure_version"] == 1
    src = os.path.join(REPO, "svc-dossiers", "catalog")
    work = tempfile.mkdtemp(prefix="catalog-")
    catalog = os.path.join(work, "catalog")
    shutil.copytree(src, catalog)
    with open(os.path.join(catalog, "procedures", OTV + ".1.json")) as f:
        v1 = json.load(f)
    v2 = copy.deepcopy(v1)
    v2["version"] = 2
    wf = v2["workflow"]
    # version 2: instruction is now "Vérification", and "accept" is gone
    for s in wf["states"]:
        if s["code"] == "in_instruction":
            s["label"] = "Vérification en cours"
    wf["transitions"] = [t for t in wf["transitions"] if t["name"] != "accept"]
    wf["states"].append({"code": "closed", "label": "Clôturé", "terminal": True})
    wf["transitions"].append({"name": "close", "from": ["in_instruction"], "to": "closed",
                              "label": "Clôturer", "roles": ["instructeur"]})
    for s in wf["states"]:
        if s["code"] == "accepted":
            wf["states"].remove(s)
            break
    with open(os.path.join(catalog, "procedures", OTV + ".2.json"), "w") as f:
        json.dump(v2, f, ensure_ascii=False, indent=2)
    old = stack.settings["GCH_CATALOG"]

    def restart(path):
        stack.settings["GCH_CATALOG"] = path
        for p in stack.find("svc-dossiers"):
            stack.terminate(p)
        stack.start_service("dossiers")
        stack.wait_healthy()

    try:
        restart(catalog)
        assert client(stack).get("/api/v1/procedures/" + OTV).json["version"] == 2
        r = _file(c, OTV, form)
        assert_status(r, 201)
        assert r.json["procedure_version"] == 2
        agent = _agent(stack, "police-municipale", "instructeur")
        url = "/api/v1/dossiers/%s" % did
        r = agent.post(url + "/transitions", {"to": "in_instruction"})
        assert_status(r, 200)
        assert r.json["status_label"] != "Vérification en cours", r.json
        r = agent.post(url + "/transitions", {"to": "accepted"})
        assert_status(r, 200)
        assert r.json["status"] == "accepted" and r.json["procedure_version"] == 1, r.json
    finally:
        restart(old)
        shutil.rmtree(work, ignore_errors=True)


def test_submission_actions(stack):
    """contact-sve: submitting sends the automatic accusé d'enregistrement
    électronique (an e-mail template with the number and the date) and keeps
    its document with the dossier, in the same transaction."""
    c, email = citizen(stack, "sve")
    form = valid_form(procedure(stack, "contact-sve"))
    r = _file(c, "contact-sve", form, submit=False)
    assert_status(r, 201)
    did = ident(r.json["id"])
    r = c.post("/api/v1/dossiers/%s/submit" % did, {})
    assert_status(r, 200)
    number = r.json["number"]
    r = c.get("/api/v1/dossiers/%s" % did)
    docs = r.json["documents"]
    assert len(docs) == 1 and number in docs[0]["title"], docs
    mails = Mailbox(stack.maildir).wait(
        lambda m: email in m.recipients and "enregistrement" in m.subject, count=1)
    assert mails and number in mails[0].subject, [m.subject for m in mails]
    assert "L. 112-11" in mails[0].text
    # filed and submitted in one call: the same
    r = _file(c, "contact-sve", form)
    assert_status(r, 201)
    assert len(c.get("/api/v1/dossiers/%s" % ident(r.json["id"])).json["documents"]) == 1


def test_agent_commune_scope(stack):
    """An agent whose account lists communes sees the dossiers of those
    communes only (reading and queue); one with none sees them all."""
    c, _ = citizen(stack, "scope")
    ids = {}
    for insee in (POITIERS, "86027"):
        form = valid_form(procedure(stack, "acte-etat-civil"))
        form["commune_evenement"] = insee
        r = _file(c, "acte-etat-civil", form)
        assert_status(r, 201)
        assert r.json["commune"] == insee, r.json
        ids[insee] = ident(r.json["id"])
    scoped = _agent(stack, "etat-civil", "instructeur", communes=[POITIERS])
    everywhere = _agent(stack, "etat-civil", "instructeur")
    assert_status(scoped.get("/api/v1/dossiers/%s" % ids[POITIERS]), 200)
    assert_error(scoped.get("/api/v1/dossiers/%s" % ids["86027"]), 404, "not_found")
    assert_error(scoped.post("/api/v1/dossiers/%s/transitions" % ids["86027"],
                             {"to": "search"}), 404, "not_found")
    queue = {ident(d["id"]) for d in scoped.get("/api/v1/agent/dossiers").json["dossiers"]}
    assert ids[POITIERS] in queue and ids["86027"] not in queue, queue
    queue = {ident(d["id"]) for d in everywhere.get("/api/v1/agent/dossiers").json["dossiers"]}
    assert set(ids.values()) <= queue, queue
    assert_status(everywhere.get("/api/v1/dossiers/%s" % ids["86027"]), 200)
