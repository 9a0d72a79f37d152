//  dossiers_catalog - the procedure catalog of svc-dossiers.
//
//  At start, dossiers_catalog_new reads every *.json file of the catalog
//  folder (GCH_CATALOG), checks it and keeps it; the service refuses to start
//  if one is wrong, with a message naming the file, the place inside it and
//  the fault. Handlers then look definitions up (dossiers_catalog_find,
//  dossiers_catalog_search), check form data (dossiers_procedure_check_form)
//  and pick workflow transitions (dossiers_procedure_transition).
//
//  Definition format (one file per version of a procedure; catalog/README.md
//  has the same text for administrators). Keys marked ? are optional, every
//  other key is required, and unknown keys are refused (a typo must not
//  silently drop a rule):
//
//    {
//      "slug": "tranquillite-vacances",  [a-z0-9-], the procedure's id
//      "version": 1,                     >= 1; (slug, version) unique
//      "title": "...", "description": "...",
//      "domain": "tranquillite-publique",
//      "service": "police-municipale",   agents of this service process it
//      "pole"?: "...",
//      "target_days": 7,                 processing-time target
//      "communes": ["86194"],            INSEE codes; [] = everywhere
//      "form": {
//        "fields": [{"name": "adresse",  [a-z][a-z0-9_]*, unique
//                    "label": "Adresse",
//                    "type": "text",     text|longtext|email|phone|date|
//                                        integer|boolean|choice
//                    "required": true,   needed to submit
//                    "max_length"?: 200, text-like types only
//                    "choices"?: ["a"]}] choice type only, then required
//      },
//      "workflow": {
//        "initial": "draft",             state of a new dossier
//        "submitted": "submitted",       state given by submission
//        "states": [{"code", "label", "terminal"?: false}],
//        "transitions": [{"name", "from": [states], "to", "label",
//                         "roles": [agent roles], "comment_required"?}]
//      }
//    }
//
//  Workflow rules: states and transition names are unique; every state a
//  transition names exists; initial and submitted differ and are not
//  terminal; transitions neither leave a terminal state nor touch the initial
//  one (a draft only moves by submission).
//
//  How to extend (the procedure engine: JSON Schema, conditions, repeated
//  groups, attachments, actions): add the key to the `known` list of its
//  object, parse it in the section's s_*_parse function into new members of
//  dossiers_field_t / dossiers_transition_t / dossiers_procedure_t (each
//  keeps its JSON in `source` / `definition` for what is read lazily), and
//  teach dossiers_procedure_check_form the new rule. Errors go through
//  s_fail with the JSON path, so every message keeps naming its place.
#include "gch.h"
#include "dossiers_catalog.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>

struct _dossiers_catalog_t {
    dossiers_procedure_t **procedures;  //  sorted by slug, then version
    size_t size;                        //  number of definitions
    char **search;  //  folded title + description, same order
};

//  State of the parse of one file: the first error wins.
typedef struct {
    const char *file;  //  file being read, for messages
    char *error;       //  "file: path: message", or NULL so far
} parser_t;

static const char *const s_field_types[] = {"text",    "longtext", "email",
                                            "phone",   "date",     "integer",
                                            "boolean", "choice",   NULL};

//  --------------------------------------------------------------------------
//  Parse helpers. Each takes the JSON path of the object it reads, records
//  the first fault in the parser and returns a neutral value on fault.

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

//  Mark a path cut to the size of its buffer (only absurd keys are that
//  long).
static const char *
s_path_cut (char *buf, size_t size, int length)
{
    if (length < 0 || (size_t) length >= size)
        strcpy (buf + size - 4, "...");
    return buf;
}

//  path of key inside parent, into buf.
static const char *
s_path (char *buf, size_t size, const char *parent, const char *key)
{
    int length =
        snprintf (buf, size, "%s%s%s", parent, *parent ? "." : "", key);
    return s_path_cut (buf, size, length);
}

//  path of item index inside parent, into buf.
static const char *
s_path_at (char *buf, size_t size, const char *parent, size_t index)
{
    int length = snprintf (buf, size, "%s[%zu]", parent, index);
    return s_path_cut (buf, size, length);
}

//  True if every key of object is in the NULL-terminated known list.
static bool
s_keys_known (parser_t *p, json_t *object, const char *path,
              const char *const *known)
{
    for (void *it = json_object_iter (object); it;
         it = json_object_iter_next (object, it)) {
        const char *key = json_object_iter_key (it);
        size_t index = 0;
        while (known[index] && !streq (known[index], key))
            index++;
        if (!known[index]) {
            char where[256];
            s_fail (p, s_path (where, sizeof where, path, key), "unknown key");
            return false;
        }
    }
    return true;
}

//  The member key of object, checked against a JSON type; NULL if absent
//  (a fault if required) or of another type (a fault).
static json_t *
s_member (parser_t *p, json_t *object, const char *path, const char *key,
          json_type type, bool required)
{
    static const char *const names[] = {"an object",  "an array", "a string",
                                        "an integer", "a number", "a boolean",
                                        "a boolean",  "null"};
    char where[256];
    json_t *value = json_object_get (object, key);
    if (!value) {
        if (required)
            s_fail (p, s_path (where, sizeof where, path, key), "missing");
        return NULL;
    }
    bool ok = json_typeof (value) == type ||
              (type == JSON_TRUE && json_is_boolean (value));
    if (!ok) {
        s_fail (p, s_path (where, sizeof where, path, key), "must be %s",
                names[type]);
        return NULL;
    }
    return value;
}

//  A non-empty string member, borrowed from the definition (lives as long as
//  the procedure keeps it).
static char *
s_string (parser_t *p, json_t *object, const char *path, const char *key,
          bool required)
{
    json_t *value = s_member (p, object, path, key, JSON_STRING, required);
    if (!value)
        return NULL;
    if (json_string_length (value) == 0) {
        char where[256];
        s_fail (p, s_path (where, sizeof where, path, key),
                "must not be empty");
        return NULL;
    }
    return (char *) json_string_value (value);
}

static int
s_integer (parser_t *p, json_t *object, const char *path, const char *key,
           bool required, int min, int max)
{
    json_t *value = s_member (p, object, path, key, JSON_INTEGER, required);
    if (!value)
        return 0;
    json_int_t number = json_integer_value (value);
    if (number < min || number > max) {
        char where[256];
        s_fail (p, s_path (where, sizeof where, path, key),
                "must be between %d and %d", min, max);
        return 0;
    }
    return (int) number;
}

static bool
s_boolean (parser_t *p, json_t *object, const char *path, const char *key,
           bool required)
{
    json_t *value = s_member (p, object, path, key, JSON_TRUE, required);
    return value && json_is_true (value);
}

//  True if name is [a-z][a-z0-9_]* (dash allowed too if dash), <= 64 bytes.
static bool
s_identifier (const char *name, bool dash)
{
    size_t length = strlen (name);
    if (length == 0 || length > 64 || !(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    for (size_t index = 0; index < length; index++) {
        char c = name[index];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (dash ? c == '-' : c == '_');
        if (!ok)
            return false;
    }
    return true;
}

//  An array member of non-empty strings, as a new array of borrowed strings
//  (caller frees the array). *count_p gets its size. Refuses an empty array
//  unless empty_ok, and duplicates.
static char **
s_strings (parser_t *p, json_t *object, const char *path, const char *key,
           bool required, bool empty_ok, size_t *count_p)
{
    char where[256], item_path[256];
    *count_p = 0;
    json_t *array = s_member (p, object, path, key, JSON_ARRAY, required);
    if (!array)
        return NULL;
    s_path (where, sizeof where, path, key);
    size_t count = json_array_size (array);
    if (count == 0) {
        if (!empty_ok)
            s_fail (p, where, "must not be empty");
        return NULL;
    }
    char **strings = (char **) zmalloc (count * sizeof (char *));
    for (size_t index = 0; index < count; index++) {
        json_t *item = json_array_get (array, index);
        s_path_at (item_path, sizeof item_path, where, index);
        if (!json_is_string (item) || json_string_length (item) == 0) {
            s_fail (p, item_path, "must be a non-empty string");
            break;
        }
        strings[index] = (char *) json_string_value (item);
        for (size_t before = 0; before < index; before++)
            if (streq (strings[before], strings[index]))
                s_fail (p, item_path, "\"%s\" appears twice", strings[index]);
    }
    if (p->error) {
        free (strings);
        return NULL;
    }
    *count_p = count;
    return strings;
}

//  True if code is an INSEE commune code: 5 characters, digits, with 2A/2B
//  for Corsica.
static bool
s_insee (const char *code)
{
    if (strlen (code) != 5)
        return false;
    for (size_t index = 0; index < 5; index++) {
        char c = code[index];
        bool corsica = index == 1 && code[0] == '2' && (c == 'A' || c == 'B');
        if (!(c >= '0' && c <= '9') && !corsica)
            return false;
    }
    return true;
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

//  --------------------------------------------------------------------------
//  Definitions

static void
s_procedure_destroy (dossiers_procedure_t **self_p)
{
    assert (self_p);
    dossiers_procedure_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->nfields; index++)
            free (self->fields[index].choices);
        free (self->fields);
        for (size_t index = 0; index < self->ntransitions; index++) {
            free (self->transitions[index].def.from);
            free (self->transitions[index].def.roles);
        }
        free (self->transitions);
        free (self->states);
        free (self->communes);
        free (self->message.statuses);
        free (self->message.transitions);
        free (self->message.form_json);
        json_decref (self->definition);
        free (self->file);
        free (self);
        *self_p = NULL;
    }
}

static void
s_field_parse (parser_t *p, dossiers_field_t *field, json_t *item,
               const char *path)
{
    static const char *const known[] = {
        "name", "label", "type", "required", "max_length", "choices", NULL};
    //  Default lengths, by type; 0 = no length.
    static const int max_lengths[] = {255, 10000, 254, 30, 0, 0, 0, 0};
    char where[256];
    if (!json_is_object (item)) {
        s_fail (p, path, "must be an object");
        return;
    }
    if (!s_keys_known (p, item, path, known))
        return;
    field->source = item;
    field->name = s_string (p, item, path, "name", true);
    field->label = s_string (p, item, path, "label", true);
    const char *type = s_string (p, item, path, "type", true);
    field->required = s_boolean (p, item, path, "required", true);
    if (p->error)
        return;
    if (!s_identifier (field->name, false)) {
        s_fail (p, s_path (where, sizeof where, path, "name"),
                "\"%s\" must match [a-z][a-z0-9_]*", field->name);
        return;
    }
    size_t index = 0;
    while (s_field_types[index] && !streq (s_field_types[index], type))
        index++;
    if (!s_field_types[index]) {
        s_fail (p, s_path (where, sizeof where, path, "type"),
                "unknown type \"%s\"", type);
        return;
    }
    field->type = (dossiers_field_type_t) index;
    field->max_length = max_lengths[index];
    if (json_object_get (item, "max_length")) {
        if (field->max_length == 0)
            s_fail (p, s_path (where, sizeof where, path, "max_length"),
                    "applies to text, longtext, email and phone fields only");
        else
            field->max_length = s_integer (p, item, path, "max_length", true, 1,
                                           DOSSIERS_FORM_MAX);
    }
    bool choice = field->type == DOSSIERS_FIELD_CHOICE;
    if (!choice && json_object_get (item, "choices"))
        s_fail (p, s_path (where, sizeof where, path, "choices"),
                "applies to choice fields only");
    else if (choice)
        field->choices =
            s_strings (p, item, path, "choices", true, false, &field->nchoices);
}

static void
s_form_parse (parser_t *p, dossiers_procedure_t *self, json_t *form)
{
    static const char *const known[] = {"fields", NULL};
    char path[256], where[256];
    if (p->error || !s_keys_known (p, form, "form", known))
        return;
    json_t *fields = s_member (p, form, "form", "fields", JSON_ARRAY, true);
    if (!fields)
        return;
    size_t count = json_array_size (fields);
    if (count == 0) {
        s_fail (p, "form.fields", "must not be empty");
        return;
    }
    self->fields =
        (dossiers_field_t *) zmalloc (count * sizeof (dossiers_field_t));
    self->nfields = count;
    for (size_t index = 0; index < count && !p->error; index++) {
        s_path_at (path, sizeof path, "form.fields", index);
        dossiers_field_t *field = &self->fields[index];
        s_field_parse (p, field, json_array_get (fields, index), path);
        for (size_t before = 0; before < index && !p->error; before++)
            if (streq (self->fields[before].name, field->name))
                s_fail (p, s_path (where, sizeof where, path, "name"),
                        "field \"%s\" is defined twice", field->name);
    }
}

static void
s_state_parse (parser_t *p, Gch__StatusDef *state, json_t *item,
               const char *path)
{
    static const char *const known[] = {"code", "label", "terminal", NULL};
    char where[256];
    gch__status_def__init (state);
    if (!json_is_object (item)) {
        s_fail (p, path, "must be an object");
        return;
    }
    if (!s_keys_known (p, item, path, known))
        return;
    state->code = s_string (p, item, path, "code", true);
    state->label = s_string (p, item, path, "label", true);
    state->terminal = s_boolean (p, item, path, "terminal", false);
    if (!p->error && !s_identifier (state->code, false))
        s_fail (p, s_path (where, sizeof where, path, "code"),
                "\"%s\" must match [a-z][a-z0-9_]*", state->code);
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
s_transition_parse (parser_t *p, dossiers_procedure_t *self,
                    dossiers_transition_t *transition, json_t *item,
                    const char *path)
{
    static const char *const known[] = {
        "name", "from", "to", "label", "roles", "comment_required", NULL};
    char where[256], from_path[256];
    Gch__Transition *def = &transition->def;
    gch__transition__init (def);
    if (!json_is_object (item)) {
        s_fail (p, path, "must be an object");
        return;
    }
    if (!s_keys_known (p, item, path, known))
        return;
    def->name = s_string (p, item, path, "name", true);
    def->to = s_string (p, item, path, "to", true);
    def->label = s_string (p, item, path, "label", true);
    def->from = s_strings (p, item, path, "from", true, false, &def->n_from);
    def->roles = s_strings (p, item, path, "roles", true, false, &def->n_roles);
    def->comment_required =
        s_boolean (p, item, path, "comment_required", false);
    if (!p->error && !s_identifier (def->name, false))
        s_fail (p, s_path (where, sizeof where, path, "name"),
                "\"%s\" must match [a-z][a-z0-9_]*", def->name);
    s_path (where, sizeof where, path, "from");
    for (size_t index = 0; index < def->n_from && !p->error; index++) {
        s_path_at (from_path, sizeof from_path, where, index);
        const Gch__StatusDef *from =
            s_state_known (p, self, def->from[index], from_path);
        if (from && from->terminal)
            s_fail (p, from_path, "state \"%s\" is terminal", from->code);
        else if (from && streq (from->code, self->initial))
            s_fail (p, from_path,
                    "the initial state \"%s\" is left by submission only",
                    from->code);
    }
    const Gch__StatusDef *to = s_state_known (
        p, self, def->to, s_path (where, sizeof where, path, "to"));
    if (to && streq (to->code, self->initial))
        s_fail (p, where, "no transition may lead back to the initial state");
}

static void
s_workflow_parse (parser_t *p, dossiers_procedure_t *self, json_t *workflow)
{
    static const char *const known[] = {"initial", "submitted", "states",
                                        "transitions", NULL};
    char path[256], where[256];
    if (p->error || !s_keys_known (p, workflow, "workflow", known))
        return;
    self->initial = s_string (p, workflow, "workflow", "initial", true);
    self->submitted = s_string (p, workflow, "workflow", "submitted", true);
    json_t *states =
        s_member (p, workflow, "workflow", "states", JSON_ARRAY, true);
    json_t *transitions =
        s_member (p, workflow, "workflow", "transitions", JSON_ARRAY, true);
    if (p->error)
        return;

    size_t count = json_array_size (states);
    if (count < 2) {
        s_fail (p, "workflow.states", "needs at least two states");
        return;
    }
    self->states = (Gch__StatusDef *) zmalloc (count * sizeof (Gch__StatusDef));
    self->nstates = count;
    for (size_t index = 0; index < count && !p->error; index++) {
        s_path_at (path, sizeof path, "workflow.states", index);
        s_state_parse (p, &self->states[index], json_array_get (states, index),
                       path);
        for (size_t before = 0; before < index && !p->error; before++)
            if (streq (self->states[before].code, self->states[index].code))
                s_fail (p, s_path (where, sizeof where, path, "code"),
                        "state \"%s\" is defined twice",
                        self->states[index].code);
    }
    const Gch__StatusDef *initial =
        s_state_known (p, self, self->initial, "workflow.initial");
    const Gch__StatusDef *submitted =
        s_state_known (p, self, self->submitted, "workflow.submitted");
    if (initial && submitted && initial == submitted)
        s_fail (p, "workflow.submitted", "must differ from workflow.initial");
    else if (initial && initial->terminal)
        s_fail (p, "workflow.initial", "must not be a terminal state");
    else if (submitted && submitted->terminal)
        s_fail (p, "workflow.submitted", "must not be a terminal state");

    count = json_array_size (transitions);
    if (p->error || count == 0)
        return;
    self->transitions = (dossiers_transition_t *) zmalloc (
        count * sizeof (dossiers_transition_t));
    self->ntransitions = count;
    for (size_t index = 0; index < count && !p->error; index++) {
        s_path_at (path, sizeof path, "workflow.transitions", index);
        dossiers_transition_t *transition = &self->transitions[index];
        s_transition_parse (p, self, transition,
                            json_array_get (transitions, index), path);
        for (size_t before = 0; before < index && !p->error; before++)
            if (streq (self->transitions[before].def.name,
                       transition->def.name))
                s_fail (p, s_path (where, sizeof where, path, "name"),
                        "transition \"%s\" is defined twice",
                        transition->def.name);
    }
}

//  The ready-made Procedure message: strings borrowed from the definition,
//  pointer arrays and form_json owned by the procedure.
static void
s_message_build (dossiers_procedure_t *self)
{
    Gch__Procedure *message = &self->message;
    gch__procedure__init (message);
    message->slug = self->slug;
    message->version = self->version;
    message->title = self->title;
    message->description = self->description;
    message->domain = self->domain;
    message->service = self->service;
    message->target_days = self->target_days;
    message->form_json =
        json_dumps (json_object_get (self->definition, "form"), JSON_COMPACT);
    assert (message->form_json);
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

//  One definition from its parsed JSON; NULL with p->error set if invalid.
static dossiers_procedure_t *
s_procedure_parse (parser_t *p, json_t *root)
{
    static const char *const known[] = {
        "slug", "version",     "title",    "description", "domain",   "service",
        "pole", "target_days", "communes", "form",        "workflow", NULL};
    if (!json_is_object (root)) {
        s_fail (p, "", "a definition must be a JSON object");
        return NULL;
    }
    if (!s_keys_known (p, root, "", known))
        return NULL;
    dossiers_procedure_t *self =
        (dossiers_procedure_t *) zmalloc (sizeof (dossiers_procedure_t));
    self->file = strdup (p->file);
    self->definition = json_incref (root);
    self->slug = s_string (p, root, "", "slug", true);
    self->version = s_integer (p, root, "", "version", true, 1, INT_MAX);
    self->title = s_string (p, root, "", "title", true);
    self->description = s_string (p, root, "", "description", true);
    self->domain = s_string (p, root, "", "domain", true);
    self->service = s_string (p, root, "", "service", true);
    self->pole = s_string (p, root, "", "pole", false);
    self->target_days = s_integer (p, root, "", "target_days", true, 0, 3650);
    self->communes =
        s_strings (p, root, "", "communes", true, true, &self->ncommunes);
    json_t *form = s_member (p, root, "", "form", JSON_OBJECT, true);
    json_t *workflow = s_member (p, root, "", "workflow", JSON_OBJECT, true);
    if (!p->error && !s_identifier (self->slug, true))
        s_fail (p, "slug", "\"%s\" must match [a-z][a-z0-9-]*", self->slug);
    for (size_t index = 0; index < self->ncommunes && !p->error; index++)
        if (!s_insee (self->communes[index])) {
            char where[256];
            s_fail (p, s_path_at (where, sizeof where, "communes", index),
                    "\"%s\" is not an INSEE commune code",
                    self->communes[index]);
        }
    s_form_parse (p, self, form);
    s_workflow_parse (p, self, workflow);
    if (p->error)
        s_procedure_destroy (&self);
    else
        s_message_build (self);
    return self;
}

//  One file of the catalog; NULL with p->error set if unreadable or invalid.
static dossiers_procedure_t *
s_procedure_load (parser_t *p, const char *file)
{
    json_error_t error;
    json_t *root = json_load_file (file, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        p->error = zsys_sprintf ("%s:%d:%d: %s", file, error.line, error.column,
                                 error.text);
        return NULL;
    }
    dossiers_procedure_t *self = s_procedure_parse (p, root);
    json_decref (root);
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

//  Sorted names of the *.json files of dir (hidden files skipped), or NULL
//  with *error_p set. Caller frees each name and the array.
static char **
s_list_files (const char *dir, size_t *count_p, char **error_p)
{
    DIR *handle = opendir (dir);
    if (!handle) {
        *error_p = zsys_sprintf ("%s: cannot read the catalog folder: %s", dir,
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

dossiers_catalog_t *
dossiers_catalog_new (const char *dir, char **error_p)
{
    assert (dir);
    char *error = NULL;
    size_t nfiles = 0;
    char **names = s_list_files (dir, &nfiles, &error);
    dossiers_catalog_t *self =
        (dossiers_catalog_t *) zmalloc (sizeof (dossiers_catalog_t));
    if (nfiles) {
        self->procedures = (dossiers_procedure_t **) zmalloc (
            nfiles * sizeof (dossiers_procedure_t *));
        self->search = (char **) zmalloc (nfiles * sizeof (char *));
    }
    for (size_t index = 0; index < nfiles && !error; index++) {
        char *file = zsys_sprintf ("%s/%s", dir, names[index]);
        parser_t parser = {file, NULL};
        dossiers_procedure_t *procedure = s_procedure_load (&parser, file);
        if (procedure)
            self->procedures[self->size++] = procedure;
        error = parser.error;
        free (file);
    }
    for (size_t index = 0; index < nfiles; index++)
        free (names[index]);
    free (names);

    if (!error && self->size)
        qsort (self->procedures, self->size, sizeof (dossiers_procedure_t *),
               s_compare_procedures);
    for (size_t index = 1; index < self->size && !error; index++) {
        const dossiers_procedure_t *a = self->procedures[index - 1];
        const dossiers_procedure_t *b = self->procedures[index];
        if (streq (a->slug, b->slug) && a->version == b->version)
            error = zsys_sprintf ("%s: version: %s version %d is also defined "
                                  "in %s",
                                  b->file, b->slug, b->version, a->file);
    }
    for (size_t index = 0; index < self->size && !error; index++) {
        const dossiers_procedure_t *procedure = self->procedures[index];
        char *text =
            zsys_sprintf ("%s\n%s", procedure->title, procedure->description);
        self->search[index] = s_fold (text);
        free (text);
    }
    if (error) {
        dossiers_catalog_destroy (&self);
        if (error_p)
            *error_p = error;
        else
            free (error);
    }
    return self;
}

void
dossiers_catalog_destroy (dossiers_catalog_t **self_p)
{
    assert (self_p);
    dossiers_catalog_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->size; index++) {
            s_procedure_destroy (&self->procedures[index]);
            free (self->search[index]);
        }
        free (self->procedures);
        free (self->search);
        free (self);
        *self_p = NULL;
    }
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
    if (!commune || !*commune || procedure->ncommunes == 0)
        return true;
    for (size_t index = 0; index < procedure->ncommunes; index++)
        if (streq (procedure->communes[index], commune))
            return true;
    return false;
}

size_t
dossiers_catalog_search (dossiers_catalog_t *self, const char *q,
                         const char *commune, const dossiers_procedure_t **list)
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

//  --------------------------------------------------------------------------
//  Form data

//  Number of characters of UTF-8 text (jansson guarantees valid UTF-8).
static size_t
s_utf8_length (const char *text)
{
    size_t count = 0;
    for (; *text; text++)
        if (((unsigned char) *text & 0xC0) != 0x80)
            count++;
    return count;
}

//  True if text holds nothing but white space.
static bool
s_blank (const char *text)
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    return *text == 0;
}

//  True if text holds a control character (newlines and tabs allowed if
//  multiline).
static bool
s_has_control (const char *text, bool multiline)
{
    for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        if ((*c < 0x20 || *c == 0x7F) &&
            !(multiline && (*c == '\n' || *c == '\r' || *c == '\t')))
            return true;
    return false;
}

//  "06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78": separators are
//  spaces, dots, dashes and parentheses; a national number has 10 digits
//  starting with 0, an international one 8 to 15 after a leading +.
static bool
s_phone_valid (const char *text)
{
    bool international = *text == '+';
    if (international)
        text++;
    size_t digits = 0;
    char first = 0;
    for (; *text; text++) {
        if (*text >= '0' && *text <= '9') {
            if (digits++ == 0)
                first = *text;
        }
        else if (!strchr (" .-()", *text))
            return false;
    }
    return international ? digits >= 8 && digits <= 15
                         : digits == 10 && first == '0';
}

//  "YYYY-MM-DD", a real calendar date between 1900 and 2199.
static bool
s_date_valid (const char *text)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen (text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (size_t index = 0; index < 10; index++)
        if (index != 4 && index != 7 &&
            !(text[index] >= '0' && text[index] <= '9'))
            return false;
    int year = atoi (text), month = atoi (text + 5), day = atoi (text + 8);
    if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

//  Add "form.<name>" with message to reply; name is cut to 64 bytes on a
//  character boundary (unknown keys come from the client).
static void
s_form_error (Gch__Reply *reply, const char *name, const char *message)
{
    char field[80];
    size_t length = strlen (name);
    if (length > 64) {
        length = 64;
        while (length > 0 && ((unsigned char) name[length] & 0xC0) == 0x80)
            length--;
    }
    snprintf (field, sizeof field, "form.%.*s", (int) length, name);
    gch_reply_field (reply, field, message);
}

static const dossiers_field_t *
s_field_find (const dossiers_procedure_t *self, const char *name)
{
    for (size_t index = 0; index < self->nfields; index++)
        if (streq (self->fields[index].name, name))
            return &self->fields[index];
    return NULL;
}

//  French message for value of field, or NULL if it is fine. A missing
//  value (absent, null, blank text) is fine unless complete and required.
static const char *
s_field_fault (const dossiers_field_t *field, json_t *value, bool complete,
               char *buf, size_t size)
{
    bool missing =
        !value || json_is_null (value) ||
        (json_is_string (value) && s_blank (json_string_value (value)));
    if (missing)
        return complete && field->required ? "Ce champ est obligatoire." : NULL;

    if (field->type == DOSSIERS_FIELD_INTEGER)
        return json_is_integer (value) ? NULL
                                       : "Ce champ doit être un nombre entier.";
    if (field->type == DOSSIERS_FIELD_BOOLEAN)
        return json_is_boolean (value) ? NULL
                                       : "Ce champ doit valoir oui ou non.";
    if (!json_is_string (value))
        return "Ce champ doit être un texte.";
    const char *text = json_string_value (value);
    if (field->max_length &&
        s_utf8_length (text) > (size_t) field->max_length) {
        snprintf (buf, size, "Ce champ ne doit pas dépasser %d caractères.",
                  field->max_length);
        return buf;
    }
    switch (field->type) {
        case DOSSIERS_FIELD_TEXT:
        case DOSSIERS_FIELD_LONGTEXT: {
            bool multiline = field->type == DOSSIERS_FIELD_LONGTEXT;
            return s_has_control (text, multiline)
                       ? "Ce champ contient un caractère non autorisé."
                       : NULL;
        }
        case DOSSIERS_FIELD_EMAIL: {
            char *email = gch_email_normalize (text);
            free (email);
            return email ? NULL : "Adresse e-mail invalide.";
        }
        case DOSSIERS_FIELD_PHONE:
            return s_phone_valid (text) ? NULL
                                        : "Numéro de téléphone invalide.";
        case DOSSIERS_FIELD_DATE:
            return s_date_valid (text)
                       ? NULL
                       : "Date invalide (format attendu : AAAA-MM-JJ).";
        case DOSSIERS_FIELD_CHOICE:
            for (size_t index = 0; index < field->nchoices; index++)
                if (streq (field->choices[index], text))
                    return NULL;
            return "Choix invalide.";
        default:
            return NULL;
    }
}

int
dossiers_procedure_check_form (const dossiers_procedure_t *self,
                               const char *form_json, bool complete,
                               Gch__Reply *reply)
{
    assert (self);
    assert (reply);
    if (!form_json || !*form_json)
        form_json = "{}";
    size_t size = strlen (form_json);
    if (size > DOSSIERS_FORM_MAX) {
        gch_reply_field (reply, "form", "Le formulaire dépasse 64 Kio.");
        return gch_reply_error (reply, GCH__STATUS__STATUS_TOO_LARGE, NULL);
    }
    json_error_t error;
    json_t *form = json_loadb (form_json, size, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object (form)) {
        json_decref (form);
        gch_reply_field (reply, "form",
                         "Le formulaire doit être un objet JSON.");
        return gch_reply_error (reply, GCH__STATUS__STATUS_INVALID, NULL);
    }
    size_t faults = 0;
    for (void *it = json_object_iter (form); it;
         it = json_object_iter_next (form, it)) {
        const char *key = json_object_iter_key (it);
        if (!s_field_find (self, key)) {
            s_form_error (reply, key, "Champ inconnu.");
            faults++;
        }
    }
    for (size_t index = 0; index < self->nfields; index++) {
        const dossiers_field_t *field = &self->fields[index];
        char buf[128];
        const char *fault =
            s_field_fault (field, json_object_get (form, field->name), complete,
                           buf, sizeof buf);
        if (fault) {
            s_form_error (reply, field->name, fault);
            faults++;
        }
    }
    json_decref (form);
    if (faults)
        return gch_reply_error (reply, GCH__STATUS__STATUS_UNPROCESSABLE,
                                "Le formulaire contient des erreurs.");
    return GCH__STATUS__STATUS_OK;
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
    " \"description\": \"Démarche d'essai\", \"domain\": \"test\","
    " \"service\": \"test\", \"target_days\": 3, \"communes\": [\"86194\"],"
    " \"form\": {\"fields\": ["
    "  {\"name\": \"nom\", \"label\": \"Nom\", \"type\": \"text\","
    "   \"required\": true}]},"
    " \"workflow\": {\"initial\": \"draft\", \"submitted\": \"submitted\","
    "  \"states\": [{\"code\": \"draft\", \"label\": \"Brouillon\"},"
    "   {\"code\": \"submitted\", \"label\": \"Déposé\"},"
    "   {\"code\": \"done\", \"label\": \"Traité\", \"terminal\": true}],"
    "  \"transitions\": [{\"name\": \"close\", \"from\": [\"submitted\"],"
    "   \"to\": \"done\", \"label\": \"Clore\", \"roles\": "
    "[\"instructeur\"]}]}}";

//  Write the sample, changed by `change` (a JSON object merged at `at`, a
//  key of the sample or "" for the top; a null member deletes), as
//  dir/name.
static void
s_sample_write (const char *dir, const char *name, const char *at,
                const char *change)
{
    json_t *root = json_loads (s_sample, 0, NULL);
    assert (root);
    json_t *target = *at ? json_object_get (root, at) : root;
    assert (target);
    json_t *patch = json_loads (change, 0, NULL);
    assert (patch);
    for (void *it = json_object_iter (patch); it;
         it = json_object_iter_next (patch, it)) {
        json_t *value = json_object_iter_value (it);
        if (json_is_null (value))
            json_object_del (target, json_object_iter_key (it));
        else
            json_object_set (target, json_object_iter_key (it), value);
    }
    char *file = zsys_sprintf ("%s/%s", dir, name);
    int rc = json_dump_file (root, file, JSON_INDENT (2));
    assert (rc == 0);
    free (file);
    json_decref (patch);
    json_decref (root);
}

//  Empty dir of its *.json files.
static void
s_dir_clear (const char *dir)
{
    size_t count = 0;
    char *error = NULL;
    char **names = s_list_files (dir, &count, &error);
    free (error);  //  the folder may not exist (a test of that)
    for (size_t index = 0; index < count; index++) {
        char *file = zsys_sprintf ("%s/%s", dir, names[index]);
        unlink (file);
        free (file);
        free (names[index]);
    }
    free (names);
}

//  Load dir and check that it fails with an error containing each of the
//  NULL-terminated expected strings.
static void
s_expect_refused (const char *dir, bool verbose, ...)
{
    char *error = NULL;
    dossiers_catalog_t *catalog = dossiers_catalog_new (dir, &error);
    assert (!catalog);
    assert (error);
    if (verbose)
        printf ("\n    refused: %s", error);
    va_list args;
    va_start (args, verbose);
    const char *expected;
    while ((expected = va_arg (args, const char *)))
        if (!strstr (error, expected)) {
            printf ("\n    expected \"%s\" in: %s\n", expected, error);
            assert (false);
        }
    va_end (args);
    free (error);
    s_dir_clear (dir);
}

//  Check form against procedure; assert the status and, if field is not
//  NULL, that the reply names that field.
static void
s_expect_form (const dossiers_procedure_t *procedure, const char *form,
               bool complete, int status, const char *field)
{
    Gch__Reply reply;
    gch_reply_init (&reply);
    int rc = dossiers_procedure_check_form (procedure, form, complete, &reply);
    bool named = field == NULL;
    for (size_t index = 0; index < reply.n_fields; index++)
        if (field && streq (reply.fields[index]->name, field))
            named = true;
    if (rc != status || !named) {
        printf ("\n    form %s: status %d, expected %d with field %s\n", form,
                rc, status, field ? field : "-");
        assert (false);
    }
    assert (rc == GCH__STATUS__STATUS_OK || reply.status == rc);
    gch_reply_clear (&reply);
}

static void
s_test_forms (const dossiers_procedure_t *otv)
{
    const int ok = GCH__STATUS__STATUS_OK;
    const int bad = GCH__STATUS__STATUS_UNPROCESSABLE;
    const char *full =
        "{\"adresse\": \"3 rue de la Paix\", \"commune\": \"Poitiers\","
        " \"date_depart\": \"2026-07-01\", \"date_retour\": \"2026-07-21\","
        " \"telephone\": \"06 12 34 56 78\", \"alarme\": true,"
        " \"commentaire\": \"Chien chez\\nles voisins\"}";
    s_expect_form (otv, full, true, ok, NULL);
    s_expect_form (otv, NULL, false, ok, NULL);
    s_expect_form (otv, "{}", false, ok, NULL);
    s_expect_form (otv, "{\"adresse\": \"3 rue\"}", false, ok, NULL);
    s_expect_form (otv, "{\"adresse\": null}", false, ok, NULL);
    //  Drafts get type checks, submissions also the required fields.
    s_expect_form (otv, "{\"adresse\": \"3 rue\"}", true, bad,
                   "form.date_depart");
    s_expect_form (otv, "{\"adresse\": \"  \"}", true, bad, "form.adresse");
    s_expect_form (otv, "{\"inconnu\": 1}", false, bad, "form.inconnu");
    s_expect_form (otv, "{\"adresse\": 12}", false, bad, "form.adresse");
    s_expect_form (otv, "{\"adresse\": \"a\\nb\"}", false, bad, "form.adresse");
    s_expect_form (otv, "{\"date_depart\": \"2026-02-29\"}", false, bad,
                   "form.date_depart");
    s_expect_form (otv, "{\"date_depart\": \"2028-02-29\"}", false, ok, NULL);
    s_expect_form (otv, "{\"date_depart\": \"01/07/2026\"}", false, bad,
                   "form.date_depart");
    s_expect_form (otv, "{\"telephone\": \"+33 6 12 34 56 78\"}", false, ok,
                   NULL);
    s_expect_form (otv, "{\"telephone\": \"12345\"}", false, bad,
                   "form.telephone");
    s_expect_form (otv, "{\"telephone\": \"06 12 34 56 7a\"}", false, bad,
                   "form.telephone");
    s_expect_form (otv, "{\"alarme\": \"oui\"}", false, bad, "form.alarme");
    //  Every failing field has its own message.
    Gch__Reply reply;
    gch_reply_init (&reply);
    int rc = dossiers_procedure_check_form (
        otv, "{\"alarme\": 1, \"x\": 2, \"date_retour\": \"demain\"}", true,
        &reply);
    assert (rc == bad);
    //  x, adresse, date_depart, date_retour, telephone, alarme
    assert (reply.n_fields == 6);
    assert (streq (reply.fields[0]->name, "form.x"));
    gch_reply_clear (&reply);
    //  Length in characters, not bytes.
    char *text = (char *) zmalloc (2100 * 2 + 64);
    strcpy (text, "{\"commentaire\": \"");
    for (size_t index = 0; index < 2000; index++)
        strcat (text, "é");
    strcat (text, "\"}");
    s_expect_form (otv, text, false, ok, NULL);
    strcpy (text + strlen (text) - 2, "é\"}");
    s_expect_form (otv, text, false, bad, "form.commentaire");
    free (text);
    //  Malformed, not an object, duplicate keys, too large.
    s_expect_form (otv, "{\"adresse\": ", false, GCH__STATUS__STATUS_INVALID,
                   "form");
    s_expect_form (otv, "[1, 2]", false, GCH__STATUS__STATUS_INVALID, "form");
    s_expect_form (otv, "{\"adresse\": \"a\", \"adresse\": \"b\"}", false,
                   GCH__STATUS__STATUS_INVALID, "form");
    s_expect_form (otv, "{\"adresse\": \"\\u0000\"}", false,
                   GCH__STATUS__STATUS_INVALID, "form");
    char *large = (char *) zmalloc (DOSSIERS_FORM_MAX + 64);
    snprintf (large, DOSSIERS_FORM_MAX + 64, "{\"commentaire\": \"%0*d\"}",
              DOSSIERS_FORM_MAX, 0);
    s_expect_form (otv, large, false, GCH__STATUS__STATUS_TOO_LARGE, "form");
    free (large);
}

static void
s_test_workflow (const dossiers_procedure_t *otv)
{
    char *roles[] = {"lecteur", "instructeur"};
    char *services[] = {"police-municipale"};
    Gch__Caller caller = GCH__CALLER__INIT;
    caller.kind = GCH__CALLER_KIND__CALLER_AGENT;
    caller.id = 7;
    caller.n_roles = 2;
    caller.roles = roles;
    caller.n_services = 1;
    caller.services = services;
    Gch__Request request = GCH__REQUEST__INIT;
    request.caller = &caller;

    bool exists = false;
    const dossiers_transition_t *transition = dossiers_procedure_transition (
        otv, "submitted", "in_instruction", &request, &exists);
    assert (transition && streq (transition->def.name, "instruct"));
    transition = dossiers_procedure_transition (otv, "submitted", "refuse",
                                                &request, &exists);
    assert (transition && transition->def.comment_required);
    transition = dossiers_procedure_transition (otv, "submitted", "accepted",
                                                &request, &exists);
    assert (!transition && !exists);
    Gch__Transition *offered[8];
    assert (dossiers_procedure_offered (otv, "submitted", &request, offered) ==
            2);
    assert (dossiers_procedure_offered (otv, "in_instruction", &request,
                                        offered) == 2);
    assert (dossiers_procedure_offered (otv, "accepted", &request, offered) ==
            0);

    caller.n_roles = 1;  //  lecteur only
    transition = dossiers_procedure_transition (otv, "in_instruction",
                                                "accepted", &request, &exists);
    assert (!transition && exists);
    assert (dossiers_procedure_offered (otv, "submitted", &request, offered) ==
            0);
    caller.n_roles = 2;
    caller.kind = GCH__CALLER_KIND__CALLER_CITIZEN;
    assert (dossiers_procedure_offered (otv, "submitted", &request, offered) ==
            0);
}

void
dossiers_catalog_test (bool verbose)
{
    printf (" * dossiers_catalog: ");

    //  The shipped catalog.
    char *error = NULL;
    dossiers_catalog_t *catalog =
        dossiers_catalog_new ("svc-dossiers/catalog", &error);
    if (!catalog)
        printf ("\n    %s\n", error);
    assert (catalog);
    assert (dossiers_catalog_size (catalog) >= 1);
    const dossiers_procedure_t *otv =
        dossiers_catalog_find (catalog, "tranquillite-vacances", 0);
    assert (otv);
    assert (streq (otv->service, "police-municipale"));
    assert (otv->target_days == 7);
    assert (otv->nstates == 5 && otv->ntransitions == 3);
    assert (streq (otv->initial, "draft") &&
            streq (otv->submitted, "submitted"));
    assert (streq (dossiers_procedure_label (otv, "submitted"), "Déposé"));
    assert (streq (dossiers_procedure_label (otv, "nope"), "nope"));
    assert (dossiers_procedure_state (otv, "accepted")->terminal);
    assert (otv->message.n_statuses == 5 && otv->message.n_transitions == 3);
    assert (strstr (otv->message.form_json, "\"date_depart\""));
    assert (!dossiers_catalog_find (catalog, "nope", 0));
    assert (!dossiers_catalog_find (catalog, "tranquillite-vacances", 99));

    const dossiers_procedure_t *list[64];
    assert (dossiers_catalog_size (catalog) <= 64);
    assert (dossiers_catalog_search (catalog, NULL, NULL, list) >= 1);
    assert (dossiers_catalog_search (catalog, "TRANQUILLITÉ", "86194", list) ==
            1);
    assert (dossiers_catalog_search (catalog, "tranquillite", "", list) == 1);
    assert (list[0] == otv);
    assert (dossiers_catalog_search (catalog, "xyzzy", NULL, list) == 0);
    s_test_forms (otv);
    s_test_workflow (otv);
    dossiers_catalog_destroy (&catalog);
    assert (!catalog);
    dossiers_catalog_destroy (&catalog);

    //  Versions, communes, and broken definitions in a scratch folder.
    char dir[] = "/tmp/dossiers-catalog-XXXXXX";
    assert (mkdtemp (dir));
    catalog = dossiers_catalog_new (dir, &error);
    assert (catalog && dossiers_catalog_size (catalog) == 0);
    dossiers_catalog_destroy (&catalog);

    s_sample_write (dir, "essai-1.json", "", "{}");
    s_sample_write (dir, "essai-2.json", "",
                    "{\"version\": 2, \"title\": \"Essai 2\"}");
    s_sample_write (dir, "zeta.json", "",
                    "{\"slug\": \"zeta\", \"communes\": [], \"pole\": \"p\"}");
    catalog = dossiers_catalog_new (dir, &error);
    assert (catalog && dossiers_catalog_size (catalog) == 3);
    assert (dossiers_catalog_find (catalog, "essai", 0)->version == 2);
    assert (
        streq (dossiers_catalog_find (catalog, "essai", 1)->title, "Essai"));
    assert (streq (dossiers_catalog_find (catalog, "zeta", 0)->pole, "p"));
    assert (dossiers_catalog_search (catalog, NULL, "86194", list) == 2);
    assert (list[0]->version == 2);
    assert (dossiers_catalog_search (catalog, NULL, "86041", list) == 1);
    assert (streq (list[0]->slug, "zeta"));
    assert (dossiers_catalog_search (catalog, "démarche", NULL, list) == 2);
    dossiers_catalog_destroy (&catalog);

    s_sample_write (dir, "twice.json", "", "{\"title\": \"Encore\"}");
    s_expect_refused (dir, verbose, "essai-1.json", "twice.json",
                      "essai version 1 is also defined", NULL);
    s_sample_write (dir, "a.json", "", "{\"title\": null}");
    s_expect_refused (dir, verbose, "a.json: title: missing", NULL);
    s_sample_write (
        dir, "b.json", "workflow",
        "{\"transitions\": [{\"name\": \"close\", \"from\": "
        "[\"submitted\"], \"to\": \"closed\", \"label\": \"Clore\", "
        "\"roles\": [\"instructeur\"]}]}");
    s_expect_refused (dir, verbose,
                      "b.json: workflow.transitions[0].to: unknown state "
                      "\"closed\"",
                      NULL);
    s_sample_write (dir, "c.json", "workflow",
                    "{\"transitions\": [{\"name\": \"close\", \"from\": "
                    "[\"submitted\", \"sent\"], \"to\": \"done\", \"label\": "
                    "\"Clore\", \"roles\": [\"instructeur\"]}]}");
    s_expect_refused (dir, verbose,
                      "workflow.transitions[0].from[1]: unknown state \"sent\"",
                      NULL);
    s_sample_write (dir, "d.json", "form",
                    "{\"fields\": [{\"name\": \"nom\", \"label\": \"Nom\", "
                    "\"type\": \"texte\", \"required\": true}]}");
    s_expect_refused (dir, verbose,
                      "d.json: form.fields[0].type: unknown type \"texte\"",
                      NULL);
    s_sample_write (dir, "e.json", "", "{\"titel\": \"x\"}");
    s_expect_refused (dir, verbose, "e.json: titel: unknown key", NULL);
    s_sample_write (dir, "f.json", "workflow", "{\"initial\": \"done\"}");
    s_expect_refused (dir, verbose, "workflow.initial: must not be a terminal",
                      NULL);
    s_sample_write (dir, "g.json", "form",
                    "{\"fields\": [{\"name\": \"nom\", \"label\": \"Nom\", "
                    "\"type\": \"choice\", \"required\": true}]}");
    s_expect_refused (dir, verbose, "form.fields[0].choices: missing", NULL);
    s_sample_write (dir, "h.json", "", "{\"communes\": [\"Poitiers\"]}");
    s_expect_refused (dir, verbose, "communes[0]", NULL);
    s_sample_write (dir, "i.json", "", "{\"version\": \"1\"}");
    s_expect_refused (dir, verbose, "i.json: version: must be an integer",
                      NULL);
    char *file = zsys_sprintf ("%s/j.json", dir);
    FILE *handle = fopen (file, "w");
    assert (handle);
    fputs ("{\"slug\": \"j\",\n  \"version\": }\n", handle);
    fclose (handle);
    free (file);
    s_expect_refused (dir, verbose, "j.json:2:", NULL);
    s_expect_refused ("/nonexistent/catalog", verbose,
                      "/nonexistent/catalog: cannot read", NULL);
    rmdir (dir);
    if (verbose)
        printf ("\n    ");
    printf ("OK\n");
}
