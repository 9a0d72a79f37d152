//  dossiers_handlers - the methods of svc-dossiers.
//
//  Each handler reads top to bottom: unpack the body, check who calls,
//  validate, authorise against the dossier, one store call, pack the reply.
//  The service loop (lib/gch_service.c) has already checked the envelope and
//  the deadline and logs the outcome.
//
//  Who may do what:
//    procedure.list, procedure.get   anyone
//    dossier.create, update, submit, list_mine
//                                    citizens, on their own dossiers
//    dossier.get                     the owner; agents of the dossier's
//                                    service once it is submitted (and of
//                                    its commune, if their account lists
//                                    communes); system
//    dossier.answer                  the owner, when pieces were asked
//    dossier.queue, transition       agents, on their services' dossiers,
//                                    transitions by role
//    commune.list                    anyone
//    (events.fetch and health are answered by lib/gch_service.c)
//  A dossier the caller may not see is STATUS_NOT_FOUND, exactly like one
//  that does not exist.
//
//  Replies: Dossier carries the labels of its procedure version, the
//  history (dossier.get) and the transitions the caller may fire now
//  (agents); lists (Dossiers) carry neither form, history nor transitions.
//
//  To add a method: a static handler below, a row in dossiers_methods, and
//  its store function.
#include "gch.h"
#include "dossiers_handlers.h"

//  Page size of lists, by default and at most.
#define S_LIMIT_DEFAULT 50
#define S_LIMIT_MAX 200
//  Longest agent comment, in bytes.
#define S_COMMENT_MAX 5000

static const char *s_not_found = "Dossier introuvable.";
static const char *s_already_submitted = "Ce dossier a déjà été déposé.";
static const char *s_impossible =
    "Transition impossible depuis le statut actuel";

//  --------------------------------------------------------------------------
//  Callers

static Gch__CallerKind
s_kind (const Gch__Request *request)
{
    return request->caller ? request->caller->kind
                           : GCH__CALLER_KIND__CALLER_ANONYMOUS;
}

static int64_t
s_caller_id (const Gch__Request *request)
{
    return request->caller ? request->caller->id : 0;
}

//  STATUS_OK if the caller is of kind, else the error, set on reply.
static int
s_require (const Gch__Request *request, Gch__CallerKind kind, Gch__Reply *reply)
{
    if (s_kind (request) == kind)
        return GCH__STATUS__STATUS_OK;
    if (s_kind (request) == GCH__CALLER_KIND__CALLER_ANONYMOUS)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNAUTHENTICATED,
                                NULL);
    return gch_reply_error (reply, GCH__STATUS__STATUS_FORBIDDEN, NULL);
}

//  The caller as history actor (strings borrowed from request).
static dossiers_actor_t
s_actor (const Gch__Request *request)
{
    static const char *const kinds[] = {"anonymous", "citizen", "agent",
                                        "system"};
    Gch__CallerKind kind = s_kind (request);
    dossiers_actor_t actor = {
        kind >= 0 && kind <= 3 ? kinds[kind] : "anonymous",
        s_caller_id (request), request->caller ? request->caller->name : ""};
    return actor;
}

//  "<kind>:<id>", the owner of the request's idempotency key, into buf.
static const char *
s_caller_key (const Gch__Request *request, char *buf, size_t size)
{
    snprintf (buf, size, "%s:%" PRId64, s_actor (request).kind,
              s_caller_id (request));
    return buf;
}

//  True if the caller may see dossier (not knowing it exists otherwise).
//  True if an agent's commune scope covers commune (no communes listed =
//  every commune; a dossier with no commune is in every scope).
static bool
s_in_scope (const Gch__Request *request, const char *commune)
{
    const Gch__Caller *caller = request->caller;
    if (!caller || caller->n_communes == 0 || !commune || !*commune)
        return true;
    for (size_t index = 0; index < caller->n_communes; index++)
        if (streq (caller->communes[index], commune))
            return true;
    return false;
}

static bool
s_can_see (const Gch__Request *request, const dossiers_dossier_t *dossier)
{
    switch (s_kind (request)) {
        case GCH__CALLER_KIND__CALLER_CITIZEN:
            return dossier->citizen_id == s_caller_id (request);
        case GCH__CALLER_KIND__CALLER_AGENT:
            return dossier->submitted_ms != 0 &&
                   gch_caller_in_service (request, dossier->service) &&
                   s_in_scope (request, dossier->commune);
        case GCH__CALLER_KIND__CALLER_SYSTEM:
            return true;
        default:
            return false;
    }
}

//  --------------------------------------------------------------------------
//  Replies

//  Reply status for a store result (> 0 = STATUS_OK), set on reply.
static int
s_stored (gch_db_status_t rc, const char *conflict, Gch__Reply *reply)
{
    if (rc > 0)
        return GCH__STATUS__STATUS_OK;
    if (rc == 0)
        return gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND,
                                s_not_found);
    if (rc == GCH_DB_CONFLICT)
        return gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT, conflict);
    if (rc == GCH_DB_SOFT)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNAVAILABLE, NULL);
    return gch_reply_error (reply, GCH__STATUS__STATUS_INTERNAL, NULL);
}

static int
s_unprocessable (Gch__Reply *reply, const char *field, const char *message)
{
    gch_reply_field (reply, field, message);
    return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE, message);
}

//  True if text is valid UTF-8 without control characters other than
//  line breaks and tabs (protobuf-c does not check strings; PostgreSQL
//  would refuse invalid UTF-8 with an error that is not the client's).
static bool
s_text_valid (const char *text)
{
    const unsigned char *c = (const unsigned char *) text;
    while (*c) {
        size_t extra = *c < 0x80             ? 0
                       : (*c & 0xE0) == 0xC0 ? 1
                       : (*c & 0xF0) == 0xE0 ? 2
                       : (*c & 0xF8) == 0xF0 ? 3
                                             : 9;
        if (extra == 9 || (extra == 1 && *c < 0xC2) || *c == 0x7F ||
            (*c < 0x20 && *c != '\n' && *c != '\r' && *c != '\t'))
            return false;
        for (size_t index = 1; index <= extra; index++)
            if ((c[index] & 0xC0) != 0x80)
                return false;
        c += extra + 1;
    }
    return true;
}

//  True if text is a state code: [a-z0-9_], at most 64 bytes.
static bool
s_code_valid (const char *text)
{
    size_t length = strspn (text, "abcdefghijklmnopqrstuvwxyz0123456789_");
    return length == strlen (text) && length <= 64;
}

static int
s_limit (int limit, int fallback, int most)
{
    return limit <= 0 ? fallback : limit > most ? most : limit;
}

//  The Dossier message of a record; strings borrowed from the record and
//  from its procedure version (NULL if the catalog lost it: raw codes then).
static void
s_dossier_fill (Gch__Dossier *out, const dossiers_dossier_t *dossier,
                const dossiers_procedure_t *procedure)
{
    gch__dossier__init (out);
    out->id = dossier->id;
    out->number = dossier->number;
    out->procedure = dossier->procedure;
    out->procedure_version = dossier->version;
    out->procedure_title =
        procedure ? (char *) procedure->title : dossier->procedure;
    out->status = dossier->status;
    out->status_label =
        procedure
            ? (char *) dossiers_procedure_label (procedure, dossier->status)
            : dossier->status;
    out->citizen_id = dossier->citizen_id;
    out->service = dossier->service;
    out->form_json = dossier->form_json;
    out->created_ms = dossier->created_ms;
    out->submitted_ms = dossier->submitted_ms;
    out->updated_ms = dossier->updated_ms;
    out->revision = dossier->revision;
    out->commune = dossier->commune ? dossier->commune : "";
    out->pole = dossier->pole ? dossier->pole : "";
    out->deadline_ms = dossier->deadline_ms;
    out->deadline_label =
        dossier->deadline_label ? dossier->deadline_label : "";
    out->payment_cents = dossier->payment_cents;
    out->awaiting_citizen = dossier->return_to && *dossier->return_to;
}

//  Pack dossier into reply, with its history if read and the transitions
//  the caller may fire now.
static void
s_dossier_reply (dossiers_context_t *self, const Gch__Request *request,
                 const dossiers_dossier_t *dossier, Gch__Reply *reply)
{
    const dossiers_procedure_t *procedure = dossiers_catalog_find (
        self->catalog, dossier->procedure, dossier->version);
    Gch__Dossier out;
    s_dossier_fill (&out, dossier, procedure);
    if (dossier->nhistory) {
        out.history = (Gch__HistoryEntry **) zmalloc (
            dossier->nhistory * sizeof (Gch__HistoryEntry *));
        for (size_t index = 0; index < dossier->nhistory; index++)
            out.history[index] = &dossier->history[index];
        out.n_history = dossier->nhistory;
    }
    if (procedure && procedure->ntransitions) {
        out.transitions = (Gch__Transition **) zmalloc (
            procedure->ntransitions * sizeof (Gch__Transition *));
        out.n_transitions = dossiers_procedure_offered (
            procedure, dossier->status, request, out.transitions);
    }
    if (dossier->ndocuments) {
        out.documents = (Gch__DossierDocument **) zmalloc (
            dossier->ndocuments * sizeof (Gch__DossierDocument *));
        for (size_t index = 0; index < dossier->ndocuments; index++)
            out.documents[index] = &dossier->documents[index];
        out.n_documents = dossier->ndocuments;
    }
    //  The fields the citizen may change, "a,b" split
    char *editable = strdup (dossier->editable ? dossier->editable : "");
    char *names[64];
    if (out.awaiting_citizen && *editable) {
        char *save = NULL;
        for (char *name = strtok_r (editable, ",", &save);
             name && out.n_editable < 64; name = strtok_r (NULL, ",", &save))
            names[out.n_editable++] = name;
        out.editable = names;
    }
    gch_reply_body (reply, &out.base);
    free (editable);
    free (out.history);
    free (out.transitions);
    free (out.documents);
}

static void
s_list_reply (dossiers_context_t *self, const dossiers_list_t *list,
              Gch__Reply *reply)
{
    Gch__Dossiers out = GCH__DOSSIERS__INIT;
    Gch__Dossier *items = NULL;
    if (list->count) {
        items = (Gch__Dossier *) zmalloc (list->count * sizeof (Gch__Dossier));
        out.dossiers =
            (Gch__Dossier **) zmalloc (list->count * sizeof (Gch__Dossier *));
        out.n_dossiers = list->count;
    }
    for (size_t index = 0; index < list->count; index++) {
        const dossiers_dossier_t *dossier = &list->items[index];
        s_dossier_fill (&items[index], dossier,
                        dossiers_catalog_find (self->catalog,
                                               dossier->procedure,
                                               dossier->version));
        out.dossiers[index] = &items[index];
    }
    gch_reply_body (reply, &out.base);
    free (out.dossiers);
    free (items);
}

//  Load dossier id (without history) for a write by the caller, and its
//  procedure version. With the request's idempotency key, dossier->replayed
//  tells that this caller already made this write. Returns STATUS_OK or the
//  error, set on reply.
static int
s_dossier_open (dossiers_context_t *self, const Gch__Request *request,
                int64_t id, dossiers_dossier_t *dossier,
                const dossiers_procedure_t **procedure_p, Gch__Reply *reply)
{
    char caller_key[48];
    gch_db_status_t rc = dossiers_store_load (
        self->store, id, s_caller_key (request, caller_key, sizeof caller_key),
        request->idempotency_key, dossier);
    int status = s_stored (rc, NULL, reply);
    if (status == GCH__STATUS__STATUS_OK && !s_can_see (request, dossier))
        status =
            gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND, s_not_found);
    if (status != GCH__STATUS__STATUS_OK)
        return status;
    *procedure_p = dossiers_catalog_find (self->catalog, dossier->procedure,
                                          dossier->version);
    if (!*procedure_p) {
        zsys_error ("dossier %" PRId64 ": procedure %s version %d is not in "
                    "the catalog",
                    dossier->id, dossier->procedure, dossier->version);
        return gch_reply_error (reply, GCH__STATUS__STATUS_INTERNAL, NULL);
    }
    return GCH__STATUS__STATUS_OK;
}

//  --------------------------------------------------------------------------
//  Procedures

//  procedure.list - the procedures offered in a commune, matching a text.
static int
s_procedure_list (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__ProcedureList *in = (Gch__ProcedureList *) gch_request_unpack (
        request, &gch__procedure_list__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    size_t size = dossiers_catalog_size (self->catalog) + 1;
    const dossiers_procedure_t **found =
        (const dossiers_procedure_t **) zmalloc (size * sizeof (void *));
    Gch__Procedures out = GCH__PROCEDURES__INIT;
    out.procedures = (Gch__Procedure **) zmalloc (size * sizeof (void *));
    out.n_procedures = dossiers_catalog_search (self->catalog, in->q,
                                                in->commune, in->domain, found);
    for (size_t index = 0; index < out.n_procedures; index++)
        out.procedures[index] = (Gch__Procedure *) &found[index]->message;
    gch_reply_body (reply, &out.base);
    free (out.procedures);
    free (found);
    gch__procedure_list__free_unpacked (in, NULL);
    return GCH__STATUS__STATUS_OK;
}

//  procedure.get - the current version of one procedure.
static int
s_procedure_get (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__ProcedureGet *in = (Gch__ProcedureGet *) gch_request_unpack (
        request, &gch__procedure_get__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    int status = GCH__STATUS__STATUS_OK;
    const dossiers_procedure_t *procedure =
        dossiers_catalog_find (self->catalog, in->slug, 0);
    if (procedure)
        gch_reply_body (reply, &procedure->message.base);
    else
        status = gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND,
                                  "Démarche inconnue.");
    gch__procedure_get__free_unpacked (in, NULL);
    return status;
}

//  --------------------------------------------------------------------------
//  Workflow actions

//  The effects of a transition's actions, rendered before its transaction.
typedef struct {
    dossiers_effects_t effects;
    char **texts;  //  every rendered string, owned
    size_t ntexts;
} s_effects_t;

static const char *
s_keep (s_effects_t *self, char *text)
{
    self->texts =
        (char **) realloc (self->texts, (self->ntexts + 1) * sizeof (char *));
    assert (self->texts);
    self->texts[self->ntexts++] = text;
    return text;
}

static void
s_effects_clear (s_effects_t *self)
{
    for (size_t index = 0; index < self->ntexts; index++)
        free (self->texts[index]);
    free (self->texts);
    free (self->effects.documents);
    free ((void *) self->effects.subjects);
    free ((void *) self->effects.bodies);
}

//  Render actions (of a transition, or of submission) on dossier, whose
//  form is parsed as form, entering a state labelled to_label with comment,
//  into effects. Returns STATUS_OK, or an error set on reply (a payment of
//  no amount; reply may be NULL when actions cannot pay).
static int
s_effects_render (dossiers_context_t *self,
                  const dossiers_procedure_t *procedure,
                  const dossiers_transition_t *actions,
                  const dossiers_dossier_t *dossier, const json_t *form,
                  const char *citizen, const char *to_label,
                  const char *comment, s_effects_t *out, Gch__Reply *reply)
{
    memset (out, 0, sizeof *out);
    dossiers_effects_t *effects = &out->effects;
    size_t count = actions->nactions;
    if (!count)
        return GCH__STATUS__STATUS_OK;
    effects->documents =
        (dossiers_doc_t *) zmalloc (count * sizeof (dossiers_doc_t));
    effects->subjects = (const char **) zmalloc (count * sizeof (char *));
    effects->bodies = (const char **) zmalloc (count * sizeof (char *));
    int64_t deadline_ms = dossier->deadline_ms;
    for (size_t index = 0; index < count; index++)
        if (actions->actions[index].kind == DOSSIERS_ACTION_DEADLINE)
            deadline_ms = zclock_time () +
                          (int64_t) actions->actions[index].days * 86400000;
    dossiers_merge_t merge = {
        self->catalog, procedure,        form,        dossier->number,
        to_label,      dossier->commune, citizen,     dossier->service,
        dossier->pole, comment,          deadline_ms, dossier->submitted_ms};
    int status = GCH__STATUS__STATUS_OK;
    for (size_t index = 0; index < count; index++) {
        const dossiers_action_t *action = &actions->actions[index];
        switch (action->kind) {
            case DOSSIERS_ACTION_EMAIL:
                effects->subjects[effects->nmessages] =
                    s_keep (out, dossiers_template_render (action->tpl->heading,
                                                           dossiers_merge_value,
                                                           &merge));
                effects->bodies[effects->nmessages++] = s_keep (
                    out, dossiers_template_render (
                             action->tpl->body, dossiers_merge_value, &merge));
                break;
            case DOSSIERS_ACTION_DOCUMENT: {
                dossiers_doc_t *doc =
                    &effects->documents[effects->ndocuments++];
                doc->title = s_keep (out, dossiers_template_render (
                                              action->tpl->heading,
                                              dossiers_merge_value, &merge));
                doc->body = s_keep (
                    out, dossiers_template_render (
                             action->tpl->body, dossiers_merge_value, &merge));
                doc->citizen_visible = action->citizen_visible;
                break;
            }
            case DOSSIERS_ACTION_REQUEST_PIECES: {
                effects->return_to = action->return_to;
                char *fields = strdup ("");
                for (size_t at = 0; at < action->nfields; at++) {
                    char *more = zsys_sprintf ("%s%s%s", fields, at ? "," : "",
                                               action->fields[at]);
                    free (fields);
                    fields = more;
                }
                effects->editable = s_keep (out, fields);
                break;
            }
            case DOSSIERS_ACTION_PAYMENT: {
                double amount = dossiers_form_eval (action->amount, form);
                effects->payment_cents += (int64_t) llround (amount);
                effects->payment_label =
                    action->label ? action->label : procedure->title;
                if (action->iban_field)
                    effects->payment_iban = s_keep (
                        out, strdup (json_string_value (json_object_get (
                                         form, action->iban_field))
                                         ?: ""));
                break;
            }
            case DOSSIERS_ACTION_DEADLINE:
                effects->deadline_days = action->days;
                effects->deadline_label = action->label ? action->label : "";
                break;
        }
    }
    for (size_t index = 0; index < count; index++)
        if (actions->actions[index].kind == DOSSIERS_ACTION_PAYMENT &&
            effects->payment_cents <= 0 && reply)
            status = gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT,
                                      "Le montant à payer est nul : le "
                                      "paiement ne peut pas être lancé.");
    return status;
}

//  The effects of a transition on dossier (moving to to, with comment).
static int
s_effects_make (dossiers_context_t *self, const dossiers_procedure_t *procedure,
                const dossiers_transition_t *transition,
                const dossiers_dossier_t *dossier, const Gch__StatusDef *to,
                const char *comment, s_effects_t *out, Gch__Reply *reply)
{
    memset (out, 0, sizeof *out);
    if (!transition->nactions)
        return GCH__STATUS__STATUS_OK;
    json_t *form =
        json_loads (dossier->form_json ? dossier->form_json : "{}", 0, NULL);
    char *citizen = dossiers_store_citizen_name (self->store, dossier->id);
    int status = s_effects_render (self, procedure, transition, dossier, form,
                                   citizen, to->label, comment, out, reply);
    free (citizen);
    json_decref (form);
    return status;
}

//  The actions of submission, rendered by the store once the dossier has
//  its number (dossiers_render_fn).
typedef struct {
    dossiers_context_t *context;
    const dossiers_procedure_t *procedure;
    const char *citizen;  //  the citizen's name
    const json_t *form;   //  the checked form, as the dossier stores it
    s_effects_t effects;  //  rendered, freed by the handler
    bool rendered;
} s_submit_render_t;

static const dossiers_effects_t *
s_submit_render (void *ctx, const dossiers_dossier_t *dossier)
{
    s_submit_render_t *self = (s_submit_render_t *) ctx;
    if (self->rendered)  //  a retried transaction: render again
        s_effects_clear (&self->effects);
    const dossiers_procedure_t *procedure = self->procedure;
    s_effects_render (self->context, procedure, &procedure->submit, dossier,
                      self->form, self->citizen,
                      dossiers_procedure_label (procedure, dossier->status), "",
                      &self->effects, NULL);
    self->rendered = true;
    return &self->effects.effects;
}

//  --------------------------------------------------------------------------
//  Citizens

//  dossier.create - a citizen starts a dossier, or files it (submit).
static int
s_dossier_create (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierCreate *in = (Gch__DossierCreate *) gch_request_unpack (
        request, &gch__dossier_create__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_dossier_t dossier = {0};
    const dossiers_procedure_t *procedure =
        dossiers_catalog_find (self->catalog, in->procedure, 0);
    int status = s_require (request, GCH__CALLER_KIND__CALLER_CITIZEN, reply);
    if (status == GCH__STATUS__STATUS_OK && !procedure)
        status = s_unprocessable (reply, "procedure", "Démarche inconnue");
    char *normal = NULL;
    json_t *form = NULL;
    const char *commune = "", *service = procedure ? procedure->service : "";
    const char *pole = "";
    if (status == GCH__STATUS__STATUS_OK)
        status = dossiers_procedure_check_form (self->catalog, procedure,
                                                in->form_json, in->submit,
                                                reply, &normal, &form);
    if (status == GCH__STATUS__STATUS_OK && in->submit)
        status = dossiers_procedure_route (self->catalog, procedure, form,
                                           &commune, &service, &pole, reply);
    if (status == GCH__STATUS__STATUS_OK) {
        char caller_key[48];
        dossiers_filing_t filing = {
            .procedure = procedure->slug,
            .version = procedure->version,
            .procedure_title = procedure->title,
            .service = service,
            .commune = commune,
            .pole = pole,
            .citizen_id = s_caller_id (request),
            .form_json = normal,
            .draft_status = procedure->initial,
            .submit_status = in->submit ? procedure->submitted : NULL,
            .submit_label =
                dossiers_procedure_label (procedure, procedure->submitted),
            .actor = s_actor (request),
            .caller_key = s_caller_key (request, caller_key, sizeof caller_key),
            .idempotency_key = request->idempotency_key};
        s_submit_render_t render = {.context = self,
                                    .procedure = procedure,
                                    .citizen = filing.actor.name,
                                    .form = form};
        if (in->submit && procedure->submit.nactions) {
            filing.render = s_submit_render;
            filing.render_ctx = &render;
        }
        status =
            s_stored (dossiers_store_create (self->store, &filing, &dossier),
                      NULL, reply);
        if (render.rendered)
            s_effects_clear (&render.effects);
    }
    if (status == GCH__STATUS__STATUS_OK) {
        s_dossier_reply (self, request, &dossier, reply);
        status = reply->status = GCH__STATUS__STATUS_CREATED;
    }
    free (normal);
    json_decref (form);
    dossiers_dossier_clear (&dossier);
    gch__dossier_create__free_unpacked (in, NULL);
    return status;
}

//  dossier.update - a citizen replaces the form of a draft.
static int
s_dossier_update (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierUpdate *in = (Gch__DossierUpdate *) gch_request_unpack (
        request, &gch__dossier_update__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_dossier_t dossier = {0}, updated = {0};
    const dossiers_procedure_t *procedure = NULL;
    int status = s_require (request, GCH__CALLER_KIND__CALLER_CITIZEN, reply);
    if (status == GCH__STATUS__STATUS_OK)
        status =
            s_dossier_open (self, request, in->id, &dossier, &procedure, reply);
    if (status == GCH__STATUS__STATUS_OK && dossier.submitted_ms)
        status = gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT,
                                  s_already_submitted);
    char *normal = NULL;
    if (status == GCH__STATUS__STATUS_OK)
        status = dossiers_procedure_check_form (self->catalog, procedure,
                                                in->form_json, false, reply,
                                                &normal, NULL);
    if (status == GCH__STATUS__STATUS_OK)
        status = s_stored (dossiers_store_update (self->store, in->id,
                                                  procedure->initial, normal,
                                                  &updated),
                           s_already_submitted, reply);
    free (normal);
    if (status == GCH__STATUS__STATUS_OK)
        s_dossier_reply (self, request, &updated, reply);
    dossiers_dossier_clear (&updated);
    dossiers_dossier_clear (&dossier);
    gch__dossier_update__free_unpacked (in, NULL);
    return status;
}

//  dossier.submit - a citizen submits a complete draft.
static int
s_dossier_submit (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierRef *in = (Gch__DossierRef *) gch_request_unpack (
        request, &gch__dossier_ref__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_dossier_t dossier = {0}, submitted = {0};
    const dossiers_procedure_t *procedure = NULL;
    int status = s_require (request, GCH__CALLER_KIND__CALLER_CITIZEN, reply);
    if (status == GCH__STATUS__STATUS_OK)
        status =
            s_dossier_open (self, request, in->id, &dossier, &procedure, reply);
    bool todo = status == GCH__STATUS__STATUS_OK && !dossier.replayed;
    if (todo && dossier.submitted_ms)
        status = gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT,
                                  s_already_submitted);
    todo = todo && status == GCH__STATUS__STATUS_OK;
    char *normal = NULL;
    json_t *form = NULL;
    const char *commune = "", *service = "", *pole = "";
    if (todo)
        status = dossiers_procedure_check_form (self->catalog, procedure,
                                                dossier.form_json, true, reply,
                                                &normal, &form);
    if (todo && status == GCH__STATUS__STATUS_OK)
        status = dossiers_procedure_route (self->catalog, procedure, form,
                                           &commune, &service, &pole, reply);
    if (todo && status == GCH__STATUS__STATUS_OK) {
        char caller_key[48];
        dossiers_change_t change = {
            .id = in->id,
            .from_status = procedure->initial,
            .to_status = procedure->submitted,
            .to_label =
                dossiers_procedure_label (procedure, procedure->submitted),
            .form_json = normal,
            .service = service,
            .commune = commune,
            .pole = pole,
            .transition = "submit",
            .procedure_title = procedure->title,
            .actor = s_actor (request),
            .caller_key = s_caller_key (request, caller_key, sizeof caller_key),
            .idempotency_key = request->idempotency_key};
        s_submit_render_t render = {.context = self,
                                    .procedure = procedure,
                                    .citizen = change.actor.name,
                                    .form = form};
        if (procedure->submit.nactions) {
            change.render = s_submit_render;
            change.render_ctx = &render;
        }
        status =
            s_stored (dossiers_store_submit (self->store, &change, &submitted),
                      s_already_submitted, reply);
        if (render.rendered)
            s_effects_clear (&render.effects);
    }
    if (status == GCH__STATUS__STATUS_OK)
        s_dossier_reply (self, request, todo ? &submitted : &dossier, reply);
    free (normal);
    json_decref (form);
    dossiers_dossier_clear (&submitted);
    dossiers_dossier_clear (&dossier);
    gch__dossier_ref__free_unpacked (in, NULL);
    return status;
}

//  dossier.get - one dossier with its history, for its owner or an agent.
static int
s_dossier_get (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierRef *in = (Gch__DossierRef *) gch_request_unpack (
        request, &gch__dossier_ref__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_dossier_t dossier = {0};
    int status = GCH__STATUS__STATUS_OK;
    if (s_kind (request) == GCH__CALLER_KIND__CALLER_ANONYMOUS)
        status =
            gch_reply_error (reply, GCH__STATUS__STATUS_UNAUTHENTICATED, NULL);
    if (status == GCH__STATUS__STATUS_OK)
        status = s_stored (
            dossiers_store_get (
                self->store, in->id,
                s_kind (request) != GCH__CALLER_KIND__CALLER_CITIZEN, &dossier),
            NULL, reply);
    if (status == GCH__STATUS__STATUS_OK && !s_can_see (request, &dossier))
        status =
            gch_reply_error (reply, GCH__STATUS__STATUS_NOT_FOUND, s_not_found);
    if (status == GCH__STATUS__STATUS_OK)
        s_dossier_reply (self, request, &dossier, reply);
    dossiers_dossier_clear (&dossier);
    gch__dossier_ref__free_unpacked (in, NULL);
    return status;
}

//  dossier.list_mine - a citizen's dossiers, newest first.
static int
s_dossier_list_mine (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierListMine *in = (Gch__DossierListMine *) gch_request_unpack (
        request, &gch__dossier_list_mine__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_list_t list = {0};
    int status = s_require (request, GCH__CALLER_KIND__CALLER_CITIZEN, reply);
    if (status == GCH__STATUS__STATUS_OK) {
        gch_db_status_t rc = dossiers_store_list_mine (
            self->store, s_caller_id (request), in->before_id,
            s_limit (in->limit, S_LIMIT_DEFAULT, S_LIMIT_MAX), &list);
        status = s_stored (rc == 0 ? 1 : rc, NULL, reply);
    }
    if (status == GCH__STATUS__STATUS_OK)
        s_list_reply (self, &list, reply);
    dossiers_list_clear (&list);
    gch__dossier_list_mine__free_unpacked (in, NULL);
    return status;
}

//  --------------------------------------------------------------------------
//  Agents

//  dossier.queue - submitted dossiers of the agent's services.
static int
s_dossier_queue (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierQueue *in = (Gch__DossierQueue *) gch_request_unpack (
        request, &gch__dossier_queue__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_list_t list = {0};
    int status = s_require (request, GCH__CALLER_KIND__CALLER_AGENT, reply);
    if (status == GCH__STATUS__STATUS_OK && !s_code_valid (in->status)) {
        gch_reply_field (reply, "status", "Statut inconnu.");
        status = gch_reply_error (reply, GCH__STATUS__STATUS_INVALID, NULL);
    }
    if (status == GCH__STATUS__STATUS_OK) {
        const Gch__Caller *caller = request->caller;
        gch_db_status_t rc = dossiers_store_queue (
            self->store, caller->services, caller->n_services, caller->communes,
            caller->n_communes, in->status, in->before_id,
            s_limit (in->limit, S_LIMIT_DEFAULT, S_LIMIT_MAX), &list);
        status = s_stored (rc == 0 ? 1 : rc, NULL, reply);
    }
    if (status == GCH__STATUS__STATUS_OK)
        s_list_reply (self, &list, reply);
    dossiers_list_clear (&list);
    gch__dossier_queue__free_unpacked (in, NULL);
    return status;
}

//  The reply status when no transition of the caller leads to `to` from
//  the dossier's status: someone else's role, nowhere from here, or no
//  such state or transition at all.
static int
s_transition_refused (const dossiers_procedure_t *procedure, const char *to,
                      bool exists, Gch__Reply *reply)
{
    if (exists)
        return gch_reply_error (reply, GCH__STATUS__STATUS_FORBIDDEN,
                                "Votre rôle ne permet pas cette action.");
    bool known = dossiers_procedure_state (procedure, to) != NULL;
    for (size_t index = 0; !known && index < procedure->ntransitions; index++)
        known = streq (procedure->transitions[index].def.name, to);
    if (!known)
        return s_unprocessable (reply, "to", "Statut inconnu.");
    return gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT, s_impossible);
}

//  STATUS_OK if an agent's comment can be stored, else the error, set on
//  reply.
static int
s_comment_check (const char *comment, Gch__Reply *reply)
{
    if (!s_text_valid (comment))
        return s_unprocessable (reply, "comment",
                                "Le commentaire contient un caractère non "
                                "autorisé.");
    if (strlen (comment) > S_COMMENT_MAX)
        return s_unprocessable (reply, "comment",
                                "Le commentaire est trop long (5000 octets "
                                "au plus).");
    return GCH__STATUS__STATUS_OK;
}

//  dossier.transition - an agent moves a dossier through its workflow.
static int
s_dossier_transition (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierTransition *in = (Gch__DossierTransition *) gch_request_unpack (
        request, &gch__dossier_transition__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_dossier_t dossier = {0}, moved = {0};
    const dossiers_procedure_t *procedure = NULL;
    const dossiers_transition_t *transition = NULL;
    int status = s_require (request, GCH__CALLER_KIND__CALLER_AGENT, reply);
    if (status == GCH__STATUS__STATUS_OK)
        status = s_comment_check (in->comment, reply);
    if (status == GCH__STATUS__STATUS_OK)
        status =
            s_dossier_open (self, request, in->id, &dossier, &procedure, reply);
    bool todo = status == GCH__STATUS__STATUS_OK && !dossier.replayed;
    if (todo) {
        bool exists = false;
        transition = dossiers_procedure_transition (procedure, dossier.status,
                                                    in->to, request, &exists);
        if (!transition)
            status = s_transition_refused (procedure, in->to, exists, reply);
        else if (transition->def.comment_required && !*in->comment)
            status = s_unprocessable (reply, "comment",
                                      "Un commentaire est obligatoire.");
    }
    if (todo && status == GCH__STATUS__STATUS_OK) {
        char caller_key[48];
        const Gch__StatusDef *to =
            dossiers_procedure_state (procedure, transition->def.to);
        s_effects_t effects;
        status = s_effects_make (self, procedure, transition, &dossier, to,
                                 in->comment, &effects, reply);
        dossiers_change_t change = {
            .id = in->id,
            .from_status = dossier.status,
            .to_status = to->code,
            .to_label = to->label,
            .terminal = to->terminal,
            .comment = in->comment,
            .procedure_title = procedure->title,
            .actor = s_actor (request),
            .caller_key = s_caller_key (request, caller_key, sizeof caller_key),
            .idempotency_key = request->idempotency_key,
            .transition = transition->def.name,
            .effects = &effects.effects};
        if (status == GCH__STATUS__STATUS_OK)
            status = s_stored (
                dossiers_store_transition (self->store, &change, &moved),
                s_impossible, reply);
        s_effects_clear (&effects);
    }
    if (status == GCH__STATUS__STATUS_OK)
        s_dossier_reply (self, request, todo ? &moved : &dossier, reply);
    dossiers_dossier_clear (&moved);
    dossiers_dossier_clear (&dossier);
    gch__dossier_transition__free_unpacked (in, NULL);
    return status;
}

//  dossier.answer - the citizen answers a request for pieces: the fields
//  they may change are replaced, the whole form is checked again, and the
//  dossier goes back to the agents' state named by the request.
static int
s_dossier_answer (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    Gch__DossierAnswer *in = (Gch__DossierAnswer *) gch_request_unpack (
        request, &gch__dossier_answer__descriptor, reply);
    if (!in)
        return GCH__STATUS__STATUS_INVALID;
    dossiers_dossier_t dossier = {0}, answered = {0};
    const dossiers_procedure_t *procedure = NULL;
    int status = s_require (request, GCH__CALLER_KIND__CALLER_CITIZEN, reply);
    if (status == GCH__STATUS__STATUS_OK)
        status =
            s_dossier_open (self, request, in->id, &dossier, &procedure, reply);
    bool todo = status == GCH__STATUS__STATUS_OK && !dossier.replayed;
    if (todo && (!*dossier.return_to ||
                 !dossiers_procedure_awaiting (procedure, dossier.status)))
        status = gch_reply_error (reply, GCH__STATUS__STATUS_CONFLICT,
                                  "Ce dossier n'attend pas de réponse de "
                                  "votre part.");
    todo = todo && status == GCH__STATUS__STATUS_OK;
    json_t *answer = NULL, *merged = NULL;
    if (todo) {
        answer = json_loads (*in->form_json ? in->form_json : "{}", 0, NULL);
        if (!json_is_object (answer))
            status = gch_reply_error (reply, GCH__STATUS__STATUS_INVALID,
                                      "Le formulaire doit être un objet "
                                      "JSON.");
    }
    if (todo && status == GCH__STATUS__STATUS_OK) {
        merged = json_loads (dossier.form_json, 0, NULL);
        if (!merged)
            merged = json_object ();
        char editable[1024];
        snprintf (editable, sizeof editable, ",%s,", dossier.editable);
        const char *key;
        json_t *value;
        size_t refused = 0;
        json_object_foreach (answer, key, value)
        {
            char wanted[160];
            snprintf (wanted, sizeof wanted, ",%s,", key);
            if (*dossier.editable && !strstr (editable, wanted)) {
                char path[160];
                snprintf (path, sizeof path, "form.%.64s", key);
                gch_reply_field (reply, path,
                                 "Ce champ ne peut pas être modifié "
                                 "maintenant.");
                refused++;
            }
            else
                json_object_set (merged, key, value);
        }
        if (refused)
            status = gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE,
                                      "Seules les pièces demandées peuvent "
                                      "être modifiées.");
    }
    char *normal = NULL;
    if (todo && status == GCH__STATUS__STATUS_OK) {
        char *text = json_dumps (merged, JSON_COMPACT);
        status = dossiers_procedure_check_form (self->catalog, procedure, text,
                                                true, reply, &normal, NULL);
        free (text);
    }
    if (todo && status == GCH__STATUS__STATUS_OK) {
        char caller_key[48];
        const Gch__StatusDef *to =
            dossiers_procedure_state (procedure, dossier.return_to);
        dossiers_change_t change = {
            .id = in->id,
            .from_status = dossier.status,
            .to_status = to->code,
            .to_label = to->label,
            .comment = "Réponse de l'usager : pièces et informations "
                       "complétées.",
            .form_json = normal,
            .procedure_title = procedure->title,
            .actor = s_actor (request),
            .caller_key = s_caller_key (request, caller_key, sizeof caller_key),
            .idempotency_key = request->idempotency_key};
        status =
            s_stored (dossiers_store_answer (self->store, &change, &answered),
                      "Ce dossier n'attend plus de réponse.", reply);
    }
    if (status == GCH__STATUS__STATUS_OK)
        s_dossier_reply (self, request, todo ? &answered : &dossier, reply);
    free (normal);
    json_decref (answer);
    json_decref (merged);
    dossiers_dossier_clear (&answered);
    dossiers_dossier_clear (&dossier);
    gch__dossier_answer__free_unpacked (in, NULL);
    return status;
}

//  commune.list - the communes of the territory (for address fields).
static int
s_commune_list (void *ctx, const Gch__Request *request, Gch__Reply *reply)
{
    dossiers_context_t *self = (dossiers_context_t *) ctx;
    (void) request;
    size_t count;
    const dossiers_commune_t *communes =
        dossiers_catalog_communes (self->catalog, &count);
    Gch__Communes out = GCH__COMMUNES__INIT;
    Gch__Commune *items =
        (Gch__Commune *) zmalloc ((count + 1) * sizeof (Gch__Commune));
    out.communes = (Gch__Commune **) zmalloc ((count + 1) * sizeof (void *));
    out.n_communes = count;
    for (size_t index = 0; index < count; index++) {
        Gch__Commune *item = &items[index];
        gch__commune__init (item);
        item->insee = communes[index].insee;
        item->name = communes[index].name;
        item->postcodes = communes[index].postcodes;
        item->n_postcodes = communes[index].npostcodes;
        item->pole = communes[index].pole ? communes[index].pole : "";
        out.communes[index] = item;
    }
    gch_reply_body (reply, &out.base);
    free (out.communes);
    free (items);
    return GCH__STATUS__STATUS_OK;
}

//  --------------------------------------------------------------------------
//  Services

const gch_method_t dossiers_methods[] = {
    {"procedure.list", s_procedure_list, &gch__procedure_list__descriptor},
    {"procedure.get", s_procedure_get, &gch__procedure_get__descriptor},
    {"dossier.create", s_dossier_create, &gch__dossier_create__descriptor},
    {"dossier.update", s_dossier_update, &gch__dossier_update__descriptor},
    {"dossier.submit", s_dossier_submit, &gch__dossier_ref__descriptor},
    {"dossier.get", s_dossier_get, &gch__dossier_ref__descriptor},
    {"dossier.list_mine", s_dossier_list_mine,
     &gch__dossier_list_mine__descriptor},
    {"dossier.queue", s_dossier_queue, &gch__dossier_queue__descriptor},
    {"dossier.transition", s_dossier_transition,
     &gch__dossier_transition__descriptor},
    {"dossier.answer", s_dossier_answer, &gch__dossier_answer__descriptor},
    {"commune.list", s_commune_list, &gch__commune_list__descriptor},
    {NULL, NULL, NULL}};

//  --------------------------------------------------------------------------
//  Self-test (no database: the context has no store, and every call below
//  is answered before the store would be used)

//  Call method with body as caller; returns the status; reply holds the
//  answer (caller clears it).
static int
s_test_call (dossiers_context_t *context, const char *method,
             Gch__Caller *caller, const ProtobufCMessage *body,
             Gch__Reply *reply)
{
    const gch_method_t *entry = dossiers_methods;
    while (entry->method && !streq (entry->method, method))
        entry++;
    assert (entry->method);
    Gch__Request request = GCH__REQUEST__INIT;
    request.method = (char *) method;
    request.caller = caller;
    request.idempotency_key = "test-key";
    uint8_t *data = NULL;
    if (body)
        request.body.len = gch_pack (body, &data);
    else {
        //  Not a protobuf message of any kind: a truncated varint.
        data = (uint8_t *) strdup ("\x08");
        request.body.len = 1;
    }
    request.body.data = data;
    gch_reply_init (reply);
    int status = entry->handler (context, &request, reply);
    free (data);
    return status;
}

static bool
s_test_named (const Gch__Reply *reply, const char *field)
{
    for (size_t index = 0; index < reply->n_fields; index++)
        if (streq (reply->fields[index]->name, field))
            return true;
    return false;
}

void
dossiers_handlers_test (bool verbose)
{
    printf (" * dossiers_handlers: ");
    dossiers_catalog_t *catalog =
        dossiers_catalog_new ("svc-dossiers/catalog", NULL);
    assert (catalog);
    dossiers_context_t context = {NULL, catalog, NULL};
    char *roles[] = {"instructeur"};
    char *services[] = {"police-municipale"};
    Gch__Caller citizen = GCH__CALLER__INIT;
    citizen.kind = GCH__CALLER_KIND__CALLER_CITIZEN;
    citizen.id = 42;
    citizen.name = "Jeanne Dupont";
    Gch__Caller agent = GCH__CALLER__INIT;
    agent.kind = GCH__CALLER_KIND__CALLER_AGENT;
    agent.id = 7;
    agent.n_roles = 1;
    agent.roles = roles;
    agent.n_services = 1;
    agent.services = services;
    Gch__Reply reply;

    //  Procedures, for anyone.
    Gch__ProcedureList list = GCH__PROCEDURE_LIST__INIT;
    list.q = "TRANQUILLITÉ";
    int status =
        s_test_call (&context, "procedure.list", NULL, &list.base, &reply);
    assert (status == GCH__STATUS__STATUS_OK);
    Gch__Procedures *procedures =
        gch__procedures__unpack (NULL, reply.body.len, reply.body.data);
    assert (procedures && procedures->n_procedures == 1);
    assert (streq (procedures->procedures[0]->slug, "tranquillite-vacances"));
    assert (procedures->procedures[0]->n_statuses == 5);
    gch__procedures__free_unpacked (procedures, NULL);
    gch_reply_clear (&reply);
    Gch__ProcedureGet get = GCH__PROCEDURE_GET__INIT;
    get.slug = "tranquillite-vacances";
    status = s_test_call (&context, "procedure.get", NULL, &get.base, &reply);
    assert (status == GCH__STATUS__STATUS_OK && reply.body.len > 0);
    gch_reply_clear (&reply);
    get.slug = "nope";
    status = s_test_call (&context, "procedure.get", NULL, &get.base, &reply);
    assert (status == GCH__STATUS__STATUS_NOT_FOUND);
    gch_reply_clear (&reply);
    status = s_test_call (&context, "procedure.get", NULL, NULL, &reply);
    assert (status == GCH__STATUS__STATUS_INVALID);
    gch_reply_clear (&reply);

    //  dossier.create: who, which procedure, what form.
    Gch__DossierCreate create = GCH__DOSSIER_CREATE__INIT;
    create.procedure = "tranquillite-vacances";
    create.form_json =
        "{\"adresse\": {\"street\": \"3 rue de la Paix\", \"postcode\": "
        "\"86000\", \"commune\": \"86194\"}}";
    create.submit = true;
    status =
        s_test_call (&context, "dossier.create", NULL, &create.base, &reply);
    assert (status == GCH__STATUS__STATUS_UNAUTHENTICATED);
    gch_reply_clear (&reply);
    status =
        s_test_call (&context, "dossier.create", &agent, &create.base, &reply);
    assert (status == GCH__STATUS__STATUS_FORBIDDEN);
    gch_reply_clear (&reply);
    status = s_test_call (&context, "dossier.create", &citizen, &create.base,
                          &reply);
    assert (status == GCH__STATUS__STATUS_UNPROCESSABLE);
    assert (s_test_named (&reply, "form.telephone"));
    assert (!s_test_named (&reply, "form.adresse"));
    gch_reply_clear (&reply);
    create.procedure = "nope";
    status = s_test_call (&context, "dossier.create", &citizen, &create.base,
                          &reply);
    assert (status == GCH__STATUS__STATUS_UNPROCESSABLE);
    assert (s_test_named (&reply, "procedure"));
    gch_reply_clear (&reply);

    //  Agents' methods.
    Gch__DossierQueue queue = GCH__DOSSIER_QUEUE__INIT;
    status =
        s_test_call (&context, "dossier.queue", &citizen, &queue.base, &reply);
    assert (status == GCH__STATUS__STATUS_FORBIDDEN);
    gch_reply_clear (&reply);
    queue.status = "Déposé";
    status =
        s_test_call (&context, "dossier.queue", &agent, &queue.base, &reply);
    assert (status == GCH__STATUS__STATUS_INVALID);
    assert (s_test_named (&reply, "status"));
    gch_reply_clear (&reply);
    Gch__DossierTransition transition = GCH__DOSSIER_TRANSITION__INIT;
    transition.id = 1;
    transition.to = "refused";
    transition.comment = "caf\xC3";  //  cut in the middle of a character
    status = s_test_call (&context, "dossier.transition", &agent,
                          &transition.base, &reply);
    assert (status == GCH__STATUS__STATUS_UNPROCESSABLE);
    assert (s_test_named (&reply, "comment"));
    gch_reply_clear (&reply);
    status = s_test_call (&context, "dossier.transition", &citizen,
                          &transition.base, &reply);
    assert (status == GCH__STATUS__STATUS_FORBIDDEN);
    gch_reply_clear (&reply);

    //  Helpers.
    assert (s_text_valid ("Déposé le 3 juillet\n\tà 9 h — ok 🚓"));
    assert (!s_text_valid ("\x01"));
    assert (!s_text_valid ("\xC0\xAF"));  //  overlong
    assert (!s_text_valid ("\xE2\x82"));  //  cut short
    assert (!s_text_valid ("\xFF"));
    assert (s_code_valid ("in_instruction") && s_code_valid (""));
    assert (!s_code_valid ("In instruction"));
    assert (s_limit (0, 50, 200) == 50 && s_limit (500, 50, 200) == 200);
    assert (s_limit (7, 50, 200) == 7);
    char key[48];
    Gch__Request request = GCH__REQUEST__INIT;
    request.caller = &citizen;
    assert (streq (s_caller_key (&request, key, sizeof key), "citizen:42"));
    request.caller = NULL;
    assert (streq (s_caller_key (&request, key, sizeof key), "anonymous:0"));

    dossiers_catalog_destroy (&catalog);
    (void) verbose;
    printf ("OK\n");
}
