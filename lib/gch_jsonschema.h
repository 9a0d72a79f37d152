//  gch_jsonschema - a JSON Schema validator for a documented subset of
//  draft 2020-12, on jansson.
//
//  A schema is compiled once (gch_jsonschema_new or _load), then validates
//  any number of instances. Compiling refuses, with an error naming the
//  keyword and its place in the schema, anything outside the subset below:
//  no rule of a schema is ever silently ignored.
//
//  The subset:
//  - annotations, accepted and ignored: $comment, title, description,
//    default, examples, deprecated, readOnly, format (not asserted); $schema
//    if it names draft 2020-12; $id at the root only.
//  - $defs and $ref to a place in the same document: "#", "#/json/pointer"
//    (~0 ~1 and %XX escapes), or the root's $id followed by either. A cycle
//    of references that never descends into the instance is refused.
//  - type (integer: a JSON integer or a real without fraction), enum,
//    const (numbers compare by value: 1 equals 1.0).
//  - objects: properties, required, additionalProperties,
//    patternProperties, propertyNames, minProperties, maxProperties,
//    dependentRequired, dependentSchemas.
//  - arrays: items (2020-12: the items after prefixItems), prefixItems,
//    minItems, maxItems, uniqueItems, contains, minContains, maxContains.
//  - strings: minLength, maxLength (in code points), pattern.
//  - numbers: minimum, maximum, exclusiveMinimum, exclusiveMaximum,
//    multipleOf.
//  - allOf, anyOf, oneOf, not, if/then/else; boolean schemas.
//
//  Patterns are ECMA-262 regular expressions, translated to POSIX extended
//  ones run by the C library in the C.UTF-8 character set (one code point
//  per character). Translated: ^ $ . | groups (capturing, (?:...) and
//  named), * + ? {n} {n,} {n,m} (lazy forms too: only whether a match
//  exists matters), classes [...] [^...] with ranges, \d \w \s \D \W \S
//  inside and outside classes (ASCII \d \w, ECMA's \s), \t \n \v \f \r \cX
//  \xHH \uHHHH (and surrogate pairs), escaped punctuation. Refused as
//  unsupported: lookahead, lookbehind, backreferences, \b \B, \p{...},
//  \u{...}, \0 and octal escapes, the empty class [], \D \W \S inside a
//  negated class, ranges of more than 256 non-ASCII characters, counts
//  above 1000. A pattern matches anywhere in the string unless anchored.
//  Strings are matched up to their first U+0000, if any.
//
//  Errors name a place in the instance: object keys joined with '.',
//  array indexes in brackets, "" for the root ("form.pages[2].type"), and
//  say what is wrong in short English ("is required", "must be an
//  integer", "unknown key", "must match ^[a-z]+$"). They come in document
//  order (a value's own errors before its children's, missing keys first),
//  each once. anyOf and oneOf report one error at the value itself;
//  if/then/else reports the errors of the branch taken. Errors in a key
//  name (propertyNames) start with "key ". Nesting deeper than 256 levels,
//  or more than 64 references followed without descending into the
//  instance, is reported as an error.
//
//  A compiled schema is read-only: several threads may validate with it
//  at once.
#ifndef GCH_JSONSCHEMA_H_INCLUDED
#define GCH_JSONSCHEMA_H_INCLUDED

#include <jansson.h>

typedef struct _gch_jsonschema_t gch_jsonschema_t;

//  Called once per validation error: path is the place in the instance,
//  message says what is wrong. Both are borrowed for the call.
typedef void (gch_jsonschema_error_fn) (void *ctx, const char *path,
                                        const char *message);

//  Compile a schema (borrowed: the compiled object keeps a reference, and
//  the schema must not be changed afterwards). Returns NULL if the schema
//  uses a keyword outside the subset, a bad regular expression, an
//  unresolvable $ref or a malformed keyword value; then *error_p (if
//  error_p is not NULL; caller frees) says what and where, starting with
//  "unsupported" for what is outside the subset, "invalid" otherwise.
gch_jsonschema_t *gch_jsonschema_new (json_t *schema, char **error_p);

//  Same, from a JSON file (duplicate keys refused); errors start with the
//  file's path.
gch_jsonschema_t *gch_jsonschema_load (const char *path, char **error_p);

void gch_jsonschema_destroy (gch_jsonschema_t **self_p);

//  Validate instance: calls fn (may be NULL) with ctx for every error, in
//  document order. Returns the number of errors (0 = valid).
size_t gch_jsonschema_validate (gch_jsonschema_t *self, const json_t *instance,
                                gch_jsonschema_error_fn *fn, void *ctx);

//  Self-test: targeted cases, then the JSON Schema Test Suite's
//  draft2020-12 files for the keywords of the subset if the suite is
//  installed (Debian package libtest-json-schema-acceptance-perl), or at
//  $GCH_JSONSCHEMA_SUITE (the suite's root or its draft2020-12 folder).
void gch_jsonschema_test (bool verbose);

#endif
