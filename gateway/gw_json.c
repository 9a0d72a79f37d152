//  gw_json - the gateway's generic JSON <-> protobuf codec.
//
//  Everything here is driven by ProtobufCMessageDescriptor: a field's type,
//  label, offset and quantifier offset say where its value lives in the C
//  struct and how to convert it. The three public functions share the same
//  small converters (s_integer_store, s_real_store, s_enum_store,
//  s_bytes_store...), so JSON bodies and URL parameters obey the same rules.
//
//  Memory follows protobuf-c's default allocator, because callers release
//  decoded messages with protobuf_c_message_free_unpacked (msg, NULL): the
//  message struct, every string, array, bytes buffer and submessage comes
//  from malloc, and a string or bytes field left at its default keeps the
//  descriptor's default pointer, which free_unpacked knows not to free. Only
//  the selected member of a oneof is freed, so a oneof case is set as soon as
//  its member owns memory, even if decoding that member then fails.
//
//  To support a new protobuf type, extend s_element_size, s_scalar_decode,
//  s_scalar_parse and s_element_encode.

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>
#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"

//  While gw_json_encode runs, embedded documents are not parsed: each is
//  recorded here and stands in the tree as a placeholder string, "\u0001",
//  a random nonce, ":", its index; the placeholders are replaced by the
//  documents in the dumped text. The nonce keeps a client's own strings from
//  ever being taken for a placeholder.
typedef struct {
    const char **texts;  //  documents, borrowed from the message
    size_t count;
    size_t alloc;
    char nonce[17];  //  16 hex digits
} s_raw_t;

static __thread s_raw_t *s_raw;

//  Suffix of string fields that carry a JSON document
#define S_EMBEDDED_SUFFIX "_json"
#define S_EMBEDDED_SUFFIX_LEN 5

//  Error messages, French, shown to citizens and agents
#define S_ERR_NOT_OBJECT "JSON attendu : objet"
#define S_ERR_UNKNOWN "champ inconnu"
#define S_ERR_REQUIRED "champ obligatoire"
#define S_ERR_ONEOF "un seul champ de ce groupe peut être renseigné"
#define S_ERR_ARRAY "type attendu : tableau"
#define S_ERR_OBJECT "type attendu : objet"
#define S_ERR_INTEGER "type attendu : entier"
#define S_ERR_BOOLEAN "type attendu : booléen"
#define S_ERR_NUMBER "type attendu : nombre"
#define S_ERR_STRING "type attendu : chaîne"
#define S_ERR_BASE64_TYPE "type attendu : chaîne base64"
#define S_ERR_BASE64 "base64 invalide"
#define S_ERR_RANGE "valeur hors limites"
#define S_ERR_ENUM "valeur inconnue"
#define S_ERR_NUL "caractère nul interdit"
#define S_ERR_UTF8 "texte UTF-8 invalide"
#define S_ERR_JSON "JSON invalide"
#define S_ERR_UNSUPPORTED "type non pris en charge"

//  Out of memory is not recoverable (STYLE.md, failure kinds): abort.
//  jansson reports it only as a NULL value or a -1 status.
static void
s_out_of_memory (void)
{
    fprintf (stderr, "gw_json: out of memory\n");
    abort ();
}

static void *
s_checked (void *pointer)
{
    if (!pointer)
        s_out_of_memory ();
    return pointer;
}

//  ---------------------------------------------------------------------
//  Growable text buffer, for error paths and for JSON documents dumped into
//  string fields (malloc'd by us, so free_unpacked's free () matches even if
//  jansson is ever given other allocation functions)

typedef struct {
    char *data;   //  NUL-terminated once anything was appended, else NULL
    size_t size;  //  bytes used, without the NUL
    size_t max;   //  bytes allocated
} s_buffer_t;

static void
s_buffer_append (s_buffer_t *self, const char *data, size_t size)
{
    if (self->size + size + 1 > self->max) {
        size_t max = self->max ? self->max * 2 : 64;
        while (max < self->size + size + 1)
            max *= 2;
        self->data = s_checked (realloc (self->data, max));
        self->max = max;
    }
    memcpy (self->data + self->size, data, size);
    self->size += size;
    self->data[self->size] = 0;
}

//  Cut the buffer back to size bytes
static void
s_buffer_truncate (s_buffer_t *self, size_t size)
{
    assert (size <= self->size);
    self->size = size;
    if (self->data)
        self->data[size] = 0;
}

//  json_dump_callback sink
static int
s_buffer_dump (const char *data, size_t size, void *self)
{
    s_buffer_append ((s_buffer_t *) self, data, size);
    return 0;
}

//  ---------------------------------------------------------------------
//  Descriptor helpers

//  True if the field is a string carrying an embedded JSON document
static bool
s_field_is_embedded (const ProtobufCFieldDescriptor *field)
{
    size_t len = strlen (field->name);
    return field->type == PROTOBUF_C_TYPE_STRING &&
           len > S_EMBEDDED_SUFFIX_LEN &&
           strcmp (field->name + len - S_EMBEDDED_SUFFIX_LEN,
                   S_EMBEDDED_SUFFIX) == 0;
}

//  Length of the field's JSON name, a prefix of its protobuf name
static size_t
s_json_name_len (const ProtobufCFieldDescriptor *field)
{
    size_t len = strlen (field->name);
    return s_field_is_embedded (field) ? len - S_EMBEDDED_SUFFIX_LEN : len;
}

//  Field whose JSON name is key (key_len bytes, may hold NULs), or NULL.
//  A linear scan: messages have a few dozen fields at most, and JSON names
//  differ from the sorted protobuf names, so the binary search of
//  protobuf_c_message_descriptor_get_field_by_name does not apply.
static const ProtobufCFieldDescriptor *
s_field_lookup (const ProtobufCMessageDescriptor *desc, const char *key,
                size_t key_len)
{
    for (unsigned index = 0; index < desc->n_fields; index++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[index];
        if (s_json_name_len (field) == key_len &&
            memcmp (field->name, key, key_len) == 0)
            return field;
    }
    return NULL;
}

//  True if the key, or the field it names, is in the forbidden list
static bool
s_field_forbidden (const char *const *forbidden, const char *key,
                   size_t key_len, const ProtobufCFieldDescriptor *field)
{
    for (; forbidden && *forbidden; forbidden++) {
        if ((strlen (*forbidden) == key_len &&
             memcmp (*forbidden, key, key_len) == 0) ||
            strcmp (*forbidden, field->name) == 0)
            return true;
    }
    return false;
}

//  Size of one element of a repeated field of this type, as protobuf-c lays
//  out its arrays
static size_t
s_element_size (ProtobufCType type)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_ENUM:
            return 4;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return 8;
        case PROTOBUF_C_TYPE_BOOL:
            return sizeof (protobuf_c_boolean);
        case PROTOBUF_C_TYPE_FLOAT:
            return sizeof (float);
        case PROTOBUF_C_TYPE_DOUBLE:
            return sizeof (double);
        case PROTOBUF_C_TYPE_STRING:
            return sizeof (char *);
        case PROTOBUF_C_TYPE_BYTES:
            return sizeof (ProtobufCBinaryData);
        case PROTOBUF_C_TYPE_MESSAGE:
            return sizeof (ProtobufCMessage *);
    }
    assert (false);
    return 0;
}

static bool
s_type_is_integer (ProtobufCType type)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return true;
        default:
            return false;
    }
}

static bool
s_type_is_64bit (ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_INT64 || type == PROTOBUF_C_TYPE_SINT64 ||
           type == PROTOBUF_C_TYPE_SFIXED64 || type == PROTOBUF_C_TYPE_UINT64 ||
           type == PROTOBUF_C_TYPE_FIXED64;
}

//  True if a singular field of this label and type has a has_ flag at its
//  quantifier offset (proto2 optional scalars and bytes). Oneof members use
//  the quantifier offset for the case instead; strings and messages use
//  their pointer.
static bool
s_field_has_flag (const ProtobufCFieldDescriptor *field)
{
    return field->label == PROTOBUF_C_LABEL_OPTIONAL &&
           !(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
           field->type != PROTOBUF_C_TYPE_STRING &&
           field->type != PROTOBUF_C_TYPE_MESSAGE;
}

//  Record that a singular field was set: oneof case or has_ flag
static void
s_field_mark_set (ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    void *quantifier = (char *) msg + field->quantifier_offset;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *) quantifier = field->id;
    else if (s_field_has_flag (field))
        *(protobuf_c_boolean *) quantifier = 1;
}

//  True if the field holds a value to encode (repeated fields always do)
static bool
s_field_is_set (const ProtobufCMessage *msg,
                const ProtobufCFieldDescriptor *field)
{
    const void *quantifier = (const char *) msg + field->quantifier_offset;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *) quantifier == field->id;
    if (s_field_has_flag (field))
        return *(const protobuf_c_boolean *) quantifier != 0;
    return true;
}

//  True if another member of the field's oneof is already set
static bool
s_oneof_taken (const ProtobufCMessage *msg,
               const ProtobufCFieldDescriptor *field)
{
    if (!(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return false;
    uint32_t oneof_case =
        *(const uint32_t *) ((const char *) msg + field->quantifier_offset);
    return oneof_case != 0 && oneof_case != field->id;
}

//  Release what a singular string or bytes slot owns, leaving defaults alone
//  (the same test as protobuf_c_message_free_unpacked)
static void
s_slot_release (const ProtobufCFieldDescriptor *field, void *slot)
{
    if (field->type == PROTOBUF_C_TYPE_STRING) {
        char *string = *(char **) slot;
        if (string && string != field->default_value)
            free (string);
    }
    else if (field->type == PROTOBUF_C_TYPE_BYTES) {
        const ProtobufCBinaryData *fallback = field->default_value;
        void *data = ((ProtobufCBinaryData *) slot)->data;
        if (data && (!fallback || fallback->data != data))
            free (data);
    }
}

//  New message of type desc, at its defaults, from malloc
static ProtobufCMessage *
s_message_new (const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = s_checked (malloc (desc->sizeof_message));
    desc->message_init (msg);
    return msg;
}

//  ---------------------------------------------------------------------
//  UTF-8, for text that did not come through jansson (URL parameters) and
//  for strings a service stored without checking

//  Length of the valid UTF-8 sequence at text (len bytes available), or 0.
//  Refuses overlong forms, surrogates and code points above U+10FFFF, like
//  jansson.
static size_t
s_utf8_sequence (const unsigned char *text, size_t len)
{
    unsigned char first = text[0];
    size_t size;
    unsigned char low = 0x80, high = 0xBF;  //  bounds of the second byte
    if (first < 0x80)
        return 1;
    else if (first >= 0xC2 && first <= 0xDF)
        size = 2;
    else if (first >= 0xE0 && first <= 0xEF) {
        size = 3;
        if (first == 0xE0)
            low = 0xA0;
        else if (first == 0xED)
            high = 0x9F;
    }
    else if (first >= 0xF0 && first <= 0xF4) {
        size = 4;
        if (first == 0xF0)
            low = 0x90;
        else if (first == 0xF4)
            high = 0x8F;
    }
    else
        return 0;
    if (len < size || text[1] < low || text[1] > high)
        return 0;
    for (size_t index = 2; index < size; index++)
        if (text[index] < 0x80 || text[index] > 0xBF)
            return 0;
    return size;
}

static bool
s_utf8_valid (const char *text)
{
    size_t len = strlen (text);
    for (size_t at = 0; at < len;) {
        size_t size =
            s_utf8_sequence ((const unsigned char *) text + at, len - at);
        if (size == 0)
            return false;
        at += size;
    }
    return true;
}

//  JSON string for text; invalid UTF-8 sequences become U+FFFD rather than
//  losing the whole value or failing the reply
static json_t *
s_json_string (const char *text)
{
    json_t *string = json_string (text);
    if (string)
        return string;
    s_buffer_t repaired = {0};
    size_t len = strlen (text);
    for (size_t at = 0; at < len;) {
        size_t size =
            s_utf8_sequence ((const unsigned char *) text + at, len - at);
        if (size) {
            s_buffer_append (&repaired, text + at, size);
            at += size;
        }
        else {
            s_buffer_append (&repaired, "\xEF\xBF\xBD", 3);
            at++;
        }
    }
    string = s_checked (json_string (repaired.data));
    free (repaired.data);
    return string;
}

//  ---------------------------------------------------------------------
//  Converters shared by JSON decoding and text parsing. Each writes one
//  value of a field's type into slot, or returns a static error message and
//  leaves slot untouched.

//  Parse a decimal integer strictly: an optional minus sign, then digits,
//  nothing else (no spaces, no plus sign). Returns 0, -1 if the text is not
//  such a number, -2 if its magnitude exceeds 64 bits.
static int
s_decimal_parse (const char *text, bool *negative_p, uint64_t *magnitude_p)
{
    bool negative = *text == '-';
    if (negative)
        text++;
    if (*text < '0' || *text > '9')
        return -1;
    uint64_t magnitude = 0;
    for (; *text >= '0' && *text <= '9'; text++) {
        unsigned digit = (unsigned) (*text - '0');
        if (magnitude > (UINT64_MAX - digit) / 10)
            return -2;
        magnitude = magnitude * 10 + digit;
    }
    if (*text)
        return -1;
    *negative_p = negative;
    *magnitude_p = magnitude;
    return 0;
}

//  Signed value of a sign and magnitude already known to fit int64_t.
//  -(m - 1) - 1 reaches INT64_MIN without signed overflow.
static int64_t
s_signed_value (bool negative, uint64_t magnitude)
{
    return negative && magnitude ? -(int64_t) (magnitude - 1) - 1
                                 : (int64_t) magnitude;
}

//  Store the integer (sign and magnitude, to cover int64 and uint64 alike)
//  into an integer slot of this type, checking its range
static const char *
s_integer_store (ProtobufCType type, bool negative, uint64_t magnitude,
                 void *slot)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            if (negative ? magnitude > (uint64_t) INT32_MAX + 1
                         : magnitude > INT32_MAX)
                return S_ERR_RANGE;
            *(int32_t *) slot = (int32_t) s_signed_value (negative, magnitude);
            return NULL;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            if (negative ? magnitude > (uint64_t) INT64_MAX + 1
                         : magnitude > INT64_MAX)
                return S_ERR_RANGE;
            *(int64_t *) slot = s_signed_value (negative, magnitude);
            return NULL;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            if ((negative && magnitude) || magnitude > UINT32_MAX)
                return S_ERR_RANGE;
            *(uint32_t *) slot = (uint32_t) magnitude;
            return NULL;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            if (negative && magnitude)
                return S_ERR_RANGE;
            *(uint64_t *) slot = magnitude;
            return NULL;
        default:
            assert (false);
            return S_ERR_UNSUPPORTED;
    }
}

//  Store a finite double into a float or double slot
static const char *
s_real_store (ProtobufCType type, double value, void *slot)
{
    //  JSON cannot carry NaN or infinities; text could, and we refuse them
    if (value != value || value > DBL_MAX || value < -DBL_MAX)
        return S_ERR_NUMBER;
    if (type == PROTOBUF_C_TYPE_FLOAT) {
        if (value > FLT_MAX || value < -FLT_MAX)
            return S_ERR_RANGE;
        *(float *) slot = (float) value;
    }
    else
        *(double *) slot = value;
    return NULL;
}

//  Store an enum value given by name
static const char *
s_enum_store (const ProtobufCFieldDescriptor *field, const char *name,
              void *slot)
{
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value_by_name (field->descriptor, name);
    if (!value)
        return S_ERR_ENUM;
    //  protobuf-c forces enums to int size and stores them as int32_t
    *(int32_t *) slot = value->value;
    return NULL;
}

//  Decode base64 (standard alphabet, padded) into a bytes slot
static const char *
s_bytes_store (const char *text, size_t text_len, void *slot)
{
    size_t max = text_len / 4 * 3 + 3;
    unsigned char *data = s_checked (malloc (max));
    size_t len = 0;
    if (sodium_base642bin (data, max, text, text_len, NULL, &len, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0) {
        free (data);
        return S_ERR_BASE64;
    }
    if (len == 0) {
        //  Same as an unset proto3 bytes field
        free (data);
        data = NULL;
    }
    ((ProtobufCBinaryData *) slot)->data = data;
    ((ProtobufCBinaryData *) slot)->len = len;
    return NULL;
}

//  Store a copy of a JSON value, serialised compactly, into a string slot
static const char *
s_embedded_store (const json_t *json, void *slot)
{
    s_buffer_t buffer = {0};
    if (json_dump_callback (json, s_buffer_dump, &buffer,
                            JSON_COMPACT | JSON_ENCODE_ANY) != 0 ||
        !buffer.data) {
        free (buffer.data);
        return S_ERR_JSON;
    }
    *(char **) slot = buffer.data;
    return NULL;
}

//  Decode a JSON value into a slot of the field's type; every type but
//  messages, which need the recursive decoder
static const char *
s_scalar_decode (const ProtobufCFieldDescriptor *field, const json_t *json,
                 void *slot)
{
    if (s_field_is_embedded (field))
        return s_embedded_store (json, slot);

    if (s_type_is_integer (field->type)) {
        if (json_is_integer (json)) {
            json_int_t value = json_integer_value (json);
            uint64_t magnitude =
                value < 0 ? (uint64_t) (-(value + 1)) + 1 : (uint64_t) value;
            return s_integer_store (field->type, value < 0, magnitude, slot);
        }
        //  64-bit values also come as strings, which JavaScript keeps exact
        if (json_is_string (json) && s_type_is_64bit (field->type)) {
            bool negative;
            uint64_t magnitude;
            int rc = s_decimal_parse (json_string_value (json), &negative,
                                      &magnitude);
            if (rc == -2)
                return S_ERR_RANGE;
            if (rc == 0)
                return s_integer_store (field->type, negative, magnitude, slot);
        }
        return S_ERR_INTEGER;
    }
    switch (field->type) {
        case PROTOBUF_C_TYPE_BOOL:
            if (!json_is_boolean (json))
                return S_ERR_BOOLEAN;
            *(protobuf_c_boolean *) slot = json_is_true (json);
            return NULL;
        case PROTOBUF_C_TYPE_FLOAT:
        case PROTOBUF_C_TYPE_DOUBLE:
            if (!json_is_number (json))
                return S_ERR_NUMBER;
            return s_real_store (field->type, json_number_value (json), slot);
        case PROTOBUF_C_TYPE_ENUM:
            if (!json_is_string (json))
                return S_ERR_STRING;
            return s_enum_store (field, json_string_value (json), slot);
        case PROTOBUF_C_TYPE_STRING: {
            if (!json_is_string (json))
                return S_ERR_STRING;
            //  jansson allows \u0000; a C string would silently cut there
            const char *text = json_string_value (json);
            size_t len = json_string_length (json);
            if (strlen (text) != len)
                return S_ERR_NUL;
            *(char **) slot = s_checked (strndup (text, len));
            return NULL;
        }
        case PROTOBUF_C_TYPE_BYTES:
            if (!json_is_string (json))
                return S_ERR_BASE64_TYPE;
            return s_bytes_store (json_string_value (json),
                                  json_string_length (json), slot);
        default:
            assert (false);
            return S_ERR_UNSUPPORTED;
    }
}

//  Parse text into a slot of the field's type; every type but messages
static const char *
s_scalar_parse (const ProtobufCFieldDescriptor *field, const char *text,
                void *slot)
{
    if (s_type_is_integer (field->type)) {
        bool negative;
        uint64_t magnitude;
        int rc = s_decimal_parse (text, &negative, &magnitude);
        if (rc == -1)
            return S_ERR_INTEGER;
        if (rc == -2)
            return S_ERR_RANGE;
        return s_integer_store (field->type, negative, magnitude, slot);
    }
    switch (field->type) {
        case PROTOBUF_C_TYPE_BOOL:
            if (strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
                *(protobuf_c_boolean *) slot = 1;
            else if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
                *(protobuf_c_boolean *) slot = 0;
            else
                return S_ERR_BOOLEAN;
            return NULL;
        case PROTOBUF_C_TYPE_FLOAT:
        case PROTOBUF_C_TYPE_DOUBLE: {
            //  strtod would skip leading spaces and take hex; refuse both
            if (!*text || !strchr ("-0123456789", *text) ||
                strpbrk (text, "xX"))
                return S_ERR_NUMBER;
            char *end;
            double value = strtod (text, &end);
            if (*end)
                return S_ERR_NUMBER;
            return s_real_store (field->type, value, slot);
        }
        case PROTOBUF_C_TYPE_ENUM:
            return s_enum_store (field, text, slot);
        case PROTOBUF_C_TYPE_STRING: {
            if (!s_utf8_valid (text))
                return S_ERR_UTF8;
            if (!s_field_is_embedded (field)) {
                *(char **) slot = s_checked (strdup (text));
                return NULL;
            }
            json_t *json = json_loads (text, JSON_DECODE_ANY, NULL);
            if (!json)
                return S_ERR_JSON;
            const char *error = s_embedded_store (json, slot);
            json_decref (json);
            return error;
        }
        case PROTOBUF_C_TYPE_BYTES:
            return s_bytes_store (text, strlen (text), slot);
        default:
            return S_ERR_UNSUPPORTED;
    }
}

//  ---------------------------------------------------------------------
//  Decoding JSON into a message

typedef struct {
    void (*on_error) (void *ctx, const char *field, const char *message);
    void *ctx;        //  passed back to on_error
    s_buffer_t path;  //  path of the value being decoded, "caller.roles[2]"
    size_t errors;    //  faulty fields reported so far
} s_decoder_t;

static void
s_decoder_error (s_decoder_t *self, const char *message)
{
    self->errors++;
    if (self->on_error)
        self->on_error (self->ctx, self->path.data ? self->path.data : "",
                        message);
}

//  Append ".key" (or "key" at the top) to the path; returns the length to
//  truncate back to
static size_t
s_decoder_enter_key (s_decoder_t *self, const char *key, size_t key_len)
{
    size_t mark = self->path.size;
    if (mark)
        s_buffer_append (&self->path, ".", 1);
    s_buffer_append (&self->path, key, key_len);
    return mark;
}

//  Append "[index]" to the path
static size_t
s_decoder_enter_index (s_decoder_t *self, size_t index)
{
    size_t mark = self->path.size;
    char text[32];
    int len = snprintf (text, sizeof text, "[%zu]", index);
    s_buffer_append (&self->path, text, (size_t) len);
    return mark;
}

static void s_object_decode (s_decoder_t *self, ProtobufCMessage *msg,
                             const json_t *json, const char *const *forbidden);

//  Decode one value (a singular field, or one element of a repeated one)
//  into slot. A submessage is stored even when its content is faulty, so
//  that freeing the message frees it.
static void
s_element_decode (s_decoder_t *self, const ProtobufCFieldDescriptor *field,
                  const json_t *json, void *slot)
{
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (!json_is_object (json)) {
            s_decoder_error (self, S_ERR_OBJECT);
            return;
        }
        ProtobufCMessage *submessage = s_message_new (field->descriptor);
        *(ProtobufCMessage **) slot = submessage;
        s_object_decode (self, submessage, json, NULL);
    }
    else {
        const char *error = s_scalar_decode (field, json, slot);
        if (error)
            s_decoder_error (self, error);
    }
}

//  Decode the JSON value of one field (not null) into msg
static void
s_field_decode (s_decoder_t *self, ProtobufCMessage *msg,
                const ProtobufCFieldDescriptor *field, const json_t *json)
{
    void *slot = (char *) msg + field->offset;
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        if (!json_is_array (json)) {
            s_decoder_error (self, S_ERR_ARRAY);
            return;
        }
        size_t count = json_array_size (json);
        if (count == 0)
            return;
        //  Zeroed, so that free_unpacked copes with elements left unset
        size_t size = s_element_size (field->type);
        char *array = s_checked (calloc (count, size));
        *(void **) slot = array;
        *(size_t *) ((char *) msg + field->quantifier_offset) = count;
        for (size_t index = 0; index < count; index++) {
            size_t mark = s_decoder_enter_index (self, index);
            s_element_decode (self, field, json_array_get (json, index),
                              array + index * size);
            s_buffer_truncate (&self->path, mark);
        }
        return;
    }
    //  Two members of a oneof would share one slot: refuse the second
    if (s_oneof_taken (msg, field)) {
        s_decoder_error (self, S_ERR_ONEOF);
        return;
    }
    s_element_decode (self, field, json, slot);
    //  Even on failure: the slot may own a submessage that must be freed
    s_field_mark_set (msg, field);
}

//  Decode a JSON object into msg, reporting each faulty field
static void
s_object_decode (s_decoder_t *self, ProtobufCMessage *msg, const json_t *json,
                 const char *const *forbidden)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    //  jansson's iterators take a non-const object but do not modify it
    json_t *object = (json_t *) json;
    for (void *iter = json_object_iter (object); iter;
         iter = json_object_iter_next (object, iter)) {
        const char *key = json_object_iter_key (iter);
        size_t key_len = json_object_iter_key_len (iter);
        const json_t *value = json_object_iter_value (iter);
        size_t mark = s_decoder_enter_key (self, key, key_len);
        const ProtobufCFieldDescriptor *field =
            s_field_lookup (desc, key, key_len);
        if (!field || s_field_forbidden (forbidden, key, key_len, field))
            s_decoder_error (self, S_ERR_UNKNOWN);
        else if (!json_is_null (value))
            s_field_decode (self, msg, field, value);
        s_buffer_truncate (&self->path, mark);
    }
    //  proto2 required strings and messages start NULL and would crash the
    //  packer; proto3 has none, but the codec must not depend on that
    for (unsigned index = 0; index < desc->n_fields; index++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[index];
        if (field->label == PROTOBUF_C_LABEL_REQUIRED &&
            (field->type == PROTOBUF_C_TYPE_STRING ||
             field->type == PROTOBUF_C_TYPE_MESSAGE) &&
            *(void **) ((char *) msg + field->offset) == NULL) {
            size_t mark = s_decoder_enter_key (self, field->name,
                                               s_json_name_len (field));
            s_decoder_error (self, S_ERR_REQUIRED);
            s_buffer_truncate (&self->path, mark);
        }
    }
}

ProtobufCMessage *
gw_json_to_message (const json_t *json, const ProtobufCMessageDescriptor *desc,
                    const char *const *forbidden,
                    void (*on_error) (void *ctx, const char *field,
                                      const char *message),
                    void *ctx)
{
    assert (desc);
    s_decoder_t decoder = {on_error, ctx, {0}, 0};
    if (!json_is_object (json)) {
        s_decoder_error (&decoder, S_ERR_NOT_OBJECT);
        return NULL;
    }
    ProtobufCMessage *msg = s_message_new (desc);
    s_object_decode (&decoder, msg, json, forbidden);
    free (decoder.path.data);
    if (decoder.errors) {
        protobuf_c_message_free_unpacked (msg, NULL);
        return NULL;
    }
    return msg;
}

//  ---------------------------------------------------------------------
//  Encoding a message as JSON

//  JSON value of one element (a singular field, or one element of a
//  repeated one). Never NULL.
static json_t *
s_element_encode (const ProtobufCFieldDescriptor *field, const void *slot)
{
    json_t *json = NULL;
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            json = json_integer (*(const int32_t *) slot);
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            json = json_integer (*(const uint32_t *) slot);
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            json = json_integer (*(const int64_t *) slot);
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64: {
            //  jansson integers are signed 64-bit: above that, a decimal
            //  string, which the decoder accepts back
            uint64_t value = *(const uint64_t *) slot;
            if (value <= INT64_MAX)
                json = json_integer ((json_int_t) value);
            else {
                char text[32];
                snprintf (text, sizeof text, "%" PRIu64, value);
                json = json_string (text);
            }
            break;
        }
        case PROTOBUF_C_TYPE_BOOL:
            json = json_boolean (*(const protobuf_c_boolean *) slot);
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            //  json_real refuses NaN and infinities: those become null
            json = json_real (*(const float *) slot);
            if (!json)
                json = json_null ();
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            json = json_real (*(const double *) slot);
            if (!json)
                json = json_null ();
            break;
        case PROTOBUF_C_TYPE_ENUM: {
            //  A value newer than our descriptors goes out as its number
            int32_t value = *(const int32_t *) slot;
            const ProtobufCEnumValue *named =
                protobuf_c_enum_descriptor_get_value (field->descriptor, value);
            json = named ? json_string (named->name) : json_integer (value);
            break;
        }
        case PROTOBUF_C_TYPE_STRING: {
            const char *text = *(char *const *) slot;
            if (!text)
                json = json_null ();
            else if (!s_field_is_embedded (field))
                json = s_json_string (text);
            else if (*text && s_raw) {
                if (s_raw->count == s_raw->alloc) {
                    s_raw->alloc = s_raw->alloc ? 2 * s_raw->alloc : 4;
                    s_raw->texts = (const char **) s_checked (
                        realloc (s_raw->texts, s_raw->alloc * sizeof (char *)));
                }
                char placeholder[48];
                snprintf (placeholder, sizeof placeholder, "\001%s:%zu",
                          s_raw->nonce, s_raw->count);
                s_raw->texts[s_raw->count++] = text;
                json = json_string (placeholder);
            }
            else if (*text) {
                //  A document the service stored badly is not the client's
                //  problem: it reads null rather than a failed reply.
                //  JSON_ALLOW_NUL: a \u0000 we accepted must come back.
                json =
                    json_loads (text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                if (!json)
                    json = json_null ();
            }
            else
                json = json_null ();
            break;
        }
        case PROTOBUF_C_TYPE_BYTES: {
            const ProtobufCBinaryData *bytes = slot;
            if (bytes->len == 0)
                json = json_string ("");
            else {
                size_t size = sodium_base64_ENCODED_LEN (
                    bytes->len, sodium_base64_VARIANT_ORIGINAL);
                char *text = s_checked (malloc (size));
                sodium_bin2base64 (text, size, bytes->data, bytes->len,
                                   sodium_base64_VARIANT_ORIGINAL);
                json = json_string (text);
                free (text);
            }
            break;
        }
        case PROTOBUF_C_TYPE_MESSAGE: {
            const ProtobufCMessage *submessage =
                *(ProtobufCMessage *const *) slot;
            json =
                submessage ? gw_json_from_message (submessage) : json_null ();
            break;
        }
    }
    return s_checked (json);
}

json_t *
gw_json_from_message (const ProtobufCMessage *msg)
{
    assert (msg);
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *object = s_checked (json_object ());
    for (unsigned index = 0; index < desc->n_fields; index++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[index];
        const void *slot = (const char *) msg + field->offset;
        json_t *value;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *) ((const char *) msg +
                                              field->quantifier_offset);
            const char *array = *(char *const *) slot;
            size_t size = s_element_size (field->type);
            value = s_checked (json_array ());
            for (size_t element = 0; element < count; element++)
                if (json_array_append_new (
                        value,
                        s_element_encode (field, array + element * size)))
                    s_out_of_memory ();
        }
        else if (s_field_is_set (msg, field))
            value = s_element_encode (field, slot);
        else
            value = s_checked (json_null ());
        if (json_object_setn_new (object, field->name, s_json_name_len (field),
                                  value))
            s_out_of_memory ();
    }
    return object;
}

//  ---------------------------------------------------------------------
//  Setting one field from text

int
gw_json_set_field (ProtobufCMessage *msg, const char *name, const char *text,
                   const char **error_p)
{
    assert (msg);
    assert (name);
    assert (text);
    const char *error_fallback;
    if (!error_p)
        error_p = &error_fallback;

    const ProtobufCFieldDescriptor *field =
        s_field_lookup (msg->descriptor, name, strlen (name));
    if (!field)
        field = protobuf_c_message_descriptor_get_field_by_name (
            msg->descriptor, name);
    if (!field) {
        *error_p = S_ERR_UNKNOWN;
        return -1;
    }
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        *error_p = S_ERR_UNSUPPORTED;
        return -1;
    }
    if (s_oneof_taken (msg, field)) {
        *error_p = S_ERR_ONEOF;
        return -1;
    }
    //  Parse aside first, so a failure leaves the message as it was
    union {
        int32_t i32;
        int64_t i64;
        uint64_t u64;
        float real32;
        double real64;
        protobuf_c_boolean boolean;
        char *string;
        ProtobufCBinaryData bytes;
    } value;
    memset (&value, 0, sizeof value);
    const char *error = s_scalar_parse (field, text, &value);
    if (error) {
        *error_p = error;
        return -1;
    }
    void *slot = (char *) msg + field->offset;
    size_t size = s_element_size (field->type);
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *count = (size_t *) ((char *) msg + field->quantifier_offset);
        char *array =
            s_checked (realloc (*(void **) slot, (*count + 1) * size));
        memcpy (array + *count * size, &value, size);
        *(void **) slot = array;
        (*count)++;
    }
    else {
        //  A oneof member not selected does not own its (shared) slot
        if (s_field_is_set (msg, field))
            s_slot_release (field, slot);
        memcpy (slot, &value, size);
        s_field_mark_set (msg, field);
    }
    return 0;
}

char *
gw_json_encode (const ProtobufCMessage *msg, const json_t *extra)
{
    assert (msg);
    s_raw_t raw = {NULL, 0, 0, ""};
    uint8_t random[8];
    randombytes_buf (random, sizeof random);
    sodium_bin2hex (raw.nonce, sizeof raw.nonce, random, sizeof random);
    s_raw = &raw;
    json_t *json = gw_json_from_message (msg);
    s_raw = NULL;
    if (extra)
        json_object_update (json, (json_t *) extra);
    char *text = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    s_checked (text);
    if (raw.count == 0)
        return text;

    //  Splice: each placeholder is dumped as "\u0001<nonce>:<index>"
    char marker[32];
    int marker_size =
        snprintf (marker, sizeof marker, "\"\\u0001%s:", raw.nonce);
    size_t size = strlen (text) + 1;
    for (size_t i = 0; i < raw.count; i++)
        size += strlen (raw.texts[i]);
    char *out = (char *) s_checked (malloc (size));
    size_t used = 0;
    const char *cursor = text;
    const char *found;
    while ((found = strstr (cursor, marker))) {
        char *end;
        unsigned long index = strtoul (found + marker_size, &end, 10);
        if (*end != '"' || index >= raw.count)
            break;  //  cannot happen: we wrote every placeholder
        memcpy (out + used, cursor, (size_t) (found - cursor));
        used += (size_t) (found - cursor);
        size_t length = strlen (raw.texts[index]);
        memcpy (out + used, raw.texts[index], length);
        used += length;
        cursor = end + 1;
    }
    size_t rest = strlen (cursor);
    memcpy (out + used, cursor, rest + 1);
    free (text);
    free (raw.texts);
    return out;
}

//  ---------------------------------------------------------------------
//  Self test, with the project's generated messages, plus a hand-made
//  proto2-style descriptor for what protoc-c generates from no Guichet
//  .proto yet (optional with has_, oneof, required, defaults, uint64,
//  floating point, repeated bytes)

#include "dossiers.pb-c.h"
#include "accounts.pb-c.h"
#include "envelope.pb-c.h"

//  Collects errors as "field=message;" for comparison
typedef struct {
    char text[1024];
    int count;
} s_test_errors_t;

static void
s_test_on_error (void *ctx, const char *field, const char *message)
{
    s_test_errors_t *self = ctx;
    size_t len = strlen (self->text);
    snprintf (self->text + len, sizeof self->text - len, "%s=%s;", field,
              message);
    self->count++;
}

//  Decode JSON text; the errors are left in *errors
static ProtobufCMessage *
s_test_decode (const char *text, const ProtobufCMessageDescriptor *desc,
               const char *const *forbidden, s_test_errors_t *errors)
{
    memset (errors, 0, sizeof *errors);
    //  JSON_ALLOW_NUL to reach the codec's own check of \u0000
    json_error_t parse_error;
    json_t *json =
        json_loads (text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);
    if (!json)
        fprintf (stderr, "\n%s: %s\n", text, parse_error.text);
    assert (json);
    ProtobufCMessage *msg =
        gw_json_to_message (json, desc, forbidden, s_test_on_error, errors);
    json_decref (json);
    assert ((msg == NULL) == (errors->count > 0));
    return msg;
}

//  Decode text that must fail with exactly these errors
static void
s_test_refuse (const char *text, const ProtobufCMessageDescriptor *desc,
               const char *const *forbidden, const char *expected)
{
    s_test_errors_t errors;
    ProtobufCMessage *msg = s_test_decode (text, desc, forbidden, &errors);
    if (msg || strcmp (errors.text, expected) != 0) {
        fprintf (stderr, "\n%s: got '%s', expected '%s'\n", text, errors.text,
                 expected);
        assert (false);
    }
}

//  True if the message encodes to the JSON text given
static bool
s_test_encodes_to (const ProtobufCMessage *msg, const char *text)
{
    json_t *expected = json_loads (text, JSON_DECODE_ANY, NULL);
    assert (expected);
    json_t *json = gw_json_from_message (msg);
    bool equal = json_equal (json, expected);
    if (!equal) {
        char *dump = json_dumps (json, JSON_COMPACT);
        fprintf (stderr, "\nencoded %s\nexpected %s\n", dump, text);
        free (dump);
    }
    json_decref (json);
    json_decref (expected);
    return equal;
}

//  Pack the message with protobuf-c, unpack it, and check both encode the
//  same: proves decoded messages are valid for the bus
static void
s_test_wire_round_trip (const ProtobufCMessage *msg)
{
    assert (protobuf_c_message_check (msg));
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *wire = s_checked (malloc (size ? size : 1));
    assert (protobuf_c_message_pack (msg, wire) == size);
    ProtobufCMessage *copy =
        protobuf_c_message_unpack (msg->descriptor, NULL, size, wire);
    assert (copy);
    json_t *before = gw_json_from_message (msg);
    json_t *after = gw_json_from_message (copy);
    assert (json_equal (before, after));
    json_decref (before);
    json_decref (after);
    protobuf_c_message_free_unpacked (copy, NULL);
    free (wire);
}

//  Hand-made message, laid out as protoc-c lays out this proto2 message:
//    message Test {
//      optional int32 count = 1;
//      optional string note = 2 [default = "hi"];
//      optional uint64 big = 3;
//      repeated bytes blobs = 4;
//      required FieldError req = 5;
//      optional float ratio = 6;
//      optional double scale = 7;
//      oneof pick { string label = 8; int64 num = 9; FieldError sub = 10; }
//    }
typedef struct {
    ProtobufCMessage base;
    protobuf_c_boolean has_count;
    int32_t count;
    char *note;
    protobuf_c_boolean has_big;
    uint64_t big;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    Gch__FieldError *req;
    protobuf_c_boolean has_ratio;
    float ratio;
    protobuf_c_boolean has_scale;
    double scale;
    uint32_t pick_case;
    union {
        char *label;
        int64_t num;
        Gch__FieldError *sub;
    };
} s_test_message_t;

static char s_test_note_default[] = "hi";

static const ProtobufCFieldDescriptor s_test_fields[] = {
    {.name = "count",
     .id = 1,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_INT32,
     .quantifier_offset = offsetof (s_test_message_t, has_count),
     .offset = offsetof (s_test_message_t, count)},
    {.name = "note",
     .id = 2,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_STRING,
     .offset = offsetof (s_test_message_t, note),
     .default_value = s_test_note_default},
    {.name = "big",
     .id = 3,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_UINT64,
     .quantifier_offset = offsetof (s_test_message_t, has_big),
     .offset = offsetof (s_test_message_t, big)},
    {.name = "blobs",
     .id = 4,
     .label = PROTOBUF_C_LABEL_REPEATED,
     .type = PROTOBUF_C_TYPE_BYTES,
     .quantifier_offset = offsetof (s_test_message_t, n_blobs),
     .offset = offsetof (s_test_message_t, blobs)},
    {.name = "req",
     .id = 5,
     .label = PROTOBUF_C_LABEL_REQUIRED,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .offset = offsetof (s_test_message_t, req),
     .descriptor = &gch__field_error__descriptor},
    {.name = "ratio",
     .id = 6,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_FLOAT,
     .quantifier_offset = offsetof (s_test_message_t, has_ratio),
     .offset = offsetof (s_test_message_t, ratio)},
    {.name = "scale",
     .id = 7,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_DOUBLE,
     .quantifier_offset = offsetof (s_test_message_t, has_scale),
     .offset = offsetof (s_test_message_t, scale)},
    {.name = "label",
     .id = 8,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_STRING,
     .quantifier_offset = offsetof (s_test_message_t, pick_case),
     .offset = offsetof (s_test_message_t, label),
     .flags = PROTOBUF_C_FIELD_FLAG_ONEOF},
    {.name = "num",
     .id = 9,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_INT64,
     .quantifier_offset = offsetof (s_test_message_t, pick_case),
     .offset = offsetof (s_test_message_t, num),
     .flags = PROTOBUF_C_FIELD_FLAG_ONEOF},
    {.name = "sub",
     .id = 10,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .quantifier_offset = offsetof (s_test_message_t, pick_case),
     .offset = offsetof (s_test_message_t, sub),
     .descriptor = &gch__field_error__descriptor,
     .flags = PROTOBUF_C_FIELD_FLAG_ONEOF},
};

//  Indices of s_test_fields in name order
static const unsigned s_test_fields_by_name[] = {2, 3, 0, 7, 1, 8, 5, 4, 6, 9};

static const ProtobufCIntRange s_test_ranges[] = {{1, 0}, {0, 10}};

static void s_test_message_init (ProtobufCMessage *msg);

static const ProtobufCMessageDescriptor s_test_descriptor = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "gw_json.Test",
    .short_name = "Test",
    .c_name = "s_test_message_t",
    .package_name = "gw_json",
    .sizeof_message = sizeof (s_test_message_t),
    .n_fields = 10,
    .fields = s_test_fields,
    .fields_sorted_by_name = s_test_fields_by_name,
    .n_field_ranges = 1,
    .field_ranges = s_test_ranges,
    .message_init = s_test_message_init,
};

static void
s_test_message_init (ProtobufCMessage *msg)
{
    s_test_message_t *self = (s_test_message_t *) msg;
    memset (self, 0, sizeof *self);
    self->base.descriptor = &s_test_descriptor;
    self->note = s_test_note_default;
}

void
gw_json_test (bool verbose)
{
    printf (" * gw_json: ");
    s_test_errors_t errors;
    const char *error = NULL;

    //  DossierCreate: form is any JSON value, carried compactly in form_json
    const char *create_text =
        "{\"procedure\": \"tranquillite-vacances\", \"submit\": true,"
        " \"form\": {\"depart\": \"2026-07-01\", \"animaux\": [1, 2.5, null],"
        " \"adresse\": {\"rue\": \"1 rue de l'Été\"}}}";
    Gch__DossierCreate *create = (Gch__DossierCreate *) s_test_decode (
        create_text, &gch__dossier_create__descriptor, NULL, &errors);
    assert (create);
    assert (strcmp (create->procedure, "tranquillite-vacances") == 0);
    assert (create->submit);
    assert (strcmp (create->form_json,
                    "{\"depart\":\"2026-07-01\",\"animaux\":[1,2.5,null],"
                    "\"adresse\":{\"rue\":\"1 rue de l'Été\"}}") == 0);
    assert (s_test_encodes_to (&create->base, create_text));
    s_test_wire_round_trip (&create->base);
    //  Encoding: an empty or corrupt document reads null
    free (create->form_json);
    create->form_json = s_checked (strdup ("{not json"));
    assert (s_test_encodes_to (&create->base,
                               "{\"procedure\": \"tranquillite-vacances\","
                               " \"form\": null, \"submit\": true}"));
    protobuf_c_message_free_unpacked (&create->base, NULL);

    create = (Gch__DossierCreate *) s_test_decode (
        "{\"form\": [\"a\", {\"b\": false}]}", &gch__dossier_create__descriptor,
        NULL, &errors);
    assert (create);
    assert (strcmp (create->form_json, "[\"a\",{\"b\":false}]") == 0);
    protobuf_c_message_free_unpacked (&create->base, NULL);

    //  Null leaves the default; defaults are emitted, so shapes are stable
    create = (Gch__DossierCreate *) s_test_decode (
        "{\"form\": null, \"procedure\": null}",
        &gch__dossier_create__descriptor, NULL, &errors);
    assert (create);
    assert (create->form_json == protobuf_c_empty_string);
    assert (s_test_encodes_to (
        &create->base,
        "{\"procedure\": \"\", \"form\": null, \"submit\": false}"));
    protobuf_c_message_free_unpacked (&create->base, NULL);

    //  Caller: 64-bit integer from a string, enum by name, repeated strings
    Gch__Caller *caller = (Gch__Caller *) s_test_decode (
        "{\"id\": \"9007199254740993\", \"kind\": \"CALLER_AGENT\","
        " \"roles\": [\"instructeur\", \"admin\"],"
        " \"services\": [\"police-municipale\"], \"communes\": [],"
        " \"name\": \"Agent Démo\"}",
        &gch__caller__descriptor, NULL, &errors);
    assert (caller);
    assert (caller->id == 9007199254740993LL);
    assert (caller->kind == GCH__CALLER_KIND__CALLER_AGENT);
    assert (caller->n_roles == 2);
    assert (strcmp (caller->roles[1], "admin") == 0);
    assert (caller->n_communes == 0 && caller->communes == NULL);
    assert (s_test_encodes_to (
        &caller->base,
        "{\"id\": 9007199254740993, \"kind\": \"CALLER_AGENT\","
        " \"roles\": [\"instructeur\", \"admin\"],"
        " \"services\": [\"police-municipale\"], \"communes\": [],"
        " \"name\": \"Agent Démo\", \"address\": \"\"}"));
    s_test_wire_round_trip (&caller->base);
    //  Encoding: an enum value unknown to us goes out as its number, and
    //  invalid UTF-8 from a service is repaired, not fatal
    caller->kind = 42;
    free (caller->name);
    caller->name = s_checked (strdup ("caf\xC3"));
    json_t *json = gw_json_from_message (&caller->base);
    assert (json_integer_value (json_object_get (json, "kind")) == 42);
    assert (strcmp (json_string_value (json_object_get (json, "name")),
                    "caf\xEF\xBF\xBD") == 0);
    json_decref (json);
    protobuf_c_message_free_unpacked (&caller->base, NULL);

    //  64-bit limits, as integers and as strings
    caller =
        (Gch__Caller *) s_test_decode ("{\"id\": \"-9223372036854775808\"}",
                                       &gch__caller__descriptor, NULL, &errors);
    assert (caller && caller->id == INT64_MIN);
    protobuf_c_message_free_unpacked (&caller->base, NULL);
    caller =
        (Gch__Caller *) s_test_decode ("{\"id\": 9223372036854775807}",
                                       &gch__caller__descriptor, NULL, &errors);
    assert (caller && caller->id == INT64_MAX);
    protobuf_c_message_free_unpacked (&caller->base, NULL);
    s_test_refuse ("{\"id\": \"9223372036854775808\"}",
                   &gch__caller__descriptor, NULL, "id=valeur hors limites;");
    s_test_refuse ("{\"id\": \"99999999999999999999\"}",
                   &gch__caller__descriptor, NULL, "id=valeur hors limites;");
    s_test_refuse ("{\"id\": \"12abc\"}", &gch__caller__descriptor, NULL,
                   "id=type attendu : entier;");
    s_test_refuse ("{\"id\": \" 12\"}", &gch__caller__descriptor, NULL,
                   "id=type attendu : entier;");
    s_test_refuse ("{\"id\": \"+12\"}", &gch__caller__descriptor, NULL,
                   "id=type attendu : entier;");
    s_test_refuse ("{\"id\": \"\"}", &gch__caller__descriptor, NULL,
                   "id=type attendu : entier;");
    s_test_refuse ("{\"id\": \"-\"}", &gch__caller__descriptor, NULL,
                   "id=type attendu : entier;");

    //  Wrong types: every faulty field is reported, array elements by index
    s_test_refuse ("{\"kind\": \"CALLER_BOSS\", \"roles\": [\"a\", 3, null],"
                   " \"id\": 1.5, \"name\": 42, \"address\": \"a\\u0000b\"}",
                   &gch__caller__descriptor, NULL,
                   "kind=valeur inconnue;roles[1]=type attendu : chaîne;"
                   "roles[2]=type attendu : chaîne;id=type attendu : entier;"
                   "name=type attendu : chaîne;"
                   "address=caractère nul interdit;");
    s_test_refuse ("{\"kind\": 2, \"services\": \"admin\", \"id\": true}",
                   &gch__caller__descriptor, NULL,
                   "kind=type attendu : chaîne;"
                   "services=type attendu : tableau;"
                   "id=type attendu : entier;");
    s_test_refuse ("{\"submit\": \"true\"}", &gch__dossier_create__descriptor,
                   NULL, "submit=type attendu : booléen;");
    s_test_refuse ("[]", &gch__caller__descriptor, NULL,
                   "=JSON attendu : objet;");
    s_test_refuse ("null", &gch__caller__descriptor, NULL,
                   "=JSON attendu : objet;");
    //  NULL callback: failure still reported by the NULL return
    assert (!gw_json_to_message (json_null (), &gch__caller__descriptor, NULL,
                                 NULL, NULL));

    //  Unknown fields, including the protobuf name of an embedded document
    s_test_refuse ("{\"procedure\": \"x\", \"form_json\": \"{}\", \"nope\": 1}",
                   &gch__dossier_create__descriptor, NULL,
                   "form_json=champ inconnu;nope=champ inconnu;");

    //  Forbidden fields read as unknown, by JSON or by protobuf name
    const char *const forbid_id[] = {"id", NULL};
    const char *const forbid_form[] = {"form_json", NULL};
    s_test_refuse ("{\"id\": 5, \"form\": {}}",
                   &gch__dossier_update__descriptor, forbid_id,
                   "id=champ inconnu;");
    s_test_refuse ("{\"id\": 5, \"form\": {}}",
                   &gch__dossier_update__descriptor, forbid_form,
                   "form=champ inconnu;");
    Gch__DossierUpdate *update = (Gch__DossierUpdate *) s_test_decode (
        "{\"form\": {\"a\": 1}}", &gch__dossier_update__descriptor, forbid_id,
        &errors);
    assert (update && update->id == 0);
    protobuf_c_message_free_unpacked (&update->base, NULL);

    //  32-bit range
    s_test_refuse ("{\"limit\": 2147483648}",
                   &gch__dossier_list_mine__descriptor, NULL,
                   "limit=valeur hors limites;");
    s_test_refuse ("{\"limit\": -2147483649}",
                   &gch__dossier_list_mine__descriptor, NULL,
                   "limit=valeur hors limites;");
    s_test_refuse ("{\"limit\": \"20\"}", &gch__dossier_list_mine__descriptor,
                   NULL, "limit=type attendu : entier;");
    Gch__DossierListMine *list = (Gch__DossierListMine *) s_test_decode (
        "{\"limit\": -2147483648, \"before_id\": -1}",
        &gch__dossier_list_mine__descriptor, NULL, &errors);
    assert (list && list->limit == INT32_MIN && list->before_id == -1);
    protobuf_c_message_free_unpacked (&list->base, NULL);

    //  Reply: repeated submessages, bytes in base64
    const char *reply_text =
        "{\"status\": 10, \"message\": \"Formulaire incomplet\","
        " \"fields\": [{\"name\": \"form.depart\", \"message\": "
        "\"obligatoire\"},"
        " {\"name\": \"form.rue\", \"message\": \"trop long\"}],"
        " \"body\": \"AAECAwT/\"}";
    Gch__Reply *reply = (Gch__Reply *) s_test_decode (
        reply_text, &gch__reply__descriptor, NULL, &errors);
    assert (reply);
    assert (reply->status == 10);
    assert (reply->n_fields == 2);
    assert (strcmp (reply->fields[1]->message, "trop long") == 0);
    assert (reply->body.len == 6);
    assert (memcmp (reply->body.data, "\x00\x01\x02\x03\x04\xFF", 6) == 0);
    assert (s_test_encodes_to (&reply->base, reply_text));
    s_test_wire_round_trip (&reply->base);
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    reply = (Gch__Reply *) s_test_decode (
        "{\"body\": \"\"}", &gch__reply__descriptor, NULL, &errors);
    assert (reply && reply->body.len == 0 && reply->body.data == NULL);
    assert (s_test_encodes_to (&reply->base,
                               "{\"status\": 0, \"message\": \"\","
                               " \"fields\": [], \"body\": \"\"}"));
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    //  Errors inside submessages and arrays are named by their path, and
    //  the partly decoded message is freed (no leak under ASan)
    s_test_refuse ("{\"fields\": [{\"name\": \"a\", \"bogus\": 1}, 3, null,"
                   " {\"message\": [] }], \"body\": \"***\", \"status\": 1e3}",
                   &gch__reply__descriptor, NULL,
                   "fields[0].bogus=champ inconnu;"
                   "fields[1]=type attendu : objet;"
                   "fields[2]=type attendu : objet;"
                   "fields[3].message=type attendu : chaîne;"
                   "body=base64 invalide;status=type attendu : entier;");
    s_test_refuse ("{\"body\": \"AAE\"}", &gch__reply__descriptor, NULL,
                   "body=base64 invalide;");
    s_test_refuse ("{\"body\": 12}", &gch__reply__descriptor, NULL,
                   "body=type attendu : chaîne base64;");

    //  Request: a nested message, absent reads null
    s_test_refuse ("{\"caller\": {\"id\": 7, \"x\": 1}, \"body\": \"\"}",
                   &gch__request__descriptor, NULL, "caller.x=champ inconnu;");
    s_test_refuse ("{\"caller\": \"me\"}", &gch__request__descriptor, NULL,
                   "caller=type attendu : objet;");
    Gch__Request *request = (Gch__Request *) s_test_decode (
        "{\"method\": \"dossier.get\", \"caller\": {\"kind\": "
        "\"CALLER_CITIZEN\"}}",
        &gch__request__descriptor, NULL, &errors);
    assert (request && request->caller);
    assert (request->caller->kind == GCH__CALLER_KIND__CALLER_CITIZEN);
    s_test_wire_round_trip (&request->base);
    protobuf_c_message_free_unpacked (&request->caller->base, NULL);
    request->caller = NULL;
    assert (s_test_encodes_to (
        &request->base,
        "{\"method\": \"dossier.get\", \"caller\": null, \"request_id\": \"\","
        " \"deadline_ms\": 0, \"idempotency_key\": \"\", \"body\": \"\"}"));
    protobuf_c_message_free_unpacked (&request->base, NULL);

    //  Dossier, the biggest reply, round trips through JSON and the wire
    const char *dossier_text =
        "{\"id\": 12, \"number\": \"2026-000123\", \"procedure\": \"otv\","
        " \"procedure_version\": 2, \"procedure_title\": \"OTV\","
        " \"status\": \"submitted\", \"status_label\": \"Déposé\","
        " \"citizen_id\": 3, \"service\": \"police-municipale\","
        " \"form\": {\"a\": [true]}, \"created_ms\": 1767225600000,"
        " \"submitted_ms\": 1767225600001, \"updated_ms\": 1767225600002,"
        " \"history\": [{\"seq\": 1, \"at_ms\": 5, \"actor_kind\": \"citizen\","
        " \"actor_name\": \"U\", \"from_status\": \"draft\","
        " \"to_status\": \"submitted\", \"comment\": \"\", \"hash\": \"ab\", "
        "\"actor_id\": 7}],"
        " \"transitions\": [{\"name\": \"refuse\", \"to\": \"refused\","
        " \"label\": \"Refuser\", \"from\": [\"submitted\", "
        "\"in_instruction\"],"
        " \"roles\": [\"instructeur\"], \"comment_required\": true}], "
        "\"revision\": 0, \"commune\": \"\", \"pole\": \"\", \"deadline_ms\": "
        "0,"
        " \"deadline_label\": \"\", \"documents\": [], \"editable\": [],"
        " \"payment_cents\": 0, \"awaiting_citizen\": false}";
    Gch__Dossier *dossier = (Gch__Dossier *) s_test_decode (
        dossier_text, &gch__dossier__descriptor, NULL, &errors);
    assert (dossier);
    assert (dossier->transitions[0]->n_from == 2);
    assert (s_test_encodes_to (&dossier->base, dossier_text));
    if (verbose) {
        json = gw_json_from_message (&dossier->base);
        char *dump = json_dumps (json, JSON_COMPACT);
        printf ("\n%s\n", dump);
        free (dump);
        json_decref (json);
    }
    s_test_wire_round_trip (&dossier->base);
    protobuf_c_message_free_unpacked (&dossier->base, NULL);

    //  gw_json_set_field, for URL path and query parameters
    Gch__DossierRef ref = GCH__DOSSIER_REF__INIT;
    assert (gw_json_set_field (&ref.base, "id", "42", &error) == 0);
    assert (ref.id == 42);
    assert (gw_json_set_field (&ref.base, "id", "abc", &error) == -1);
    assert (strcmp (error, "type attendu : entier") == 0);
    assert (ref.id == 42);
    assert (gw_json_set_field (&ref.base, "id", "", &error) == -1);
    assert (gw_json_set_field (&ref.base, "id", " 1", &error) == -1);
    assert (gw_json_set_field (&ref.base, "id", "-9223372036854775809",
                               &error) == -1);
    assert (strcmp (error, "valeur hors limites") == 0);
    assert (gw_json_set_field (&ref.base, "nope", "1", &error) == -1);
    assert (strcmp (error, "champ inconnu") == 0);
    assert (gw_json_set_field (&ref.base, "nope", "1", NULL) == -1);

    Gch__DossierListMine *mine = (Gch__DossierListMine *) s_message_new (
        &gch__dossier_list_mine__descriptor);
    assert (gw_json_set_field (&mine->base, "limit", "2147483648", &error) ==
            -1);
    assert (strcmp (error, "valeur hors limites") == 0);
    assert (gw_json_set_field (&mine->base, "limit", "-20", &error) == 0);
    assert (mine->limit == -20);
    protobuf_c_message_free_unpacked (&mine->base, NULL);

    Gch__ProcedureList *procedures =
        (Gch__ProcedureList *) s_message_new (&gch__procedure_list__descriptor);
    assert (gw_json_set_field (&procedures->base, "q", "vacances", &error) ==
            0);
    assert (gw_json_set_field (&procedures->base, "q", "été", &error) == 0);
    assert (strcmp (procedures->q, "été") == 0);
    assert (gw_json_set_field (&procedures->base, "q", "\xFF", &error) == -1);
    assert (strcmp (error, "texte UTF-8 invalide") == 0);
    assert (strcmp (procedures->q, "été") == 0);
    protobuf_c_message_free_unpacked (&procedures->base, NULL);

    create =
        (Gch__DossierCreate *) s_message_new (&gch__dossier_create__descriptor);
    assert (gw_json_set_field (&create->base, "submit", "true", &error) == 0);
    assert (create->submit);
    assert (gw_json_set_field (&create->base, "submit", "0", &error) == 0);
    assert (!create->submit);
    assert (gw_json_set_field (&create->base, "submit", "oui", &error) == -1);
    assert (strcmp (error, "type attendu : booléen") == 0);
    assert (gw_json_set_field (&create->base, "form", " { \"a\" : 1 } ",
                               &error) == 0);
    assert (strcmp (create->form_json, "{\"a\":1}") == 0);
    assert (gw_json_set_field (&create->base, "form_json", "[]", &error) == 0);
    assert (strcmp (create->form_json, "[]") == 0);
    assert (gw_json_set_field (&create->base, "form", "{bad", &error) == -1);
    assert (strcmp (error, "JSON invalide") == 0);
    protobuf_c_message_free_unpacked (&create->base, NULL);

    caller = (Gch__Caller *) s_message_new (&gch__caller__descriptor);
    assert (gw_json_set_field (&caller->base, "kind", "CALLER_SYSTEM",
                               &error) == 0);
    assert (caller->kind == GCH__CALLER_KIND__CALLER_SYSTEM);
    assert (gw_json_set_field (&caller->base, "kind", "SYSTEM", &error) == -1);
    assert (strcmp (error, "valeur inconnue") == 0);
    assert (gw_json_set_field (&caller->base, "roles", "a", &error) == 0);
    assert (gw_json_set_field (&caller->base, "roles", "b", &error) == 0);
    assert (caller->n_roles == 2 && strcmp (caller->roles[1], "b") == 0);
    s_test_wire_round_trip (&caller->base);
    protobuf_c_message_free_unpacked (&caller->base, NULL);

    reply = (Gch__Reply *) s_message_new (&gch__reply__descriptor);
    assert (gw_json_set_field (&reply->base, "body", "AAEC", &error) == 0);
    assert (gw_json_set_field (&reply->base, "body", "AAECAw==", &error) == 0);
    assert (reply->body.len == 4);
    assert (gw_json_set_field (&reply->base, "body", "A", &error) == -1);
    assert (strcmp (error, "base64 invalide") == 0);
    assert (gw_json_set_field (&reply->base, "fields", "x", &error) == -1);
    assert (strcmp (error, "type non pris en charge") == 0);
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    //  proto2 shapes: has_ flags, defaults, required, oneof, uint64 beyond
    //  int64, float and double, repeated bytes
    s_test_message_t *test = (s_test_message_t *) s_test_decode (
        "{\"count\": 0, \"big\": \"18446744073709551615\","
        " \"blobs\": [\"AA==\", \"\"], \"req\": {\"name\": \"n\"},"
        " \"ratio\": 0.5, \"scale\": 3, \"num\": \"-5\", \"label\": null}",
        &s_test_descriptor, NULL, &errors);
    assert (test);
    assert (test->has_count && test->count == 0);
    assert (test->note == s_test_note_default);
    assert (test->has_big && test->big == UINT64_MAX);
    assert (test->n_blobs == 2 && test->blobs[0].len == 1);
    assert (test->blobs[1].len == 0 && test->blobs[1].data == NULL);
    assert (test->has_ratio && test->ratio == 0.5f);
    assert (test->has_scale && test->scale == 3.0);
    assert (test->pick_case == 9 && test->num == -5);
    assert (s_test_encodes_to (
        &test->base,
        "{\"count\": 0, \"note\": \"hi\", \"big\": \"18446744073709551615\","
        " \"blobs\": [\"AA==\", \"\"],"
        " \"req\": {\"name\": \"n\", \"message\": \"\"}, \"ratio\": 0.5,"
        " \"scale\": 3.0, \"label\": null, \"num\": -5, \"sub\": null}"));
    s_test_wire_round_trip (&test->base);

    //  set_field on the same shapes
    assert (gw_json_set_field (&test->base, "note", "x", &error) == 0);
    assert (gw_json_set_field (&test->base, "note", "y", &error) == 0);
    assert (strcmp (test->note, "y") == 0);
    assert (gw_json_set_field (&test->base, "label", "z", &error) == -1);
    assert (strcmp (error, S_ERR_ONEOF) == 0);
    assert (gw_json_set_field (&test->base, "num", "6", &error) == 0);
    assert (test->num == 6);
    assert (gw_json_set_field (&test->base, "scale", "-2.5e3", &error) == 0);
    assert (test->scale == -2500.0);
    assert (gw_json_set_field (&test->base, "scale", "nan", &error) == -1);
    assert (strcmp (error, "type attendu : nombre") == 0);
    assert (gw_json_set_field (&test->base, "scale", "1e999", &error) == -1);
    assert (gw_json_set_field (&test->base, "scale", "0x10", &error) == -1);
    assert (gw_json_set_field (&test->base, "scale", "2.5x", &error) == -1);
    assert (gw_json_set_field (&test->base, "ratio", "1e39", &error) == -1);
    assert (strcmp (error, "valeur hors limites") == 0);
    assert (gw_json_set_field (&test->base, "big", "-1", &error) == -1);
    assert (gw_json_set_field (&test->base, "blobs", "AAE=", &error) == 0);
    assert (test->n_blobs == 3 && test->blobs[2].len == 2);
    assert (gw_json_set_field (&test->base, "req", "x", &error) == -1);
    s_test_wire_round_trip (&test->base);
    protobuf_c_message_free_unpacked (&test->base, NULL);

    test = (s_test_message_t *) s_message_new (&s_test_descriptor);
    assert (!test->has_count);
    assert (gw_json_set_field (&test->base, "count", "7", &error) == 0);
    assert (test->has_count && test->count == 7);
    assert (gw_json_set_field (&test->base, "label", "z", &error) == 0);
    assert (gw_json_set_field (&test->base, "label", "w", &error) == 0);
    assert (test->pick_case == 8 && strcmp (test->label, "w") == 0);
    assert (s_test_encodes_to (
        &test->base,
        "{\"count\": 7, \"note\": \"hi\", \"big\": null, \"blobs\": [],"
        " \"req\": null, \"ratio\": null, \"scale\": null, \"label\": \"w\","
        " \"num\": null, \"sub\": null}"));
    protobuf_c_message_free_unpacked (&test->base, NULL);

    s_test_refuse ("{\"req\": {}, \"label\": \"x\", \"num\": 1}",
                   &s_test_descriptor, NULL, "num=" S_ERR_ONEOF ";");
    //  The faulty oneof submessage is owned by the case, hence freed
    s_test_refuse ("{\"req\": {}, \"sub\": {\"bogus\": 1}, \"label\": \"x\"}",
                   &s_test_descriptor, NULL,
                   "sub.bogus=champ inconnu;label=" S_ERR_ONEOF ";");
    s_test_refuse ("{\"count\": 1}", &s_test_descriptor, NULL,
                   "req=champ obligatoire;");
    s_test_refuse ("{\"req\": {}, \"ratio\": 1e39, \"scale\": \"1\","
                   " \"big\": -1, \"blobs\": [\"AA==\", 1]}",
                   &s_test_descriptor, NULL,
                   "ratio=valeur hors limites;scale=type attendu : nombre;"
                   "big=valeur hors limites;"
                   "blobs[1]=type attendu : chaîne base64;");

    //  gw_json_encode: embedded documents copied as they are, extra keys
    //  merged, and a client's string that looks like a placeholder left alone
    {
        Gch__Dossier encoded = GCH__DOSSIER__INIT;
        encoded.number = (char *) "2026-000001";
        encoded.form_json = (char *) "{\"a\": [true, {\"b\": \"x\\\"y\"}]}";
        encoded.procedure = (char *) "\001deadbeefdeadbeef:0";
        json_t *extra = json_pack ("{s:s}", "message", "Enregistré");
        char *text = gw_json_encode (&encoded.base, extra);
        json_decref (extra);
        assert (strstr (text, "\"form\":{\"a\": [true, {\"b\": \"x\\\"y\"}]}"));
        json_t *back = json_loads (text, 0, NULL);
        assert (back);
        json_t *expected =
            json_loads ("{\"a\":[true,{\"b\":\"x\\\"y\"}]}", 0, NULL);
        assert (json_equal (json_object_get (back, "form"), expected));
        assert (strcmp (json_string_value (json_object_get (back, "procedure")),
                        "\001deadbeefdeadbeef:0") == 0);
        assert (strcmp (json_string_value (json_object_get (back, "message")),
                        "Enregistré") == 0);
        assert (json_is_null (json_object_get (back, "procedure_title")) ==
                false);
        json_decref (expected);
        //  The same message through the tree: the same JSON
        json_t *tree = gw_json_from_message (&encoded.base);
        json_object_del (back, "message");
        assert (json_equal (tree, back));
        json_decref (tree);
        json_decref (back);
        free (text);
        //  No document: null, and nothing to splice
        encoded.form_json = (char *) "";
        text = gw_json_encode (&encoded.base, NULL);
        back = json_loads (text, 0, NULL);
        assert (back && json_is_null (json_object_get (back, "form")));
        json_decref (back);
        free (text);
    }
    printf ("OK\n");
}
