//  dossiers_template - the e-mail and document templates of procedures:
//  text with merge fields "{{dossier.number}}", checked at load, rendered
//  when a transition runs its actions.
#ifndef DOSSIERS_TEMPLATE_H_INCLUDED
#define DOSSIERS_TEMPLATE_H_INCLUDED

typedef struct _dossiers_template_t dossiers_template_t;

//  True if name is a merge field the template may use.
typedef bool (dossiers_template_known_fn) (void *ctx, const char *name);

//  The text of merge field name, or NULL for none (rendered empty). May
//  write into buf (size bytes) and return it.
typedef const char *(dossiers_template_value_fn) (void *ctx, const char *name,
                                                  char *buf, size_t size);

//  Parse text. Returns NULL and sets *error_p (caller frees) if a "{{" is
//  not closed, a name is malformed, or known says no.
dossiers_template_t *dossiers_template_parse (const char *text,
                                              dossiers_template_known_fn *known,
                                              void *ctx, char **error_p);

void dossiers_template_destroy (dossiers_template_t **self_p);

//  The text with every merge field replaced (caller frees).
char *dossiers_template_render (const dossiers_template_t *self,
                                dossiers_template_value_fn *value, void *ctx);

void dossiers_template_test (bool verbose);

#endif
