//  dossiers_catalog - the procedure catalog: the communes of the territory,
//  the organisation (services, pôles), and every procedure definition of
//  the catalog folder, checked and loaded at start.
//
//  A procedure (démarche) is data: one JSON file per version, format in
//  docs/procedures.md, structure in catalog/procedure.schema.json (which the
//  loader enforces with lib/gch_jsonschema), cross-checks here and in
//  dossiers_form. Several versions of a slug coexist; new dossiers get the
//  highest, a dossier keeps the version it was filed under.
//
//  The loaded definitions are read-only and live as long as the catalog:
//  every pointer below is borrowed from it.
#ifndef DOSSIERS_CATALOG_H_INCLUDED
#define DOSSIERS_CATALOG_H_INCLUDED

#include <jansson.h>
#include "dossiers_form.h"
#include "dossiers_template.h"

//  Largest form accepted, in bytes of JSON text.
#define DOSSIERS_FORM_MAX 65536

typedef struct {
    char *insee;       //  "86194"
    char *name;        //  "Poitiers"
    char **postcodes;  //  "86000"
    size_t npostcodes;
    char *pole;  //  territorial pôle covering it, or NULL
} dossiers_commune_t;

typedef enum {
    DOSSIERS_ACTION_EMAIL,
    DOSSIERS_ACTION_DOCUMENT,
    DOSSIERS_ACTION_REQUEST_PIECES,
    DOSSIERS_ACTION_PAYMENT,
    DOSSIERS_ACTION_DEADLINE
} dossiers_action_kind_t;

//  A template of the definition: e-mail (subject, body) or document
//  (title, body).
typedef struct {
    char *name;
    bool email;
    dossiers_template_t *heading;  //  subject or title
    dossiers_template_t *body;
} dossiers_tpl_t;

typedef struct {
    dossiers_action_kind_t kind;
    const dossiers_tpl_t *tpl;  //  email, document
    bool citizen_visible;       //  document
    const char *return_to;      //  request_pieces: state of the answer
    char **fields;              //  request_pieces: editable fields
    size_t nfields;             //    (none = every field)
    dossiers_expr_t *amount;    //  payment, in cents
    const char *iban_field;     //  payment, or NULL
    const char *label;          //  payment, deadline, or NULL
    int days;                   //  deadline
} dossiers_action_t;

//  One workflow transition. `def` is what clients see.
typedef struct {
    Gch__Transition def;
    dossiers_action_t *actions;
    size_t nactions;
    const dossiers_action_t *pieces;  //  its request_pieces action, or NULL
} dossiers_transition_t;

//  A routing rule: dossiers of these communes go to service and/or pole.
typedef struct {
    char **communes;
    size_t ncommunes;
    const char *service;  //  or NULL
    const char *pole;     //  or NULL
} dossiers_rule_t;

//  One version of a procedure.
typedef struct {
    char *file;               //  definition file, for messages
    const char *slug;         //  "tranquillite-vacances"
    int version;              //  >= 1
    const char *title;        //  French title
    const char *description;  //  French description
    const char *domain;       //  competence domain code
    int target_days;          //  processing-time target
    bool everywhere;          //  offered in every commune
    char **communes;          //  else: INSEE codes
    size_t ncommunes;
    const char *commune_field;  //  field giving the commune, or NULL
    const char *service;        //  in charge by default
    const char *pole;           //  idem, NULL, or "territorial"
    dossiers_rule_t *rules;     //  routing by commune
    size_t nrules;
    dossiers_form_t *form;   //  the form model
    const char *initial;     //  state of a new dossier (draft)
    const char *submitted;   //  state given by submission
    Gch__StatusDef *states;  //  workflow states
    bool *awaiting;          //  per state: back with the citizen
    size_t nstates;
    dossiers_transition_t *transitions;  //  workflow transitions
    size_t ntransitions;
    dossiers_transition_t submit;  //  actions run at submission
                                   //  (email, document, deadline)
    dossiers_tpl_t *templates;
    size_t ntemplates;
    Gch__Procedure message;  //  ready-made reply (procedure.*)
    json_t *definition;      //  the whole parsed file (owned)
} dossiers_procedure_t;

typedef struct _dossiers_catalog_t dossiers_catalog_t;

//  Load the catalog folder dir: communes.json, organisation.json,
//  procedure.schema.json and every procedures/*.json. Returns NULL if
//  anything is unreadable or invalid; then *error_p (caller frees) names
//  the file, the place inside it and what is wrong. error_p may be NULL.
dossiers_catalog_t *dossiers_catalog_new (const char *dir, char **error_p);

void dossiers_catalog_destroy (dossiers_catalog_t **self_p);

//  Number of definitions loaded (every version of every slug).
size_t dossiers_catalog_size (dossiers_catalog_t *self);

//  The definition of slug at version, or the highest version if version is
//  0. NULL if there is none.
const dossiers_procedure_t *
dossiers_catalog_find (dossiers_catalog_t *self, const char *slug, int version);

//  Fill list with the highest version of every procedure offered in commune
//  (NULL or "" = any), of domain (NULL or "" = any), whose title,
//  description or keywords contain q (NULL or "" = all; case- and
//  accent-insensitive), by slug. list must hold dossiers_catalog_size ()
//  entries. Returns how many were written.
size_t dossiers_catalog_search (dossiers_catalog_t *self, const char *q,
                                const char *commune, const char *domain,
                                const dossiers_procedure_t **list);

//  The commune of code insee, or NULL.
const dossiers_commune_t *dossiers_catalog_commune (dossiers_catalog_t *self,
                                                    const char *insee);

//  Every commune, by name; *count_p gets how many.
const dossiers_commune_t *dossiers_catalog_communes (dossiers_catalog_t *self,
                                                     size_t *count_p);

//  The state named code, or NULL.
const Gch__StatusDef *
dossiers_procedure_state (const dossiers_procedure_t *self, const char *code);

//  French label of state code (the code itself if the state is unknown).
const char *dossiers_procedure_label (const dossiers_procedure_t *self,
                                      const char *code);

//  True if state code is an awaiting_citizen state.
bool dossiers_procedure_awaiting (const dossiers_procedure_t *self,
                                  const char *code);

//  The template named name, or NULL.
const dossiers_tpl_t *
dossiers_procedure_template (const dossiers_procedure_t *self,
                             const char *name);

//  Check form data (JSON text) against the procedure's form. Drafts
//  (complete = false) may lack required fields; a submission may not.
//  Returns STATUS_OK with *normal_p (caller frees) the normalised form as
//  JSON text (and, if json_p is not NULL, *json_p the same as JSON, a new
//  reference); or the error status after filling reply with it and a French
//  message per failing value (fields "form.<path>"): STATUS_TOO_LARGE over
//  DOSSIERS_FORM_MAX, STATUS_INVALID if the text is not a JSON object,
//  STATUS_UNPROCESSABLE for faults. NULL or "" is an empty form.
int dossiers_procedure_check_form (dossiers_catalog_t *catalog,
                                   const dossiers_procedure_t *self,
                                   const char *form_json, bool complete,
                                   Gch__Reply *reply, char **normal_p,
                                   json_t **json_p);

//  Where a dossier with this (normalised, complete) form goes: its commune
//  (INSEE code, "" if the procedure has no commune field), service and
//  pôle (borrowed). Returns STATUS_OK, or STATUS_UNPROCESSABLE after
//  filling reply when the procedure is not offered in the commune.
int dossiers_procedure_route (dossiers_catalog_t *catalog,
                              const dossiers_procedure_t *self,
                              const json_t *form, const char **commune_p,
                              const char **service_p, const char **pole_p,
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

//  The text of merge field name for a dossier: what templates show
//  (service and pole by their labels, money and dates in French, choices by
//  their labels).
//  form is the dossier's normalised form; the other values are given by
//  the caller (NULL = empty). Writes into buf when it must.
typedef struct {
    dossiers_catalog_t *catalog;
    const dossiers_procedure_t *procedure;
    const json_t *form;
    const char *number, *status_label, *commune, *citizen_name;
    const char *service, *pole, *comment;
    int64_t deadline_ms;
    int64_t submitted_ms;  //  0 = not submitted
} dossiers_merge_t;

const char *dossiers_merge_value (void *merge, const char *name, char *buf,
                                  size_t size);

//  Self-test: the shipped catalog (svc-dossiers/catalog, run from the
//  repository root), broken definitions, routing, merge fields.
void dossiers_catalog_test (bool verbose);

#endif
