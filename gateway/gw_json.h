//  gw_json - the gateway's generic JSON <-> protobuf codec.
//
//  Every route turns a JSON body into the request message of its bus method,
//  and the reply message back into JSON, without a line of code per message:
//  the codec walks protobuf-c's message descriptors. The rules are the API
//  contract of docs/api.md:
//
//  - JSON names are the protobuf field names, except a string field named
//    `x_json`, which carries a JSON document as text and appears as the JSON
//    value `x` (any JSON type; `form_json` <-> `"form": {...}`).
//  - Integers are JSON integers; 64-bit ones are also accepted as decimal
//    strings (JavaScript loses precision above 2^53). 32-bit values are range
//    checked. Booleans are JSON booleans, float and double JSON numbers,
//    bytes base64 strings (standard alphabet, padded), enums the value's
//    name, submessages objects, repeated fields arrays.
//  - Decoding refuses unknown keys, and reports every faulty field, not only
//    the first, so a form can show all its errors at once. JSON null leaves a
//    field at its default.
//  - Encoding emits every field, defaults included, so clients always see
//    the same shape: empty repeated fields are [], absent submessages, unset
//    oneof members and empty `x_json` documents are null.
//
//  Entry points: gw_json_to_message for request bodies, gw_json_set_field for
//  URL path and query parameters, gw_json_encode (text) or
//  gw_json_from_message (a jansson tree) for replies. To carry
//  a new message, add it to a .proto: there is nothing to do here.
#ifndef GW_JSON_H_INCLUDED
#define GW_JSON_H_INCLUDED

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

//  Decode a JSON object into a new message of type desc. On success returns
//  the message; caller owns it and frees it with
//  protobuf_c_message_free_unpacked (msg, NULL). On failure returns NULL and
//  calls on_error (ctx, field, message) once per faulty field (both strings
//  borrowed for the call): field is a path like "form", "roles[2]",
//  "caller.id", or "" for the whole body; message is a static French
//  sentence. Unknown keys are errors ("champ inconnu"). Top-level fields named
//  in forbidden (a NULL-terminated array of JSON or protobuf names, or NULL)
//  are treated as unknown: the gateway fills them from the URL or the
//  session, a client may not. on_error may be NULL.
ProtobufCMessage *gw_json_to_message (
    const json_t *json, const ProtobufCMessageDescriptor *desc,
    const char *const *forbidden,
    void (*on_error) (void *ctx, const char *field, const char *message),
    void *ctx);

//  Encode a message as a new JSON object. Caller owns the return value and
//  releases it with json_decref. Never returns NULL (aborts if out of memory).
json_t *gw_json_from_message (const ProtobufCMessage *msg);

//  Set one top-level field of an existing message from text, for URL path
//  and query parameters: "42" into an integer, "true"/"false" (or "1"/"0")
//  into a bool, an enum by value name, base64 into bytes, a JSON document
//  into an `x_json` field, text into a string. name is the field's JSON name
//  (its protobuf name is accepted too). A repeated field gets one element
//  appended per call. Returns 0, or -1 if the field does not exist, is a
//  message, or the text does not fit its type; then *error_p (if error_p is
//  not NULL) points at a static French message and the message is unchanged.
int gw_json_set_field (ProtobufCMessage *msg, const char *name,
                       const char *text, const char **error_p);

//  Self test of this module.
//  Encode a message as compact JSON text, with the top-level keys of extra
//  (an object, borrowed, may be NULL) added. Unlike gw_json_from_message,
//  embedded documents (`x_json` fields) are copied into the text as they
//  are, not parsed and serialised again: the form of a dossier is most of a
//  reply, and reading it back costs more than the rest of the request. The
//  service that fills an `x_json` field must put valid JSON there (svc-
//  dossiers stores it as jsonb). Caller owns the result (free ()).
char *gw_json_encode (const ProtobufCMessage *msg, const json_t *extra);

void gw_json_test (bool verbose);

#endif
