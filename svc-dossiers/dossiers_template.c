//  dossiers_template - templates with merge fields.
//
//  Syntax: "{{name}}" (spaces allowed inside the braces), name made of
//  [a-z0-9_.]. Nothing else is special: no loops, no conditions, no
//  escapes; a template is parsed once into literal and merge segments.
#include "gch.h"
#include "dossiers_template.h"

typedef struct {
    char *text;  //  literal text, or the merge field's name
    bool merge;
} s_segment_t;

struct _dossiers_template_t {
    s_segment_t *segments;
    size_t count;
};

static void
s_add (dossiers_template_t *self, const char *text, size_t length, bool merge)
{
    if (length == 0)
        return;
    self->segments = (s_segment_t *) realloc (
        self->segments, (self->count + 1) * sizeof (s_segment_t));
    assert (self->segments);
    self->segments[self->count].text = strndup (text, length);
    self->segments[self->count].merge = merge;
    self->count++;
}

dossiers_template_t *
dossiers_template_parse (const char *text, dossiers_template_known_fn *known,
                         void *ctx, char **error_p)
{
    assert (text);
    dossiers_template_t *self =
        (dossiers_template_t *) zmalloc (sizeof (dossiers_template_t));
    const char *at = text;
    char *error = NULL;
    while (!error) {
        const char *open = strstr (at, "{{");
        if (!open) {
            s_add (self, at, strlen (at), false);
            break;
        }
        s_add (self, at, (size_t) (open - at), false);
        const char *close = strstr (open + 2, "}}");
        if (!close) {
            error = zsys_sprintf ("\"{{\" without \"}}\" at character %zu",
                                  (size_t) (open - text) + 1);
            break;
        }
        const char *start = open + 2, *end = close;
        while (start < end && *start == ' ')
            start++;
        while (end > start && end[-1] == ' ')
            end--;
        char *name = strndup (start, (size_t) (end - start));
        bool valid = *name != '\0';
        for (const char *c = name; *c && valid; c++)
            valid = islower ((unsigned char) *c) ||
                    isdigit ((unsigned char) *c) || *c == '_' || *c == '.';
        if (!valid)
            error = zsys_sprintf ("malformed merge field \"{{%s}}\"", name);
        else if (known && !known (ctx, name))
            error = zsys_sprintf ("unknown merge field \"{{%s}}\"", name);
        else
            s_add (self, name, strlen (name), true);
        free (name);
        at = close + 2;
    }
    if (error) {
        dossiers_template_destroy (&self);
        if (error_p)
            *error_p = error;
        else
            free (error);
    }
    return self;
}

void
dossiers_template_destroy (dossiers_template_t **self_p)
{
    assert (self_p);
    dossiers_template_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++)
        free (self->segments[index].text);
    free (self->segments);
    free (self);
    *self_p = NULL;
}

char *
dossiers_template_render (const dossiers_template_t *self,
                          dossiers_template_value_fn *value, void *ctx)
{
    assert (self && value);
    char *out = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&out, &size);
    assert (stream);
    for (size_t index = 0; index < self->count; index++) {
        const s_segment_t *segment = &self->segments[index];
        if (!segment->merge) {
            fputs (segment->text, stream);
            continue;
        }
        char buf[256];
        const char *text = value (ctx, segment->text, buf, sizeof buf);
        if (text)
            fputs (text, stream);
    }
    fclose (stream);
    return out;
}

//  --------------------------------------------------------------------------
//  Self-test

static bool
s_test_known (void *ctx, const char *name)
{
    (void) ctx;
    return streq (name, "dossier.number") || streq (name, "form.montant");
}

static const char *
s_test_value (void *ctx, const char *name, char *buf, size_t size)
{
    (void) ctx;
    if (streq (name, "dossier.number"))
        return "2026-000042";
    snprintf (buf, size, "%s", "1 250,00 €");
    return buf;
}

void
dossiers_template_test (bool verbose)
{
    printf (" * dossiers_template: ");
    char *error = NULL;
    dossiers_template_t *template = dossiers_template_parse (
        "Dossier {{dossier.number}} : {{ form.montant }}.{{form.montant}}",
        s_test_known, NULL, &error);
    assert (template && !error);
    char *text = dossiers_template_render (template, s_test_value, NULL);
    assert (streq (text, "Dossier 2026-000042 : 1 250,00 €.1 250,00 €"));
    free (text);
    dossiers_template_destroy (&template);
    assert (!template);
    template = dossiers_template_parse ("", NULL, NULL, NULL);
    text = dossiers_template_render (template, s_test_value, NULL);
    assert (streq (text, ""));
    free (text);
    dossiers_template_destroy (&template);
    const char *bad[][2] = {
        {"a {{dossier.number", "\"{{\" without \"}}\" at character 3"},
        {"{{Dossier}}", "malformed merge field \"{{Dossier}}\""},
        {"{{}}", "malformed merge field \"{{}}\""},
        {"{{form.inconnu}}", "unknown merge field \"{{form.inconnu}}\""}};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        assert (!dossiers_template_parse (bad[index][0], s_test_known, NULL,
                                          &error));
        assert (error && streq (error, bad[index][1]));
        free (error);
        error = NULL;
    }
    if (verbose)
        printf ("(verbose) ");
    printf ("OK\n");
}
