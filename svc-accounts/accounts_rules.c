//  accounts_rules - input rules of svc-accounts (see accounts_rules.h).
//
//  Everything here walks UTF-8 text one code point at a time with
//  s_next_code_point, which refuses what RFC 3629 refuses (overlong forms,
//  surrogates, code points past U+10FFFF, truncated sequences), so a rule
//  never counts bytes where a citizen counts characters.
#include "gch.h"
#include "accounts_rules.h"

//  Decode the code point at *text_p and advance past it. Returns the code
//  point, 0 at the end of the string, or -1 (not advancing) if the bytes
//  are not valid UTF-8.
static long
s_next_code_point (const char **text_p)
{
    const unsigned char *p = (const unsigned char *) *text_p;
    long code;
    int extra;
    if (p[0] == 0)
        return 0;
    if (p[0] < 0x80) {
        *text_p += 1;
        return p[0];
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        code = p[0] & 0x1F;
        extra = 1;
    }
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        code = p[0] & 0x0F;
        extra = 2;
    }
    else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        code = p[0] & 0x07;
        extra = 3;
    }
    else
        return -1;  //  continuation byte, overlong lead, or past U+10FFFF

    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;  //  also catches the terminating NUL
        code = (code << 6) | (p[i] & 0x3F);
    }
    if ((extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) ||
        (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
        return -1;
    *text_p += 1 + extra;
    return code;
}

//  Latin letter, as French users type them: ASCII letters and the Latin-1
//  Supplement and Latin Extended-A/B letters (é, ç, œ...).
static bool
s_is_letter (long code)
{
    if ((code >= 'A' && code <= 'Z') || (code >= 'a' && code <= 'z'))
        return true;
    return code >= 0xC0 && code <= 0x24F && code != 0xD7 && code != 0xF7;
}

//  C0 and C1 control characters, DEL.
static bool
s_is_control (long code)
{
    return code < 0x20 || (code >= 0x7F && code <= 0x9F);
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

long
accounts_rules_utf8_length (const char *text)
{
    assert (text);
    long length = 0;
    long code;
    while ((code = s_next_code_point (&text)) > 0)
        length++;
    return code < 0 ? -1 : length;
}

const char *
accounts_rules_password (const char *password)
{
    assert (password);
    long length = accounts_rules_utf8_length (password);
    if (length < 0)
        return "Le mot de passe contient des caractères invalides";
    if (length < ACCOUNTS_PASSWORD_MIN)
        return "Le mot de passe doit contenir au moins 10 caractères";
    if (length > ACCOUNTS_PASSWORD_MAX)
        return "Le mot de passe ne doit pas dépasser 256 caractères";

    long code;
    while ((code = s_next_code_point (&password)) > 0)
        if (!s_is_letter (code))
            return NULL;
    return "Le mot de passe ne doit pas contenir que des lettres : "
           "ajoutez un chiffre ou un signe";
}

const char *
accounts_rules_commune (const char *commune)
{
    assert (commune);
    if (*commune == 0)
        return NULL;
    if (strlen (commune) != 5 ||
        strspn (commune, "0123456789AB") != strlen (commune))
        return "Code commune INSEE invalide (5 caractères, par exemple 86194)";
    return NULL;
}

const char *
accounts_rules_code (const char *code)
{
    assert (code);
    size_t length = strlen (code);
    if (length == 0 || length > ACCOUNTS_CODE_MAX ||
        strspn (code, "abcdefghijklmnopqrstuvwxyz0123456789_-") != length)
        return "Code invalide (lettres minuscules, chiffres, « - » et « _ »)";
    return NULL;
}

char *
accounts_rules_display_name (const char *name)
{
    assert (name);
    while (s_is_space (*name))
        name++;
    size_t size = strlen (name);
    while (size > 0 && s_is_space (name[size - 1]))
        size--;
    if (size == 0)
        return NULL;

    char *trimmed = strndup (name, size);
    assert (trimmed);
    const char *cursor = trimmed;
    long length = 0;
    long code;
    while ((code = s_next_code_point (&cursor)) > 0 && !s_is_control (code))
        length++;
    if (code != 0 || length > ACCOUNTS_NAME_MAX)
        freen (trimmed);  //  invalid UTF-8, a control character, or too long
    return trimmed;
}

void
accounts_rules_test (bool verbose)
{
    printf (" * accounts_rules: ");
    if (verbose)
        printf ("\n");

    //  UTF-8 lengths, and what is not UTF-8
    assert (accounts_rules_utf8_length ("") == 0);
    assert (accounts_rules_utf8_length ("abc") == 3);
    assert (accounts_rules_utf8_length ("Élodie") == 6);
    assert (accounts_rules_utf8_length ("\xE2\x82\xAC") == 1);      //  €
    assert (accounts_rules_utf8_length ("\xF0\x9F\x98\x80") == 1);  //  emoji
    assert (accounts_rules_utf8_length ("\xC3") == -1);      //  truncated
    assert (accounts_rules_utf8_length ("\x80") == -1);      //  stray byte
    assert (accounts_rules_utf8_length ("\xC0\xAF") == -1);  //  overlong /
    assert (accounts_rules_utf8_length ("\xE0\x80\xAF") == -1);
    assert (accounts_rules_utf8_length ("\xED\xA0\x80") == -1);  //  surrogate
    assert (accounts_rules_utf8_length ("\xF4\x90\x80\x80") == -1);
    assert (accounts_rules_utf8_length ("\xFF") == -1);

    //  Password policy
    assert (accounts_rules_password ("Usager-demo-2026") == NULL);
    assert (accounts_rules_password ("abcdefghi1") == NULL);  //  exactly 10
    assert (accounts_rules_password ("abcdefgh1") != NULL);   //  9
    assert (accounts_rules_password ("") != NULL);
    assert (accounts_rules_password ("abcdefghijkl") != NULL);  //  letters
    assert (accounts_rules_password ("ÉléphantRoseÇa") != NULL);
    assert (accounts_rules_password ("éléphant rose") == NULL);  //  space
    assert (accounts_rules_password ("ééééééééé1") == NULL);     //  10 chars
    assert (accounts_rules_password ("éééééééé1") != NULL);      //  9 chars
    assert (accounts_rules_password ("abcdefghi\xC3") != NULL);
    char password[ACCOUNTS_PASSWORD_MAX + 2];
    memset (password, 'a', sizeof (password));
    password[0] = '7';
    password[ACCOUNTS_PASSWORD_MAX] = 0;
    assert (accounts_rules_password (password) == NULL);  //  256
    password[ACCOUNTS_PASSWORD_MAX] = 'a';
    password[ACCOUNTS_PASSWORD_MAX + 1] = 0;
    assert (accounts_rules_password (password) != NULL);  //  257

    //  Commune codes
    assert (accounts_rules_commune ("") == NULL);
    assert (accounts_rules_commune ("86194") == NULL);
    assert (accounts_rules_commune ("2A004") == NULL);
    assert (accounts_rules_commune ("2B033") == NULL);
    assert (accounts_rules_commune ("8619") != NULL);
    assert (accounts_rules_commune ("861940") != NULL);
    assert (accounts_rules_commune ("2a004") != NULL);
    assert (accounts_rules_commune ("86 94") != NULL);
    assert (accounts_rules_commune ("8619C") != NULL);

    //  Role and service codes
    assert (accounts_rules_code ("police-municipale") == NULL);
    assert (accounts_rules_code ("admin") == NULL);
    assert (accounts_rules_code ("etat_civil2") == NULL);
    assert (accounts_rules_code ("") != NULL);
    assert (accounts_rules_code ("Admin") != NULL);
    assert (accounts_rules_code ("a b") != NULL);
    assert (accounts_rules_code ("a,b") != NULL);
    assert (accounts_rules_code ("\"x\"") != NULL);
    char code[ACCOUNTS_CODE_MAX + 2];
    memset (code, 'a', sizeof (code));
    code[ACCOUNTS_CODE_MAX] = 0;
    assert (accounts_rules_code (code) == NULL);
    code[ACCOUNTS_CODE_MAX] = 'a';
    code[ACCOUNTS_CODE_MAX + 1] = 0;
    assert (accounts_rules_code (code) != NULL);

    //  Display names
    char *name = accounts_rules_display_name ("  Élodie Martin \t");
    assert (name && streq (name, "Élodie Martin"));
    freen (name);
    name = accounts_rules_display_name ("A");
    assert (name && streq (name, "A"));
    freen (name);
    assert (accounts_rules_display_name ("") == NULL);
    assert (accounts_rules_display_name (" \t\n ") == NULL);
    assert (accounts_rules_display_name ("Jean\nMartin") == NULL);
    assert (accounts_rules_display_name ("Jean\x7F") == NULL);
    assert (accounts_rules_display_name ("Jean \xC2\x85") == NULL);  //  NEL
    assert (accounts_rules_display_name ("Jean \xC3") == NULL);
    char long_name[3 * ACCOUNTS_NAME_MAX];
    memset (long_name, 0, sizeof (long_name));
    for (int i = 0; i < ACCOUNTS_NAME_MAX; i++)
        memcpy (long_name + 2 * i, "é", 2);
    name = accounts_rules_display_name (long_name);  //  100 characters
    assert (name && accounts_rules_utf8_length (name) == ACCOUNTS_NAME_MAX);
    freen (name);
    strcat (long_name, "x");
    assert (accounts_rules_display_name (long_name) == NULL);

    printf ("OK\n");
}
