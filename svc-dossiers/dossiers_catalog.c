//  dossiers_catalog - the procedure catalog of svc-dossiers.
//
//  At start, dossiers_catalog_new reads the catalog folder (GCH_CATALOG):
//  communes.json, organisation.json, the JSON Schema of definitions, then
//  every procedures/*.json. Each definition is checked first against the
//  schema (structure: keys, types, enums, patterns), then by the
//  cross-checks of docs/procedures.md (names that must exist, in scope, of
//  the right type), here and in dossiers_form. The service refuses to start
//  if one is wrong, with "file: path: message".
//
//  Because the schema has checked the structure, the parse functions below
//  read members without re-checking their JSON types.
#include "gch.h"
#include "dossiers_catalog.h"
#include "dossiers_fields.h"
#include "gch_jsonschema.h"

#include <dirent.h>
#include <sys/stat.h>
#include <math.h>
#include <stdarg.h>

struct _dossiers_catalog_t {
    dossiers_commune_t *communes;  //  by name
    size_t ncommunes;
    json_t *organisation;               //  organisation.json (owned)
    gch_jsonschema_t *schema;           //  procedure.schema.json
    dossiers_procedure_t **procedures;  //  sorted by slug, then version
    size_t size;                        //  number of definitions
    char **search;  //  folded title + description + keywords, same order
};

//  State of the parse of one file: the first error wins.
typedef struct {
    const char *file;  //  file being read, for messages
    char *error;       //  "file: path: message", or NULL so far
    dossiers_catalog_t *catalog;
} parser_t;

static void
s_fail (parser_t *p, const char *path, const char *format, ...)
{
    if (p->error)
        return;
    char message[512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    p->error =
        zsys_sprintf ("%s: %s: %s", p->file, *path ? path : "(top)", message);
}

static void
s_fail_fn (void *ctx, const char *path, const char *message)
{
    s_fail ((parser_t *) ctx, path, "%s", message);
}

static const char *
s_str (json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

//  Copy of text, lower case, with Latin-1 accented letters folded to their
//  base letters (é -> e, œ -> oe), for accent-insensitive search. Caller
//  owns the result.
static char *
s_fold (const char *text)
{
    //  U+00C0 .. U+00FF; NULL = keep as is.
    static const char *const latin1[64] = {
        "a", "a", "a", "a",  "a",  "a",  "ae", "c", "e", "e", "e",  "e", "i",
        "i", "i", "i", "d",  "n",  "o",  "o",  "o", "o", "o", NULL, "o", "u",
        "u", "u", "u", "y",  "th", "ss", "a",  "a", "a", "a", "a",  "a", "ae",
        "c", "e", "e", "e",  "e",  "i",  "i",  "i", "i", "d", "n",  "o", "o",
        "o", "o", "o", NULL, "o",  "u",  "u",  "u", "u", "y", "th", "y"};
    char *folded = (char *) zmalloc (strlen (text) + 1);
    char *out = folded;
    const unsigned char *in = (const unsigned char *) text;
    while (*in) {
        const char *with = NULL;
        if (in[0] == 0xC3 && in[1] >= 0x80 && in[1] <= 0xBF)
            with = latin1[in[1] - 0x80];
        else if (in[0] == 0xC5 && (in[1] == 0x92 || in[1] == 0x93))
            with = "oe";
        if (with) {
            //  Every replacement is at most as long as the two bytes it
            //  replaces.
            size_t length = strlen (with);
            memcpy (out, with, length);
            out += length;
            in += 2;
        }
        else {
            *out++ = (char) ((*in >= 'A' && *in <= 'Z') ? *in + 32 : *in);
            in++;
        }
    }
    *out = 0;
    return folded;
}

//  An array of strings of a definition, as a new array of borrowed strings.
static char **
s_strings (json_t *array, size_t *count_p)
{
    *count_p = json_array_size (array);
    if (!*count_p)
        return NULL;
    char **strings = (char **) zmalloc (*count_p * sizeof (char *));
    for (size_t index = 0; index < *count_p; index++)
        strings[index] =
            (char *) json_string_value (json_array_get (array, index));
    return strings;
}

static bool
s_has (char *const *strings, size_t count, const char *string)
{
    for (size_t index = 0; string && index < count; index++)
        if (streq (strings[index], string))
            return true;
    return false;
}

//  --------------------------------------------------------------------------
//  Communes and organisation

const dossiers_commune_t *
dossiers_catalog_commune (dossiers_catalog_t *self, const char *insee)
{
    assert (self);
    for (size_t index = 0; insee && index < self->ncommunes; index++)
        if (streq (self->communes[index].insee, insee))
            return &self->communes[index];
    return NULL;
}

const dossiers_commune_t *
dossiers_catalog_communes (dossiers_catalog_t *self, size_t *count_p)
{
    assert (self && count_p);
    *count_p = self->ncommunes;
    return self->communes;
}

static bool
s_known (dossiers_catalog_t *self, const char *kind, const char *code)
{
    json_t *list = json_object_get (self->organisation, kind);
    for (size_t index = 0; code && index < json_array_size (list); index++)
        if (streq (s_str (json_array_get (list, index), "code"), code))
            return true;
    return false;
}

//  The label of service or pôle code ("services", "poles"), else the code.
static const char *
s_label (dossiers_catalog_t *self, const char *kind, const char *code)
{
    json_t *list = json_object_get (self->organisation, kind);
    for (size_t index = 0; code && index < json_array_size (list); index++) {
        json_t *item = json_array_get (list, index);
        if (streq (s_str (item, "code"), code))
            return s_str (item, "label");
    }
    return code;
}

static json_t *
s_load_json (parser_t *p, const char *file)
{
    json_error_t error;
    json_t *root = json_load_file (file, JSON_REJECT_DUPLICATES, &error);
    if (!root && !p->error)
        p->error = zsys_sprintf ("%s:%d:%d: %s", file, error.line, error.column,
                                 error.text);
    return root;
}

//  communes.json: {"communes": [{"insee", "name", "postcodes": [..]}]}
static void
s_communes_load (parser_t *p, dossiers_catalog_t *self, const char *dir)
{
    char *file = zsys_sprintf ("%s/communes.json", dir);
    p->file = file;
    json_t *root = s_load_json (p, file);
    json_t *list = json_object_get (root, "communes");
    if (root && !json_is_array (list))
        s_fail (p, "communes", "must be an array");
    size_t count = json_array_size (list);
    self->communes =
        (dossiers_commune_t *) zmalloc ((count + 1) * sizeof (*self->communes));
    for (size_t index = 0; index < count && !p->error; index++) {
        json_t *item = json_array_get (list, index);
        char where[64];
        gch_pathf (where, sizeof where, "communes[%zu]", index);
        const char *insee = s_str (item, "insee");
        const char *name = s_str (item, "name");
        json_t *postcodes = json_object_get (item, "postcodes");
        json_t *code = insee ? json_string (insee) : NULL;
        if (!insee || !name || !json_array_size (postcodes) ||
            dossiers_check_insee (code, NULL))
            s_fail (p, where, "needs an INSEE code, a name and postcodes");
        json_decref (code);
        if (p->error)
            break;
        if (dossiers_catalog_commune (self, insee))
            s_fail (p, where, "commune %s listed twice", insee);
        dossiers_commune_t *commune = &self->communes[self->ncommunes++];
        commune->insee = strdup (insee);
        commune->name = strdup (name);
        commune->npostcodes = json_array_size (postcodes);
        commune->postcodes =
            (char **) zmalloc (commune->npostcodes * sizeof (char *));
        for (size_t at = 0; at < commune->npostcodes; at++) {
            const char *postcode =
                json_string_value (json_array_get (postcodes, at));
            commune->postcodes[at] = strdup (postcode ? postcode : "");
        }
    }
    json_decref (root);
    free (file);
    p->file = NULL;
}

//  organisation.json: {"services": [{"code", "label"}], "poles": [{"code",
//  "label", "communes": [...]}]}; each commune in one pôle at most.
static void
s_organisation_load (parser_t *p, dossiers_catalog_t *self, const char *dir)
{
    char *file = zsys_sprintf ("%s/organisation.json", dir);
    p->file = file;
    self->organisation = s_load_json (p, file);
    const char *lists[] = {"services", "poles"};
    for (size_t kind = 0; kind < 2 && !p->error; kind++) {
        json_t *list = json_object_get (self->organisation, lists[kind]);
        if (!json_is_array (list)) {
            s_fail (p, lists[kind], "must be an array");
            break;
        }
        for (size_t index = 0; index < json_array_size (list); index++) {
            json_t *item = json_array_get (list, index);
            char where[64];
            gch_pathf (where, sizeof where, "%s[%zu]", lists[kind], index);
            const char *code = s_str (item, "code");
            if (!code || !s_str (item, "label")) {
                s_fail (p, where, "needs a code and a label");
                break;
            }
            for (size_t before = 0; before < index; before++)
                if (streq (s_str (json_array_get (list, before), "code"), code))
                    s_fail (p, where, "\"%s\" listed twice", code);
            json_t *communes = json_object_get (item, "communes");
            for (size_t at = 0; kind == 1 && at < json_array_size (communes);
                 at++) {
                const char *insee =
                    json_string_value (json_array_get (communes, at));
                dossiers_commune_t *commune =
                    (dossiers_commune_t *) dossiers_catalog_commune (self,
                                                                     insee);
                if (!commune)
                    s_fail (p, where, "unknown commune \"%s\"",
                            insee ? insee : "?");
                else if (commune->pole)
                    s_fail (p, where, "commune %s is also in pôle %s", insee,
                            commune->pole);
                else
                    commune->pole = strdup (code);
            }
        }
    }
    free (file);
    p->file = NULL;
}

//  --------------------------------------------------------------------------
//  Definitions

static void
s_procedure_destroy (dossiers_procedure_t **self_p)
{
    assert (self_p);
    dossiers_procedure_t *self = *self_p;
    if (!self)
        return;
    free (self->file);
    free (self->communes);
    for (size_t index = 0; index < self->nrules; index++)
        free (self->rules[index].communes);
    free (self->rules);
    dossiers_form_destroy (&self->form);
    free (self->states);
    free (self->awaiting);
    for (size_t index = 0; index < self->ntransitions; index++) {
        dossiers_transition_t *transition = &self->transitions[index];
        free (transition->def.from);
        free (transition->def.roles);
        for (size_t at = 0; at < transition->nactions; at++) {
            free (transition->actions[at].fields);
            dossiers_form_expr_destroy (&transition->actions[at].amount);
        }
        free (transition->actions);
    }
    free (self->transitions);
    for (size_t at = 0; at < self->submit.nactions; at++)
        dossiers_form_expr_destroy (&self->submit.actions[at].amount);
    free (self->submit.actions);
    for (size_t index = 0; index < self->ntemplates; index++) {
        dossiers_template_destroy (&self->templates[index].heading);
        dossiers_template_destroy (&self->templates[index].body);
    }
    free (self->templates);
    free (self->message.statuses);
    free (self->message.transitions);
    free (self->message.communes);
    free (self->message.form_json);
    json_decref (self->definition);
    free (self);
    *self_p = NULL;
}

//  Where and who: offer and routing.
static void
s_offer_parse (parser_t *p, dossiers_procedure_t *self, json_t *root)
{
    dossiers_catalog_t *catalog = p->catalog;
    json_t *communes =
        json_object_get (json_object_get (root, "offer"), "communes");
    self->everywhere = json_is_string (communes);
    self->communes =
        s_strings (self->everywhere ? NULL : communes, &self->ncommunes);
    char where[128];
    for (size_t index = 0; index < self->ncommunes && !p->error; index++)
        if (!dossiers_catalog_commune (catalog, self->communes[index])) {
            gch_pathf (where, sizeof where, "offer.communes[%zu]", index);
            s_fail (p, where, "unknown commune \"%s\"", self->communes[index]);
        }
    json_t *routing = json_object_get (root, "routing");
    self->commune_field = s_str (routing, "commune_field");
    self->service = s_str (routing, "service");
    self->pole = s_str (routing, "pole");
    if (!s_known (catalog, "services", self->service))
        s_fail (p, "routing.service", "unknown service \"%s\"", self->service);
    if (self->pole && !streq (self->pole, "territorial") &&
        !s_known (catalog, "poles", self->pole))
        s_fail (p, "routing.pole", "unknown pôle \"%s\"", self->pole);
    json_t *rules = json_object_get (routing, "rules");
    self->nrules = json_array_size (rules);
    if (self->nrules)
        self->rules = (dossiers_rule_t *) zmalloc (self->nrules *
                                                   sizeof (dossiers_rule_t));
    for (size_t index = 0; index < self->nrules && !p->error; index++) {
        json_t *item = json_array_get (rules, index);
        dossiers_rule_t *rule = &self->rules[index];
        rule->communes =
            s_strings (json_object_get (item, "communes"), &rule->ncommunes);
        rule->service = s_str (item, "service");
        rule->pole = s_str (item, "pole");
        gch_pathf (where, sizeof where, "routing.rules[%zu]", index);
        for (size_t at = 0; at < rule->ncommunes && !p->error; at++) {
            const char *insee = rule->communes[at];
            if (!dossiers_catalog_commune (catalog, insee))
                s_fail (p, where, "unknown commune \"%s\"", insee);
            else if (!self->everywhere &&
                     !s_has (self->communes, self->ncommunes, insee))
                s_fail (p, where, "commune %s is not in offer.communes", insee);
        }
        if (rule->service && !s_known (catalog, "services", rule->service))
            s_fail (p, where, "unknown service \"%s\"", rule->service);
        if (rule->pole && !streq (rule->pole, "territorial") &&
            !s_known (catalog, "poles", rule->pole))
            s_fail (p, where, "unknown pôle \"%s\"", rule->pole);
    }
    bool needed = !self->everywhere || self->nrules ||
                  (self->pole && streq (self->pole, "territorial"));
    if (needed && !self->commune_field)
        s_fail (p, "routing",
                "commune_field is needed to know the dossier's "
                "commune");
}

//  After the form: the commune field is a required address or insee field.
static void
s_commune_field_check (parser_t *p, dossiers_procedure_t *self)
{
    if (!self->commune_field || p->error)
        return;
    const dossiers_field_t *field =
        dossiers_form_field (self->form, self->commune_field);
    if (!field)
        s_fail (p, "routing.commune_field", "unknown field \"%s\"",
                self->commune_field);
    else if (field->type != DOSSIERS_TYPE_ADDRESS &&
             field->type != DOSSIERS_TYPE_INSEE)
        s_fail (p, "routing.commune_field",
                "\"%s\" is not an address or insee field", field->name);
    else if (!field->required || field->visible_if)
        s_fail (p, "routing.commune_field",
                "\"%s\" must be required and always shown", field->name);
}

static bool
s_merge_known (void *ctx, const char *name)
{
    static const char *const names[] = {"dossier.number",
                                        "dossier.status_label",
                                        "dossier.commune",
                                        "dossier.deadline",
                                        "dossier.submitted",
                                        "procedure.title",
                                        "citizen.name",
                                        "service",
                                        "pole",
                                        "comment",
                                        "today",
                                        NULL};
    for (size_t index = 0; names[index]; index++)
        if (streq (names[index], name))
            return true;
    const dossiers_procedure_t *self = (const dossiers_procedure_t *) ctx;
    if (strncmp (name, "form.", 5) != 0)
        return false;
    const dossiers_field_t *field = dossiers_form_field (self->form, name + 5);
    return field && field->type != DOSSIERS_TYPE_GROUP &&
           field->type != DOSSIERS_TYPE_FILE;
}

static void
s_templates_parse (parser_t *p, dossiers_procedure_t *self, json_t *root)
{
    json_t *templates = json_object_get (root, "templates");
    self->ntemplates = json_object_size (templates);
    if (!self->ntemplates)
        return;
    self->templates =
        (dossiers_tpl_t *) zmalloc (self->ntemplates * sizeof (dossiers_tpl_t));
    size_t index = 0;
    const char *name;
    json_t *item;
    json_object_foreach (templates, name, item)
    {
        dossiers_tpl_t *tpl = &self->templates[index++];
        tpl->name = (char *) name;
        tpl->email = streq (s_str (item, "kind"), "email");
        const char *parts[] = {tpl->email ? "subject" : "title", "body"};
        for (size_t part = 0; part < 2 && !p->error; part++) {
            char *error = NULL;
            dossiers_template_t *parsed = dossiers_template_parse (
                s_str (item, parts[part]), s_merge_known, self, &error);
            if (!parsed) {
                char where[160];
                gch_pathf (where, sizeof where, "templates.%s.%s", name,
                           parts[part]);
                s_fail (p, where, "%s", error);
                free (error);
            }
            if (part == 0)
                tpl->heading = parsed;
            else
                tpl->body = parsed;
        }
    }
}

const dossiers_tpl_t *
dossiers_procedure_template (const dossiers_procedure_t *self, const char *name)
{
    for (size_t index = 0; name && index < self->ntemplates; index++)
        if (streq (self->templates[index].name, name))
            return &self->templates[index];
    return NULL;
}

//  The state named code, else a fault at path.
static const Gch__StatusDef *
s_state_known (parser_t *p, const dossiers_procedure_t *self, const char *code,
               const char *path)
{
    if (p->error)
        return NULL;
    const Gch__StatusDef *state = dossiers_procedure_state (self, code);
    if (!state)
        s_fail (p, path, "unknown state \"%s\"", code);
    return state;
}

static void
s_action_parse (parser_t *p, dossiers_procedure_t *self,
                dossiers_transition_t *transition, dossiers_action_t *action,
                json_t *item, const char *path)
{
    const char *kind = s_str (item, "type");
    char where[300];
    if (streq (kind, "email") || streq (kind, "document")) {
        bool email = streq (kind, "email");
        action->kind = email ? DOSSIERS_ACTION_EMAIL : DOSSIERS_ACTION_DOCUMENT;
        json_t *visible = json_object_get (item, "citizen_visible");
        action->citizen_visible = !visible || json_is_true (visible);
        action->tpl =
            dossiers_procedure_template (self, s_str (item, "template"));
        gch_pathf (where, sizeof where, "%s.template", path);
        if (!action->tpl)
            s_fail (p, where, "unknown template \"%s\"",
                    s_str (item, "template"));
        else if (action->tpl->email != email)
            s_fail (p, where, "\"%s\" is not an %s template", action->tpl->name,
                    email ? "email" : "document");
    }
    else if (streq (kind, "request_pieces")) {
        action->kind = DOSSIERS_ACTION_REQUEST_PIECES;
        action->return_to = s_str (item, "return_to");
        action->fields =
            s_strings (json_object_get (item, "fields"), &action->nfields);
        gch_pathf (where, sizeof where, "%s.return_to", path);
        const Gch__StatusDef *state =
            s_state_known (p, self, action->return_to, where);
        if (state && (state->terminal || streq (state->code, self->initial) ||
                      dossiers_procedure_awaiting (self, state->code)))
            s_fail (p, where,
                    "\"%s\" may not be initial, terminal nor "
                    "awaiting the citizen",
                    state->code);
        for (size_t index = 0; index < action->nfields && !p->error; index++)
            if (!dossiers_form_field (self->form, action->fields[index])) {
                gch_pathf (where, sizeof where, "%s.fields[%zu]", path, index);
                s_fail (p, where, "unknown field \"%s\"",
                        action->fields[index]);
            }
        if (transition->pieces)
            s_fail (p, path, "one request_pieces per transition");
        transition->pieces = action;
    }
    else if (streq (kind, "payment")) {
        action->kind = DOSSIERS_ACTION_PAYMENT;
        action->label = s_str (item, "label");
        action->iban_field = s_str (item, "iban_field");
        gch_pathf (where, sizeof where, "%s.amount", path);
        action->amount = dossiers_form_expr_parse (
            self->form, json_object_get (item, "amount"), where, s_fail_fn, p);
        if (action->iban_field) {
            const dossiers_field_t *field =
                dossiers_form_field (self->form, action->iban_field);
            gch_pathf (where, sizeof where, "%s.iban_field", path);
            if (!field || field->type != DOSSIERS_TYPE_IBAN)
                s_fail (p, where, "\"%s\" is not an iban field",
                        action->iban_field);
        }
    }
    else {
        action->kind = DOSSIERS_ACTION_DEADLINE;
        action->days =
            (int) json_integer_value (json_object_get (item, "days"));
        action->label = s_str (item, "label");
    }
}

static void
s_transition_parse (parser_t *p, dossiers_procedure_t *self,
                    dossiers_transition_t *transition, json_t *item,
                    const char *path)
{
    char where[256];
    Gch__Transition *def = &transition->def;
    gch__transition__init (def);
    def->name = (char *) s_str (item, "name");
    def->to = (char *) s_str (item, "to");
    def->label = (char *) s_str (item, "label");
    def->from = s_strings (json_object_get (item, "from"), &def->n_from);
    def->roles = s_strings (json_object_get (item, "roles"), &def->n_roles);
    def->comment_required =
        json_is_true (json_object_get (item, "comment_required"));
    for (size_t index = 0; index < def->n_from && !p->error; index++) {
        gch_pathf (where, sizeof where, "%s.from[%zu]", path, index);
        const Gch__StatusDef *from =
            s_state_known (p, self, def->from[index], where);
        if (from && from->terminal)
            s_fail (p, where, "state \"%s\" is terminal", from->code);
        else if (from && streq (from->code, self->initial))
            s_fail (p, where,
                    "the initial state \"%s\" is left by submission only",
                    from->code);
    }
    gch_pathf (where, sizeof where, "%s.to", path);
    const Gch__StatusDef *to = s_state_known (p, self, def->to, where);
    if (to && streq (to->code, self->initial))
        s_fail (p, where, "no transition may lead back to the initial state");
    json_t *actions = json_object_get (item, "actions");
    transition->nactions = json_array_size (actions);
    if (transition->nactions)
        transition->actions = (dossiers_action_t *) zmalloc (
            transition->nactions * sizeof (dossiers_action_t));
    for (size_t index = 0; index < transition->nactions && !p->error; index++) {
        gch_pathf (where, sizeof where, "%s.actions[%zu]", path, index);
        s_action_parse (p, self, transition, &transition->actions[index],
                        json_array_get (actions, index), where);
    }
    bool awaiting = to && dossiers_procedure_awaiting (self, to->code);
    if (p->error)
        return;
    if (awaiting && !transition->pieces)
        s_fail (p, path,
                "\"%s\" awaits the citizen: the transition needs a "
                "request_pieces action",
                to->code);
    else if (!awaiting && transition->pieces)
        s_fail (p, path,
                "request_pieces needs a target state awaiting the "
                "citizen");
    else if (awaiting && !def->comment_required)
        s_fail (p, path,
                "asking for pieces needs comment_required (the "
                "citizen must know what is missing)");
}

static void
s_workflow_parse (parser_t *p, dossiers_procedure_t *self, json_t *workflow)
{
    char path[256];
    self->initial = s_str (workflow, "initial");
    self->submitted = s_str (workflow, "submitted");
    json_t *states = json_object_get (workflow, "states");
    self->nstates = json_array_size (states);
    self->states =
        (Gch__StatusDef *) zmalloc (self->nstates * sizeof (Gch__StatusDef));
    self->awaiting = (bool *) zmalloc (self->nstates * sizeof (bool));
    for (size_t index = 0; index < self->nstates && !p->error; index++) {
        json_t *item = json_array_get (states, index);
        Gch__StatusDef *state = &self->states[index];
        gch__status_def__init (state);
        state->code = (char *) s_str (item, "code");
        state->label = (char *) s_str (item, "label");
        state->terminal = json_is_true (json_object_get (item, "terminal"));
        self->awaiting[index] =
            json_is_true (json_object_get (item, "awaiting_citizen"));
        gch_pathf (path, sizeof path, "workflow.states[%zu]", index);
        for (size_t before = 0; before < index; before++)
            if (streq (self->states[before].code, state->code))
                s_fail (p, path, "state \"%s\" is defined twice", state->code);
        if (state->terminal && self->awaiting[index])
            s_fail (p, path, "a terminal state does not await the citizen");
    }
    const Gch__StatusDef *initial =
        s_state_known (p, self, self->initial, "workflow.initial");
    const Gch__StatusDef *submitted =
        s_state_known (p, self, self->submitted, "workflow.submitted");
    if (initial && submitted && initial == submitted)
        s_fail (p, "workflow.submitted", "must differ from workflow.initial");
    else if (initial && (initial->terminal ||
                         dossiers_procedure_awaiting (self, initial->code)))
        s_fail (p, "workflow.initial", "must not be terminal nor awaiting");
    else if (submitted && (submitted->terminal ||
                           dossiers_procedure_awaiting (self, submitted->code)))
        s_fail (p, "workflow.submitted", "must not be terminal nor awaiting");
    json_t *transitions = json_object_get (workflow, "transitions");
    self->ntransitions = json_array_size (transitions);
    self->transitions = (dossiers_transition_t *) zmalloc (
        self->ntransitions * sizeof (dossiers_transition_t));
    for (size_t index = 0; index < self->ntransitions && !p->error; index++) {
        gch_pathf (path, sizeof path, "workflow.transitions[%zu]", index);
        dossiers_transition_t *transition = &self->transitions[index];
        s_transition_parse (p, self, transition,
                            json_array_get (transitions, index), path);
        for (size_t before = 0; before < index && !p->error; before++)
            if (streq (self->transitions[before].def.name,
                       transition->def.name))
                s_fail (p, path, "transition \"%s\" is defined twice",
                        transition->def.name);
    }
    //  What submission does besides moving the dossier
    json_t *actions = json_object_get (workflow, "on_submit");
    self->submit.def.name = "submit";
    self->submit.nactions = json_array_size (actions);
    if (self->submit.nactions)
        self->submit.actions = (dossiers_action_t *) zmalloc (
            self->submit.nactions * sizeof (dossiers_action_t));
    for (size_t index = 0; index < self->submit.nactions && !p->error;
         index++) {
        gch_pathf (path, sizeof path, "workflow.on_submit[%zu]", index);
        dossiers_action_t *action = &self->submit.actions[index];
        s_action_parse (p, self, &self->submit, action,
                        json_array_get (actions, index), path);
        if (!p->error && (action->kind == DOSSIERS_ACTION_REQUEST_PIECES ||
                          action->kind == DOSSIERS_ACTION_PAYMENT))
            s_fail (p, path,
                    "only email, document and deadline actions run "
                    "at submission");
    }
}

//  The ready-made Procedure message: strings borrowed from the definition,
//  pointer arrays and form_json owned by the procedure.
static void
s_message_build (dossiers_procedure_t *self)
{
    Gch__Procedure *message = &self->message;
    gch__procedure__init (message);
    message->slug = (char *) self->slug;
    message->version = self->version;
    message->title = (char *) self->title;
    message->description = (char *) self->description;
    message->domain = (char *) self->domain;
    message->service = (char *) self->service;
    message->pole = (char *) (self->pole ? self->pole : "");
    message->target_days = self->target_days;
    message->form_json =
        json_dumps (json_object_get (self->definition, "form"), JSON_COMPACT);
    assert (message->form_json);
    message->n_communes = self->ncommunes;
    if (self->ncommunes) {
        message->communes =
            (char **) zmalloc (self->ncommunes * sizeof (char *));
        memcpy (message->communes, self->communes,
                self->ncommunes * sizeof (char *));
    }
    message->n_statuses = self->nstates;
    message->statuses =
        (Gch__StatusDef **) zmalloc (self->nstates * sizeof (Gch__StatusDef *));
    for (size_t index = 0; index < self->nstates; index++)
        message->statuses[index] = &self->states[index];
    message->n_transitions = self->ntransitions;
    if (self->ntransitions) {
        message->transitions = (Gch__Transition **) zmalloc (
            self->ntransitions * sizeof (Gch__Transition *));
        for (size_t index = 0; index < self->ntransitions; index++)
            message->transitions[index] = &self->transitions[index].def;
    }
}

typedef struct {
    parser_t *p;
    char *first;  //  the first schema error, "path: message"
} s_schema_errors_t;

static void
s_schema_error (void *ctx, const char *path, const char *message)
{
    parser_t *p = (parser_t *) ctx;
    s_fail (p, path, "%s", message);
}

//  One file of the catalog; NULL with p->error set if unreadable or invalid.
static dossiers_procedure_t *
s_procedure_load (parser_t *p, const char *file)
{
    json_t *root = s_load_json (p, file);
    if (!root)
        return NULL;
    gch_jsonschema_validate (p->catalog->schema, root, s_schema_error, p);
    if (p->error) {
        json_decref (root);
        return NULL;
    }
    dossiers_procedure_t *self =
        (dossiers_procedure_t *) zmalloc (sizeof (dossiers_procedure_t));
    self->file = strdup (file);
    self->definition = root;
    self->slug = s_str (root, "slug");
    self->version =
        (int) json_integer_value (json_object_get (root, "version"));
    self->title = s_str (root, "title");
    self->description = s_str (root, "description");
    self->domain = s_str (root, "domain");
    self->target_days =
        (int) json_integer_value (json_object_get (root, "target_days"));
    char *expected = zsys_sprintf ("%s.%d.json", self->slug, self->version);
    const char *base = strrchr (file, '/');
    if (!streq (base ? base + 1 : file, expected))
        s_fail (p, "slug", "the file of %s version %d is named %s", self->slug,
                self->version, expected);
    free (expected);
    s_offer_parse (p, self, root);
    if (!p->error)
        self->form = dossiers_form_parse (json_object_get (root, "form"),
                                          "form", s_fail_fn, p);
    s_commune_field_check (p, self);
    if (!p->error)
        s_templates_parse (p, self, root);
    if (!p->error)
        s_workflow_parse (p, self, json_object_get (root, "workflow"));
    if (p->error)
        s_procedure_destroy (&self);
    else
        s_message_build (self);
    return self;
}

//  --------------------------------------------------------------------------
//  Catalog

static int
s_compare_names (const void *left, const void *right)
{
    return strcmp (*(char *const *) left, *(char *const *) right);
}

static int
s_compare_procedures (const void *left, const void *right)
{
    const dossiers_procedure_t *a = *(dossiers_procedure_t *const *) left;
    const dossiers_procedure_t *b = *(dossiers_procedure_t *const *) right;
    int order = strcmp (a->slug, b->slug);
    return order ? order
                 : (a->version > b->version) - (a->version < b->version);
}

static int
s_compare_communes (const void *left, const void *right)
{
    return strcmp (((const dossiers_commune_t *) left)->name,
                   ((const dossiers_commune_t *) right)->name);
}

//  Sorted names of the *.json files of dir (hidden files skipped), or NULL
//  with *error_p set. Caller frees each name and the array.
static char **
s_list_files (const char *dir, size_t *count_p, char **error_p)
{
    DIR *handle = opendir (dir);
    if (!handle) {
        *error_p = zsys_sprintf ("%s: cannot read the folder: %s", dir,
                                 strerror (errno));
        return NULL;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        size_t length = strlen (entry->d_name);
        if (entry->d_name[0] == '.' || length < 6 ||
            !streq (entry->d_name + length - 5, ".json"))
            continue;
        names = (char **) realloc (names, (count + 1) * sizeof (char *));
        assert (names);
        names[count++] = strdup (entry->d_name);
    }
    closedir (handle);
    if (count)
        qsort (names, count, sizeof (char *), s_compare_names);
    *count_p = count;
    return names;
}

static void
s_procedures_load (parser_t *p, dossiers_catalog_t *self, const char *dir)
{
    char *folder = zsys_sprintf ("%s/procedures", dir);
    size_t nfiles = 0;
    char **names = s_list_files (folder, &nfiles, &p->error);
    if (nfiles) {
        self->procedures = (dossiers_procedure_t **) zmalloc (
            nfiles * sizeof (dossiers_procedure_t *));
        self->search = (char **) zmalloc (nfiles * sizeof (char *));
    }
    for (size_t index = 0; index < nfiles && !p->error; index++) {
        char *file = zsys_sprintf ("%s/%s", folder, names[index]);
        p->file = file;
        dossiers_procedure_t *procedure = s_procedure_load (p, file);
        if (procedure)
            self->procedures[self->size++] = procedure;
        p->file = NULL;
        free (file);
    }
    for (size_t index = 0; index < nfiles; index++)
        free (names[index]);
    free (names);
    free (folder);
    if (!p->error && self->size)
        qsort (self->procedures, self->size, sizeof (dossiers_procedure_t *),
               s_compare_procedures);
    for (size_t index = 1; index < self->size && !p->error; index++) {
        const dossiers_procedure_t *a = self->procedures[index - 1];
        const dossiers_procedure_t *b = self->procedures[index];
        if (streq (a->slug, b->slug) && a->version == b->version)
            p->error = zsys_sprintf ("%s: version: %s version %d is also "
                                     "defined in %s",
                                     b->file, b->slug, b->version, a->file);
    }
    for (size_t index = 0; index < self->size && !p->error; index++) {
        const dossiers_procedure_t *procedure = self->procedures[index];
        json_t *keywords = json_object_get (procedure->definition, "keywords");
        char *text =
            zsys_sprintf ("%s\n%s", procedure->title, procedure->description);
        for (size_t at = 0; at < json_array_size (keywords); at++) {
            char *more = zsys_sprintf (
                "%s\n%s", text,
                json_string_value (json_array_get (keywords, at)));
            free (text);
            text = more;
        }
        self->search[index] = s_fold (text);
        free (text);
    }
}

dossiers_catalog_t *
dossiers_catalog_new (const char *dir, char **error_p)
{
    assert (dir);
    dossiers_catalog_t *self =
        (dossiers_catalog_t *) zmalloc (sizeof (dossiers_catalog_t));
    parser_t parser = {NULL, NULL, self};
    char *schema = zsys_sprintf ("%s/procedure.schema.json", dir);
    char *error = NULL;
    self->schema = gch_jsonschema_load (schema, &error);
    if (!self->schema)
        parser.error = zsys_sprintf ("%s: %s", schema, error ? error : "?");
    free (error);
    free (schema);
    if (!parser.error)
        s_communes_load (&parser, self, dir);
    if (!parser.error)
        s_organisation_load (&parser, self, dir);
    if (!parser.error)
        s_procedures_load (&parser, self, dir);
    if (!parser.error && self->ncommunes)
        qsort (self->communes, self->ncommunes, sizeof (dossiers_commune_t),
               s_compare_communes);
    if (parser.error) {
        dossiers_catalog_destroy (&self);
        if (error_p)
            *error_p = parser.error;
        else
            free (parser.error);
    }
    return self;
}

void
dossiers_catalog_destroy (dossiers_catalog_t **self_p)
{
    assert (self_p);
    dossiers_catalog_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->size; index++) {
        s_procedure_destroy (&self->procedures[index]);
        free (self->search[index]);
    }
    free (self->procedures);
    free (self->search);
    for (size_t index = 0; index < self->ncommunes; index++) {
        dossiers_commune_t *commune = &self->communes[index];
        free (commune->insee);
        free (commune->name);
        free (commune->pole);
        for (size_t at = 0; at < commune->npostcodes; at++)
            free (commune->postcodes[at]);
        free (commune->postcodes);
    }
    free (self->communes);
    json_decref (self->organisation);
    gch_jsonschema_destroy (&self->schema);
    free (self);
    *self_p = NULL;
}

size_t
dossiers_catalog_size (dossiers_catalog_t *self)
{
    assert (self);
    return self->size;
}

const dossiers_procedure_t *
dossiers_catalog_find (dossiers_catalog_t *self, const char *slug, int version)
{
    assert (self);
    if (!slug)
        return NULL;
    //  Versions of a slug are adjacent and ascending: the last match of the
    //  slug is its highest version.
    const dossiers_procedure_t *found = NULL;
    for (size_t index = 0; index < self->size; index++) {
        const dossiers_procedure_t *procedure = self->procedures[index];
        if (!streq (procedure->slug, slug))
            continue;
        if (version == 0 || procedure->version == version)
            found = procedure;
    }
    return found;
}

static bool
s_offered_in (const dossiers_procedure_t *procedure, const char *commune)
{
    return !commune || !*commune || procedure->everywhere ||
           s_has (procedure->communes, procedure->ncommunes, commune);
}

size_t
dossiers_catalog_search (dossiers_catalog_t *self, const char *q,
                         const char *commune, const char *domain,
                         const dossiers_procedure_t **list)
{
    assert (self);
    assert (list);
    char *folded = q && *q ? s_fold (q) : NULL;
    size_t count = 0;
    for (size_t index = 0; index < self->size; index++) {
        const dossiers_procedure_t *procedure = self->procedures[index];
        bool latest =
            index + 1 == self->size ||
            !streq (self->procedures[index + 1]->slug, procedure->slug);
        if (latest && s_offered_in (procedure, commune) &&
            (!domain || !*domain || streq (domain, procedure->domain)) &&
            (!folded || strstr (self->search[index], folded)))
            list[count++] = procedure;
    }
    free (folded);
    return count;
}

const Gch__StatusDef *
dossiers_procedure_state (const dossiers_procedure_t *self, const char *code)
{
    assert (self);
    for (size_t index = 0; code && index < self->nstates; index++)
        if (streq (self->states[index].code, code))
            return &self->states[index];
    return NULL;
}

const char *
dossiers_procedure_label (const dossiers_procedure_t *self, const char *code)
{
    const Gch__StatusDef *state = dossiers_procedure_state (self, code);
    return state ? state->label : code;
}

bool
dossiers_procedure_awaiting (const dossiers_procedure_t *self, const char *code)
{
    for (size_t index = 0; code && index < self->nstates; index++)
        if (self->states[index].code && streq (self->states[index].code, code))
            return self->awaiting[index];
    return false;
}

//  --------------------------------------------------------------------------
//  Form data

typedef struct {
    Gch__Reply *reply;
    size_t count;
} s_faults_t;

static void
s_form_error (void *ctx, const char *path, const char *message)
{
    s_faults_t *faults = (s_faults_t *) ctx;
    gch_reply_field (faults->reply, path, message);
    faults->count++;
}

static bool
s_commune_ok (void *ctx, const char *insee, const char *postcode)
{
    const dossiers_commune_t *commune =
        dossiers_catalog_commune ((dossiers_catalog_t *) ctx, insee);
    return commune && (!postcode || s_has (commune->postcodes,
                                           commune->npostcodes, postcode));
}

int
dossiers_procedure_check_form (dossiers_catalog_t *catalog,
                               const dossiers_procedure_t *self,
                               const char *form_json, bool complete,
                               Gch__Reply *reply, char **normal_p,
                               json_t **json_p)
{
    assert (catalog && self && reply && normal_p);
    *normal_p = NULL;
    if (json_p)
        *json_p = NULL;
    if (form_json && strlen (form_json) > DOSSIERS_FORM_MAX)
        return gch_reply_error (reply, GCH__STATUS__STATUS_TOO_LARGE,
                                "Le formulaire dépasse 64 Kio.");
    json_error_t error;
    json_t *data = form_json && *form_json
                       ? json_loads (form_json, JSON_REJECT_DUPLICATES, &error)
                       : json_object ();
    if (!json_is_object (data)) {
        json_decref (data);
        return gch_reply_error (reply, GCH__STATUS__STATUS_INVALID,
                                "Le formulaire doit être un objet JSON.");
    }
    dossiers_form_env_t env = {s_commune_ok, catalog, NULL};
    s_faults_t faults = {reply, 0};
    json_t *normal = dossiers_form_check (self->form, data, complete, &env,
                                          s_form_error, &faults);
    json_decref (data);
    if (!normal)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE,
                                "Le formulaire contient des erreurs.");
    *normal_p = json_dumps (normal, JSON_COMPACT);
    if (json_p)
        *json_p = normal;
    else
        json_decref (normal);
    return GCH__STATUS__STATUS_OK;
}

int
dossiers_procedure_route (dossiers_catalog_t *catalog,
                          const dossiers_procedure_t *self, const json_t *form,
                          const char **commune_p, const char **service_p,
                          const char **pole_p, Gch__Reply *reply)
{
    assert (catalog && self && commune_p && service_p && pole_p);
    *commune_p = "";
    *service_p = self->service;
    *pole_p = self->pole ? self->pole : "";
    if (!self->commune_field)
        return GCH__STATUS__STATUS_OK;
    json_t *value = json_object_get (form, self->commune_field);
    const char *insee = json_is_object (value) ? s_str (value, "commune")
                                               : json_string_value (value);
    const dossiers_commune_t *commune =
        dossiers_catalog_commune (catalog, insee);
    if (!commune || !s_offered_in (self, commune->insee)) {
        char path[128];
        gch_pathf (path, sizeof path, "form.%s", self->commune_field);
        gch_reply_field (reply, path,
                         "Cette démarche n'est pas proposée dans votre "
                         "commune.");
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE,
                                "Cette démarche n'est pas proposée dans "
                                "votre commune.");
    }
    *commune_p = commune->insee;
    for (size_t index = 0; index < self->nrules; index++) {
        const dossiers_rule_t *rule = &self->rules[index];
        if (s_has (rule->communes, rule->ncommunes, commune->insee)) {
            if (rule->service)
                *service_p = rule->service;
            if (rule->pole)
                *pole_p = rule->pole;
            break;
        }
    }
    if (streq (*pole_p, "territorial"))
        *pole_p = commune->pole ? commune->pole : "";
    return GCH__STATUS__STATUS_OK;
}

//  --------------------------------------------------------------------------
//  Merge fields

//  "1 250,00 €" of cents.
static void
s_money_text (int64_t cents, char *buf, size_t size)
{
    char digits[32];
    bool negative = cents < 0;
    uint64_t value = negative ? (uint64_t) (-cents) : (uint64_t) cents;
    snprintf (digits, sizeof digits, "%" PRIu64, value / 100);
    size_t length = strlen (digits);
    char grouped[48];
    size_t out = 0;
    for (size_t index = 0; index < length; index++) {
        if (index && (length - index) % 3 == 0)
            grouped[out++] = ' ';
        grouped[out++] = digits[index];
    }
    grouped[out] = '\0';
    snprintf (buf, size, "%s%s,%02u €", negative ? "-" : "", grouped,
              (unsigned) (value % 100));
}

static const char *
s_choice_label (const dossiers_field_t *field, const char *value)
{
    for (size_t index = 0; value && index < field->nchoices; index++)
        if (streq (field->choices[index], value))
            return field->choice_labels[index];
    return value;
}

//  A form value as templates show it.
static const char *
s_form_text (const dossiers_merge_t *merge, const dossiers_field_t *field,
             const json_t *value, char *buf, size_t size)
{
    if (!value || json_is_null (value))
        return "";
    switch (field->type) {
        case DOSSIERS_TYPE_MONEY:
            s_money_text (json_integer_value (value), buf, size);
            return buf;
        case DOSSIERS_TYPE_DATE: {
            const char *date = json_string_value (value);
            snprintf (buf, size, "%.2s/%.2s/%.4s", date + 8, date + 5, date);
            return buf;
        }
        case DOSSIERS_TYPE_BOOLEAN:
            return json_is_true (value) ? "oui" : "non";
        case DOSSIERS_TYPE_CHOICE:
            return s_choice_label (field, json_string_value (value));
        case DOSSIERS_TYPE_MULTICHOICE: {
            size_t out = 0;
            buf[0] = '\0';
            for (size_t index = 0; index < json_array_size (value); index++)
                out += (size_t) snprintf (
                    buf + out, out < size ? size - out : 0, "%s%s",
                    index ? ", " : "",
                    s_choice_label (field, json_string_value (
                                               json_array_get (value, index))));
            return buf;
        }
        case DOSSIERS_TYPE_ADDRESS: {
            const dossiers_commune_t *commune = dossiers_catalog_commune (
                merge->catalog, s_str ((json_t *) value, "commune"));
            const char *complement = s_str ((json_t *) value, "complement");
            snprintf (buf, size, "%s%s%s, %s %s",
                      s_str ((json_t *) value, "street") ?: "",
                      complement ? ", " : "", complement ? complement : "",
                      s_str ((json_t *) value, "postcode") ?: "",
                      commune ? commune->name : "");
            return buf;
        }
        case DOSSIERS_TYPE_INTEGER:
            snprintf (buf, size, "%" JSON_INTEGER_FORMAT,
                      json_integer_value (value));
            return buf;
        case DOSSIERS_TYPE_DECIMAL: {
            snprintf (buf, size, "%g", json_number_value (value));
            for (char *dot = buf; *dot; dot++)
                if (*dot == '.')
                    *dot = ',';
            return buf;
        }
        default:
            return json_is_string (value) ? json_string_value (value) : "";
    }
}

const char *
dossiers_merge_value (void *ctx, const char *name, char *buf, size_t size)
{
    const dossiers_merge_t *merge = (const dossiers_merge_t *) ctx;
    if (streq (name, "dossier.number"))
        return merge->number;
    if (streq (name, "dossier.status_label"))
        return merge->status_label;
    if (streq (name, "dossier.commune")) {
        const dossiers_commune_t *commune =
            dossiers_catalog_commune (merge->catalog, merge->commune);
        return commune ? commune->name : "";
    }
    if (streq (name, "procedure.title"))
        return merge->procedure->title;
    if (streq (name, "citizen.name"))
        return merge->citizen_name;
    if (streq (name, "service"))
        return s_label (merge->catalog, "services", merge->service);
    if (streq (name, "pole"))
        return s_label (merge->catalog, "poles", merge->pole);
    if (streq (name, "comment"))
        return merge->comment;
    if (streq (name, "today") || streq (name, "dossier.deadline") ||
        streq (name, "dossier.submitted")) {
        bool today = streq (name, "today");
        int64_t ms = streq (name, "dossier.deadline") ? merge->deadline_ms
                                                      : merge->submitted_ms;
        if (!today && ms <= 0)
            return "";
        time_t at = today ? time (NULL) : (time_t) (ms / 1000);
        struct tm tm;
        localtime_r (&at, &tm);
        strftime (buf, size, "%d/%m/%Y", &tm);
        return buf;
    }
    if (strncmp (name, "form.", 5) == 0) {
        const dossiers_field_t *field =
            dossiers_form_field (merge->procedure->form, name + 5);
        if (field)
            return s_form_text (merge, field,
                                json_object_get (merge->form, field->name), buf,
                                size);
    }
    return "";
}

//  --------------------------------------------------------------------------
//  Workflow

static bool
s_transition_from (const dossiers_transition_t *transition, const char *status)
{
    for (size_t index = 0; index < transition->def.n_from; index++)
        if (streq (transition->def.from[index], status))
            return true;
    return false;
}

//  True if the caller of request is an agent with a role of transition.
static bool
s_transition_allows (const dossiers_transition_t *transition,
                     const Gch__Request *request)
{
    if (!gch_caller_is (request, GCH__CALLER_KIND__CALLER_AGENT))
        return false;
    for (size_t index = 0; index < transition->def.n_roles; index++)
        if (gch_caller_has_role (request, transition->def.roles[index]))
            return true;
    return false;
}

const dossiers_transition_t *
dossiers_procedure_transition (const dossiers_procedure_t *self,
                               const char *status, const char *to,
                               const Gch__Request *request, bool *exists_p)
{
    assert (self);
    assert (exists_p);
    *exists_p = false;
    for (size_t index = 0; status && to && index < self->ntransitions;
         index++) {
        const dossiers_transition_t *transition = &self->transitions[index];
        if (!s_transition_from (transition, status) ||
            (!streq (transition->def.to, to) &&
             !streq (transition->def.name, to)))
            continue;
        *exists_p = true;
        if (s_transition_allows (transition, request))
            return transition;
    }
    return NULL;
}

size_t
dossiers_procedure_offered (const dossiers_procedure_t *self,
                            const char *status, const Gch__Request *request,
                            Gch__Transition **list)
{
    assert (self);
    size_t count = 0;
    for (size_t index = 0; status && index < self->ntransitions; index++) {
        dossiers_transition_t *transition = &self->transitions[index];
        if (s_transition_from (transition, status) &&
            s_transition_allows (transition, request))
            list[count++] = &transition->def;
    }
    return count;
}

//  --------------------------------------------------------------------------
//  Self-test

//  A small valid definition the tests bend.
static const char *s_sample =
    "{\"slug\": \"essai\", \"version\": 1, \"title\": \"Essai\","
    " \"description\": \"Démarche d'essai\", \"domain\": "
    "\"etat-civil-accueil\","
    " \"target_days\": 3, \"offer\": {\"communes\": [\"86194\"]},"
    " \"routing\": {\"commune_field\": \"adresse\","
    "  \"service\": \"police-municipale\", \"pole\": \"territorial\"},"
    " \"form\": {\"pages\": [{\"name\": \"p\", \"title\": \"Vous\", "
    "\"fields\": ["
    "  {\"name\": \"adresse\", \"label\": \"Adresse\", \"type\": \"address\","
    "   \"required\": true},"
    "  {\"name\": \"prix\", \"label\": \"Prix\", \"type\": \"money\"}]}]},"
    " \"templates\": {\"t\": {\"kind\": \"email\", \"subject\": \"Dossier "
    "{{dossier.number}}\", \"body\": \"Montant : {{form.prix}}\"}},"
    " \"workflow\": {\"initial\": \"draft\", \"submitted\": \"submitted\","
    "  \"states\": [{\"code\": \"draft\", \"label\": \"Brouillon\"},"
    "   {\"code\": \"submitted\", \"label\": \"Déposé\"},"
    "   {\"code\": \"pieces\", \"label\": \"Pièces\","
    "    \"awaiting_citizen\": true},"
    "   {\"code\": \"done\", \"label\": \"Traité\", \"terminal\": true}],"
    "  \"transitions\": [{\"name\": \"close\", \"from\": [\"submitted\"],"
    "   \"to\": \"done\", \"label\": \"Clore\", \"roles\": [\"instructeur\"],"
    "   \"actions\": [{\"type\": \"email\", \"template\": \"t\"},"
    "    {\"type\": \"payment\", \"amount\": {\"field\": \"prix\"}}]},"
    "   {\"name\": \"ask\", \"from\": [\"submitted\"], \"to\": \"pieces\","
    "    \"label\": \"Demander\", \"roles\": [\"instructeur\"],"
    "    \"comment_required\": true, \"actions\": [{\"type\": "
    "\"request_pieces\", \"return_to\": \"submitted\"}]}]}}";

//  Copy a file into dir.
static void
s_copy (const char *from, const char *dir, const char *name)
{
    char *to = zsys_sprintf ("%s/%s", dir, name);
    FILE *in = fopen (from, "rb");
    FILE *out = fopen (to, "wb");
    assert (in && out);
    char buf[8192];
    size_t size;
    while ((size = fread (buf, 1, sizeof buf, in)) > 0)
        assert (fwrite (buf, 1, size, out) == size);
    fclose (in);
    fclose (out);
    free (to);
}

//  Write the sample as dir/procedures/name, changed by the JSON Pointer-
//  like `at` ("" = top, "workflow" = a member of the top) merged with
//  `change` (null deletes a member).
static void
s_sample_write (const char *dir, const char *name, const char *at,
                const char *change)
{
    json_t *root = json_loads (s_sample, 0, NULL);
    assert (root);
    json_t *target = root;
    char *path = strdup (at);
    for (char *save = NULL, *key = strtok_r (path, "/", &save); key;
         key = strtok_r (NULL, "/", &save))
        target = json_is_array (target) ? json_array_get (target, atoi (key))
                                        : json_object_get (target, key);
    free (path);
    assert (target);
    json_t *patch = json_loads (change, 0, NULL);
    assert (patch);
    const char *key;
    json_t *value;
    json_object_foreach (patch, key, value)
    {
        if (json_is_null (value))
            json_object_del (target, key);
        else
            json_object_set (target, key, value);
    }
    char *file = zsys_sprintf ("%s/procedures/%s", dir, name);
    assert (json_dump_file (root, file, JSON_INDENT (2)) == 0);
    free (file);
    json_decref (patch);
    json_decref (root);
}

static void
s_procedures_clear (const char *dir)
{
    char *folder = zsys_sprintf ("%s/procedures", dir);
    size_t count = 0;
    char *error = NULL;
    char **names = s_list_files (folder, &count, &error);
    assert (!error);
    for (size_t index = 0; index < count; index++) {
        char *file = zsys_sprintf ("%s/%s", folder, names[index]);
        unlink (file);
        free (file);
        free (names[index]);
    }
    free (names);
    free (folder);
}

//  Loading dir fails with an error ending with expected.
static void
s_expect_refused (const char *dir, const char *expected)
{
    char *error = NULL;
    dossiers_catalog_t *catalog = dossiers_catalog_new (dir, &error);
    size_t length = error ? strlen (error) : 0;
    bool ok = !catalog && error && length >= strlen (expected) &&
              streq (error + length - strlen (expected), expected);
    if (!ok)
        printf ("\n    expected an error ending with \"%s\"\n    got: %s\n",
                expected, error ? error : "(loaded)");
    assert (ok);
    free (error);
    s_procedures_clear (dir);
}

static void
s_test_broken (bool verbose)
{
    char dir[] = "/tmp/gch-catalog-XXXXXX";
    assert (mkdtemp (dir));
    char *procedures = zsys_sprintf ("%s/procedures", dir);
    assert (mkdir (procedures, 0700) == 0);
    s_copy ("svc-dossiers/catalog/communes.json", dir, "communes.json");
    s_copy ("svc-dossiers/catalog/organisation.json", dir, "organisation.json");
    s_copy ("svc-dossiers/catalog/procedure.schema.json", dir,
            "procedure.schema.json");

    //  The sample loads: routing, merge fields, the pieces state
    s_sample_write (dir, "essai.1.json", "", "{}");
    char *error = NULL;
    dossiers_catalog_t *catalog = dossiers_catalog_new (dir, &error);
    if (!catalog)
        printf ("\n%s\n", error);
    assert (catalog);
    const dossiers_procedure_t *essai =
        dossiers_catalog_find (catalog, "essai", 0);
    assert (essai && essai->version == 1 && !essai->everywhere);
    assert (dossiers_procedure_awaiting (essai, "pieces"));
    assert (!dossiers_procedure_awaiting (essai, "submitted"));
    assert (essai->transitions[1].pieces &&
            streq (essai->transitions[1].pieces->return_to, "submitted"));
    Gch__Reply reply;
    gch_reply_init (&reply);
    const char *commune, *service, *pole;
    json_t *here = json_loads ("{\"adresse\": {\"street\": \"1 rue A\", "
                               "\"postcode\": \"86000\", \"commune\": "
                               "\"86194\"}}",
                               0, NULL);
    json_t *there = json_loads ("{\"adresse\": {\"street\": \"1 rue A\", "
                                "\"postcode\": \"86190\", \"commune\": "
                                "\"86024\"}}",
                                0, NULL);
    assert (dossiers_procedure_route (catalog, essai, here, &commune, &service,
                                      &pole, &reply) == GCH__STATUS__STATUS_OK);
    assert (streq (commune, "86194") && streq (service, "police-municipale"));
    assert (*pole && !streq (pole, "territorial"));
    assert (dossiers_procedure_route (catalog, essai, there, &commune, &service,
                                      &pole, &reply) ==
            GCH__STATUS__STATUS_UNPROCESSABLE);
    json_decref (here);
    json_decref (there);
    assert (reply.n_fields == 1 &&
            streq (reply.fields[0]->name, "form.adresse"));
    gch_reply_clear (&reply);
    //  Merge fields: money and dates in French
    json_t *form = json_loads ("{\"prix\": 125050}", 0, NULL);
    dossiers_merge_t merge = {catalog,  essai,   form,      "2026-000042",
                              "Traité", "86194", "Camille", "police-municipale",
                              "",       "Vu",    0,         0};
    char *text = dossiers_template_render (essai->templates[0].body,
                                           dossiers_merge_value, &merge);
    assert (streq (text, "Montant : 1 250,50 €"));
    free (text);
    json_decref (form);
    char buf[64];
    assert (streq (
        dossiers_merge_value (&merge, "dossier.commune", buf, sizeof buf),
        "Poitiers"));
    dossiers_catalog_destroy (&catalog);
    s_procedures_clear (dir);

    //  Broken definitions, each refused with its file, place and fault
    s_sample_write (dir, "essai.1.json", "", "{\"titre\": \"x\"}");
    s_expect_refused (dir, "essai.1.json: titre: unknown key");
    s_sample_write (dir, "essai.1.json", "", "{\"version\": \"1\"}");
    s_expect_refused (dir, "essai.1.json: version: must be an integer");
    s_sample_write (dir, "essai.1.json", "", "{\"domain\": \"sport\"}");
    s_sample_write (dir, "essai.2.json", "", "{\"version\": 2}");
    error = NULL;
    assert (!dossiers_catalog_new (dir, &error) && strstr (error, "domain"));
    free (error);
    s_procedures_clear (dir);
    s_sample_write (dir, "essai.1.json", "workflow/transitions/0",
                    "{\"to\": \"acepted\"}");
    s_expect_refused (
        dir,
        "essai.1.json: workflow.transitions[0].to: unknown state \"acepted\"");
    s_sample_write (dir, "essai.1.json", "offer",
                    "{\"communes\": [\"75101\"]}");
    s_expect_refused (dir, "offer.communes[0]: unknown commune \"75101\"");
    s_sample_write (dir, "essai.1.json", "routing",
                    "{\"service\": \"voirie\"}");
    s_expect_refused (dir, "routing.service: unknown service \"voirie\"");
    s_sample_write (dir, "essai.1.json", "routing",
                    "{\"commune_field\": null}");
    s_expect_refused (dir, "routing: commune_field is needed to know the "
                           "dossier's commune");
    s_sample_write (dir, "essai.1.json", "templates/t",
                    "{\"body\": \"{{form.inconnu}}\"}");
    s_expect_refused (dir, "templates.t.body: unknown merge field "
                           "\"{{form.inconnu}}\"");
    s_sample_write (dir, "essai.1.json", "workflow/transitions/1",
                    "{\"comment_required\": false}");
    s_expect_refused (dir, "workflow.transitions[1]: asking for pieces needs "
                           "comment_required (the citizen must know what is "
                           "missing)");
    s_sample_write (dir, "essai.1.json", "workflow/transitions/0",
                    "{\"to\": \"pieces\"}");
    s_expect_refused (dir, "workflow.transitions[0]: \"pieces\" awaits the "
                           "citizen: the transition needs a request_pieces "
                           "action");
    s_sample_write (dir, "essai.1.json", "workflow/transitions/0",
                    "{\"actions\": [{\"type\": \"document\", \"template\": "
                    "\"t\"}]}");
    s_expect_refused (dir, "workflow.transitions[0].actions[0].template: \"t\" "
                           "is not an document template");
    s_sample_write (dir, "essai.1.json", "workflow/transitions/0",
                    "{\"from\": [\"draft\"]}");
    s_expect_refused (dir, "workflow.transitions[0].from[0]: the initial "
                           "state \"draft\" is left by submission only");
    s_sample_write (dir, "essai.1.json", "form/pages/0/fields/1",
                    "{\"visible_if\": {\"field\": \"nulle\", \"equals\": 1}}");
    s_expect_refused (dir, "form.pages[0].fields[1].visible_if.field: "
                           "unknown field \"nulle\"");
    s_sample_write (dir, "essai.1.json", "workflow",
                    "{\"on_submit\": [{\"type\": \"payment\", "
                    "\"amount\": 100}]}");
    s_expect_refused (dir, "workflow.on_submit[0]: only email, document and "
                           "deadline actions run at submission");
    s_sample_write (dir, "other.json", "", "{}");
    s_expect_refused (dir, "other.json: slug: the file of essai version 1 is "
                           "named essai.1.json");
    s_sample_write (dir, "essai.1.json", "", "{}");
    char *copy = zsys_sprintf ("%s/procedures", dir);
    char *original = zsys_sprintf ("%s/essai.1.json", copy);
    s_copy (original, copy, "essai.1.copy.json");
    free (original);
    free (copy);
    error = NULL;
    assert (!dossiers_catalog_new (dir, &error));
    assert (strstr (error, "essai.1.copy.json: slug: the file of essai "));
    free (error);
    s_procedures_clear (dir);
    if (verbose)
        printf ("broken definitions refused as expected; ");
    const char *files[] = {"communes.json", "organisation.json",
                           "procedure.schema.json"};
    for (size_t index = 0; index < 3; index++) {
        char *file = zsys_sprintf ("%s/%s", dir, files[index]);
        unlink (file);
        free (file);
    }
    rmdir (procedures);
    rmdir (dir);
    free (procedures);
}

//  Every transition of every shipped procedure is offered exactly from its
//  states and to its roles, and to no citizen.
static void
s_test_transitions (dossiers_catalog_t *catalog)
{
    Gch__Caller caller = GCH__CALLER__INIT;
    Gch__Request request = GCH__REQUEST__INIT;
    request.caller = &caller;
    char *role[1];
    for (size_t index = 0; index < catalog->size; index++) {
        const dossiers_procedure_t *procedure = catalog->procedures[index];
        for (size_t t = 0; t < procedure->ntransitions; t++) {
            const Gch__Transition *def = &procedure->transitions[t].def;
            const char *roles[] = {
                "instructeur", "valideur", "agent_terrain",     "accueil",
                "regisseur",   "finance",  "police_municipale", "inconnu"};
            for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
                role[0] = (char *) roles[r];
                bool has_role = false;
                for (size_t at = 0; at < def->n_roles; at++)
                    has_role = has_role || streq (def->roles[at], roles[r]);
                for (size_t st = 0; st < procedure->nstates; st++) {
                    const char *state = procedure->states[st].code;
                    bool from = false;
                    for (size_t at = 0; at < def->n_from; at++)
                        from = from || streq (def->from[at], state);
                    caller.kind = GCH__CALLER_KIND__CALLER_AGENT;
                    caller.roles = role;
                    caller.n_roles = 1;
                    bool exists;
                    const dossiers_transition_t *found =
                        dossiers_procedure_transition (
                            procedure, state, def->name, &request, &exists);
                    assert ((found == &procedure->transitions[t]) ==
                            (from && has_role));
                    assert (exists == from);
                    caller.kind = GCH__CALLER_KIND__CALLER_CITIZEN;
                    assert (!dossiers_procedure_transition (
                        procedure, state, def->name, &request, &exists));
                }
            }
        }
    }
}

void
dossiers_catalog_test (bool verbose)
{
    printf (" * dossiers_catalog: ");
    fflush (stdout);
    s_test_broken (verbose);
    //  The shipped catalog loads, every definition
    char *error = NULL;
    dossiers_catalog_t *catalog =
        dossiers_catalog_new ("svc-dossiers/catalog", &error);
    if (!catalog)
        printf ("\n%s\n", error);
    assert (catalog);
    assert (dossiers_catalog_size (catalog) >= 15);
    size_t count;
    const dossiers_commune_t *communes =
        dossiers_catalog_communes (catalog, &count);
    assert (count == 40);
    for (size_t index = 1; index < count; index++)
        assert (strcmp (communes[index - 1].name, communes[index].name) <= 0);
    assert (dossiers_catalog_commune (catalog, "86194"));
    const dossiers_procedure_t **list =
        (const dossiers_procedure_t **) zmalloc (
            dossiers_catalog_size (catalog) * sizeof (void *));
    assert (dossiers_catalog_search (catalog, "velo", NULL, NULL, list) == 1);
    assert (streq (list[0]->slug, "aide-vae"));
    size_t all = dossiers_catalog_search (catalog, NULL, NULL, NULL, list);
    size_t beruges =
        dossiers_catalog_search (catalog, NULL, "86024", NULL, list);
    assert (beruges < all);
    free (list);
    s_test_transitions (catalog);
    dossiers_catalog_destroy (&catalog);
    if (verbose)
        printf ("(verbose) ");
    printf ("OK\n");
}
