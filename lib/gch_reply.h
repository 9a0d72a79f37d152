//  gch_reply - building a Gch__Reply in a handler: status, message,
//  per-field errors, packed body. Every string and the body are owned by the
//  reply and freed by gch_reply_clear.
#ifndef GCH_REPLY_H_INCLUDED
#define GCH_REPLY_H_INCLUDED

//  Initialise an empty STATUS_OK reply.
void gch_reply_init (Gch__Reply *reply);

//  Free what the reply holds and reset it to an empty STATUS_OK reply.
void gch_reply_clear (Gch__Reply *reply);

//  Set status and message (NULL = the status' default French message).
//  Returns status, so a handler can `return gch_reply_error (...)`.
int gch_reply_error (Gch__Reply *reply, int status, const char *message);

//  Add one field error (name, French message). Returns 0.
int gch_reply_field (Gch__Reply *reply, const char *name, const char *message);

//  Pack msg into the reply's body (replacing any body). Returns 0.
int gch_reply_body (Gch__Reply *reply, const ProtobufCMessage *msg);

//  Number of field errors so far.
size_t gch_reply_nfields (const Gch__Reply *reply);

void gch_reply_test (bool verbose);

#endif
