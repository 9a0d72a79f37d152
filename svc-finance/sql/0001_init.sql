-- svc-finance 0001: the event tables every service has, nothing else yet.
--
-- Applied by gch_db_migrate in one transaction, in schema finance (the
-- search_path of role gch_finance).

-- Producer side (lib/gch_outbox.h).
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    seq bigint UNIQUE,
    type text NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_unnumbered ON outbox (id) WHERE seq IS NULL;
COMMENT ON TABLE outbox IS
    'Events of this service, written in the transaction of the change; numbered (seq) by the relay in commit order and served by events.fetch (lib/gch_outbox.h)';
COMMENT ON COLUMN outbox.seq IS 'Sequence number given by the relay; NULL until published';
COMMENT ON COLUMN outbox.payload IS 'The event message, protobuf-packed (proto/events.proto)';

-- Consumer side (lib/gch_outbox.h).
CREATE TABLE event_cursor (
    source text PRIMARY KEY,
    last_seq bigint NOT NULL
);
COMMENT ON TABLE event_cursor IS
    'Last event sequence applied per source service, advanced in the same transaction as the effect (lib/gch_outbox.h)';
