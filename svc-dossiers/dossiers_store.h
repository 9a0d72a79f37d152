//  dossiers_store - every SQL statement of svc-dossiers, on one connection.
//
//  Statements are prepared once from the table at the top of
//  dossiers_store.c. Each function owns its transaction (history entry,
//  idempotency key and outbox event included) and returns a
//  gch_db_status_t: n > 0 done, 0 no such row, GCH_DB_CONFLICT as stated
//  per function, GCH_DB_SOFT (write transactions are retried here first),
//  GCH_DB_HARD.
//  Handlers never see SQL or a PGresult.
#ifndef DOSSIERS_STORE_H_INCLUDED
#define DOSSIERS_STORE_H_INCLUDED

typedef struct _dossiers_store_t dossiers_store_t;

//  The name of dossiers in the read cache: "cache:dossier:<id>" (the
//  gateway's route table uses the same).
#define DOSSIERS_CACHE "dossier"

//  Who makes a change (history entries, idempotency keys).
typedef struct {
    const char *kind;  //  "citizen", "agent" or "system"
    int64_t id;        //  account id, 0 for system
    const char *name;  //  display name at the time
} dossiers_actor_t;

//  A dossier as read or written. Every string is owned by the record.
typedef struct {
    int64_t id;                       //  0 = none
    char *number;                     //  "2026-000123", "" until submitted
    char *procedure;                  //  procedure slug
    int version;                      //  procedure version filed under
    char *service;                    //  service in charge
    int64_t citizen_id;               //  owner
    char *status;                     //  workflow state code
    char *form_json;                  //  form data, "" in lists
    int64_t created_ms;               //  ms since the epoch
    int64_t submitted_ms;             //  0 until submitted
    int64_t updated_ms;               //  last change
    int64_t revision;                 //  1, then + 1 by every change
    char *commune;                    //  INSEE code, "" if none
    char *pole;                       //  pôle in charge, "" if none
    int64_t deadline_ms;              //  0 = none
    char *deadline_label;             //  "" if none
    char *return_to;                  //  awaiting the citizen: state of the
                                      //  answer, else ""
    char *editable;                   //  awaiting: "a,b" fields, "" = all
    int64_t payment_cents;            //  payments started
    Gch__DossierDocument *documents;  //  dossiers_store_get only
    size_t ndocuments;
    Gch__HistoryEntry *history;  //  dossiers_store_get only, by seq
    size_t nhistory;             //  number of history entries
    bool replayed;               //  the idempotency key was already used:
                                 //  this is the dossier of the first call
} dossiers_dossier_t;

//  A page of dossiers (lists and queues).
typedef struct {
    dossiers_dossier_t *items;  //  owned
    size_t count;               //  number of items
} dossiers_list_t;

//  A new dossier (dossier.create).
//  What the actions of a transition do, rendered before the transaction.
typedef struct {
    const char *title;
    const char *body;
    bool citizen_visible;
} dossiers_doc_t;

typedef struct {
    dossiers_doc_t *documents;  //  documents to keep
    size_t ndocuments;
    const char **subjects;  //  e-mails to the citizen
    const char **bodies;
    size_t nmessages;
    int64_t payment_cents;  //  0 = no payment
    const char *payment_iban;
    const char *payment_label;
    int deadline_days;  //  0 = no deadline
    const char *deadline_label;
    const char *return_to;  //  pieces requested: state of the answer
    const char *editable;   //  "a,b", "" = every field
} dossiers_effects_t;

//  Renders the effects of the actions run at submission, once the
//  dossier (its number) is known, inside the transaction. The result is
//  owned by ctx; NULL = nothing to do.
typedef const dossiers_effects_t *(
    dossiers_render_fn) (void *ctx, const dossiers_dossier_t *dossier);

typedef struct {
    const char *procedure;        //  slug
    int version;                  //  version filed under
    const char *procedure_title;  //  for the event
    const char *service;          //  service in charge
    const char *commune;          //  routing result, or NULL
    const char *pole;             //  idem
    int64_t citizen_id;           //  owner
    const char *form_json;        //  checked form data
    const char *draft_status;     //  initial state (draft)
    const char *submit_status;    //  submitted state, NULL to keep a draft
    const char *submit_label;     //  its label, for the event
    dossiers_actor_t actor;       //  who files
    const char *caller_key;       //  "<kind>:<id>" of the caller
    const char *idempotency_key;  //  "" or NULL = none
    dossiers_render_fn *render;   //  submission's actions, or NULL
    void *render_ctx;
} dossiers_filing_t;

//  A status change of an existing dossier (dossier.submit, transition).
typedef enum {
    DOSSIERS_CHANGE_SUBMIT,      //  draft -> submitted (form_json, routing)
    DOSSIERS_CHANGE_TRANSITION,  //  an agent's transition (effects)
    DOSSIERS_CHANGE_ANSWER       //  the citizen's answer to a pieces request
} dossiers_change_kind_t;

typedef struct {
    int64_t id;                   //  dossier
    const char *from_status;      //  status it must still have
    const char *to_status;        //  new status
    const char *to_label;         //  its label, for the event
    bool terminal;                //  the new status closes the dossier
    const char *comment;          //  "" or NULL = none
    const char *form_json;        //  submission: the checked form, else NULL
    const char *procedure_title;  //  for the event
    dossiers_actor_t actor;       //  who acts
    const char *caller_key;       //  "<kind>:<id>" of the caller
    const char *idempotency_key;  //  "" or NULL = none
    const char *service;          //  submission: routing result
    const char *commune;
    const char *pole;
    const char *transition;             //  transition name, for events
    const dossiers_effects_t *effects;  //  transition: actions, or NULL
    dossiers_render_fn *render;         //  submission: its actions, or NULL
    void *render_ctx;
} dossiers_change_t;

//  Connect and prepare. Returns NULL (logged) if the server is unreachable.
dossiers_store_t *dossiers_store_new (const char *conninfo);

//  Close and free; nullifies *self_p.
void dossiers_store_destroy (dossiers_store_t **self_p);

//  The connection, borrowed (for the service loop's health answer).
gch_db_t *dossiers_store_db (dossiers_store_t *self);

//  Invalidate cache (borrowed; NULL = none) after every committed change.
void dossiers_store_set_cache (dossiers_store_t *self, gch_cache_t *cache);

//  Create a dossier, submitted at once if filing->submit_status is set: the
//  number from the year's counter, a history entry and a dossier.submitted
//  event, in one transaction. Fills *dossier (with replayed set if the
//  idempotency key was already used by this caller: nothing was done).
//  Returns 1, or < 0.
gch_db_status_t dossiers_store_create (dossiers_store_t *self,
                                       const dossiers_filing_t *filing,
                                       dossiers_dossier_t *dossier);

//  Read a dossier without history. If caller_key and idempotency_key are
//  given, dossier->replayed says whether this caller already used the key
//  on this dossier. Returns 1, 0 if there is no such dossier, or < 0.
gch_db_status_t dossiers_store_load (dossiers_store_t *self, int64_t id,
                                     const char *caller_key,
                                     const char *idempotency_key,
                                     dossiers_dossier_t *dossier);

//  Read a dossier with its history. Returns 1, 0 if none, or < 0.
//  One dossier with its history and documents (all documents if agent,
//  else the citizen-visible ones).
gch_db_status_t dossiers_store_get (dossiers_store_t *self, int64_t id,
                                    bool agent, dossiers_dossier_t *dossier);

//  Replace the form of a dossier that is still in draft_status and was
//  never submitted. Returns 1, GCH_DB_CONFLICT if no such draft has that id
//  (the caller has loaded it: it was submitted meanwhile), or < 0.
gch_db_status_t dossiers_store_update (dossiers_store_t *self, int64_t id,
                                       const char *draft_status,
                                       const char *form_json,
                                       dossiers_dossier_t *dossier);

//  Submit a draft (change->form_json set): number, status, form, history
//  entry, dossier.submitted event, idempotency key, in one transaction.
//  Returns 1 (dossier->replayed if the key was already used), 0 if none,
//  GCH_DB_CONFLICT if the dossier is no longer in change->from_status, or < 0.
gch_db_status_t dossiers_store_submit (dossiers_store_t *self,
                                       const dossiers_change_t *change,
                                       dossiers_dossier_t *dossier);

//  Move a dossier from change->from_status to change->to_status: status,
//  history entry, dossier.status_changed event, idempotency key, in one
//  transaction. Same results as dossiers_store_submit.
gch_db_status_t dossiers_store_transition (dossiers_store_t *self,
                                           const dossiers_change_t *change,
                                           dossiers_dossier_t *dossier);

//  A citizen's dossiers, newest first, ids below before_id (0 = from the
//  newest), at most limit, without form data. Returns the count or < 0.
//  The name the citizen gave when filing dossier id (first history
//  entry), "" if none or on error. Caller frees.
char *dossiers_store_citizen_name (dossiers_store_t *self, int64_t id);

//  The citizen answers a pieces request: form and status change together.
gch_db_status_t dossiers_store_answer (dossiers_store_t *self,
                                       const dossiers_change_t *change,
                                       dossiers_dossier_t *dossier);

gch_db_status_t dossiers_store_list_mine (dossiers_store_t *self,
                                          int64_t citizen_id, int64_t before_id,
                                          int limit, dossiers_list_t *list);

//  Submitted dossiers of the given services, newest first: those in status
//  if status is not empty, else every open one (not in a terminal state).
//  Returns the count or < 0.
//  Submitted dossiers of services, within the communes listed (none =
//  all; dossiers without a commune always), newest first.
gch_db_status_t dossiers_store_queue (dossiers_store_t *self,
                                      char *const *services, size_t nservices,
                                      char *const *communes, size_t ncommunes,
                                      const char *status, int64_t before_id,
                                      int limit, dossiers_list_t *list);

//  Hash of a history entry chained to the previous entry's hash (""
//  for the first): hex sha256 of prev_hash followed by the entry's
//  canonical text, each field as "<byte length>:<bytes>;" in the order
//  dossier_id, seq, at_ms, actor_kind, actor_id, actor_name, from_status,
//  to_status, comment. out holds 65 characters.
void dossiers_store_history_hash (const char *prev_hash, int64_t dossier_id,
                                  const Gch__HistoryEntry *entry,
                                  int64_t actor_id, char *out);

//  Free the strings of a record and zero it.
void dossiers_dossier_clear (dossiers_dossier_t *dossier);

//  Free the items of a list and zero it.
void dossiers_list_clear (dossiers_list_t *list);

//  Self-test of what needs no database (hashes, array literals).
void dossiers_store_test (bool verbose);

#endif
