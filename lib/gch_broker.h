//  gch_broker - the bus broker, after the ZeroMQ guide's Majordomo (RFC 7).
//
//  One ROUTER socket. Workers announce a service name and get requests one
//  at a time; clients name a service and get a reply or a clean error
//  within their deadline. An instance that stops heartbeating is dropped,
//  and the request it held goes to another instance if the client marked it
//  retryable and the deadline allows, else the client gets UNAVAILABLE. A
//  request that finds no instance waits for one until its deadline.
//  Adding an instance needs no configuration anywhere.
#ifndef GCH_BROKER_H_INCLUDED
#define GCH_BROKER_H_INCLUDED

//  Liveness: heartbeat every GCH_HEARTBEAT_MS; a peer silent for
//  GCH_HEARTBEAT_MS * GCH_HEARTBEAT_LIVENESS is dead.
#define GCH_HEARTBEAT_MS 250
#define GCH_HEARTBEAT_LIVENESS 4

//  The broker is a zactor: zactor_new (gch_broker_actor, (void *) endpoint).
//  Pipe commands: "PORT" answers the bound port (for tcp://...:*) or -1 if
//  the bind failed; "VERBOSE"; "LIVENESS" ms sets how long a worker may be
//  silent (default GCH_HEARTBEAT_MS * GCH_HEARTBEAT_LIVENESS; longer under
//  valgrind, where a busy service thread starves its heartbeats); "$TERM".
void gch_broker_actor (zsock_t *pipe, void *args);

void gch_broker_test (bool verbose);

#endif
