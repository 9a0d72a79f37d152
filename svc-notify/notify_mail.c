//  notify_mail - the mails of svc-notify and their RFC 5322 form; no I/O.
//
//  Texts are French, plain text, UTF-8. Everything that comes from another
//  service (names, labels, comments) is reduced to what a plain-text mail
//  can carry: no control character in a header, bare LF line endings in the
//  stored body, CRLF and at most 998 octets per line once rendered. Header
//  values that are not short printable ASCII become RFC 2047 encoded-words,
//  split on UTF-8 character boundaries, lines kept within 76 columns.
#include "gch.h"
#include "notify_mail.h"

//  Lines of a rendered message: RFC 5322 section 2.1.1.
#define S_LINE_MAX 998
//  Header lines holding encoded-words: RFC 2047 section 2.
#define S_HEADER_LINE_MAX 76
//  "=?UTF-8?B?" + "?="
#define S_WORD_OVERHEAD 12
#define S_DEFAULT_NAME_CHARS "!#$%&'*+-/=?^_`{|}~ "

static const char *s_signature =
    "-- \n"
    "Guichet - message envoyé automatiquement, merci de ne pas y répondre.\n";

//  --------------------------------------------------------------------------
//  A string stream; s_stream_end returns the text (caller owns it).

typedef struct {
    FILE *file;   //  open_memstream handle
    char *data;   //  filled by the stream
    size_t size;  //  filled by the stream
} s_stream_t;

static void
s_stream_begin (s_stream_t *self)
{
    self->data = NULL;
    self->size = 0;
    self->file = open_memstream (&self->data, &self->size);
    assert (self->file);  //  out of memory
}

static char *
s_stream_end (s_stream_t *self)
{
    int rc = fclose (self->file);
    assert (rc == 0);
    self->file = NULL;
    return self->data;
}

//  --------------------------------------------------------------------------
//  Copy of text on one line: control characters become spaces, outer spaces
//  trimmed. NULL gives "". Caller owns the result.

static char *
s_one_line (const char *text)
{
    if (!text)
        text = "";
    while (*text && (*text == ' ' || (unsigned char) *text < 0x20))
        text++;
    char *copy = strdup (text);
    assert (copy);
    for (char *c = copy; *c; c++)
        if ((unsigned char) *c < 0x20 || *c == 0x7f)
            *c = ' ';
    size_t size = strlen (copy);
    while (size && copy[size - 1] == ' ')
        copy[--size] = '\0';
    return copy;
}

//  Write text to out, as body text: CR dropped, control characters other
//  than LF and TAB dropped.
static void
s_put_text (FILE *out, const char *text)
{
    for (; text && *text; text++) {
        unsigned char c = (unsigned char) *text;
        if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
            fputc (c, out);
    }
}

//  Base URL without its trailing slashes, written to out.
static void
s_put_base_url (FILE *out, const char *url)
{
    size_t size = strlen (url);
    while (size && url[size - 1] == '/')
        size--;
    fwrite (url, 1, size, out);
}

//  Percent-encode what is not an RFC 3986 unreserved character.
static void
s_put_url_escaped (FILE *out, const char *text)
{
    for (; *text; text++) {
        unsigned char c = (unsigned char) *text;
        if (isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~')
            fputc (c, out);
        else
            fprintf (out, "%%%02X", c);
    }
}

static void
s_put_greeting (FILE *out, const char *display_name)
{
    char *name = s_one_line (display_name);
    if (*name)
        fprintf (out, "Bonjour %s,\n\n", name);
    else
        fputs ("Bonjour,\n\n", out);
    free (name);
}

//  --------------------------------------------------------------------------
//  Base64 (RFC 4648) of size bytes.

static void
s_put_base64 (FILE *out, const unsigned char *data, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < size; i += 3) {
        uint32_t group = (uint32_t) data[i] << 16;
        if (i + 1 < size)
            group |= (uint32_t) data[i + 1] << 8;
        if (i + 2 < size)
            group |= data[i + 2];
        fputc (alphabet[(group >> 18) & 63], out);
        fputc (alphabet[(group >> 12) & 63], out);
        fputc (i + 1 < size ? alphabet[(group >> 6) & 63] : '=', out);
        fputc (i + 2 < size ? alphabet[group & 63] : '=', out);
    }
}

//  Write value as encoded-words, folding lines; `used` columns are already
//  taken on the current line. Returns the columns used on the last line.
static size_t
s_put_encoded_words (FILE *out, const char *value, size_t used)
{
    const unsigned char *data = (const unsigned char *) value;
    size_t left = strlen (value);
    do {
        assert (used + S_WORD_OVERHEAD + 8 <= S_HEADER_LINE_MAX);
        size_t room = S_HEADER_LINE_MAX - used - S_WORD_OVERHEAD;
        size_t take = room / 4 * 3;
        if (take >= left)
            take = left;
        else  //  never split a UTF-8 sequence between two words
            while (take > 0 && (data[take] & 0xC0) == 0x80)
                take--;
        assert (take > 0 || left == 0);
        fputs ("=?UTF-8?B?", out);
        s_put_base64 (out, data, take);
        fputs ("?=", out);
        used += S_WORD_OVERHEAD + (take + 2) / 3 * 4;
        data += take;
        left -= take;
        if (left) {
            fputs ("\r\n ", out);
            used = 1;
        }
    } while (left);
    return used;
}

//  True if value can be written as is after `used` columns: printable
//  ASCII (and only `extra` punctuation when extra is given), nothing that
//  reads like an encoded-word, short enough for one line.
static bool
s_plain_enough (const char *value, size_t used, const char *extra)
{
    if (strstr (value, "=?") || used + strlen (value) > S_HEADER_LINE_MAX)
        return false;
    for (const char *c = value; *c; c++) {
        unsigned char u = (unsigned char) *c;
        if (u < 0x20 || u > 0x7e)
            return false;
        if (extra && !isalnum (u) && !strchr (extra, u))
            return false;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  The mail record

notify_mail_t *
notify_mail_new (void)
{
    notify_mail_t *self = (notify_mail_t *) zmalloc (sizeof (notify_mail_t));
    return self;
}

void
notify_mail_destroy (notify_mail_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        notify_mail_t *self = *self_p;
        free (self->message_id);
        free (self->recipient);
        free (self->subject);
        free (self->body);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Mails made from events

notify_mail_t *
notify_mail_account_created (const Gch__AccountCreated *event,
                             const char *public_url)
{
    assert (event);
    assert (public_url);
    char *recipient = gch_email_normalize (event->email);
    if (!recipient || !event->verify_token || !*event->verify_token) {
        free (recipient);
        return NULL;
    }
    notify_mail_t *self = notify_mail_new ();
    self->recipient = recipient;
    self->subject = strdup ("Vérifiez votre adresse e-mail — Guichet");
    assert (self->subject);

    s_stream_t body;
    s_stream_begin (&body);
    s_put_greeting (body.file, event->display_name);
    fputs ("Un compte vient d'être créé sur Guichet avec cette adresse "
           "e-mail.\n"
           "Pour la confirmer, ouvrez le lien suivant :\n\n",
           body.file);
    s_put_base_url (body.file, public_url);
    fputs ("/api/v1/accounts/verify?token=", body.file);
    s_put_url_escaped (body.file, event->verify_token);
    fputs ("\n\n"
           "Ce lien ne peut servir qu'une fois. Si vous n'avez pas créé de "
           "compte,\n"
           "ignorez simplement ce message.\n\n",
           body.file);
    fputs (s_signature, body.file);
    self->body = s_stream_end (&body);
    return self;
}

notify_mail_t *
notify_mail_dossier (const Gch__DossierEvent *event, bool submitted,
                     const Gch__Account *account, const char *public_url)
{
    assert (event);
    assert (account);
    assert (public_url);
    char *recipient = gch_email_normalize (account->email);
    if (!recipient)
        return NULL;
    notify_mail_t *self = notify_mail_new ();
    self->recipient = recipient;

    //  Number and label as the citizen knows them, with fallbacks so that a
    //  sparse event still gives a readable mail.
    char *number = s_one_line (event->number);
    if (!*number) {
        free (number);
        number = zsys_sprintf ("%" PRId64, event->dossier_id);
    }
    char *label =
        s_one_line (*event->to_label ? event->to_label : event->to_status);
    char *title = s_one_line (event->procedure_title);

    s_stream_t subject;
    s_stream_begin (&subject);
    fprintf (subject.file, "Votre dossier %s : %s", number, label);
    self->subject = s_stream_end (&subject);

    s_stream_t body;
    s_stream_begin (&body);
    s_put_greeting (body.file, account->display_name);
    if (submitted)
        fprintf (body.file, "Votre dossier n° %s", number);
    else
        fprintf (body.file, "Le statut de votre dossier n° %s", number);
    if (*title)
        fprintf (body.file, " « %s »", title);
    fputs (submitted ? " a bien été déposé.\n\n" : " a changé.\n\n", body.file);
    fprintf (body.file, "%s : %s\n\n", submitted ? "Statut" : "Nouveau statut",
             label);
    if (event->comment && *event->comment) {
        fputs ("Commentaire :\n", body.file);
        s_put_text (body.file, event->comment);
        fputs ("\n\n", body.file);
    }
    fputs ("Vous pouvez suivre votre dossier sur Guichet :\n", body.file);
    s_put_base_url (body.file, public_url);
    fputs ("/\n\n", body.file);
    fputs (s_signature, body.file);
    self->body = s_stream_end (&body);

    free (number);
    free (label);
    free (title);
    return self;
}

notify_mail_t *
notify_mail_message (const Gch__DossierMessage *event,
                     const Gch__Account *account, const char *public_url)
{
    assert (event && account && public_url);
    char *recipient = gch_email_normalize (account->email);
    if (!recipient)
        return NULL;
    notify_mail_t *self = notify_mail_new ();
    self->recipient = recipient;
    char *subject = s_one_line (event->subject);
    if (!*subject) {
        free (subject);
        subject = zsys_sprintf ("Votre dossier %s", event->number);
    }
    self->subject = subject;
    s_stream_t body;
    s_stream_begin (&body);
    s_put_text (body.file, event->body);
    fputs ("\n\nVous pouvez suivre votre dossier sur Guichet :\n", body.file);
    s_put_base_url (body.file, public_url);
    fputs ("/\n\n", body.file);
    fputs (s_signature, body.file);
    self->body = s_stream_end (&body);
    return self;
}

//  --------------------------------------------------------------------------
//  Message-ID and From

//  Write text keeping [A-Za-z0-9._-] (and '.' and '-' only when domain).
static void
s_put_id_part (FILE *out, const char *text, bool domain)
{
    for (; *text; text++) {
        unsigned char c = (unsigned char) *text;
        bool keep =
            isalnum (c) || c == '.' || c == '-' || (!domain && c == '_');
        fputc (keep ? c : '-', out);
    }
}

char *
notify_mail_message_id (const char *source, int64_t seq, int64_t created_ms,
                        const char *type, const char *domain)
{
    assert (source);
    assert (type);
    if (!domain || !*domain)
        domain = "guichet.localhost";
    s_stream_t id;
    s_stream_begin (&id);
    fputc ('<', id.file);
    s_put_id_part (id.file, source, false);
    fprintf (id.file, ".%" PRId64 ".%" PRId64 ".", seq, created_ms);
    s_put_id_part (id.file, type, false);
    fputc ('@', id.file);
    s_put_id_part (id.file, domain, true);
    fputc ('>', id.file);
    return s_stream_end (&id);
}

int
notify_mail_parse_from (const char *from, char **name_p, char **address_p)
{
    assert (from);
    assert (name_p);
    assert (address_p);
    *name_p = NULL;
    *address_p = NULL;
    char *name = NULL;
    char *address = NULL;
    const char *open = strrchr (from, '<');
    if (open) {
        const char *close = strchr (open, '>');
        if (!close || close[1 + strspn (close + 1, " \t")] != '\0')
            return -1;
        char *inside = strndup (open + 1, (size_t) (close - open - 1));
        assert (inside);
        address = gch_email_normalize (inside);
        free (inside);
    }
    else
        address = gch_email_normalize (from);
    if (!address)
        return -1;
    if (open) {
        char *raw = strndup (from, (size_t) (open - from));
        assert (raw);
        name = s_one_line (raw);
        free (raw);
        size_t size = strlen (name);
        if (size >= 2 && name[0] == '"' && name[size - 1] == '"') {
            memmove (name, name + 1, size - 2);
            name[size - 2] = '\0';
        }
    }
    else
        name = strdup ("");
    assert (name);
    *name_p = name;
    *address_p = address;
    return 0;
}

//  --------------------------------------------------------------------------
//  Rendering

char *
notify_mail_header (const char *name, const char *value)
{
    assert (name);
    assert (value);
    s_stream_t header;
    s_stream_begin (&header);
    fprintf (header.file, "%s: ", name);
    size_t used = strlen (name) + 2;
    if (s_plain_enough (value, used, NULL))
        fputs (value, header.file);
    else
        s_put_encoded_words (header.file, value, used);
    fputs ("\r\n", header.file);
    return s_stream_end (&header);
}

void
notify_mail_date (int64_t ms, char *buf, size_t size)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed",
                                 "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    assert (buf && size >= 32);
    time_t seconds = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    snprintf (buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
              days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
              tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

//  One body line, split into lines of at most S_LINE_MAX octets on UTF-8
//  character boundaries, each ended by CRLF.
static void
s_put_body_line (FILE *out, const char *line, size_t size)
{
    const unsigned char *data = (const unsigned char *) line;
    do {
        size_t take = size;
        if (take > S_LINE_MAX) {
            take = S_LINE_MAX;
            while (take > 1 && (data[take] & 0xC0) == 0x80)
                take--;
        }
        fwrite (data, 1, take, out);
        fputs ("\r\n", out);
        data += take;
        size -= take;
    } while (size);
}

char *
notify_mail_render (const notify_mail_t *self, const char *from_name,
                    const char *from_address)
{
    assert (self);
    assert (self->recipient && self->subject && self->body);
    assert (self->message_id);
    assert (from_name && from_address);
    s_stream_t message;
    s_stream_begin (&message);
    FILE *out = message.file;

    //  From: the display name as atoms if it can be, else encoded-words,
    //  then the address, folded onto its own line when it would not fit.
    fputs ("From: ", out);
    size_t used = strlen ("From: ");
    if (*from_name) {
        if (s_plain_enough (from_name, used, S_DEFAULT_NAME_CHARS)) {
            fputs (from_name, out);
            used += strlen (from_name);
        }
        else
            used = s_put_encoded_words (out, from_name, used);
        if (used + 3 + strlen (from_address) > S_HEADER_LINE_MAX)
            fputs ("\r\n", out);
        fprintf (out, " <%s>\r\n", from_address);
    }
    else
        fprintf (out, "%s\r\n", from_address);

    fprintf (out, "To: %s\r\n", self->recipient);
    char *subject = s_one_line (self->subject);
    char *header = notify_mail_header ("Subject", subject);
    fputs (header, out);
    free (header);
    free (subject);
    char date[64];
    notify_mail_date (self->created_ms, date, sizeof (date));
    fprintf (out, "Date: %s\r\n", date);
    fprintf (out, "Message-ID: %s\r\n", self->message_id);
    fputs ("MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "Auto-Submitted: auto-generated\r\n"
           "\r\n",
           out);

    //  Body: LF or CRLF in, CRLF out; stray CR and controls dropped.
    s_stream_t clean;
    s_stream_begin (&clean);
    s_put_text (clean.file, self->body);
    char *body = s_stream_end (&clean);
    char *line = body;
    while (*line) {
        char *end = strchr (line, '\n');
        size_t size = end ? (size_t) (end - line) : strlen (line);
        s_put_body_line (out, line, size);
        line += size + (end ? 1 : 0);
    }
    free (body);
    return s_stream_end (&message);
}

//  --------------------------------------------------------------------------
//  Retry delay

int
notify_mail_backoff_ms (int attempts, int ceiling_ms, uint32_t random)
{
    if (ceiling_ms < 1)
        ceiling_ms = 1;
    int64_t delay = NOTIFY_MAIL_BACKOFF_MS;
    for (int i = 0; i < attempts && delay < ceiling_ms; i++)
        delay *= 2;
    if (delay > ceiling_ms)
        delay = ceiling_ms;
    int64_t jitter = delay / 5;
    delay -= (int64_t) (random % (uint32_t) (jitter + 1));
    return (int) delay;
}

//  --------------------------------------------------------------------------
//  Self-test

//  Decode the base64 of encoded-words in a header back to text, to check
//  that splitting kept every character. Caller owns the result.
static char *
s_decode_words (const char *header)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    s_stream_t text;
    s_stream_begin (&text);
    const char *word = header;
    while ((word = strstr (word, "=?UTF-8?B?"))) {
        word += 10;
        const char *end = strstr (word, "?=");
        assert (end);
        uint32_t group = 0;
        int bits = 0;
        for (const char *c = word; c < end && *c != '='; c++) {
            const char *at = strchr (alphabet, *c);
            assert (at);
            group = (group << 6) | (uint32_t) (at - alphabet);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                fputc ((int) ((group >> bits) & 0xFF), text.file);
            }
        }
        word = end + 2;
    }
    return s_stream_end (&text);
}

//  Every line of text ends with CRLF, has no bare CR or LF, and fits
//  `limit` octets.
static void
s_assert_lines (const char *text, size_t limit)
{
    const char *line = text;
    while (*line) {
        const char *crlf = strstr (line, "\r\n");
        assert (crlf);
        assert ((size_t) (crlf - line) <= limit);
        for (const char *c = line; c < crlf; c++)
            assert (*c != '\r' && *c != '\n');
        line = crlf + 2;
    }
}

void
notify_mail_test (bool verbose)
{
    printf (" * notify_mail: ");
    if (verbose)
        printf ("\n");

    //  Message-ID
    char *id = notify_mail_message_id ("accounts", 42, 1772198096789LL,
                                       "account.created", "guichet.localhost");
    assert (streq (id, "<accounts.42.1772198096789.account.created"
                       "@guichet.localhost>"));
    free (id);
    id = notify_mail_message_id ("dos siers", 7, 5, "x>y@z", "ex_ample.fr>");
    assert (streq (id, "<dos-siers.7.5.x-y-z@ex-ample.fr->"));
    free (id);
    id = notify_mail_message_id ("dossiers", 1, 0, "dossier.submitted", NULL);
    assert (streq (id, "<dossiers.1.0.dossier.submitted@guichet.localhost>"));
    free (id);
    //  The same sequence after a reinstall is another mail
    id = notify_mail_message_id ("accounts", 42, 1772198096790LL,
                                 "account.created", "guichet.localhost");
    assert (!streq (id, "<accounts.42.1772198096789.account.created"
                        "@guichet.localhost>"));
    free (id);

    //  From
    char *name, *address;
    assert (
        notify_mail_parse_from ("Guichet <ne-pas-repondre@guichet.localhost>",
                                &name, &address) == 0);
    assert (streq (name, "Guichet"));
    assert (streq (address, "ne-pas-repondre@guichet.localhost"));
    free (name);
    free (address);
    assert (
        notify_mail_parse_from ("  \"Ville de Poitiers\" <Mairie@Poitiers.FR> ",
                                &name, &address) == 0);
    assert (streq (name, "Ville de Poitiers"));
    assert (streq (address, "mairie@poitiers.fr"));
    free (name);
    free (address);
    assert (notify_mail_parse_from ("noreply@example.fr", &name, &address) ==
            0);
    assert (streq (name, "") && streq (address, "noreply@example.fr"));
    free (name);
    free (address);
    assert (notify_mail_parse_from ("Guichet <nobody>", &name, &address) == -1);
    assert (name == NULL && address == NULL);
    assert (notify_mail_parse_from ("Guichet <a@b.fr> x", &name, &address) ==
            -1);
    assert (notify_mail_parse_from ("Guichet <a@b.fr", &name, &address) == -1);

    //  Headers: plain ASCII stays plain, anything else is encoded-words on
    //  lines of at most 76 columns that decode back to the text.
    char *header = notify_mail_header ("Subject", "Hello world");
    assert (streq (header, "Subject: Hello world\r\n"));
    free (header);
    header = notify_mail_header ("Subject", "Vérifiez votre adresse e-mail");
    assert (streq (header, "Subject: =?UTF-8?B?VsOpcmlmaWV6IHZvdHJlIGFkcmVz"
                           "c2UgZS1tYWls?=\r\n"));
    free (header);
    header = notify_mail_header ("Subject", "=?not a word?=");
    assert (strstr (header, "=?UTF-8?B?"));
    free (header);
    const char *long_subject =
        "Votre dossier 2026-000123 : Accepté — « Opération Tranquillité "
        "Vacances » pour la période estivale, éé€€😀😀😀 fin";
    header = notify_mail_header ("Subject", long_subject);
    if (verbose)
        printf ("%s", header);
    s_assert_lines (header, S_HEADER_LINE_MAX);
    assert (strstr (header, "\r\n =?UTF-8?B?"));
    char *decoded = s_decode_words (header);
    assert (streq (decoded, long_subject));
    free (decoded);
    free (header);
    header = notify_mail_header ("Subject", "");
    assert (streq (header, "Subject: \r\n"));
    free (header);

    //  Date
    char date[64];
    notify_mail_date (0, date, sizeof (date));
    assert (streq (date, "Thu, 01 Jan 1970 00:00:00 +0000"));
    notify_mail_date (1772198096789LL, date, sizeof (date));
    assert (streq (date, "Fri, 27 Feb 2026 13:14:56 +0000"));

    //  account.created
    Gch__AccountCreated created = GCH__ACCOUNT_CREATED__INIT;
    created.account_id = 12;
    created.email = "  Jeanne.Martin@Example.FR ";
    created.display_name = "Jeanne\r\nBcc: x@y.fr";
    created.verify_token = "0a1b2c+/";
    notify_mail_t *mail =
        notify_mail_account_created (&created, "http://127.0.0.1:8080/");
    assert (mail);
    assert (streq (mail->recipient, "jeanne.martin@example.fr"));
    assert (streq (mail->subject, "Vérifiez votre adresse e-mail — Guichet"));
    assert (strstr (mail->body, "Bonjour Jeanne  Bcc: x@y.fr,\n"));
    assert (strstr (mail->body,
                    "\n\nhttp://127.0.0.1:8080/api/v1/accounts/verify"
                    "?token=0a1b2c%2B%2F\n\n"));
    mail->message_id = notify_mail_message_id (
        "accounts", 3, 1772198096789LL, "account.created", "guichet.localhost");
    mail->created_ms = 1772198096789LL;
    char *message = notify_mail_render (mail, "Guichet",
                                        "ne-pas-repondre@guichet.localhost");
    if (verbose)
        printf ("%s", message);
    s_assert_lines (message, S_LINE_MAX);
    assert (strncmp (message,
                     "From: Guichet <ne-pas-repondre@guichet.localhost>\r\n"
                     "To: jeanne.martin@example.fr\r\n"
                     "Subject: =?UTF-8?B?",
                     strlen ("From: Guichet <ne-pas-repondre@guichet.localhost>"
                             "\r\nTo: jeanne.martin@example.fr\r\nSubject: "
                             "=?UTF-8?B?")) == 0);
    assert (strstr (message, "\r\nDate: Fri, 27 Feb 2026 13:14:56 +0000\r\n"));
    assert (strstr (message,
                    "\r\nMessage-ID: <accounts.3.1772198096789.account.created"
                    "@guichet.localhost>\r\n"));
    assert (strstr (message, "\r\nMIME-Version: 1.0\r\n"));
    assert (
        strstr (message, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
    assert (strstr (message, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
    assert (strstr (message, "\r\n\r\nBonjour Jeanne"));
    assert (strstr (message, "\r\n\r\nhttp://127.0.0.1:8080/api/v1/accounts/"
                             "verify?token=0a1b2c%2B%2F\r\n\r\n"));
    assert (!strstr (message, "\r\nBcc:"));
    //  Rendering again gives the same message: a resent copy is identical.
    char *again = notify_mail_render (mail, "Guichet",
                                      "ne-pas-repondre@guichet.localhost");
    assert (streq (again, message));
    free (again);
    free (message);
    notify_mail_destroy (&mail);
    notify_mail_destroy (&mail);
    assert (mail == NULL);

    created.email = "not an address";
    assert (!notify_mail_account_created (&created, "http://x"));
    created.email = "a@b.fr";
    created.verify_token = "";
    assert (!notify_mail_account_created (&created, "http://x"));

    //  dossier events
    Gch__DossierEvent event = GCH__DOSSIER_EVENT__INIT;
    event.dossier_id = 5;
    event.number = "2026-000123";
    event.citizen_id = 12;
    event.procedure_title = "Opération Tranquillité Vacances";
    event.from_status = "in_instruction";
    event.to_status = "refused";
    event.to_label = "Refusé";
    event.comment = "Pièce manquante :\r\nattestation.\n.\nFin";
    Gch__Account account = GCH__ACCOUNT__INIT;
    account.id = 12;
    account.email = "usager@demo.guichet.fr";
    account.display_name = "Camille";
    mail = notify_mail_dossier (&event, false, &account, "https://g.fr");
    assert (mail);
    assert (streq (mail->recipient, "usager@demo.guichet.fr"));
    assert (streq (mail->subject, "Votre dossier 2026-000123 : Refusé"));
    assert (strstr (mail->body, "Bonjour Camille,\n\n"));
    assert (strstr (mail->body, "Le statut de votre dossier n° 2026-000123 "
                                "« Opération Tranquillité Vacances » a "
                                "changé.\n\nNouveau statut : Refusé\n\n"));
    assert (strstr (mail->body, "Commentaire :\nPièce manquante :\n"
                                "attestation.\n.\nFin\n\n"));
    assert (strstr (mail->body, "\nhttps://g.fr/\n"));
    mail->message_id = strdup ("<dossiers.9.dossier.status_changed@g.fr>");
    message = notify_mail_render (mail, "Ville de Saint-Benoît — Guichet",
                                  "ne-pas-repondre@guichet.localhost");
    if (verbose)
        printf ("%s", message);
    s_assert_lines (message, S_LINE_MAX);
    assert (strncmp (message, "From: =?UTF-8?B?", 16) == 0);
    //  the address does not fit after the name: folded onto its own line
    assert (
        strstr (message, "?=\r\n <ne-pas-repondre@guichet.localhost>\r\nTo: "));
    assert (strstr (message, "\r\nPièce manquante :\r\nattestation.\r\n.\r\n"
                             "Fin\r\n"));
    free (message);
    message = notify_mail_render (mail, "Mairie — G", "n@g.fr");
    s_assert_lines (message, S_LINE_MAX);
    assert (strncmp (message, "From: =?UTF-8?B?TWFpcmllIOKAlCBH?= <n@g.fr>\r\n",
                     44) == 0);
    free (message);
    notify_mail_destroy (&mail);

    //  A message written by a workflow action: its subject and text
    Gch__DossierMessage written = GCH__DOSSIER_MESSAGE__INIT;
    written.number = "2026-000123";
    written.subject = "Pièces\nmanquantes";
    written.body = "Bonjour,\nIl manque la facture.";
    notify_mail_t *note =
        notify_mail_message (&written, &account, "https://g.fr");
    assert (note && streq (note->subject, "Pièces manquantes"));
    assert (strncmp (note->body, "Bonjour,\nIl manque la facture.\n\n", 32) ==
            0);
    assert (strstr (note->body, "\nhttps://g.fr/\n"));
    notify_mail_destroy (&note);

    event.number = "";
    event.to_label = "";
    event.comment = "";
    event.procedure_title = "";
    mail = notify_mail_dossier (&event, true, &account, "https://g.fr");
    assert (streq (mail->subject, "Votre dossier 5 : refused"));
    assert (strstr (mail->body, "Votre dossier n° 5 a bien été déposé.\n\n"
                                "Statut : refused\n\n"));
    assert (!strstr (mail->body, "Commentaire"));
    notify_mail_destroy (&mail);
    account.email = "";
    assert (!notify_mail_dossier (&event, true, &account, "https://g.fr"));

    //  Long lines are cut at 998 octets without splitting a character.
    mail = notify_mail_new ();
    mail->recipient = strdup ("a@b.fr");
    mail->subject = strdup ("x");
    mail->message_id = strdup ("<m@b.fr>");
    mail->body = (char *) zmalloc (3002);
    mail->body[0] = 'a';
    for (size_t i = 1; i < 3001; i += 2)
        memcpy (mail->body + i, "é", 2);
    message = notify_mail_render (mail, "", "n@b.fr");
    assert (strncmp (message, "From: n@b.fr\r\n", 14) == 0);
    s_assert_lines (message, S_LINE_MAX);
    const char *text = strstr (message, "\r\n\r\n") + 4;
    //  997 octets (998 would cut an "é"), then 998, 998 and 8
    assert (strlen (text) == 3001 + 4 * 2);
    assert (strncmp (text + 997, "\r\n", 2) == 0);
    assert (strncmp (text + 999 + 998, "\r\n", 2) == 0);
    free (message);
    notify_mail_destroy (&mail);

    //  Backoff: doubles from 500 ms, capped, jitter only ever shortens
    assert (notify_mail_backoff_ms (0, 60000, 0) == 500);
    assert (notify_mail_backoff_ms (1, 60000, 0) == 1000);
    assert (notify_mail_backoff_ms (3, 60000, 0) == 4000);
    assert (notify_mail_backoff_ms (7, 60000, 0) == 60000);
    assert (notify_mail_backoff_ms (1000, 60000, 0) == 60000);
    assert (notify_mail_backoff_ms (INT_MAX, 60000, 0) == 60000);
    assert (notify_mail_backoff_ms (-3, 60000, 0) == 500);
    assert (notify_mail_backoff_ms (0, 60000, 100) == 400);
    assert (notify_mail_backoff_ms (0, 60000, 101) == 500);
    assert (notify_mail_backoff_ms (0, 100, 0) == 100);
    for (uint32_t r = 0; r < 1000; r++) {
        int delay = notify_mail_backoff_ms (20, 60000, r * 7919u);
        assert (delay >= 48000 && delay <= 60000);
    }

    printf ("OK\n");
}
