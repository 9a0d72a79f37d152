//  notify_consumer - events in, mails recorded, cursors advanced.
//
//  A source that cannot be read or applied is "stalled": the first failure
//  is logged as a warning, the next ones at debug level only (the poll runs
//  every GCH_POLL_MS), and the recovery as a notice.
#include "gch.h"
#include "notify_mail.h"
#include "notify_store.h"
#include "notify_consumer.h"

typedef struct {
    const char *name;      //  service name on the bus, also the cursor's source
    bool stalled;          //  the last poll stopped on a failure
    int failures;          //  polls stopped in a row
    int64_t next_poll_ms;  //  monotonic; a stalled source waits until then
} s_source_t;

struct _notify_consumer_t {
    gch_client_t *client;   //  borrowed
    notify_store_t *store;  //  borrowed
    char *public_url;       //  GCH_PUBLIC_URL
    char *domain;           //  Message-ID domain
    Gch__Caller caller;     //  who we are on the bus: the system
    s_source_t sources[2];  //  accounts, dossiers
};

notify_consumer_t *
notify_consumer_new (gch_client_t *client, notify_store_t *store,
                     const char *public_url, const char *from)
{
    assert (client);
    assert (store);
    assert (public_url);
    assert (from);
    notify_consumer_t *self =
        (notify_consumer_t *) zmalloc (sizeof (notify_consumer_t));
    self->client = client;
    self->store = store;
    self->public_url = strdup (public_url);
    assert (self->public_url);
    char *name = NULL, *address = NULL;
    const char *at = NULL;
    if (notify_mail_parse_from (from, &name, &address) == 0)
        at = strrchr (address, '@');
    self->domain = strdup (at ? at + 1 : "guichet.localhost");
    assert (self->domain);
    free (name);
    free (address);
    Gch__Caller caller = GCH__CALLER__INIT;
    caller.kind = GCH__CALLER_KIND__CALLER_SYSTEM;
    caller.name = (char *) "svc-notify";
    self->caller = caller;
    self->sources[0].name = "accounts";
    self->sources[1].name = "dossiers";
    return self;
}

void
notify_consumer_destroy (notify_consumer_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        notify_consumer_t *self = *self_p;
        free (self->public_url);
        free (self->domain);
        free (self);
        *self_p = NULL;
    }
}

//  Log that source stopped on why; loudly the first time only.
static void
s_stall (s_source_t *source, const char *why)
{
    if (source->stalled)
        gch_debug ("source %s: still waiting: %s", source->name, why);
    else
        zsys_warning ("source %s: events wait: %s", source->name, why);
    source->stalled = true;
}

//  The account of a dossier's citizen, by account.contact. Returns 1 and
//  sets *account_p (caller owns it), 0 if there is no such account, -1 if
//  accounts cannot answer now.
static int
s_contact (notify_consumer_t *self, s_source_t *source, int64_t id,
           Gch__Account **account_p)
{
    Gch__AccountGet get = GCH__ACCOUNT_GET__INIT;
    get.id = id;
    Gch__Reply *reply = gch_client_call (
        self->client, "accounts", "account.contact", &self->caller, NULL, NULL,
        true, &get.base, NOTIFY_CONSUMER_TIMEOUT_MS);
    int rc = -1;
    if (reply->status == GCH__STATUS__STATUS_OK) {
        *account_p = (Gch__Account *) gch_reply_unpack (
            reply, &gch__account__descriptor);
        if (*account_p)
            rc = 1;
        else
            s_stall (source, "account.contact: malformed reply");
    }
    else if (reply->status == GCH__STATUS__STATUS_NOT_FOUND)
        rc = 0;
    else {
        char why[128];
        snprintf (why, sizeof (why), "account.contact: %s",
                  gch_status_code (reply->status));
        s_stall (source, why);
    }
    gch__reply__free_unpacked (reply, NULL);
    return rc;
}

//  The mail event gives, if any. Returns 0 with *mail_p set or NULL (the
//  event gives no mail: skip it), or -1 if it cannot be decided now.
static int
s_mail_for (notify_consumer_t *self, s_source_t *source,
            const Gch__Event *event, notify_mail_t **mail_p)
{
    *mail_p = NULL;
    const ProtobufCBinaryData *payload = &event->payload;
    if (streq (event->type, "account.created")) {
        Gch__AccountCreated *created =
            gch__account_created__unpack (NULL, payload->len, payload->data);
        if (!created) {
            zsys_error ("source %s: event %" PRId64 " %s: malformed payload, "
                        "skipped",
                        source->name, event->seq, event->type);
            return 0;
        }
        *mail_p = notify_mail_account_created (created, self->public_url);
        if (!*mail_p)
            zsys_warning ("source %s: event %" PRId64 " %s: account %" PRId64
                          " has no usable address or token, skipped",
                          source->name, event->seq, event->type,
                          created->account_id);
        gch__account_created__free_unpacked (created, NULL);
        return 0;
    }
    if (streq (event->type, "dossier.message")) {
        Gch__DossierMessage *message =
            gch__dossier_message__unpack (NULL, payload->len, payload->data);
        if (!message) {
            zsys_error ("source %s: event %" PRId64 " %s: malformed payload, "
                        "skipped",
                        source->name, event->seq, event->type);
            return 0;
        }
        Gch__Account *account = NULL;
        int rc = message->citizen_id > 0
                     ? s_contact (self, source, message->citizen_id, &account)
                     : 0;
        if (rc > 0) {
            *mail_p = notify_mail_message (message, account, self->public_url);
            gch__account__free_unpacked (account, NULL);
        }
        if (rc >= 0 && !*mail_p)
            zsys_warning ("source %s: event %" PRId64 " %s: no usable "
                          "address for account %" PRId64 ", skipped",
                          source->name, event->seq, event->type,
                          message->citizen_id);
        gch__dossier_message__free_unpacked (message, NULL);
        return rc < 0 ? -1 : 0;
    }
    bool submitted = streq (event->type, "dossier.submitted");
    if (!submitted && !streq (event->type, "dossier.status_changed")) {
        gch_debug ("source %s: event %" PRId64 " %s: no mail", source->name,
                   event->seq, event->type);
        return 0;
    }
    Gch__DossierEvent *dossier =
        gch__dossier_event__unpack (NULL, payload->len, payload->data);
    if (!dossier) {
        zsys_error ("source %s: event %" PRId64 " %s: malformed payload, "
                    "skipped",
                    source->name, event->seq, event->type);
        return 0;
    }
    int rc = 0;
    if (dossier->citizen_id <= 0)  //  filed for someone with no account
        gch_debug ("source %s: event %" PRId64 " %s: dossier %" PRId64
                   " has no citizen account, no mail",
                   source->name, event->seq, event->type, dossier->dossier_id);
    else {
        Gch__Account *account = NULL;
        rc = s_contact (self, source, dossier->citizen_id, &account);
        if (rc == 0)
            zsys_warning ("source %s: event %" PRId64 " %s: account %" PRId64
                          " not found, skipped",
                          source->name, event->seq, event->type,
                          dossier->citizen_id);
        if (rc > 0) {
            *mail_p = notify_mail_dossier (dossier, submitted, account,
                                           self->public_url);
            if (!*mail_p)
                zsys_warning (
                    "source %s: event %" PRId64 " %s: account %" PRId64
                    " has no usable address, skipped",
                    source->name, event->seq, event->type, dossier->citizen_id);
            gch__account__free_unpacked (account, NULL);
        }
        rc = rc < 0 ? -1 : 0;
    }
    gch__dossier_event__free_unpacked (dossier, NULL);
    return rc;
}

//  Apply one event: its mail and the cursor, in one transaction. Returns 0
//  or -1 (not applied; the source waits).
static int
s_apply (notify_consumer_t *self, s_source_t *source, const Gch__Event *event)
{
    notify_mail_t *mail = NULL;
    if (s_mail_for (self, source, event, &mail) < 0)
        return -1;
    if (mail)
        mail->message_id =
            notify_mail_message_id (source->name, event->seq, event->created_ms,
                                    event->type, self->domain);
    gch_db_status_t status =
        notify_store_record (self->store, source->name, event->seq, mail);
    if (status < 0)
        s_stall (source, "database unavailable");
    else if (status > 0)
        zsys_info ("source %s: event %" PRId64 " %s: mail %s queued",
                   source->name, event->seq, event->type, mail->message_id);
    else if (mail)
        gch_debug ("source %s: event %" PRId64 " %s: mail %s already queued",
                   source->name, event->seq, event->type, mail->message_id);
    notify_mail_destroy (&mail);
    return status < 0 ? -1 : 0;
}

//  Fetch and apply one batch of source. Returns events applied, -1 if the
//  source could not be read; sets *more_p if it has more.
static int
s_poll_source (notify_consumer_t *self, s_source_t *source, bool *more_p)
{
    int64_t cursor = notify_store_cursor (self->store, source->name);
    if (cursor < 0) {
        s_stall (source, "database unavailable");
        return -1;
    }
    Gch__EventsFetch fetch = GCH__EVENTS_FETCH__INIT;
    fetch.after_seq = cursor;
    fetch.limit = NOTIFY_CONSUMER_BATCH;
    Gch__Reply *reply = gch_client_call (
        self->client, source->name, "events.fetch", &self->caller, NULL, NULL,
        true, &fetch.base, NOTIFY_CONSUMER_TIMEOUT_MS);
    Gch__EventsBatch *batch = NULL;
    if (reply->status == GCH__STATUS__STATUS_OK)
        batch = (Gch__EventsBatch *) gch_reply_unpack (
            reply, &gch__events_batch__descriptor);
    if (!batch) {
        char why[128];
        snprintf (why, sizeof (why), "events.fetch: %s",
                  reply->status == GCH__STATUS__STATUS_OK
                      ? "malformed reply"
                      : gch_status_code (reply->status));
        s_stall (source, why);
        gch__reply__free_unpacked (reply, NULL);
        return -1;
    }
    gch__reply__free_unpacked (reply, NULL);

    if (batch->last_seq < cursor) {
        //  The source numbers fewer events than we applied: its database
        //  was replaced. Nothing is applied until an operator decides.
        char why[160];
        snprintf (why, sizeof (why),
                  "the source's last sequence %" PRId64
                  " is below our cursor %" PRId64 " (source reset?)",
                  batch->last_seq, cursor);
        s_stall (source, why);
        gch__events_batch__free_unpacked (batch, NULL);
        return -1;
    }
    int applied = 0;
    bool complete = true;
    for (size_t i = 0; i < batch->n_events; i++) {
        const Gch__Event *event = batch->events[i];
        if (event->seq <= cursor)
            continue;  //  already applied (not expected from events.fetch)
        if (s_apply (self, source, event) < 0) {
            complete = false;
            break;
        }
        cursor = event->seq;
        applied++;
    }
    if (complete && source->stalled) {
        zsys_notice ("source %s: events flow again", source->name);
        source->stalled = false;
    }
    if (complete && cursor < batch->last_seq)
        *more_p = true;
    gch__events_batch__free_unpacked (batch, NULL);
    return applied;
}

int
notify_consumer_poll (notify_consumer_t *self, bool *more_p)
{
    assert (self);
    assert (more_p);
    int applied = 0;
    for (size_t i = 0; i < sizeof (self->sources) / sizeof (self->sources[0]);
         i++) {
        s_source_t *source = &self->sources[i];
        if (gch_mono_ms () < source->next_poll_ms)
            continue;
        int rc = s_poll_source (self, source, more_p);
        if (rc > 0)
            applied += rc;
        //  A call to a service that is down blocks this thread until its
        //  deadline: space out the polls of a stalled source.
        if (source->stalled) {
            int delay = NOTIFY_CONSUMER_STALL_MAX_MS;
            if (source->failures < 5)
                delay = NOTIFY_CONSUMER_STALL_MIN_MS << source->failures;
            if (delay > NOTIFY_CONSUMER_STALL_MAX_MS)
                delay = NOTIFY_CONSUMER_STALL_MAX_MS;
            source->failures++;
            source->next_poll_ms = gch_mono_ms () + delay;
        }
        else
            source->failures = 0;
    }
    return applied;
}
