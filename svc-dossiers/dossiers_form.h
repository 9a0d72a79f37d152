//  dossiers_form - the form of a procedure: its model, read from the
//  definition (pages, typed fields, conditions, repeated groups, computed
//  values), and the server-side check of form data against it.
//
//  docs/procedures.md is the reference of what a form may say; this module
//  implements it. The model is built once at load (dossiers_form_parse,
//  after the JSON Schema has checked the structure), with the cross-checks
//  a schema cannot make: names in scope and earlier in the form, types of
//  the fields an expression reads, bounds of the right kind, patterns that
//  compile. The check (dossiers_form_check) then runs for every draft save
//  and every submission: each failing value gets its own French message,
//  hidden fields are dropped, values are normalised, computed values set.
#ifndef DOSSIERS_FORM_H_INCLUDED
#define DOSSIERS_FORM_H_INCLUDED

#include <jansson.h>
#include <regex.h>

typedef enum {
    DOSSIERS_TYPE_TEXT,
    DOSSIERS_TYPE_LONGTEXT,
    DOSSIERS_TYPE_EMAIL,
    DOSSIERS_TYPE_PHONE,
    DOSSIERS_TYPE_INTEGER,
    DOSSIERS_TYPE_DECIMAL,
    DOSSIERS_TYPE_MONEY,
    DOSSIERS_TYPE_DATE,
    DOSSIERS_TYPE_BOOLEAN,
    DOSSIERS_TYPE_CHOICE,
    DOSSIERS_TYPE_MULTICHOICE,
    DOSSIERS_TYPE_ADDRESS,
    DOSSIERS_TYPE_PLATE,
    DOSSIERS_TYPE_IBAN,
    DOSSIERS_TYPE_SIRET,
    DOSSIERS_TYPE_INSEE,
    DOSSIERS_TYPE_FILE,
    DOSSIERS_TYPE_GROUP,
} dossiers_type_t;

typedef struct _dossiers_cond_t dossiers_cond_t;
typedef struct _dossiers_expr_t dossiers_expr_t;
typedef struct _dossiers_field_t dossiers_field_t;

struct _dossiers_field_t {
    char *name;                    //  key in the form data
    char *label;                   //  French label
    dossiers_type_t type;          //  value type
    bool required;                 //  needed to submit
    dossiers_cond_t *required_if;  //  or needed when this holds, or NULL
    dossiers_cond_t *visible_if;   //  exists only when this holds, or NULL
    bool has_min, has_max;         //  numeric bounds (money: cents; counts)
    double min, max;
    char *date_min, *date_max;   //  date bounds as written, or NULL
    int min_length, max_length;  //  characters (0 = no bound)
    regex_t *pattern;            //  whole value must match, or NULL
    char *pattern_message;       //  French message when it does not
    char **choices;              //  choice values
    char **choice_labels;        //  their labels
    size_t nchoices;
    char **accept;  //  file: MIME types
    size_t naccept;
    int64_t max_size;          //  file: bytes per file
    int max_files;             //  file: how many (1 = one object)
    dossiers_field_t *fields;  //  group: the fields of an item
    size_t nfields;
    int min_items, max_items;   //  group: item count bounds
    dossiers_expr_t *computed;  //  value computed by the server, or NULL
    dossiers_field_t *group;    //  the group holding this field, or NULL
    size_t index;               //  position among its siblings
    int page;                   //  page of a top-level field
};

typedef struct {
    char *name;                   //  page name
    char *title;                  //  French title
    dossiers_cond_t *visible_if;  //  page shown only when this holds
    size_t first;                 //  its fields: form->fields[first..]
    size_t count;
} dossiers_page_t;

typedef struct {
    dossiers_page_t *pages;
    size_t npages;
    dossiers_field_t *fields;  //  every top-level field, in form order
    size_t nfields;
} dossiers_form_t;

//  Reports a fault of the definition at path (JSON path inside the file).
typedef void (dossiers_form_fail_fn) (void *ctx, const char *path,
                                      const char *message);

//  Reports a fault of form data: path is "form.<name>", "form.<group>[i].
//  <name>"; message is French, for the citizen.
typedef void (dossiers_form_error_fn) (void *ctx, const char *path,
                                       const char *message);

//  What a check needs from the world.
typedef struct {
    //  True if insee is a commune of the territory (and postcode, if not
    //  NULL, one of its postcodes).
    bool (*commune_known) (void *ctx, const char *insee, const char *postcode);
    void *ctx;
    const char *today;  //  "YYYY-MM-DD", Paris time; NULL = now
} dossiers_form_env_t;

//  Build the model of form (the "form" object of a definition, at path).
//  Returns NULL after calling fail once with the first fault.
dossiers_form_t *dossiers_form_parse (json_t *form, const char *path,
                                      dossiers_form_fail_fn *fail, void *ctx);

void dossiers_form_destroy (dossiers_form_t **self_p);

//  The top-level field name, or NULL.
const dossiers_field_t *dossiers_form_field (const dossiers_form_t *self,
                                             const char *name);

//  Check data (a JSON object; borrowed) against the form. complete: the
//  rules of a submission (required fields); else a draft, which may be
//  incomplete. Returns the normalised data (new reference: hidden fields
//  dropped, values normalised, computed values set), or NULL after
//  calling error once per fault (at least once).
json_t *dossiers_form_check (const dossiers_form_t *self, const json_t *data,
                             bool complete, const dossiers_form_env_t *env,
                             dossiers_form_error_fn *error, void *ctx);

//  Evaluate expression expr, parsed from JSON at path by
//  dossiers_form_expr_parse, on normalised data.
double dossiers_form_eval (const dossiers_expr_t *expr, const json_t *data);

//  Parse an expression outside a field (e.g. a payment amount) whose names
//  are the top-level fields of self. NULL after calling fail.
dossiers_expr_t *dossiers_form_expr_parse (const dossiers_form_t *self,
                                           json_t *json, const char *path,
                                           dossiers_form_fail_fn *fail,
                                           void *ctx);

void dossiers_form_expr_destroy (dossiers_expr_t **self_p);

//  The field type named name ("text"...), or -1.
int dossiers_form_type (const char *name);

//  Self-test: parsing faults, every field type, conditions, groups,
//  computed values.
void dossiers_form_test (bool verbose);

#endif
