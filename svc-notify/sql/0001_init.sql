-- svc-notify 0001: mails to send (the event cursor and outbox tables come from lib, migration 0).
--
-- Applied by gch_db_migrate in one transaction, in schema notify (the
-- search_path of role gch_notify).

-- The mail queue: a row is written in the same transaction that advances
-- the cursor of the event it comes from, then drained by the SMTP sender.
CREATE TABLE mail (
    id bigserial PRIMARY KEY,
    message_id text NOT NULL UNIQUE,
    recipient text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- What the sender looks for: pending mails, oldest due first.
CREATE INDEX mail_pending ON mail (next_attempt_at) WHERE status = 'pending';

COMMENT ON TABLE mail IS
    'E-mails to send and sent: one per event that calls for one; drained by the SMTP sender of svc-notify';
COMMENT ON COLUMN mail.message_id IS
    'RFC 5322 Message-ID, <source.seq.type@domain>: deterministic from the event, so an event is recorded once and a resent copy keeps the same id';
COMMENT ON COLUMN mail.recipient IS 'Bare e-mail address (personal data: never logged)';
COMMENT ON COLUMN mail.subject IS 'Subject, UTF-8, one line (encoded per RFC 2047 when sent)';
COMMENT ON COLUMN mail.body IS 'Plain-text body, UTF-8, LF line endings (CRLF when sent); may hold a verification link';
COMMENT ON COLUMN mail.status IS 'pending until the SMTP server accepted the mail, then sent';
COMMENT ON COLUMN mail.attempts IS 'Failed delivery attempts so far';
COMMENT ON COLUMN mail.next_attempt_at IS 'Not tried again before this time (exponential backoff with jitter, capped at GCH_RETRY_MAX_MS)';
COMMENT ON COLUMN mail.last_error IS 'Reason of the last failed attempt (libcurl error and SMTP code)';
COMMENT ON COLUMN mail.created_at IS 'When the event was applied; also the Date header of the mail';
COMMENT ON COLUMN mail.sent_at IS 'When the SMTP server accepted the mail';
