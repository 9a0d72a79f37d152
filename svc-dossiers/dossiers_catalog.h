//  dossiers_catalog - the procedure catalog: every definition file of the
//  catalog folder, checked and loaded at start, and the form validator.
//
//  A procedure (démarche) is data: one JSON file per version, format in
//  dossiers_catalog.c and catalog/README.md. Several versions of a slug may
//  coexist; new dossiers get the highest, a dossier keeps the version it was
//  filed under.
//
//  The loaded definitions are read-only and live as long as the catalog:
//  every pointer below is borrowed from it.
#ifndef DOSSIERS_CATALOG_H_INCLUDED
#define DOSSIERS_CATALOG_H_INCLUDED

#include <jansson.h>

//  Largest form accepted, in bytes of JSON text.
#define DOSSIERS_FORM_MAX 65536

typedef enum {
    DOSSIERS_FIELD_TEXT,      //  one line of text
    DOSSIERS_FIELD_LONGTEXT,  //  several lines
    DOSSIERS_FIELD_EMAIL,     //  an e-mail address
    DOSSIERS_FIELD_PHONE,     //  a French or international phone number
    DOSSIERS_FIELD_DATE,      //  "YYYY-MM-DD", a real calendar date
    DOSSIERS_FIELD_INTEGER,   //  a JSON integer
    DOSSIERS_FIELD_BOOLEAN,   //  true or false
    DOSSIERS_FIELD_CHOICE     //  one of `choices`
} dossiers_field_type_t;

//  One form field. The procedure engine to come (conditions, repeated
//  groups, attachments) adds its members here and reads its new keys from
//  `source`.
typedef struct {
    char *name;                  //  key in the form data
    char *label;                 //  French label for renderers
    dossiers_field_type_t type;  //  value type
    bool required;               //  needed to submit (drafts may lack it)
    int max_length;              //  characters, text-like types (0 = none)
    char **choices;              //  allowed values of a choice field
    size_t nchoices;             //  number of choices
    json_t *source;              //  the field's definition (borrowed)
} dossiers_field_t;

//  One workflow transition. `def` is what clients see (Procedure and
//  Dossier replies); workflow actions (mails, letters, payments) go next to
//  it.
typedef struct {
    Gch__Transition def;  //  name, from, to, label, roles, comment_required
} dossiers_transition_t;

//  One version of a procedure.
typedef struct {
    char *file;                          //  definition file, for messages
    char *slug;                          //  "tranquillite-vacances"
    int version;                         //  >= 1
    char *title;                         //  French title
    char *description;                   //  French description
    char *domain;                        //  "tranquillite-publique"
    char *service;                       //  service in charge
    char *pole;                          //  pôle in charge, NULL if none
    int target_days;                     //  processing-time target
    char **communes;                     //  INSEE codes; none = everywhere
    size_t ncommunes;                    //  number of communes
    dossiers_field_t *fields;            //  form fields, in form order
    size_t nfields;                      //  number of fields
    char *initial;                       //  state of a new dossier (draft)
    char *submitted;                     //  state given by submission
    Gch__StatusDef *states;              //  workflow states
    size_t nstates;                      //  number of states
    dossiers_transition_t *transitions;  //  workflow transitions
    size_t ntransitions;                 //  number of transitions
    Gch__Procedure message;              //  ready-made reply (procedure.*)
    json_t *definition;                  //  the whole parsed file (owned)
} dossiers_procedure_t;

typedef struct _dossiers_catalog_t dossiers_catalog_t;

//  Load every *.json file of dir. Returns NULL if the folder cannot be read
//  or any definition is invalid; then *error_p (caller frees) says which file,
//  where inside it and what is wrong. error_p may be NULL.
dossiers_catalog_t *dossiers_catalog_new (const char *dir, char **error_p);

//  Free the catalog and every definition; nullifies *self_p.
void dossiers_catalog_destroy (dossiers_catalog_t **self_p);

//  Number of definitions loaded (every version of every slug).
size_t dossiers_catalog_size (dossiers_catalog_t *self);

//  The definition of slug at version, or the highest version if version is
//  0. NULL if there is none.
const dossiers_procedure_t *
dossiers_catalog_find (dossiers_catalog_t *self, const char *slug, int version);

//  Fill list with the highest version of every procedure offered in commune
//  (NULL or "" = any commune) whose title or description contains q (NULL
//  or "" = all; case- and accent-insensitive), by slug. list must hold
//  dossiers_catalog_size () entries. Returns how many were written.
size_t dossiers_catalog_search (dossiers_catalog_t *self, const char *q,
                                const char *commune,
                                const dossiers_procedure_t **list);

//  The state named code, or NULL.
const Gch__StatusDef *
dossiers_procedure_state (const dossiers_procedure_t *self, const char *code);

//  French label of state code (the code itself if the state is unknown).
const char *dossiers_procedure_label (const dossiers_procedure_t *self,
                                      const char *code);

//  Check form data (JSON text) against the form. Drafts (complete = false)
//  may lack required fields; a submission (complete = true) may not.
//  Returns STATUS_OK, or the error status after filling reply with it and a
//  French message per failing field ("form.<name>"): STATUS_TOO_LARGE over
//  DOSSIERS_FORM_MAX, STATUS_INVALID if the text is not a JSON object,
//  STATUS_UNPROCESSABLE for field errors. NULL or "" is an empty form.
int dossiers_procedure_check_form (const dossiers_procedure_t *self,
                                   const char *form_json, bool complete,
                                   Gch__Reply *reply);

//  The transition the caller of request may fire from status towards `to`
//  (a target state code or a transition name), or NULL. When NULL, *exists_p
//  says whether such a transition exists from status for other roles.
const dossiers_transition_t *
dossiers_procedure_transition (const dossiers_procedure_t *self,
                               const char *status, const char *to,
                               const Gch__Request *request, bool *exists_p);

//  Fill list with the transitions the caller of request may fire from
//  status (agents only; none for other callers). list must hold
//  self->ntransitions entries. Returns how many were written.
size_t dossiers_procedure_offered (const dossiers_procedure_t *self,
                                   const char *status,
                                   const Gch__Request *request,
                                   Gch__Transition **list);

//  Self-test: the shipped catalog (svc-dossiers/catalog, run from the
//  repository root), broken definitions, form validation.
void dossiers_catalog_test (bool verbose);

#endif
