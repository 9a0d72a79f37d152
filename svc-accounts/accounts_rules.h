//  accounts_rules - the input rules of svc-accounts, as pure functions: the
//  password policy, display names, INSEE commune codes, role and service
//  codes. No database, no bus: the handlers call these while validating and
//  turn a non-NULL answer into a per-field error; accounts_rules_test covers
//  them all (run by svc-accounts_selftest).
//
//  To add a rule: one function here returning NULL when the value is
//  acceptable, else the French message for the field; a case in the test.
#ifndef ACCOUNTS_RULES_H_INCLUDED
#define ACCOUNTS_RULES_H_INCLUDED

#define ACCOUNTS_PASSWORD_MIN 10   //  characters
#define ACCOUNTS_PASSWORD_MAX 256  //  characters
#define ACCOUNTS_NAME_MAX 100      //  characters of a display name
#define ACCOUNTS_CODE_MAX 64       //  bytes of a role or service code
#define ACCOUNTS_LIST_MAX 64       //  entries of roles, services, communes

//  Number of characters (code points) of a UTF-8 string, or -1 if it is
//  not valid UTF-8 (overlong forms, surrogates and stray bytes included).
long accounts_rules_utf8_length (const char *text);

//  Password policy: ACCOUNTS_PASSWORD_MIN..MAX characters, valid UTF-8, not
//  only letters (Latin letters, accented or not, as French users type
//  them). Returns NULL if acceptable, else a borrowed French message.
const char *accounts_rules_password (const char *password);

//  INSEE-like commune code: exactly 5 characters out of [0-9AB] ("86194",
//  "2A004"). The empty string is accepted (the commune is optional).
//  Returns NULL if acceptable, else a borrowed French message.
const char *accounts_rules_commune (const char *commune);

//  Role or service code: 1..ACCOUNTS_CODE_MAX of [a-z0-9_-] ("instructeur",
//  "police-municipale"). Returns NULL if acceptable, else a borrowed French
//  message.
const char *accounts_rules_code (const char *code);

//  A display name with surrounding white space removed, if it then holds
//  1..ACCOUNTS_NAME_MAX characters of valid UTF-8 and no control
//  character; else NULL. Caller owns the result (free).
char *accounts_rules_display_name (const char *name);

void accounts_rules_test (bool verbose);

#endif
