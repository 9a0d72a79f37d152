//  gch_outbox - events: outbox table, relay, replay.
//
//  The producer inserts an event with gch_outbox_add inside the transaction
//  of its state change. Events get their sequence number from the relay
//  (gch_outbox_publish), which numbers committed, unnumbered events in
//  commit order under an advisory lock: a consumer that has seen sequence n
//  can never later be shown an event numbered below n. events.fetch
//  (gch_outbox_fetch) publishes then returns events after a sequence.
//
//  The consumer keeps, per source, the last sequence it applied, in its own
//  database, updated in the same transaction as the effect of the event
//  (gch_outbox_cursor_get/set). Nothing is lost while a consumer is down, and
//  nothing is applied twice.
//
//  Tables: outbox (id, seq, type, payload, created_at), event_cursor
//  (source, last_seq), created in every service's schema by
//  gch_db_migrate as migration 0 (gch_outbox_schema).
#ifndef GCH_OUTBOX_H_INCLUDED
#define GCH_OUTBOX_H_INCLUDED

//  Statements the outbox needs; a store appends these to its own table by
//  listing GCH_OUTBOX_STATEMENTS inside its gch_db_statement_t array.
#define GCH_OUTBOX_STATEMENTS                                                  \
    {"gch_outbox_add", "INSERT INTO outbox (type, payload) VALUES ($1, $2)",   \
     2},                                                                       \
        {"gch_outbox_lock",                                                    \
         "SELECT pg_try_advisory_xact_lock(hashtext("                          \
         "current_schema() || '.outbox'))",                                    \
         0},                                                                   \
        {"gch_outbox_number",                                                  \
         "WITH base AS (SELECT coalesce(max(seq), 0) AS top FROM outbox),"     \
         " todo AS (SELECT id, row_number() OVER (ORDER BY id) AS n"           \
         " FROM outbox WHERE seq IS NULL)"                                     \
         " UPDATE outbox o SET seq = base.top + todo.n FROM base, todo"        \
         " WHERE o.id = todo.id",                                              \
         0},                                                                   \
        {"gch_outbox_fetch",                                                   \
         "SELECT seq, type, payload, (extract(epoch FROM created_at) * 1000)"  \
         "::bigint FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",          \
         2},                                                                   \
        {"gch_outbox_top", "SELECT coalesce(max(seq), 0) FROM outbox", 0},     \
        {"gch_cursor_get",                                                     \
         "SELECT last_seq FROM event_cursor WHERE source = $1", 1},            \
    {                                                                          \
        "gch_cursor_set",                                                      \
            "INSERT INTO event_cursor (source, last_seq) VALUES ($1, $2)"      \
            " ON CONFLICT (source) DO UPDATE SET last_seq = excluded.last_seq" \
            " WHERE event_cursor.last_seq < excluded.last_seq",                \
            2                                                                  \
    }

//  DDL of the tables above; applied by gch_db_migrate.
extern const char gch_outbox_schema[];

//  Add an event inside the caller's open transaction. Returns 0 or < 0.
int gch_outbox_add (gch_db_t *db, const char *type,
                    const ProtobufCMessage *payload);

//  Number committed events (the relay). Returns how many were numbered or <0.
int gch_outbox_publish (gch_db_t *db);

//  Answer an events.fetch request: publish, then fill batch with up to
//  limit events after after_seq. Caller frees the batch's contents with
//  gch_outbox_batch_clear. Returns 0 or < 0.
int gch_outbox_fetch (gch_db_t *db, int64_t after_seq, int limit,
                      Gch__EventsBatch *batch);
void gch_outbox_batch_clear (Gch__EventsBatch *batch);

//  Consumer cursor for a source; -1 on error, 0 if none yet.
int64_t gch_outbox_cursor_get (gch_db_t *db, const char *source);

//  Advance the cursor inside the caller's transaction. Returns 0 or < 0.
int gch_outbox_cursor_set (gch_db_t *db, const char *source, int64_t seq);

void gch_outbox_test (bool verbose);

#endif
