//  gch_reply - fill a Gch__Reply in a handler. The reply owns its strings
//  and body; gch_reply_clear frees them. Replies built here are never
//  unpacked ones, so they are freed by hand, not by free_unpacked.
#include "gch.h"

void
gch_reply_init (Gch__Reply *reply)
{
    Gch__Reply empty = GCH__REPLY__INIT;
    *reply = empty;
}

void
gch_reply_clear (Gch__Reply *reply)
{
    if (reply->message != protobuf_c_empty_string)
        free (reply->message);
    for (size_t i = 0; i < reply->n_fields; i++) {
        free (reply->fields[i]->name);
        free (reply->fields[i]->message);
        free (reply->fields[i]);
    }
    free (reply->fields);
    free (reply->body.data);
    gch_reply_init (reply);
}

int
gch_reply_error (Gch__Reply *reply, int status, const char *message)
{
    if (reply->message != protobuf_c_empty_string)
        free (reply->message);
    reply->status = status;
    reply->message = strdup (message ? message : gch_status_message (status));
    return status;
}

int
gch_reply_field (Gch__Reply *reply, const char *name, const char *message)
{
    Gch__FieldError *field = (Gch__FieldError *) zmalloc (sizeof *field);
    gch__field_error__init (field);
    field->name = strdup (name);
    field->message = strdup (message);
    reply->fields = (Gch__FieldError **) realloc (
        reply->fields, sizeof (Gch__FieldError *) * (reply->n_fields + 1));
    assert (reply->fields);
    reply->fields[reply->n_fields++] = field;
    return 0;
}

int
gch_reply_body (Gch__Reply *reply, const ProtobufCMessage *msg)
{
    free (reply->body.data);
    reply->body.len = gch_pack (msg, &reply->body.data);
    return 0;
}

size_t
gch_reply_nfields (const Gch__Reply *reply)
{
    return reply->n_fields;
}

void
gch_reply_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_reply: ");
    Gch__Reply reply;
    gch_reply_init (&reply);
    assert (reply.status == GCH__STATUS__STATUS_OK);
    gch_reply_field (&reply, "email", "Adresse invalide");
    gch_reply_field (&reply, "password", "Trop court");
    int status =
        gch_reply_error (&reply, GCH__STATUS__STATUS_UNPROCESSABLE, NULL);
    assert (status == GCH__STATUS__STATUS_UNPROCESSABLE);
    assert (gch_reply_nfields (&reply) == 2);
    Gch__DossierRef ref = GCH__DOSSIER_REF__INIT;
    ref.id = 7;
    gch_reply_body (&reply, &ref.base);
    gch_reply_body (&reply, &ref.base);
    uint8_t *data;
    size_t size = gch_pack (&reply.base, &data);
    Gch__Reply *back = gch__reply__unpack (NULL, size, data);
    assert (back && back->n_fields == 2);
    assert (streq (back->fields[1]->name, "password"));
    assert (streq (back->message, "Données refusées"));
    Gch__DossierRef *inner = (Gch__DossierRef *) gch_reply_unpack (
        back, &gch__dossier_ref__descriptor);
    assert (inner && inner->id == 7);
    protobuf_c_message_free_unpacked (&inner->base, NULL);
    gch__reply__free_unpacked (back, NULL);
    free (data);
    gch_reply_clear (&reply);
    assert (reply.n_fields == 0 && reply.body.data == NULL);
    printf ("OK\n");
}
