//  dossiers_form - the form model and the server-side check of form data.
//
//  Scopes. A condition or an expression names fields that come before it
//  in the form: a top-level field names earlier top-level fields; a field
//  of a group names the earlier fields of its item, or top-level fields
//  before the group; a page names fields of earlier pages. So one pass in
//  form order settles visibility and computed values, and no definition
//  can make a cycle. Inside {"sum": {"group": g, "value": e}}, e names the
//  fields of g's item (any of them) first.
//
//  The check runs in form order, item by item for groups: value normalised
//  and checked by type (dossiers_fields), then visibility (a hidden field
//  is dropped, its faults forgotten), then required-ness, then the computed
//  value. Conditions and expressions read the normalised data built so
//  far, in which hidden fields are absent.
#include "gch.h"
#include "dossiers_form.h"
#include "dossiers_fields.h"

#include <math.h>
#include <stdarg.h>
#include <time.h>

//  --------------------------------------------------------------------------
//  Conditions and expressions

typedef enum {
    S_COND_EQUALS,
    S_COND_IN,
    S_COND_FILLED,
    S_COND_COMPARE,
    S_COND_ALL,
    S_COND_ANY,
    S_COND_NOT
} s_cond_kind_t;

//  A field reference, resolved at parse time: in the current item of its
//  group (item = true) or at the top level.
typedef struct {
    const dossiers_field_t *field;
    bool item;
} s_ref_t;

struct _dossiers_cond_t {
    s_cond_kind_t kind;
    s_ref_t ref;
    json_t *value;  //  equals: the literal; in: the array (owned refs)
    bool filled;    //  filled: wanted state
    bool has[4];    //  compare: gt, gte, lt, lte given
    double bound[4];
    dossiers_cond_t **items;  //  all, any, not
    size_t nitems;
};

typedef enum {
    S_EXPR_NUMBER,
    S_EXPR_FIELD,
    S_EXPR_ADD,
    S_EXPR_MUL,
    S_EXPR_MIN,
    S_EXPR_MAX,
    S_EXPR_SUB,
    S_EXPR_DIV,
    S_EXPR_PERCENT,
    S_EXPR_COUNT,
    S_EXPR_SUM,
    S_EXPR_TARIFF,
    S_EXPR_LOOKUP,
    S_EXPR_IF
} s_expr_kind_t;

struct _dossiers_expr_t {
    s_expr_kind_t kind;
    double number;           //  number
    s_ref_t ref;             //  field, count, sum (the group), lookup
    dossiers_expr_t **args;  //  operands; sum: [value]; tariff: [by];
    size_t nargs;            //  if: [then, else]
    dossiers_cond_t *cond;   //  if
    double *upto, *values;   //  tariff brackets (last upto = INFINITY)
    size_t nbrackets;
    json_t *table;    //  lookup (owned ref)
    double fallback;  //  lookup default
};

static const char *const s_type_names[] = {
    "text",  "longtext", "email",  "phone",       "integer", "decimal", "money",
    "date",  "boolean",  "choice", "multichoice", "address", "plate",   "iban",
    "siret", "insee",    "file",   "group",       NULL};

int
dossiers_form_type (const char *name)
{
    for (int index = 0; s_type_names[index]; index++)
        if (streq (s_type_names[index], name))
            return index;
    return -1;
}

//  --------------------------------------------------------------------------
//  Parsing

typedef struct {
    dossiers_form_fail_fn *fail;
    void *ctx;
    bool failed;
} s_parser_t;

static void
s_fail (s_parser_t *p, const char *path, const char *format, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    char message[512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    p->fail (p->ctx, path, message);
}

//  Where a name may be looked up from: the top-level fields before
//  `top_before`, and the fields of `group`'s item before `item_before`
//  (all of them if item_all).
typedef struct {
    const dossiers_form_t *form;
    size_t top_before;
    const dossiers_field_t *group;
    size_t item_before;
    bool item_all;
} s_scope_t;

static bool
s_resolve (s_parser_t *p, const s_scope_t *scope, const char *name,
           const char *path, s_ref_t *ref)
{
    if (scope->group) {
        const dossiers_field_t *group = scope->group;
        size_t limit = scope->item_all ? group->nfields : scope->item_before;
        for (size_t index = 0; index < group->nfields; index++)
            if (streq (group->fields[index].name, name)) {
                if (index >= limit) {
                    s_fail (p, path,
                            "\"%s\" comes after this place in the form", name);
                    return false;
                }
                ref->field = &group->fields[index];
                ref->item = true;
                return true;
            }
    }
    for (size_t index = 0; index < scope->form->nfields; index++)
        if (streq (scope->form->fields[index].name, name)) {
            if (index >= scope->top_before) {
                s_fail (p, path, "\"%s\" comes after this place in the form",
                        name);
                return false;
            }
            ref->field = &scope->form->fields[index];
            ref->item = false;
            return true;
        }
    s_fail (p, path, "unknown field \"%s\"", name);
    return false;
}

static void s_cond_destroy (dossiers_cond_t **self_p);

static dossiers_cond_t *
s_cond_parse (s_parser_t *p, const s_scope_t *scope, json_t *json,
              const char *path)
{
    dossiers_cond_t *self = (dossiers_cond_t *) zmalloc (sizeof *self);
    const char *lists[] = {"all", "any", NULL};
    char where[512];
    json_t *list = NULL;
    for (size_t index = 0; lists[index]; index++)
        if ((list = json_object_get (json, lists[index]))) {
            self->kind = index == 0 ? S_COND_ALL : S_COND_ANY;
            self->nitems = json_array_size (list);
            self->items = (dossiers_cond_t **) zmalloc (
                self->nitems * sizeof (dossiers_cond_t *));
            for (size_t item = 0; item < self->nitems && !p->failed; item++) {
                gch_pathf (where, sizeof where, "%s.%s[%zu]", path,
                           lists[index], item);
                self->items[item] =
                    s_cond_parse (p, scope, json_array_get (list, item), where);
            }
            break;
        }
    json_t *inner = json_object_get (json, "not");
    if (!list && inner) {
        self->kind = S_COND_NOT;
        self->nitems = 1;
        self->items = (dossiers_cond_t **) zmalloc (sizeof (dossiers_cond_t *));
        gch_pathf (where, sizeof where, "%s.not", path);
        self->items[0] = s_cond_parse (p, scope, inner, where);
    }
    const char *name = json_string_value (json_object_get (json, "field"));
    if (name) {
        gch_pathf (where, sizeof where, "%s.field", path);
        if (s_resolve (p, scope, name, where, &self->ref)) {
            const dossiers_field_t *field = self->ref.field;
            const char *names[] = {"gt", "gte", "lt", "lte"};
            if ((self->value = json_object_get (json, "equals")))
                self->kind = S_COND_EQUALS;
            else if ((self->value = json_object_get (json, "in")))
                self->kind = S_COND_IN;
            else if (json_object_get (json, "filled")) {
                self->kind = S_COND_FILLED;
                self->filled = json_is_true (json_object_get (json, "filled"));
            }
            else {
                self->kind = S_COND_COMPARE;
                for (size_t index = 0; index < 4; index++) {
                    json_t *bound = json_object_get (json, names[index]);
                    if (bound) {
                        self->has[index] = true;
                        self->bound[index] = json_number_value (bound);
                    }
                }
                if (field->type != DOSSIERS_TYPE_INTEGER &&
                    field->type != DOSSIERS_TYPE_DECIMAL &&
                    field->type != DOSSIERS_TYPE_MONEY)
                    s_fail (p, where, "\"%s\" is not a number field",
                            field->name);
            }
            if (self->value)
                json_incref (self->value);
            //  A choice is compared with one of its values
            if ((self->kind == S_COND_EQUALS || self->kind == S_COND_IN) &&
                (field->type == DOSSIERS_TYPE_CHOICE ||
                 field->type == DOSSIERS_TYPE_MULTICHOICE)) {
                json_t *values = self->value;
                bool one = self->kind == S_COND_EQUALS;
                size_t count = one ? 1 : json_array_size (values);
                for (size_t index = 0; index < count; index++) {
                    const char *wanted = json_string_value (
                        one ? values : json_array_get (values, index));
                    bool found = false;
                    for (size_t c = 0; wanted && c < field->nchoices; c++)
                        found = found || streq (field->choices[c], wanted);
                    if (!found)
                        s_fail (p, path, "not a choice of \"%s\"", field->name);
                }
            }
            if (self->kind == S_COND_EQUALS &&
                field->type == DOSSIERS_TYPE_BOOLEAN &&
                !json_is_boolean (self->value))
                s_fail (p, path,
                        "\"%s\" is a yes/no field: compare it with "
                        "true or false",
                        field->name);
        }
    }
    if (p->failed)
        s_cond_destroy (&self);
    return self;
}

static void
s_cond_destroy (dossiers_cond_t **self_p)
{
    dossiers_cond_t *self = *self_p;
    if (!self)
        return;
    json_decref (self->value);
    for (size_t index = 0; index < self->nitems; index++)
        s_cond_destroy (&self->items[index]);
    free (self->items);
    free (self);
    *self_p = NULL;
}

static bool
s_numeric (const dossiers_field_t *field)
{
    return field->type == DOSSIERS_TYPE_INTEGER ||
           field->type == DOSSIERS_TYPE_DECIMAL ||
           field->type == DOSSIERS_TYPE_MONEY ||
           field->type == DOSSIERS_TYPE_BOOLEAN;
}

static dossiers_expr_t *s_expr_parse (s_parser_t *p, const s_scope_t *scope,
                                      json_t *json, const char *path);

void
dossiers_form_expr_destroy (dossiers_expr_t **self_p)
{
    dossiers_expr_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->nargs; index++)
        dossiers_form_expr_destroy (&self->args[index]);
    free (self->args);
    s_cond_destroy (&self->cond);
    free (self->upto);
    free (self->values);
    json_decref (self->table);
    free (self);
    *self_p = NULL;
}

//  Operands of an operator whose JSON value is a list.
static void
s_expr_args (s_parser_t *p, const s_scope_t *scope, dossiers_expr_t *self,
             json_t *list, const char *path, size_t skip)
{
    self->nargs = json_array_size (list) - skip;
    self->args =
        (dossiers_expr_t **) zmalloc (self->nargs * sizeof (dossiers_expr_t *));
    char where[512];
    for (size_t index = 0; index < self->nargs && !p->failed; index++) {
        gch_pathf (where, sizeof where, "%s[%zu]", path, index + skip);
        self->args[index] =
            s_expr_parse (p, scope, json_array_get (list, index + skip), where);
    }
}

static dossiers_expr_t *
s_expr_parse (s_parser_t *p, const s_scope_t *scope, json_t *json,
              const char *path)
{
    dossiers_expr_t *self = (dossiers_expr_t *) zmalloc (sizeof *self);
    char where[512];
    if (json_is_number (json)) {
        self->kind = S_EXPR_NUMBER;
        self->number = json_number_value (json);
        return self;
    }
    const char *key = json_object_iter_key (json_object_iter (json));
    json_t *value = json_object_iter_value (json_object_iter (json));
    gch_pathf (where, sizeof where, "%s.%s", path, key ? key : "");
    static const struct {
        const char *name;
        s_expr_kind_t kind;
    } lists[] = {{"add", S_EXPR_ADD},        {"mul", S_EXPR_MUL},
                 {"min", S_EXPR_MIN},        {"max", S_EXPR_MAX},
                 {"sub", S_EXPR_SUB},        {"div", S_EXPR_DIV},
                 {"percent", S_EXPR_PERCENT}};
    for (size_t index = 0; index < sizeof lists / sizeof lists[0]; index++)
        if (streq (key, lists[index].name)) {
            self->kind = lists[index].kind;
            s_expr_args (p, scope, self, value, where, 0);
            goto done;
        }
    if (streq (key, "field")) {
        self->kind = S_EXPR_FIELD;
        if (s_resolve (p, scope, json_string_value (value), where,
                       &self->ref) &&
            !s_numeric (self->ref.field))
            s_fail (p, where, "\"%s\" is not a number or yes/no field",
                    self->ref.field->name);
    }
    else if (streq (key, "count")) {
        self->kind = S_EXPR_COUNT;
        if (s_resolve (p, scope, json_string_value (value), where,
                       &self->ref)) {
            dossiers_type_t type = self->ref.field->type;
            if (type != DOSSIERS_TYPE_GROUP &&
                type != DOSSIERS_TYPE_MULTICHOICE && type != DOSSIERS_TYPE_FILE)
                s_fail (p, where,
                        "\"%s\" is not a group, multichoice or file "
                        "field",
                        self->ref.field->name);
        }
    }
    else if (streq (key, "sum")) {
        self->kind = S_EXPR_SUM;
        char at[512];
        gch_pathf (at, sizeof at, "%s.group", where);
        if (s_resolve (p, scope,
                       json_string_value (json_object_get (value, "group")), at,
                       &self->ref)) {
            if (self->ref.field->type != DOSSIERS_TYPE_GROUP || self->ref.item)
                s_fail (p, at, "\"%s\" is not a group", self->ref.field->name);
            else {
                s_scope_t inner = *scope;
                inner.group = self->ref.field;
                inner.item_all = true;
                gch_pathf (at, sizeof at, "%s.value", where);
                self->nargs = 1;
                self->args = (dossiers_expr_t **) zmalloc (sizeof *self->args);
                self->args[0] = s_expr_parse (
                    p, &inner, json_object_get (value, "value"), at);
            }
        }
    }
    else if (streq (key, "tariff")) {
        self->kind = S_EXPR_TARIFF;
        char at[512];
        gch_pathf (at, sizeof at, "%s.by", where);
        self->nargs = 1;
        self->args = (dossiers_expr_t **) zmalloc (sizeof *self->args);
        self->args[0] =
            s_expr_parse (p, scope, json_object_get (value, "by"), at);
        json_t *brackets = json_object_get (value, "brackets");
        self->nbrackets = json_array_size (brackets);
        self->upto = (double *) zmalloc (self->nbrackets * sizeof (double));
        self->values = (double *) zmalloc (self->nbrackets * sizeof (double));
        for (size_t index = 0; index < self->nbrackets; index++) {
            json_t *bracket = json_array_get (brackets, index);
            json_t *upto = json_object_get (bracket, "upto");
            bool last = index + 1 == self->nbrackets;
            gch_pathf (at, sizeof at, "%s.brackets[%zu]", where, index);
            if (last != !upto)
                s_fail (p, at,
                        last ? "the last bracket has no \"upto\""
                             : "every bracket but the last has an \"upto\"");
            else if (upto && index > 0 &&
                     json_number_value (upto) <= self->upto[index - 1])
                s_fail (p, at,
                        "\"upto\" must increase from one bracket to "
                        "the next");
            self->upto[index] = upto ? json_number_value (upto) : INFINITY;
            self->values[index] =
                json_number_value (json_object_get (bracket, "value"));
        }
    }
    else if (streq (key, "lookup")) {
        self->kind = S_EXPR_LOOKUP;
        char at[512];
        gch_pathf (at, sizeof at, "%s.field", where);
        self->table = json_incref (json_object_get (value, "table"));
        json_t *fallback = json_object_get (value, "default");
        self->fallback = fallback ? json_number_value (fallback) : 0;
        if (s_resolve (p, scope,
                       json_string_value (json_object_get (value, "field")), at,
                       &self->ref)) {
            const dossiers_field_t *field = self->ref.field;
            if (field->type != DOSSIERS_TYPE_CHOICE)
                s_fail (p, at, "\"%s\" is not a choice field", field->name);
            const char *choice;
            json_t *number;
            json_object_foreach (self->table, choice, number)
            {
                bool found = false;
                for (size_t c = 0; c < field->nchoices; c++)
                    found = found || streq (field->choices[c], choice);
                if (!found) {
                    gch_pathf (at, sizeof at, "%s.table.%s", where, choice);
                    s_fail (p, at, "not a choice of \"%s\"", field->name);
                }
            }
        }
    }
    else if (streq (key, "if")) {
        self->kind = S_EXPR_IF;
        char at[512];
        gch_pathf (at, sizeof at, "%s[0]", where);
        self->cond = s_cond_parse (p, scope, json_array_get (value, 0), at);
        s_expr_args (p, scope, self, value, where, 1);
    }
done:
    if (p->failed)
        dossiers_form_expr_destroy (&self);
    return self;
}

//  A date bound: "YYYY-MM-DD", "today", "today+N", "today-N".
static bool
s_date_bound_valid (const char *text)
{
    return dossiers_date_bound_valid (text);
}

static void s_field_clear (dossiers_field_t *field);

static void
s_field_parse (s_parser_t *p, const dossiers_form_t *form,
               dossiers_field_t *field, json_t *json, const char *path,
               dossiers_field_t *group)
{
    char where[512];
    if (!field->name)
        field->name =
            strdup (json_string_value (json_object_get (json, "name")));
    field->label = strdup (json_string_value (json_object_get (json, "label")));
    field->type = (dossiers_type_t) dossiers_form_type (
        json_string_value (json_object_get (json, "type")));
    field->group = group;
    field->required = json_is_true (json_object_get (json, "required"));
    dossiers_type_t type = field->type;
    if (group && type == DOSSIERS_TYPE_GROUP) {
        s_fail (p, path, "groups do not nest");
        return;
    }
    //  Scope of its conditions and expression: what comes before it
    s_scope_t scope = {form, group ? group->index : field->index, group,
                       group ? field->index : 0, false};
    json_t *cond = json_object_get (json, "visible_if");
    if (cond) {
        gch_pathf (where, sizeof where, "%s.visible_if", path);
        field->visible_if = s_cond_parse (p, &scope, cond, where);
    }
    if ((cond = json_object_get (json, "required_if"))) {
        gch_pathf (where, sizeof where, "%s.required_if", path);
        field->required_if = s_cond_parse (p, &scope, cond, where);
    }
    //  Bounds, by type
    const char *bounds[] = {"min", "max"};
    for (size_t index = 0; index < 2 && !p->failed; index++) {
        json_t *bound = json_object_get (json, bounds[index]);
        if (!bound)
            continue;
        gch_pathf (where, sizeof where, "%s.%s", path, bounds[index]);
        if (type == DOSSIERS_TYPE_DATE) {
            if (!json_is_string (bound) ||
                !s_date_bound_valid (json_string_value (bound)))
                s_fail (p, where,
                        "a date field's bound is \"AAAA-MM-JJ\", "
                        "\"today\" or \"today+N\"");
            else if (index == 0)
                field->date_min = strdup (json_string_value (bound));
            else
                field->date_max = strdup (json_string_value (bound));
        }
        else if (type == DOSSIERS_TYPE_INTEGER ||
                 type == DOSSIERS_TYPE_DECIMAL || type == DOSSIERS_TYPE_MONEY ||
                 type == DOSSIERS_TYPE_MULTICHOICE) {
            if (!json_is_number (bound))
                s_fail (p, where, "must be a number");
            else if (index == 0) {
                field->has_min = true;
                field->min = json_number_value (bound);
            }
            else {
                field->has_max = true;
                field->max = json_number_value (bound);
            }
        }
        else
            s_fail (p, where, "a %s field has no min or max",
                    s_type_names[type]);
    }
    if (field->has_min && field->has_max && field->min > field->max)
        s_fail (p, path, "min is above max");
    json_t *number = json_object_get (json, "min_length");
    field->min_length = number ? (int) json_integer_value (number) : 0;
    number = json_object_get (json, "max_length");
    field->max_length = number ? (int) json_integer_value (number) : 0;
    if (number && type != DOSSIERS_TYPE_TEXT &&
        type != DOSSIERS_TYPE_LONGTEXT && type != DOSSIERS_TYPE_EMAIL &&
        type != DOSSIERS_TYPE_PHONE) {
        gch_pathf (where, sizeof where, "%s.max_length", path);
        s_fail (p, where, "a %s field has no max_length", s_type_names[type]);
    }
    if (field->max_length && field->min_length > field->max_length)
        s_fail (p, path, "min_length is above max_length");
    const char *pattern = json_string_value (json_object_get (json, "pattern"));
    if (pattern) {
        //  The whole value must match
        char *anchored = zsys_sprintf ("^(%s)$", pattern);
        field->pattern = (regex_t *) zmalloc (sizeof (regex_t));
        if (regcomp (field->pattern, anchored, REG_EXTENDED | REG_NOSUB) != 0) {
            free (field->pattern);
            field->pattern = NULL;
            gch_pathf (where, sizeof where, "%s.pattern", path);
            s_fail (p, where, "not a POSIX extended regular expression");
        }
        zstr_free (&anchored);
        const char *message =
            json_string_value (json_object_get (json, "pattern_message"));
        field->pattern_message = strdup (
            message ? message : "Cette valeur n'a pas la forme attendue.");
    }
    json_t *choices = json_object_get (json, "choices");
    field->nchoices = json_array_size (choices);
    if (field->nchoices) {
        field->choices = (char **) zmalloc (field->nchoices * sizeof (char *));
        field->choice_labels =
            (char **) zmalloc (field->nchoices * sizeof (char *));
    }
    for (size_t index = 0; index < field->nchoices; index++) {
        json_t *choice = json_array_get (choices, index);
        field->choices[index] =
            strdup (json_string_value (json_object_get (choice, "value")));
        field->choice_labels[index] =
            strdup (json_string_value (json_object_get (choice, "label")));
        for (size_t other = 0; other < index; other++)
            if (streq (field->choices[other], field->choices[index])) {
                gch_pathf (where, sizeof where, "%s.choices[%zu].value", path,
                           index);
                s_fail (p, where, "duplicate choice \"%s\"",
                        field->choices[index]);
            }
    }
    json_t *accept = json_object_get (json, "accept");
    field->naccept = json_array_size (accept);
    if (field->naccept)
        field->accept = (char **) zmalloc (field->naccept * sizeof (char *));
    for (size_t index = 0; index < field->naccept; index++)
        field->accept[index] =
            strdup (json_string_value (json_array_get (accept, index)));
    number = json_object_get (json, "max_size");
    field->max_size = number ? json_integer_value (number) : 0;
    number = json_object_get (json, "max_files");
    field->max_files = number ? (int) json_integer_value (number) : 1;
    number = json_object_get (json, "min_items");
    field->min_items = number ? (int) json_integer_value (number) : 0;
    number = json_object_get (json, "max_items");
    field->max_items = number ? (int) json_integer_value (number) : 100;
    if (field->min_items > field->max_items)
        s_fail (p, path, "min_items is above max_items");
    json_t *fields = json_object_get (json, "fields");
    field->nfields = json_array_size (fields);
    if (field->nfields)
        field->fields = (dossiers_field_t *) zmalloc (
            field->nfields * sizeof (dossiers_field_t));
    for (size_t index = 0; index < field->nfields; index++)
        field->fields[index].name = strdup (json_string_value (
            json_object_get (json_array_get (fields, index), "name")));
    for (size_t index = 0; index < field->nfields && !p->failed; index++) {
        dossiers_field_t *child = &field->fields[index];
        child->index = index;
        child->page = field->page;
        gch_pathf (where, sizeof where, "%s.fields[%zu]", path, index);
        json_t *item = json_array_get (fields, index);
        const char *name = json_string_value (json_object_get (item, "name"));
        for (size_t other = 0; other < index; other++)
            if (streq (field->fields[other].name, name))
                s_fail (p, where, "duplicate field \"%s\"", name);
        (void) name;
        for (size_t top = 0; top < form->nfields; top++)
            if (form->fields[top].name && streq (form->fields[top].name, name))
                s_fail (p, where, "\"%s\" is also a top-level field", name);
        if (!p->failed)
            s_field_parse (p, form, child, item, where, field);
    }
    json_t *computed = json_object_get (json, "computed");
    if (computed && !p->failed) {
        gch_pathf (where, sizeof where, "%s.computed", path);
        field->computed = s_expr_parse (p, &scope, computed, where);
    }
}

static void
s_field_clear (dossiers_field_t *field)
{
    free (field->name);
    free (field->label);
    s_cond_destroy (&field->required_if);
    s_cond_destroy (&field->visible_if);
    free (field->date_min);
    free (field->date_max);
    if (field->pattern) {
        regfree (field->pattern);
        free (field->pattern);
    }
    free (field->pattern_message);
    for (size_t index = 0; index < field->nchoices; index++) {
        free (field->choices[index]);
        free (field->choice_labels[index]);
    }
    free (field->choices);
    free (field->choice_labels);
    for (size_t index = 0; index < field->naccept; index++)
        free (field->accept[index]);
    free (field->accept);
    for (size_t index = 0; index < field->nfields; index++)
        s_field_clear (&field->fields[index]);
    free (field->fields);
    dossiers_form_expr_destroy (&field->computed);
}

dossiers_form_t *
dossiers_form_parse (json_t *form, const char *path,
                     dossiers_form_fail_fn *fail, void *ctx)
{
    assert (form && fail);
    s_parser_t parser = {fail, ctx, false};
    s_parser_t *p = &parser;
    dossiers_form_t *self = (dossiers_form_t *) zmalloc (sizeof *self);
    json_t *pages = json_object_get (form, "pages");
    self->npages = json_array_size (pages);
    self->pages =
        (dossiers_page_t *) zmalloc (self->npages * sizeof (dossiers_page_t));
    //  Count the top-level fields first: the array must not move
    size_t total = 0;
    for (size_t index = 0; index < self->npages; index++)
        total += json_array_size (
            json_object_get (json_array_get (pages, index), "fields"));
    self->fields =
        (dossiers_field_t *) zmalloc (total * sizeof (dossiers_field_t));
    char where[512];
    //  Names first, so that a condition naming a later field says so
    for (size_t page = 0; page < self->npages && !p->failed; page++) {
        json_t *fields =
            json_object_get (json_array_get (pages, page), "fields");
        for (size_t index = 0; index < json_array_size (fields); index++) {
            const char *name = json_string_value (
                json_object_get (json_array_get (fields, index), "name"));
            gch_pathf (where, sizeof where, "%s.pages[%zu].fields[%zu]", path,
                       page, index);
            if (dossiers_form_field (self, name)) {
                s_fail (p, where, "duplicate field \"%s\"", name);
                break;
            }
            dossiers_field_t *field = &self->fields[self->nfields];
            field->name = strdup (name);
            field->index = self->nfields++;
            field->page = (int) page;
        }
    }
    size_t next = 0;
    for (size_t page = 0; page < self->npages && !p->failed; page++) {
        json_t *json = json_array_get (pages, page);
        dossiers_page_t *it = &self->pages[page];
        it->name = strdup (json_string_value (json_object_get (json, "name")));
        it->title =
            strdup (json_string_value (json_object_get (json, "title")));
        it->first = next;
        for (size_t other = 0; other < page; other++)
            if (streq (self->pages[other].name, it->name)) {
                gch_pathf (where, sizeof where, "%s.pages[%zu].name", path,
                           page);
                s_fail (p, where, "duplicate page \"%s\"", it->name);
            }
        json_t *cond = json_object_get (json, "visible_if");
        if (cond) {
            s_scope_t scope = {self, next, NULL, 0, false};
            gch_pathf (where, sizeof where, "%s.pages[%zu].visible_if", path,
                       page);
            it->visible_if = s_cond_parse (p, &scope, cond, where);
        }
        json_t *fields = json_object_get (json, "fields");
        for (size_t index = 0; index < json_array_size (fields) && !p->failed;
             index++) {
            gch_pathf (where, sizeof where, "%s.pages[%zu].fields[%zu]", path,
                       page, index);
            dossiers_field_t *field = &self->fields[next++];
            it->count++;
            s_field_parse (p, self, field, json_array_get (fields, index),
                           where, NULL);
        }
    }
    if (p->failed)
        dossiers_form_destroy (&self);
    return self;
}

void
dossiers_form_destroy (dossiers_form_t **self_p)
{
    assert (self_p);
    dossiers_form_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->npages; index++) {
        free (self->pages[index].name);
        free (self->pages[index].title);
        s_cond_destroy (&self->pages[index].visible_if);
    }
    free (self->pages);
    for (size_t index = 0; index < self->nfields; index++)
        s_field_clear (&self->fields[index]);
    free (self->fields);
    free (self);
    *self_p = NULL;
}

const dossiers_field_t *
dossiers_form_field (const dossiers_form_t *self, const char *name)
{
    assert (self);
    for (size_t index = 0; name && index < self->nfields; index++)
        if (self->fields[index].name && streq (self->fields[index].name, name))
            return &self->fields[index];
    return NULL;
}

dossiers_expr_t *
dossiers_form_expr_parse (const dossiers_form_t *self, json_t *json,
                          const char *path, dossiers_form_fail_fn *fail,
                          void *ctx)
{
    s_parser_t parser = {fail, ctx, false};
    s_scope_t scope = {self, self->nfields, NULL, 0, false};
    return s_expr_parse (&parser, &scope, json, path);
}

//  --------------------------------------------------------------------------
//  Evaluation. `top` is the normalised data so far, `item` the normalised
//  item of the group being checked (or NULL).

static const json_t *
s_ref_value (const s_ref_t *ref, const json_t *top, const json_t *item)
{
    return json_object_get (ref->item ? item : top, ref->field->name);
}

static bool
s_empty (const json_t *value)
{
    if (!value || json_is_null (value))
        return true;
    if (json_is_string (value)) {
        for (const char *c = json_string_value (value); *c; c++)
            if (!isspace ((unsigned char) *c))
                return false;
        return true;
    }
    if (json_is_array (value))
        return json_array_size (value) == 0;
    return false;
}

static double
s_number (const json_t *value)
{
    if (json_is_number (value))
        return json_number_value (value);
    if (json_is_true (value))
        return 1;
    return 0;
}

static bool
s_cond_holds (const dossiers_cond_t *self, const json_t *top,
              const json_t *item)
{
    if (!self)
        return true;
    switch (self->kind) {
        case S_COND_ALL:
            for (size_t index = 0; index < self->nitems; index++)
                if (!s_cond_holds (self->items[index], top, item))
                    return false;
            return true;
        case S_COND_ANY:
            for (size_t index = 0; index < self->nitems; index++)
                if (s_cond_holds (self->items[index], top, item))
                    return true;
            return false;
        case S_COND_NOT:
            return !s_cond_holds (self->items[0], top, item);
        default:
            break;
    }
    const json_t *value = s_ref_value (&self->ref, top, item);
    switch (self->kind) {
        case S_COND_FILLED:
            return s_empty (value) != self->filled;
        case S_COND_COMPARE: {
            if (!json_is_number (value))
                return false;
            double number = json_number_value (value);
            return (!self->has[0] || number > self->bound[0]) &&
                   (!self->has[1] || number >= self->bound[1]) &&
                   (!self->has[2] || number < self->bound[2]) &&
                   (!self->has[3] || number <= self->bound[3]);
        }
        default:
            break;
    }
    //  equals, in: against the value, or any element of a multichoice
    size_t count = json_is_array (value) ? json_array_size (value) : 1;
    for (size_t index = 0; value && index < count; index++) {
        const json_t *one =
            json_is_array (value) ? json_array_get (value, index) : value;
        if (self->kind == S_COND_EQUALS) {
            if (json_equal ((json_t *) one, self->value) ||
                (json_is_number (one) && json_is_number (self->value) &&
                 json_number_value (one) == json_number_value (self->value)))
                return true;
        }
        else
            for (size_t at = 0; at < json_array_size (self->value); at++)
                if (json_equal ((json_t *) one,
                                json_array_get (self->value, at)))
                    return true;
    }
    return false;
}

static double
s_eval (const dossiers_expr_t *self, const json_t *top, const json_t *item)
{
    double result = 0;
    switch (self->kind) {
        case S_EXPR_NUMBER:
            return self->number;
        case S_EXPR_FIELD:
            return s_number (s_ref_value (&self->ref, top, item));
        case S_EXPR_ADD:
        case S_EXPR_MUL:
        case S_EXPR_MIN:
        case S_EXPR_MAX:
            result = s_eval (self->args[0], top, item);
            for (size_t index = 1; index < self->nargs; index++) {
                double next = s_eval (self->args[index], top, item);
                result = self->kind == S_EXPR_ADD   ? result + next
                         : self->kind == S_EXPR_MUL ? result * next
                         : self->kind == S_EXPR_MIN ? fmin (result, next)
                                                    : fmax (result, next);
            }
            return result;
        case S_EXPR_SUB:
            return s_eval (self->args[0], top, item) -
                   s_eval (self->args[1], top, item);
        case S_EXPR_DIV: {
            double divisor = s_eval (self->args[1], top, item);
            return divisor == 0 ? 0
                                : s_eval (self->args[0], top, item) / divisor;
        }
        case S_EXPR_PERCENT:
            return s_eval (self->args[0], top, item) *
                   s_eval (self->args[1], top, item) / 100.0;
        case S_EXPR_COUNT: {
            const json_t *value = s_ref_value (&self->ref, top, item);
            return json_is_array (value)    ? (double) json_array_size (value)
                   : json_is_object (value) ? 1
                                            : 0;
        }
        case S_EXPR_SUM: {
            const json_t *items = s_ref_value (&self->ref, top, item);
            for (size_t index = 0; index < json_array_size (items); index++)
                result +=
                    s_eval (self->args[0], top, json_array_get (items, index));
            return result;
        }
        case S_EXPR_TARIFF: {
            double by = s_eval (self->args[0], top, item);
            for (size_t index = 0; index < self->nbrackets; index++)
                if (by <= self->upto[index])
                    return self->values[index];
            return 0;
        }
        case S_EXPR_LOOKUP: {
            const char *choice =
                json_string_value (s_ref_value (&self->ref, top, item));
            json_t *number =
                choice ? json_object_get (self->table, choice) : NULL;
            return number ? json_number_value (number) : self->fallback;
        }
        case S_EXPR_IF:
            return s_eval (
                self->args[s_cond_holds (self->cond, top, item) ? 0 : 1], top,
                item);
    }
    return 0;
}

double
dossiers_form_eval (const dossiers_expr_t *expr, const json_t *data)
{
    assert (expr);
    double value = s_eval (expr, data, NULL);
    return isfinite (value) ? value : 0;
}

//  --------------------------------------------------------------------------
//  The check

typedef struct {
    const dossiers_form_t *form;
    const dossiers_form_env_t *env;
    bool complete;
    dossiers_form_error_fn *error;
    void *ctx;
    size_t errors;
    char today[11];
} s_check_t;

static void
s_error (s_check_t *c, const char *path, const char *message)
{
    c->errors++;
    if (c->error)
        c->error (c->ctx, path, message);
}

//  Today in Paris, "YYYY-MM-DD".
static void
s_today (char *buf)
{
    time_t now = time (NULL);
    struct tm tm;
    localtime_r (&now, &tm);
    strftime (buf, 11, "%Y-%m-%d", &tm);
}

static bool
s_commune_known (void *ctx, const char *insee, const char *postcode)
{
    const dossiers_form_env_t *env = (const dossiers_form_env_t *) ctx;
    return !env->commune_known ||
           env->commune_known (env->ctx, insee, postcode);
}

//  Bounds as the checkers take them: the field's, or the widest.
static int64_t
s_low (const dossiers_field_t *field)
{
    return field->has_min ? (int64_t) ceil (field->min) : INT64_MIN;
}

static int64_t
s_high (const dossiers_field_t *field)
{
    return field->has_max ? (int64_t) floor (field->max) : INT64_MAX;
}

//  Check one value by type; sets *normal_p (new reference) when valid.
//  Returns NULL or a French message.
static const char *
s_value_check (s_check_t *c, const dossiers_field_t *field, const json_t *value,
               json_t **normal_p, const char **key_p)
{
    *normal_p = NULL;
    *key_p = NULL;
    const char *fault = NULL;
    json_t *normal = NULL;
    const char *const *choices = (const char *const *) field->choices;
    switch (field->type) {
        case DOSSIERS_TYPE_TEXT:
        case DOSSIERS_TYPE_LONGTEXT: {
            int most = field->max_length                   ? field->max_length
                       : field->type == DOSSIERS_TYPE_TEXT ? 255
                                                           : 10000;
            fault =
                field->type == DOSSIERS_TYPE_TEXT
                    ? dossiers_check_text (value, field->min_length, most)
                    : dossiers_check_longtext (value, field->min_length, most);
            if (!fault && field->pattern &&
                regexec (field->pattern, json_string_value (value), 0, NULL,
                         0) != 0)
                fault = field->pattern_message;
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        }
        case DOSSIERS_TYPE_EMAIL:
            fault = dossiers_check_email (value, &normal);
            if (!fault && field->max_length &&
                (int) strlen (json_string_value (normal)) > field->max_length)
                fault = "Cette adresse est trop longue.";
            break;
        case DOSSIERS_TYPE_PHONE:
            fault = dossiers_check_phone (value, &normal);
            break;
        case DOSSIERS_TYPE_INTEGER:
            fault =
                dossiers_check_integer (value, s_low (field), s_high (field));
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        case DOSSIERS_TYPE_DECIMAL:
            fault = dossiers_check_decimal (
                value, field->has_min ? field->min : -HUGE_VAL,
                field->has_max ? field->max : HUGE_VAL, &normal);
            break;
        case DOSSIERS_TYPE_MONEY:
            fault = dossiers_check_money (
                value, field->has_min ? s_low (field) : 0,
                field->has_max ? s_high (field) : DOSSIERS_MONEY_MAX, &normal);
            break;
        case DOSSIERS_TYPE_DATE:
            fault = dossiers_check_date (value, field->date_min,
                                         field->date_max, c->today);
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        case DOSSIERS_TYPE_BOOLEAN:
            fault = dossiers_check_boolean (value);
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        case DOSSIERS_TYPE_CHOICE:
            fault = dossiers_check_choice (value, choices, field->nchoices);
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        case DOSSIERS_TYPE_MULTICHOICE:
            fault = dossiers_check_multichoice (
                value, choices, field->nchoices,
                field->has_min ? (size_t) field->min : 0,
                field->has_max ? (size_t) field->max : SIZE_MAX);
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        case DOSSIERS_TYPE_ADDRESS:
            fault = dossiers_check_address (value, s_commune_known,
                                            (void *) c->env, key_p, &normal);
            break;
        case DOSSIERS_TYPE_PLATE:
            fault = dossiers_check_plate (value, &normal);
            break;
        case DOSSIERS_TYPE_IBAN:
            fault = dossiers_check_iban (value, &normal);
            break;
        case DOSSIERS_TYPE_SIRET:
            fault = dossiers_check_siret (value, &normal);
            break;
        case DOSSIERS_TYPE_INSEE:
            fault = dossiers_check_insee (value, &normal);
            if (!fault && !s_commune_known ((void *) c->env,
                                            json_string_value (normal), NULL))
                fault = "Cette commune ne fait pas partie du territoire.";
            break;
        case DOSSIERS_TYPE_FILE:
            fault =
                field->max_files > 1
                    ? dossiers_check_files (value,
                                            (const char *const *) field->accept,
                                            field->naccept, field->max_size, 0,
                                            (size_t) field->max_files)
                    : dossiers_check_file (value,
                                           (const char *const *) field->accept,
                                           field->naccept, field->max_size);
            if (!fault)
                normal = json_incref ((json_t *) value);
            break;
        case DOSSIERS_TYPE_GROUP:
            break;  //  checked item by item
    }
    if (fault)
        json_decref (normal);
    else
        *normal_p = normal;
    return fault;
}

//  Check the fields of one level (the top level, or a group's item) into
//  out. fields/nfields: the level's fields; data: what was sent; item_of:
//  the group when checking an item (then top is the data so far of the top
//  level); prefix: "form." or "form.g[i].".
static void s_level_check (s_check_t *c, const dossiers_field_t *fields,
                           size_t nfields, const json_t *data, json_t *out,
                           json_t *top, const char *prefix, bool item);

static void
s_group_check (s_check_t *c, const dossiers_field_t *field, const json_t *value,
               json_t *out, json_t *top, const char *path)
{
    if (!json_is_array (value)) {
        s_error (c, path, "Cette liste n'a pas la forme attendue.");
        return;
    }
    size_t count = json_array_size (value);
    char message[160];
    if ((int) count > field->max_items) {
        snprintf (message, sizeof message,
                  "Au plus %d élément(s) dans cette "
                  "liste.",
                  field->max_items);
        s_error (c, path, message);
        return;
    }
    if (c->complete && (int) count < field->min_items) {
        snprintf (message, sizeof message,
                  "Au moins %d élément(s) dans cette liste.", field->min_items);
        s_error (c, path, message);
    }
    json_t *items = json_array ();
    for (size_t index = 0; index < count; index++) {
        char prefix[512];
        gch_pathf (prefix, sizeof prefix, "%s[%zu].", path, index);
        const json_t *sent = json_array_get (value, index);
        json_t *item = json_object ();
        if (!json_is_object (sent)) {
            prefix[strlen (prefix) - 1] = '\0';
            s_error (c, prefix, "Cet élément n'a pas la forme attendue.");
        }
        else
            s_level_check (c, field->fields, field->nfields, sent, item, top,
                           prefix, true);
        json_array_append_new (items, item);
    }
    json_object_set_new (out, field->name, items);
}

static void
s_level_check (s_check_t *c, const dossiers_field_t *fields, size_t nfields,
               const json_t *data, json_t *out, json_t *top, const char *prefix,
               bool item)
{
    //  Unknown keys first
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) data, key, value)
    {
        bool known = false;
        for (size_t index = 0; index < nfields && !known; index++)
            known = streq (fields[index].name, key);
        if (!known) {
            char path[600];
            gch_pathf (path, sizeof path, "%s%s", prefix, key);
            s_error (c, path, "Ce champ ne fait pas partie du formulaire.");
        }
    }
    const json_t *item_data = item ? out : NULL;
    json_t *level_top = item ? top : out;
    for (size_t index = 0; index < nfields; index++) {
        const dossiers_field_t *field = &fields[index];
        //  Visibility: the page's, then the field's
        bool visible = true;
        if (!item) {
            const dossiers_page_t *page = &c->form->pages[field->page];
            visible = s_cond_holds (page->visible_if, level_top, NULL);
        }
        visible =
            visible && s_cond_holds (field->visible_if, level_top, item_data);
        if (!visible)
            continue;  //  dropped, with whatever was sent for it
        char path[600];
        gch_pathf (path, sizeof path, "%s%s", prefix, field->name);
        if (field->computed) {
            double number = s_eval (field->computed, level_top, item_data);
            if (!isfinite (number))
                number = 0;
            json_object_set_new (
                out, field->name,
                field->type == DOSSIERS_TYPE_DECIMAL
                    ? json_real (number)
                    : json_integer ((json_int_t) llround (number)));
            continue;
        }
        const json_t *sent = json_object_get (data, field->name);
        bool required =
            field->required ||
            (field->type == DOSSIERS_TYPE_GROUP && field->min_items > 0) ||
            (field->required_if &&
             s_cond_holds (field->required_if, level_top, item_data));
        if (s_empty (sent)) {
            if (c->complete && required)
                s_error (c, path,
                         field->type == DOSSIERS_TYPE_FILE
                             ? "Ajoutez cette pièce justificative."
                             : "Ce champ est obligatoire.");
            continue;
        }
        if (field->type == DOSSIERS_TYPE_GROUP) {
            s_group_check (c, field, sent, out, level_top, path);
            continue;
        }
        json_t *normal;
        const char *member;
        const char *fault = s_value_check (c, field, sent, &normal, &member);
        if (fault && member) {
            char inner[700];
            gch_pathf (inner, sizeof inner, "%s.%s", path, member);
            s_error (c, inner, fault);
        }
        else if (fault)
            s_error (c, path, fault);
        else
            json_object_set_new (out, field->name, normal);
    }
}

json_t *
dossiers_form_check (const dossiers_form_t *self, const json_t *data,
                     bool complete, const dossiers_form_env_t *env,
                     dossiers_form_error_fn *error, void *ctx)
{
    assert (self && env);
    s_check_t check = {self, env, complete, error, ctx, 0, ""};
    if (env->today)
        snprintf (check.today, sizeof check.today, "%s", env->today);
    else
        s_today (check.today);
    if (!json_is_object (data)) {
        s_error (&check, "form", "Le formulaire n'a pas la forme attendue.");
        return NULL;
    }
    json_t *out = json_object ();
    s_level_check (&check, self->fields, self->nfields, data, out, out, "form.",
                   false);
    if (check.errors) {
        json_decref (out);
        return NULL;
    }
    return out;
}

//  --------------------------------------------------------------------------
//  Self-test

static void
s_test_fail (void *ctx, const char *path, const char *message)
{
    char **error_p = (char **) ctx;
    free (*error_p);
    *error_p = zsys_sprintf ("%s: %s", path, message);
}

//  Every fault as "path: message\n", in order.
static void
s_test_error (void *ctx, const char *path, const char *message)
{
    char **errors_p = (char **) ctx;
    char *more =
        zsys_sprintf ("%s%s: %s\n", *errors_p ? *errors_p : "", path, message);
    free (*errors_p);
    *errors_p = more;
}

static dossiers_form_t *
s_test_parse (const char *text, char **error_p)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fprintf (stderr, "bad test JSON: %s (line %d)\n", error.text,
                 error.line);
    assert (json);
    dossiers_form_t *form =
        dossiers_form_parse (json, "form", s_test_fail, error_p);
    json_decref (json);
    return form;
}

//  The definition is refused with exactly `expected`.
static void
s_test_refused (const char *text, const char *expected)
{
    char *error = NULL;
    dossiers_form_t *form = s_test_parse (text, &error);
    if (form || !error || !streq (error, expected))
        fprintf (stderr, "expected \"%s\", got \"%s\"\n", expected,
                 error ? error : "(accepted)");
    assert (!form && error && streq (error, expected));
    free (error);
}

static bool
s_test_commune (void *ctx, const char *insee, const char *postcode)
{
    (void) ctx;
    return streq (insee, "86194") && (!postcode || streq (postcode, "86000"));
}

//  Check data (JSON text) against form: the normalised data as compact
//  JSON text, or NULL with *errors_p set.
static char *
s_test_check (const dossiers_form_t *form, const char *data, bool complete,
              char **errors_p)
{
    json_t *json = json_loads (data, 0, NULL);
    assert (json);
    dossiers_form_env_t env = {s_test_commune, NULL, "2026-11-28"};
    *errors_p = NULL;
    json_t *out = dossiers_form_check (form, json, complete, &env, s_test_error,
                                       errors_p);
    json_decref (json);
    if (!out) {
        assert (*errors_p);
        return NULL;
    }
    assert (!*errors_p);
    char *text = json_dumps (out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (out);
    return text;
}

static void
s_test_expect (const dossiers_form_t *form, const char *data, bool complete,
               const char *expected_data, const char *expected_errors)
{
    char *errors;
    char *got = s_test_check (form, data, complete, &errors);
    bool ok = expected_data ? got && streq (got, expected_data)
                            : !got && errors && streq (errors, expected_errors);
    if (!ok)
        fprintf (stderr, "form check of %s:\n  expected %s\n  got %s%s\n", data,
                 expected_data ? expected_data : expected_errors,
                 got ? got : "errors: ", got ? "" : errors);
    assert (ok);
    free (got);
    free (errors);
}

//  An ALSH-like form: family quotient, children with a condition inside,
//  a computed total by tariff, a page shown on a condition.
static const char *s_test_alsh =
    "{\"pages\": ["
    " {\"name\": \"famille\", \"title\": \"Famille\", \"fields\": ["
    "  {\"name\": \"quotient_familial\", \"label\": \"QF\","
    "   \"type\": \"integer\", \"required\": true, \"min\": 0,"
    "   \"max\": 100000},"
    "  {\"name\": \"adresse\", \"label\": \"Adresse\", \"type\": \"address\","
    "   \"required\": true},"
    "  {\"name\": \"transport\", \"label\": \"Transport\","
    "   \"type\": \"boolean\"}]},"
    " {\"name\": \"enfants\", \"title\": \"Enfants\", \"fields\": ["
    "  {\"name\": \"enfants\", \"label\": \"Enfants\", \"type\": \"group\","
    "   \"min_items\": 1, \"max_items\": 3, \"fields\": ["
    "    {\"name\": \"prenom\", \"label\": \"Prénom\", \"type\": \"text\","
    "     \"required\": true},"
    "    {\"name\": \"jours\", \"label\": \"Jours\", \"type\": \"integer\","
    "     \"required\": true, \"min\": 1, \"max\": 60},"
    "    {\"name\": \"allergies\", \"label\": \"Allergies\","
    "     \"type\": \"boolean\"},"
    "    {\"name\": \"details\", \"label\": \"Détails\","
    "     \"type\": \"longtext\", \"required\": true,"
    "     \"visible_if\": {\"field\": \"allergies\", \"equals\": true}},"
    "    {\"name\": \"prix\", \"label\": \"Prix\", \"type\": \"money\","
    "     \"computed\": {\"mul\": [{\"field\": \"jours\"}, {\"tariff\": {"
    "      \"by\": {\"field\": \"quotient_familial\"}, \"brackets\": ["
    "      {\"upto\": 500, \"value\": 350}, {\"upto\": 800, \"value\": 600},"
    "      {\"value\": 900}]}}]}}]},"
    "  {\"name\": \"montant_total\", \"label\": \"Total\", \"type\": \"money\","
    "   \"computed\": {\"sum\": {\"group\": \"enfants\","
    "    \"value\": {\"field\": \"prix\"}}}}]},"
    " {\"name\": \"transport\", \"title\": \"Transport\","
    "  \"visible_if\": {\"field\": \"transport\", \"equals\": true},"
    "  \"fields\": [{\"name\": \"arret\", \"label\": \"Arrêt\","
    "   \"type\": \"choice\", \"required\": true, \"choices\": ["
    "   {\"value\": \"gare\", \"label\": \"Gare\"},"
    "   {\"value\": \"mairie\", \"label\": \"Mairie\"}]}]}]}";

static void
s_test_alsh_form (void)
{
    char *error = NULL;
    dossiers_form_t *form = s_test_parse (s_test_alsh, &error);
    if (!form)
        fprintf (stderr, "%s\n", error);
    assert (form && !error);
    assert (form->nfields == 6 && form->npages == 3);
    const char *address = "\"adresse\": {\"street\": \"1 rue A\","
                          " \"postcode\": \"86000\", \"commune\": \"86194\"}";
    char data[2048];
    //  Two children; QF 650: 600 cents a day; the hidden details dropped;
    //  the total is the sum; the transport page hidden, its answer dropped
    snprintf (data, sizeof data,
              "{\"quotient_familial\": 650, %s, \"enfants\": ["
              "{\"prenom\": \"Léa\", \"jours\": 3, \"allergies\": false,"
              " \"details\": \"x\", \"prix\": 1},"
              "{\"prenom\": \"Tom\", \"jours\": 2, \"allergies\": true,"
              " \"details\": \"Arachides\"}], \"arret\": \"gare\","
              " \"montant_total\": 5}",
              address);
    s_test_expect (
        form, data, true,
        "{\"adresse\":{\"commune\":\"86194\",\"postcode\":\"86000\","
        "\"street\":\"1 rue A\"},\"enfants\":[{\"allergies\":false,\"jours\":3,"
        "\"prenom\":\"Léa\",\"prix\":1800},{\"allergies\":true,\"details\":"
        "\"Arachides\",\"jours\":2,\"prenom\":\"Tom\",\"prix\":1200}],"
        "\"montant_total\":3000,\"quotient_familial\":650}",
        NULL);
    //  Brackets at their edges: 500 is in the first, above 800 the last
    snprintf (data, sizeof data,
              "{\"quotient_familial\": 500, %s, \"enfants\": ["
              "{\"prenom\": \"A\", \"jours\": 1}]}",
              address);
    char *errors;
    char *got = s_test_check (form, data, true, &errors);
    assert (got && strstr (got, "\"montant_total\":350"));
    free (got);
    snprintf (data, sizeof data,
              "{\"quotient_familial\": 801, %s, \"enfants\": ["
              "{\"prenom\": \"A\", \"jours\": 2}]}",
              address);
    got = s_test_check (form, data, true, &errors);
    assert (got && strstr (got, "\"montant_total\":1800"));
    free (got);
    //  Conditions on: shown details required, transport page required;
    //  every fault at once, with its path
    snprintf (data, sizeof data,
              "{\"quotient_familial\": -1, %s, \"transport\": true,"
              " \"enfants\": [{\"prenom\": \"A\", \"jours\": 0,"
              " \"allergies\": true}, 7], \"inconnu\": 1}",
              address);
    got = s_test_check (form, data, true, &errors);
    assert (!got);
    assert (strstr (errors, "form.inconnu: "));
    assert (strstr (errors, "form.quotient_familial: "));
    assert (strstr (errors, "form.enfants[0].jours: "));
    assert (strstr (errors, "form.enfants[0].details: Ce champ est "
                            "obligatoire.\n"));
    assert (strstr (errors, "form.enfants[1]: "));
    assert (strstr (errors, "form.arret: Ce champ est obligatoire.\n"));
    free (errors);
    //  A draft may be incomplete, not wrong
    s_test_expect (form, "{\"quotient_familial\": 100}", false,
                   "{\"montant_total\":0,\"quotient_familial\":100}", NULL);
    s_test_expect (form, "{}", true, NULL,
                   "form.quotient_familial: Ce champ est obligatoire.\n"
                   "form.adresse: Ce champ est obligatoire.\n"
                   "form.enfants: Ce champ est obligatoire.\n");
    //  Group bounds; an address of a commune outside the territory
    snprintf (data, sizeof data,
              "{\"quotient_familial\": 1, \"adresse\": {\"street\": \"x\","
              " \"postcode\": \"75001\", \"commune\": \"75101\"},"
              " \"enfants\": [{}, {}, {}, {}]}");
    got = s_test_check (form, data, false, &errors);
    assert (!got && strstr (errors, "form.enfants: Au plus 3 "));
    assert (strstr (errors, "form.adresse"));
    free (errors);
    //  An expression outside the form (a payment amount)
    json_t *json = json_loads ("{\"min\": [{\"percent\": [{\"field\": "
                               "\"montant_total\"}, 25]}, 500]}",
                               0, NULL);
    dossiers_expr_t *expr =
        dossiers_form_expr_parse (form, json, "amount", s_test_fail, &error);
    json_decref (json);
    assert (expr);
    json = json_loads ("{\"montant_total\": 1000}", 0, NULL);
    assert (dossiers_form_eval (expr, json) == 250);
    json_object_set_new (json, "montant_total", json_integer (1000000));
    assert (dossiers_form_eval (expr, json) == 500);
    json_decref (json);
    dossiers_form_expr_destroy (&expr);
    dossiers_form_destroy (&form);
    assert (!form);
}

void
dossiers_form_test (bool verbose)
{
    printf (" * dossiers_form: ");
    s_test_alsh_form ();

    //  Faults of definitions, each named with its path
#define S_PAGE(fields)                                                         \
    "{\"pages\": [{\"name\": \"p\", \"title\": \"P\", "                        \
    "\"fields\": [" fields "]}]}"
#define S_INT(name)                                                            \
    "{\"name\": \"" name "\", \"label\": \"L\", "                              \
    "\"type\": \"integer\"}"
    s_test_refused (S_PAGE (S_INT ("a") "," S_INT ("a")),
                    "form.pages[0].fields[1]: duplicate field \"a\"");
    s_test_refused (
        S_PAGE ("{\"name\": \"a\", \"label\": \"L\", \"type\": \"integer\","
                " \"visible_if\": {\"field\": \"b\", \"gt\": 1}}," S_INT ("b")),
        "form.pages[0].fields[0].visible_if.field: \"b\" comes after this "
        "place in the form");
    s_test_refused (
        S_PAGE ("{\"name\": \"a\", \"label\": \"L\", \"type\": \"integer\","
                " \"visible_if\": {\"field\": \"a\", \"gt\": 1}}"),
        "form.pages[0].fields[0].visible_if.field: \"a\" comes after this "
        "place in the form");
    s_test_refused (
        S_PAGE ("{\"name\": \"a\", \"label\": \"L\", \"type\": \"text\"},"
                "{\"name\": \"b\", \"label\": \"L\", \"type\": \"money\","
                " \"computed\": {\"field\": \"a\"}}"),
        "form.pages[0].fields[1].computed.field: \"a\" is not a number or "
        "yes/no field");
    s_test_refused (
        S_PAGE ("{\"name\": \"a\", \"label\": \"L\", \"type\": \"money\","
                " \"computed\": {\"field\": \"zz\"}}"),
        "form.pages[0].fields[0].computed.field: unknown field \"zz\"");
    s_test_refused (
        S_PAGE ("{\"name\": \"g\", \"label\": \"L\", \"type\": \"group\","
                " \"fields\": [{\"name\": \"h\", \"label\": \"L\","
                " \"type\": \"group\", \"fields\": [" S_INT ("x") "]}]}"),
        "form.pages[0].fields[0].fields[0]: groups do not nest");
    s_test_refused (
        S_PAGE (
            S_INT ("x") ", {\"name\": \"g\", \"label\": \"L\","
                        " \"type\": \"group\", \"fields\": [" S_INT ("x") "]}"),
        "form.pages[0].fields[1].fields[0]: \"x\" is also a top-level field");
    s_test_refused (
        S_PAGE ("{\"name\": \"d\", \"label\": \"L\", \"type\": \"date\","
                " \"min\": \"demain\"}"),
        "form.pages[0].fields[0].min: a date field's bound is "
        "\"AAAA-MM-JJ\", \"today\" or \"today+N\"");
    s_test_refused (
        S_PAGE ("{\"name\": \"t\", \"label\": \"L\", \"type\": \"text\","
                " \"pattern\": \"[a-\"}"),
        "form.pages[0].fields[0].pattern: not a POSIX extended regular "
        "expression");
    s_test_refused (
        S_PAGE ("{\"name\": \"c\", \"label\": \"L\", \"type\": \"choice\","
                " \"choices\": [{\"value\": \"a\", \"label\": \"A\"}]},"
                "{\"name\": \"n\", \"label\": \"L\", \"type\": \"text\","
                " \"visible_if\": {\"field\": \"c\", \"equals\": \"b\"}}"),
        "form.pages[0].fields[1].visible_if: not a choice of \"c\"");
    s_test_refused (
        S_PAGE ("{\"name\": \"m\", \"label\": \"L\", \"type\": \"money\","
                " \"computed\": {\"tariff\": {\"by\": 1, \"brackets\": ["
                " {\"upto\": 10, \"value\": 1}, {\"upto\": 5, \"value\": 2},"
                " {\"value\": 3}]}}}"),
        "form.pages[0].fields[0].computed.tariff.brackets[1]: \"upto\" must "
        "increase from one bracket to the next");

    //  A pattern is matched on the whole value; min/max of a date relative
    //  to today
    char *error = NULL;
    dossiers_form_t *form = s_test_parse (
        S_PAGE ("{\"name\": \"code\", \"label\": \"L\", \"type\": \"text\","
                " \"pattern\": \"[0-9]{4}\", \"pattern_message\": \"4 "
                "chiffres\"},"
                "{\"name\": \"jour\", \"label\": \"L\", \"type\": \"date\","
                " \"min\": \"today+2\", \"max\": \"2027-12-31\"}"),
        &error);
    assert (form);
    s_test_expect (form, "{\"code\": \"1234\", \"jour\": \"2026-11-30\"}", true,
                   "{\"code\":\"1234\",\"jour\":\"2026-11-30\"}", NULL);
    char *errors;
    char *got = s_test_check (
        form, "{\"code\": \"12345\", \"jour\": \"2026-11-29\"}", true, &errors);
    assert (!got && strstr (errors, "form.code: 4 chiffres\n") &&
            strstr (errors, "form.jour: "));
    free (errors);
    dossiers_form_destroy (&form);
    if (verbose)
        printf ("(verbose) ");
    printf ("OK\n");
}
