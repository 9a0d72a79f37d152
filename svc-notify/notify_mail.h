//  notify_mail - what svc-notify sends, without any I/O: the French mails
//  made from events, their deterministic Message-ID, the RFC 5322 message
//  handed to the SMTP server, and the retry backoff.
//
//  A mail is a plain record (notify_mail_t): the consumer fills one from an
//  event and the store keeps it; the sender renders it with
//  notify_mail_render at each attempt. Rendering is deterministic (the Date
//  is the creation time, the Message-ID was fixed when the event was
//  applied), so a resent copy is the same message.
//
//  To add a kind of mail: write a notify_mail_<event> constructor here, call
//  it from notify_consumer.c, and cover it in notify_mail_test.
#ifndef NOTIFY_MAIL_H_INCLUDED
#define NOTIFY_MAIL_H_INCLUDED

//  Retries of one mail: the delay doubles from NOTIFY_MAIL_BACKOFF_MS up to
//  the configured ceiling. From NOTIFY_MAIL_ALARM_ATTEMPTS failed attempts
//  on, every further failure is logged as an error.
#define NOTIFY_MAIL_BACKOFF_MS 500
#define NOTIFY_MAIL_ALARM_ATTEMPTS 10

typedef struct {
    int64_t id;          //  mail.id; 0 until stored
    char *message_id;    //  "<accounts.42.account.created@guichet.localhost>"
    char *recipient;     //  bare address, normalised
    char *subject;       //  UTF-8, one line
    char *body;          //  UTF-8, LF line endings
    int attempts;        //  failed attempts so far
    int64_t created_ms;  //  creation time, used as the Date header
} notify_mail_t;

//  New empty mail. Caller owns it.
notify_mail_t *notify_mail_new (void);

//  Free the mail and its strings; nullifies *self_p.
void notify_mail_destroy (notify_mail_t **self_p);

//  The e-mail verification mail for an account.created event: the link
//  public_url/api/v1/accounts/verify?token=... on its own line. Returns NULL
//  if the event has no usable address or no token. Caller owns the result.
notify_mail_t *notify_mail_account_created (const Gch__AccountCreated *event,
                                            const char *public_url);

//  The mail telling a citizen that their dossier was submitted (submitted
//  true) or changed status, sent to the account's address. Returns NULL if
//  the account has no usable address. Caller owns the result.
//  The mail of a dossier.message event (a workflow action's e-mail): its
//  subject (on one line) and text, then the link to Guichet. NULL if the
//  account has no usable address.
notify_mail_t *notify_mail_message (const Gch__DossierMessage *event,
                                    const Gch__Account *account,
                                    const char *public_url);

notify_mail_t *notify_mail_dossier (const Gch__DossierEvent *event,
                                    bool submitted, const Gch__Account *account,
                                    const char *public_url);

//  Message-ID of the mail made from event seq of source, created at
//  created_ms: "<source.seq.created_ms.type@domain>", characters outside
//  [A-Za-z0-9._-] replaced. The same event always gives the same id, which
//  is what makes a mail recorded once; the creation time keeps ids apart
//  when a reinstalled source numbers its events from 1 again. Caller owns
//  the result.
char *notify_mail_message_id (const char *source, int64_t seq,
                              int64_t created_ms, const char *type,
                              const char *domain);

//  Split a From setting, "Display Name <address>" or "address", into its
//  display name (may be empty) and address. Returns 0, or -1 if there is no
//  plausible address. Caller owns *name_p and *address_p.
int notify_mail_parse_from (const char *from, char **name_p, char **address_p);

//  The whole message as sent: headers (From, To, Subject encoded per
//  RFC 2047 when needed, Date, Message-ID, MIME headers), an empty line and
//  the body, CRLF line endings, no line over 998 octets. Caller owns the
//  result.
char *notify_mail_render (const notify_mail_t *self, const char *from_name,
                          const char *from_address);

//  "Name: value" CRLF-terminated, value folded into RFC 2047 encoded-words
//  (=?UTF-8?B?...?=) when it is not short printable ASCII. Caller owns the
//  result.
char *notify_mail_header (const char *name, const char *value);

//  RFC 5322 date of ms since the epoch, in UTC, into buf (>= 32 bytes).
void notify_mail_date (int64_t ms, char *buf, size_t size);

//  Delay before the next attempt after a failure, when attempts failures
//  came before it: min (ceiling_ms, NOTIFY_MAIL_BACKOFF_MS * 2^attempts),
//  less up to a fifth of it chosen by random (any value), so instances and
//  mails do not retry in step.
int notify_mail_backoff_ms (int attempts, int ceiling_ms, uint32_t random);

void notify_mail_test (bool verbose);

#endif
