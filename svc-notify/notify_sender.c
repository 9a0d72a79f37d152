//  notify_sender - SMTP delivery of the mail table with libcurl.
//
//  One easy handle is kept for the life of the sender, so that a burst of
//  mails reuses one SMTP connection. curl_global_init is main's business
//  (it must run before any thread starts).
#include "gch.h"
#include <curl/curl.h>
#include "notify_mail.h"
#include "notify_store.h"
#include "notify_sender.h"

#define S_CONNECT_TIMEOUT_MS 2000L
#define S_TIMEOUT_MS 10000L

struct _notify_sender_t {
    notify_store_t *store;  //  borrowed
    CURL *curl;             //  reused between mails
    char *smtp_url;         //  GCH_SMTP_URL
    char *from_name;        //  display name of GCH_MAIL_FROM, may be ""
    char *from_address;     //  address of GCH_MAIL_FROM
    char *envelope_from;    //  "<address>" for MAIL FROM
    int ceiling_ms;         //  GCH_RETRY_MAX_MS
    int outages;            //  consecutive "server unreachable" failures
    int64_t paused_until;   //  monotonic ms; no attempt before
};

//  What the read callback hands to libcurl.
typedef struct {
    const char *data;  //  the whole message
    size_t size;
    size_t offset;  //  bytes already given
} s_upload_t;

static size_t
s_upload_read (char *buffer, size_t size, size_t count, void *arg)
{
    s_upload_t *upload = (s_upload_t *) arg;
    size_t room = size * count;
    size_t left = upload->size - upload->offset;
    size_t chunk = left < room ? left : room;
    memcpy (buffer, upload->data + upload->offset, chunk);
    upload->offset += chunk;
    return chunk;
}

notify_sender_t *
notify_sender_new (notify_store_t *store, const char *smtp_url,
                   const char *from, int ceiling_ms)
{
    assert (store);
    assert (smtp_url);
    assert (from);
    char *name, *address;
    if (notify_mail_parse_from (from, &name, &address) < 0) {
        zsys_error ("sender: GCH_MAIL_FROM has no usable address");
        return NULL;
    }
    CURL *curl = curl_easy_init ();
    if (!curl) {
        zsys_error ("sender: cannot start libcurl");
        free (name);
        free (address);
        return NULL;
    }
    notify_sender_t *self =
        (notify_sender_t *) zmalloc (sizeof (notify_sender_t));
    self->store = store;
    self->curl = curl;
    self->smtp_url = strdup (smtp_url);
    assert (self->smtp_url);
    self->from_name = name;
    self->from_address = address;
    self->envelope_from = zsys_sprintf ("<%s>", address);
    assert (self->envelope_from);
    self->ceiling_ms = ceiling_ms > 0 ? ceiling_ms : 1;
    return self;
}

void
notify_sender_destroy (notify_sender_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        notify_sender_t *self = *self_p;
        curl_easy_cleanup (self->curl);
        free (self->smtp_url);
        free (self->from_name);
        free (self->from_address);
        zstr_free (&self->envelope_from);
        free (self);
        *self_p = NULL;
    }
}

//  True for failures that say the server, not this mail, is the problem.
static bool
s_server_unreachable (CURLcode code, long response)
{
    return code == CURLE_COULDNT_RESOLVE_HOST ||
           code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT ||
           code == CURLE_LOGIN_DENIED || code == CURLE_SSL_CONNECT_ERROR ||
           code == CURLE_GOT_NOTHING || code == CURLE_WEIRD_SERVER_REPLY ||
           response == 421;
}

//  Send one mail. Returns 0 when the server accepted it; else fills error
//  (libcurl's reason and the SMTP code, never the server's text, which may
//  quote the address) and returns -1, or -2 if the server is unreachable.
static int
s_send (notify_sender_t *self, const notify_mail_t *mail, char *error,
        size_t error_size)
{
    char *message =
        notify_mail_render (mail, self->from_name, self->from_address);
    s_upload_t upload = {message, strlen (message), 0};
    char *envelope_to = zsys_sprintf ("<%s>", mail->recipient);
    struct curl_slist *recipients = curl_slist_append (NULL, envelope_to);
    assert (recipients);

    CURL *curl = self->curl;
    curl_easy_setopt (curl, CURLOPT_URL, self->smtp_url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt (curl, CURLOPT_MAIL_FROM, self->envelope_from);
    curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt (curl, CURLOPT_READFUNCTION, s_upload_read);
    curl_easy_setopt (curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, S_CONNECT_TIMEOUT_MS);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, S_TIMEOUT_MS);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode code = curl_easy_perform (curl);
    long response = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &response);
    //  The handle must not keep pointers to what is freed below.
    curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt (curl, CURLOPT_READDATA, NULL);

    curl_slist_free_all (recipients);
    zstr_free (&envelope_to);
    free (message);
    if (code == CURLE_OK)
        return 0;
    if (response)
        snprintf (error, error_size, "%s (SMTP %ld)", curl_easy_strerror (code),
                  response);
    else
        snprintf (error, error_size, "%s", curl_easy_strerror (code));
    return s_server_unreachable (code, response) ? -2 : -1;
}

//  Record the failed attempt of mail and log it.
static int
s_failed (notify_sender_t *self, const notify_mail_t *mail, const char *error)
{
    int delay = notify_mail_backoff_ms (mail->attempts, self->ceiling_ms,
                                        (uint32_t) random ());
    int attempts = mail->attempts + 1;
    if (attempts >= NOTIFY_MAIL_ALARM_ATTEMPTS)
        zsys_error ("mail %" PRId64 " %s still not sent after %d attempts: "
                    "%s; next attempt in %d ms",
                    mail->id, mail->message_id, attempts, error, delay);
    else
        zsys_warning ("mail %" PRId64 " %s not sent (attempt %d): %s; next "
                      "attempt in %d ms",
                      mail->id, mail->message_id, attempts, error, delay);
    gch_db_status_t status =
        notify_store_failed (self->store, mail->id, delay, error);
    if (status < 0) {
        zsys_error ("mail %" PRId64 " %s: cannot record the failed attempt",
                    mail->id, mail->message_id);
        return -1;
    }
    return 0;
}

int
notify_sender_run (notify_sender_t *self)
{
    assert (self);
    int64_t start = gch_mono_ms ();
    if (start < self->paused_until)
        return 0;
    int tried = 0;
    while (tried < NOTIFY_SENDER_BATCH &&
           gch_mono_ms () - start < NOTIFY_SENDER_BUDGET_MS) {
        notify_mail_t *mail = NULL;
        gch_db_status_t status = notify_store_claim (self->store, &mail);
        if (status == 0)
            break;
        if (status < 0)
            return -1;
        tried++;
        char error[CURL_ERROR_SIZE + 32] = "";
        int rc = s_send (self, mail, error, sizeof (error));
        if (rc == 0) {
            if (self->outages)
                zsys_notice ("sender: SMTP server reachable again");
            self->outages = 0;
            if (notify_store_sent (self->store, mail->id) < 0) {
                //  It stays pending: it will go again, same Message-ID.
                zsys_error ("mail %" PRId64 " %s sent but not recorded as "
                            "such; it will be sent again",
                            mail->id, mail->message_id);
                notify_mail_destroy (&mail);
                return -1;
            }
            zsys_info ("mail %" PRId64 " %s sent (attempt %d)", mail->id,
                       mail->message_id, mail->attempts + 1);
            notify_mail_destroy (&mail);
            continue;
        }
        int recorded = s_failed (self, mail, error);
        notify_mail_destroy (&mail);
        if (recorded < 0)
            return -1;
        if (rc == -2) {
            //  Every other mail would fail the same way: pause them all.
            int pause = notify_mail_backoff_ms (self->outages, self->ceiling_ms,
                                                (uint32_t) random ());
            if (self->outages == 0)
                zsys_warning ("sender: SMTP server out of reach (%s); sending "
                              "paused, for longer each time it stays so",
                              error);
            gch_debug ("sender: sending paused for %d ms", pause);
            self->outages++;
            self->paused_until = gch_mono_ms () + pause;
            break;
        }
    }
    return tried;
}
