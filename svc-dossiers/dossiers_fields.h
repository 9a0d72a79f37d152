//  dossiers_fields - value checkers for form fields, one per field type of
//  the procedure definitions, with French messages for citizens. Pure
//  functions: no clock, no catalog, no allocation but the normalised values.
//
//  Conventions shared by every checker:
//
//  - value is borrowed. NULL or JSON null gives "Ce champ est obligatoire.":
//    the engine decides before calling whether a missing value is allowed.
//  - The result is NULL if the value is valid, else a French message: a
//    string literal, never freed, one per distinct fault.
//  - normal_p (may be NULL) receives, when the value is valid, a new
//    reference to its normalised form (the caller decrefs it), and NULL when
//    it is not. Checkers without normal_p store the value as it is.
//  - Bounds are inclusive; for no bound pass the widest value (INT_MAX,
//    INT64_MIN / INT64_MAX, -HUGE_VAL / HUGE_VAL, SIZE_MAX) or NULL for a
//    date bound or a type list.
//  - Code-like strings (e-mail, phone, postcode, INSEE, plate, IBAN, SIRET,
//    SIREN, amounts, decimals) may come with white space around them,
//    including the no-break spaces of French copy-paste (U+00A0, U+202F,
//    U+2009); free text (text, longtext) and dates are taken as they are.
#ifndef DOSSIERS_FIELDS_H_INCLUDED
#define DOSSIERS_FIELDS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Largest amount accepted, in cents (one billion euros).
#define DOSSIERS_MONEY_MAX 100000000000LL

//  Says whether the commune `insee` is in the catalog of communes and
//  matches `postcode` (both normalised). ctx is the caller's.
typedef bool (dossiers_commune_fn) (void *ctx, const char *insee,
                                    const char *postcode);

//  Length of text (UTF-8) in code points between min_length and
//  max_length; also refuses invalid UTF-8.
const char *dossiers_check_length (const char *text, int min_length,
                                   int max_length);

//  [text] One line of text: a string without control characters, of
//  min_length to max_length code points. With min_length > 0, blank text
//  counts as missing.
const char *dossiers_check_text (const json_t *value, int min_length,
                                 int max_length);

//  [longtext] Like text, line breaks and tabs allowed.
const char *dossiers_check_longtext (const json_t *value, int min_length,
                                     int max_length);

//  [email] One address: a local part of 1 to 64 characters (letters,
//  digits, !#$%&'*+/=?^_`{|}~.- without a leading, trailing or double dot),
//  @, a domain of at least two labels [A-Za-z0-9-] of 1 to 63 characters
//  not starting or ending with '-', the last one not all digits; 254
//  characters at most. Normalised: trimmed, domain in lower case.
const char *dossiers_check_email (const json_t *value, json_t **normal_p);

//  [phone] A French number of 10 digits, 0 then 1-9 ("05 49 12 34 56",
//  separators space . - ( ) allowed), or +33 / 0033 and 9 digits (an extra
//  0 or "(0)" after +33 is tolerated): normalised "0549123456". Any other
//  "+<country><number>" or "00<country><number>" of 8 to 15 digits (E.164)
//  is normalised "+<digits>".
const char *dossiers_check_phone (const json_t *value, json_t **normal_p);

//  [integer] A JSON integer between min and max.
const char *dossiers_check_integer (const json_t *value, int64_t min,
                                    int64_t max);

//  [decimal] A JSON number, or a string "12,5" / "12.5" / "-1 250,75"
//  (groups of three digits may be separated by spaces) of 15 significant
//  digits at most, between min and max. Normalised: a JSON real.
const char *dossiers_check_decimal (const json_t *value, double min, double max,
                                    json_t **normal_p);

//  [money] An amount in cents: a JSON integer >= 0, or a string in euros
//  "25", "25,5", "25,00", "25.00", "1 250,50 €", "€ 12" (at most two
//  decimals). Between min and max cents, never above DOSSIERS_MONEY_MAX.
//  Normalised: JSON integer cents.
const char *dossiers_check_money (const json_t *value, int64_t min, int64_t max,
                                  json_t **normal_p);

//  True if text is a real calendar date "YYYY-MM-DD" of years 1900-2199.
bool dossiers_date_valid (const char *text);

//  True if bound is a date bound of the definitions: a real date
//  "YYYY-MM-DD" (any year from 0001), "today", or "today+N" / "today-N"
//  (N days, 1 to 5 digits).
bool dossiers_date_bound_valid (const char *bound);

//  Write into date (11 bytes) the date bound stands for, today being
//  `today` (a real date "YYYY-MM-DD", the caller's local date for the
//  citizen). Results are kept within 0001-01-01 .. 9999-12-31. bound must
//  pass dossiers_date_bound_valid.
void dossiers_date_resolve (const char *bound, const char *today, char *date);

//  Compare two real dates "YYYY-MM-DD": -1 if a is before b, 0 if equal,
//  1 if after.
int dossiers_date_compare (const char *a, const char *b);

//  [date] A real date "YYYY-MM-DD" of years 1900-2199, not before min nor
//  after max (date bounds, NULL for none). today is needed only if a bound
//  is relative ("today..."), else may be NULL.
const char *dossiers_check_date (const json_t *value, const char *min,
                                 const char *max, const char *today);

//  [boolean] JSON true or false.
const char *dossiers_check_boolean (const json_t *value);

//  [choice] A string among the nchoices choices.
const char *dossiers_check_choice (const json_t *value,
                                   const char *const *choices, size_t nchoices);

//  [multichoice] An array of distinct strings among the choices, of
//  min_count to max_count items.
const char *dossiers_check_multichoice (const json_t *value,
                                        const char *const *choices,
                                        size_t nchoices, size_t min_count,
                                        size_t max_count);

//  [postcode] A French code postal: 5 digits, departments 01-95, 97 (DOM)
//  or 98 (Monaco, COM). Spaces inside are dropped: normalised 5 digits.
const char *dossiers_check_postcode (const json_t *value, json_t **normal_p);

//  [insee] An INSEE commune code: department 01-19 or 21-95 and 3 digits,
//  2A or 2B and 3 digits, or 971-976 and 2 digits; the commune number is
//  not zero. Normalised: trimmed, "2a" in upper case.
const char *dossiers_check_insee (const json_t *value, json_t **normal_p);

//  [plate] A French registration: SIV "AB-123-CD" (letters without I, O,
//  U; not starting with SS; number 001-999), dashes, spaces or nothing
//  between the groups, any case: normalised "AB-123-CD". Or the older FNI
//  "1234 AB 56": 1-4 digits (no leading 0), 1-3 letters, department 01-95,
//  2A, 2B or 971-976: normalised with single spaces, upper case.
const char *dossiers_check_plate (const json_t *value, json_t **normal_p);

//  [iban] An IBAN (ISO 13616): country letters, 2 check digits, the length
//  of the country (known for the SEPA countries and French territories,
//  else 15 to 34), mod-97 check. Spaces allowed, any case: normalised
//  without spaces, upper case.
const char *dossiers_check_iban (const json_t *value, json_t **normal_p);

//  [siret] 14 digits (spaces allowed): a valid SIREN followed by the NIC,
//  Luhn check over the 14 digits, except La Poste's establishments (SIREN
//  356000000) whose digits may instead add up to a multiple of 5.
//  Normalised: 14 digits.
const char *dossiers_check_siret (const json_t *value, json_t **normal_p);

//  [siren] 9 digits (spaces allowed), Luhn check, not all zeros.
//  Normalised: 9 digits.
const char *dossiers_check_siren (const json_t *value, json_t **normal_p);

//  [address] An object {"street": text 1-200 characters, "complement"?:
//  text up to 200 characters (null or "" = none), "postcode": postcode,
//  "commune": INSEE code}; other keys are refused. If commune_known is not
//  NULL, it must accept (commune, postcode). key_p (may be NULL) receives
//  the key of the faulty member ("street", ...; an unknown key is borrowed
//  from value), or NULL when valid or when the fault is the whole value.
//  Normalised: the same object with postcode and commune normalised and no
//  empty complement.
const char *dossiers_check_address (const json_t *value,
                                    dossiers_commune_fn *commune_known,
                                    void *ctx, const char **key_p,
                                    json_t **normal_p);

//  [file] A reference to an uploaded attachment {"id": 1-64 characters
//  [A-Za-z0-9_-], "name": file name of 1-255 characters without '/', '\',
//  control characters, nor "." / "..", "type": MIME type "type/subtype",
//  "size": bytes >= 1}, nothing else. The type must be one of the ntypes
//  types (case-insensitive; "image/*" allows every image; types NULL =
//  any), size at most max_size.
const char *dossiers_check_file (const json_t *value, const char *const *types,
                                 size_t ntypes, int64_t max_size);

//  [files] An array of min_count to max_count file references, each one
//  checked as above, no id twice.
const char *dossiers_check_files (const json_t *value, const char *const *types,
                                  size_t ntypes, int64_t max_size,
                                  size_t min_count, size_t max_count);

//  Self-test: valid and invalid values of every type, messages and
//  normalised forms.
void dossiers_fields_test (bool verbose);

#endif
