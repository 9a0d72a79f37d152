//  dossiers_fields - value checkers for form fields, with French messages.
//
//  The procedure engine checks every value of a form with the checker of
//  its field type (dossiers_fields.h lists them, conventions at the top):
//  each returns NULL or a French message for the citizen, a string literal,
//  and the code-like types also give the normalised value that is stored
//  (phone "0549123456", IBAN without spaces, plate "AB-123-CD", money in
//  cents...). The module is pure: the clock ("today" of relative date
//  bounds) and the catalog of communes come from the caller.
//
//  Each checker with a normalised form has a static s_<type> that finds the
//  fault and writes the normalised text into a buffer; the public function
//  only turns that text into a JSON value when asked. Messages used by
//  several checkers are the s_msg_* constants; the others are written where
//  they are returned.
//
//  How to extend: add the checker to dossiers_fields.h in the same shape
//  (value first, parameters, normal_p last), give every distinct fault its
//  own short French message saying what is expected, and add its valid and
//  invalid values to the tables of dossiers_fields_test.
#include "gch.h"
#include "dossiers_fields.h"

static const char s_msg_missing[] = "Ce champ est obligatoire.";
static const char s_msg_not_text[] = "Ce champ attend un texte.";
static const char s_msg_bad_char[] =
    "Ce texte contient un caractère non autorisé.";
static const char s_msg_one_line[] =
    "Ce champ tient sur une seule ligne : retirez les retours à la ligne.";
static const char s_msg_too_short[] = "Ce texte est trop court : complétez-le.";
static const char s_msg_too_long[] =
    "Ce texte est trop long : raccourcissez-le.";
static const char s_msg_below[] =
    "Ce nombre est inférieur au minimum autorisé.";
static const char s_msg_above[] = "Ce nombre dépasse le maximum autorisé.";
static const char s_msg_file[] =
    "Cette pièce jointe n'est pas valide : joignez le fichier de nouveau.";

//  --------------------------------------------------------------------------
//  Character helpers (ASCII only: the locale never changes a check).

static bool
s_is_digit (char c)
{
    return c >= '0' && c <= '9';
}

static bool
s_is_letter (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char
s_upper (char c)
{
    return c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c;
}

static char
s_lower (char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

//  True if value is absent: NULL or JSON null.
static bool
s_absent (const json_t *value)
{
    return !value || json_is_null (value);
}

//  The text of value if it is a string without NUL bytes, else NULL.
static const char *
s_text (const json_t *value)
{
    if (!json_is_string (value))
        return NULL;
    const char *text = json_string_value (value);
    return strlen (text) == json_string_length (value) ? text : NULL;
}

//  Bytes of the white space starting at text: space, tab, no-break space
//  U+00A0, narrow no-break space U+202F, thin space U+2009; 0 if none.
static size_t
s_space (const char *text)
{
    const unsigned char *c = (const unsigned char *) text;
    if (c[0] == ' ' || c[0] == '\t')
        return 1;
    if (c[0] == 0xC2 && c[1] == 0xA0)
        return 2;
    if (c[0] == 0xE2 && c[1] == 0x80 && (c[2] == 0xAF || c[2] == 0x89))
        return 3;
    return 0;
}

//  Bytes of the white space ending at text + size.
static size_t
s_space_before (const char *text, size_t size)
{
    const unsigned char *end = (const unsigned char *) text + size;
    if (size >= 1 && (end[-1] == ' ' || end[-1] == '\t'))
        return 1;
    if (size >= 2 && end[-2] == 0xC2 && end[-1] == 0xA0)
        return 2;
    if (size >= 3 && end[-3] == 0xE2 && end[-2] == 0x80 &&
        (end[-1] == 0xAF || end[-1] == 0x89))
        return 3;
    return 0;
}

//  Copy text without the white space around it into buf (size bytes; text
//  may be buf itself). False if it does not fit.
static bool
s_trim (const char *text, char *buf, size_t size)
{
    size_t skip;
    while ((skip = s_space (text)))
        text += skip;
    size_t length = strlen (text);
    while ((skip = s_space_before (text, length)))
        length -= skip;
    if (length >= size)
        return false;
    memmove (buf, text, length);
    buf[length] = 0;
    return true;
}

//  True if text holds nothing but white space and line breaks.
static bool
s_blank (const char *text)
{
    while (*text) {
        size_t skip = s_space (text);
        if (!skip && *text != '\n' && *text != '\r')
            return false;
        text += skip ? skip : 1;
    }
    return true;
}

//  Count the code points of text into *count_p; false if text is not valid
//  UTF-8 (bad sequences, overlong forms, surrogates, beyond U+10FFFF).
static bool
s_utf8_count (const char *text, size_t *count_p)
{
    static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    const unsigned char *c = (const unsigned char *) text;
    size_t count = 0;
    while (*c) {
        size_t extra;
        uint32_t code;
        if (*c < 0x80) {
            extra = 0;
            code = *c;
        }
        else if ((*c & 0xE0) == 0xC0) {
            extra = 1;
            code = *c & 0x1F;
        }
        else if ((*c & 0xF0) == 0xE0) {
            extra = 2;
            code = *c & 0x0F;
        }
        else if ((*c & 0xF8) == 0xF0) {
            extra = 3;
            code = *c & 0x07;
        }
        else
            return false;
        //  A NUL stops this loop too: it is not a continuation byte.
        for (size_t index = 1; index <= extra; index++) {
            if ((c[index] & 0xC0) != 0x80)
                return false;
            code = (code << 6) | (c[index] & 0x3F);
        }
        if (code < least[extra] || code > 0x10FFFF ||
            (code >= 0xD800 && code <= 0xDFFF))
            return false;
        c += extra + 1;
        count++;
    }
    *count_p = count;
    return true;
}

//  True if the byte at c starts a control character: C0, DEL, or C1
//  (U+0080-U+009F, encoded C2 80-9F).
static bool
s_control (const unsigned char *c)
{
    return *c < 0x20 || *c == 0x7F ||
           (*c == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F);
}

//  A new JSON string; aborts if memory runs out.
static json_t *
s_string_new (const char *text)
{
    json_t *string = json_string (text);
    assert (string);
    return string;
}

//  Give the caller a new string of text if it asked for one (normal_p not
//  NULL) and fault is NULL. Returns fault.
static const char *
s_normal_string (const char *fault, const char *text, json_t **normal_p)
{
    if (normal_p)
        *normal_p = fault ? NULL : s_string_new (text);
    return fault;
}

//  --------------------------------------------------------------------------
//  Text

const char *
dossiers_check_length (const char *text, int min_length, int max_length)
{
    assert (text);
    size_t count;
    if (!s_utf8_count (text, &count))
        return s_msg_bad_char;
    if ((long long) count < (long long) min_length)
        return count == 0 ? s_msg_missing : s_msg_too_short;
    if ((long long) count > (long long) max_length)
        return s_msg_too_long;
    return NULL;
}

static const char *
s_check_text (const json_t *value, bool multiline, int min_length,
              int max_length)
{
    if (s_absent (value))
        return s_msg_missing;
    if (!json_is_string (value))
        return s_msg_not_text;
    const char *text = s_text (value);
    if (!text)
        return s_msg_bad_char;  //  a NUL inside
    if (min_length > 0 && s_blank (text))
        return s_msg_missing;
    for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
        if (*c == '\n' || *c == '\r') {
            if (!multiline)
                return s_msg_one_line;
        }
        else if (*c == '\t') {
            if (!multiline)
                return s_msg_bad_char;
        }
        else if (s_control (c))
            return s_msg_bad_char;
    }
    return dossiers_check_length (text, min_length, max_length);
}

const char *
dossiers_check_text (const json_t *value, int min_length, int max_length)
{
    return s_check_text (value, false, min_length, max_length);
}

const char *
dossiers_check_longtext (const json_t *value, int min_length, int max_length)
{
    return s_check_text (value, true, min_length, max_length);
}

//  --------------------------------------------------------------------------
//  E-mail

//  True if domain has two labels or more, each of 1 to 63 [A-Za-z0-9-] not
//  starting or ending with '-', the last one not all digits.
static bool
s_domain_valid (const char *domain)
{
    size_t labels = 0;
    bool digits_only = true;
    const char *label = domain;
    while (true) {
        size_t length = 0;
        digits_only = true;
        for (; label[length] && label[length] != '.'; length++) {
            char c = label[length];
            if (!s_is_letter (c) && !s_is_digit (c) && c != '-')
                return false;
            if (!s_is_digit (c))
                digits_only = false;
        }
        if (length == 0 || length > 63 || label[0] == '-' ||
            label[length - 1] == '-')
            return false;
        labels++;
        if (!label[length])
            break;
        label += length + 1;
    }
    return labels >= 2 && !digits_only;
}

static const char *
s_email (const json_t *value, char *email, size_t size)
{
    static const char format[] =
        "Indiquez une adresse e-mail valide, par exemple "
        "prenom.nom@exemple.fr.";
    static const char too_long[] = "Cette adresse e-mail est trop longue.";
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text)
        return format;
    if (!s_trim (text, email, size))
        return too_long;
    size_t length = strlen (email);
    if (length == 0)
        return s_msg_missing;
    for (const char *c = email; *c; c++)
        if (s_space (c))
            return "Une adresse e-mail ne contient pas d'espace.";
    if (length > 254)
        return too_long;
    char *at = strchr (email, '@');
    if (!at || at == email || strchr (at + 1, '@'))
        return format;
    if (at - email > 64)
        return too_long;
    if (email[0] == '.' || at[-1] == '.')
        return format;
    for (const char *c = email; c < at; c++) {
        bool allowed = s_is_letter (*c) || s_is_digit (*c) ||
                       strchr ("!#$%&'*+/=?^_`{|}~.-", *c);
        if (!allowed || (c[0] == '.' && c[1] == '.'))
            return format;
    }
    if (!s_domain_valid (at + 1))
        return "Le domaine de cette adresse e-mail (après @) n'est pas "
               "valide, par exemple exemple.fr.";
    for (char *c = at + 1; *c; c++)
        *c = s_lower (*c);
    return NULL;
}

const char *
dossiers_check_email (const json_t *value, json_t **normal_p)
{
    char email[256];
    return s_normal_string (s_email (value, email, sizeof email), email,
                            normal_p);
}

//  --------------------------------------------------------------------------
//  Phone

static const char *
s_phone (const json_t *value, char *phone)
{
    static const char format[] = "Indiquez un numéro de téléphone français "
                                 "à 10 chiffres, par exemple 05 49 12 34 56.";
    static const char french[] =
        "Après +33, indiquez les 9 chiffres du numéro sans le 0, par exemple "
        "+33 5 49 12 34 56.";
    static const char international[] =
        "Un numéro international commence par + et l'indicatif du pays, et "
        "compte de 8 à 15 chiffres.";
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text)
        return format;
    if (s_blank (text))
        return s_msg_missing;
    char digits[20];
    size_t count = 0;
    bool plus = false;
    const char *c = text;
    while (s_space (c))
        c += s_space (c);
    if (*c == '+') {
        plus = true;
        c++;
    }
    while (*c) {
        size_t skip = s_space (c);
        if (skip)
            c += skip;
        else if (plus && count > 0 && strncmp (c, "(0)", 3) == 0)
            c += 3;  //  "+33 (0)5 49...": the trunk 0 is not dialled
        else if (s_is_digit (*c)) {
            if (count == sizeof digits - 1)
                return plus ? international : format;
            digits[count++] = *c++;
        }
        else if (strchr (".-()", *c))
            c++;
        else
            return plus ? international : format;
    }
    digits[count] = 0;
    const char *number = digits;
    //  "0033 5 49...": 00 is the international prefix, unless the number
    //  has the 10 digits of a (wrong) national one.
    if (!plus && count != 10 && count > 2 && digits[0] == '0' &&
        digits[1] == '0') {
        plus = true;
        number += 2;
        count -= 2;
    }
    if (!plus) {
        if (count != 10 || digits[0] != '0' || digits[1] == '0')
            return format;
        strcpy (phone, digits);
        return NULL;
    }
    if (count >= 2 && number[0] == '3' && number[1] == '3') {
        const char *rest = number + 2;
        size_t length = count - 2;
        if (length == 10 && rest[0] == '0') {
            rest++;  //  "+33 05 49...": the 0 kept by mistake
            length--;
        }
        if (length != 9 || rest[0] == '0')
            return french;
        phone[0] = '0';
        strcpy (phone + 1, rest);
        return NULL;
    }
    if (count < 8 || count > 15 || number[0] == '0')
        return international;
    phone[0] = '+';
    strcpy (phone + 1, number);
    return NULL;
}

const char *
dossiers_check_phone (const json_t *value, json_t **normal_p)
{
    char phone[20];
    return s_normal_string (s_phone (value, phone), phone, normal_p);
}

//  --------------------------------------------------------------------------
//  Numbers

const char *
dossiers_check_integer (const json_t *value, int64_t min, int64_t max)
{
    if (s_absent (value))
        return s_msg_missing;
    if (!json_is_integer (value))
        return "Indiquez un nombre entier, sans virgule, par exemple 12.";
    json_int_t number = json_integer_value (value);
    if (number < min)
        return s_msg_below;
    if (number > max)
        return s_msg_above;
    return NULL;
}

//  A number as written by people: a sign, digits (groups of three may be
//  separated by white space: "1 250"), a decimal ',' or '.', digits.
typedef struct {
    bool negative;      //  a '-' was written
    char whole[41];     //  digits before the separator, no leading zeros
    char fraction[41];  //  digits after it
} s_number_t;

//  Read text (trimmed) into number; false if it is not written so or has
//  more than 40 digits on one side.
static bool
s_number_read (const char *text, s_number_t *number)
{
    memset (number, 0, sizeof *number);
    const char *c = text;
    if (*c == '-' || *c == '+') {
        number->negative = *c == '-';
        c++;
    }
    char whole[41];
    size_t count = 0, group = 0;
    bool grouped = false;
    while (true) {
        size_t skip = s_space (c);
        if (s_is_digit (*c)) {
            if (count == sizeof whole - 1)
                return false;
            whole[count++] = *c++;
            group++;
        }
        else if (skip && group > 0 && s_is_digit (c[skip])) {
            if (grouped ? group != 3 : group > 3)
                return false;
            grouped = true;
            group = 0;
            c += skip;
        }
        else
            break;
    }
    if (count == 0 || (grouped && group != 3))
        return false;
    whole[count] = 0;
    if (*c == ',' || *c == '.') {
        c++;
        size_t digits = 0;
        while (s_is_digit (*c)) {
            if (digits == sizeof number->fraction - 1)
                return false;
            number->fraction[digits++] = *c++;
        }
        if (digits == 0)
            return false;
    }
    if (*c)
        return false;
    const char *first = whole;
    while (*first == '0')
        first++;
    strcpy (number->whole, first);
    return true;
}

const char *
dossiers_check_decimal (const json_t *value, double min, double max,
                        json_t **normal_p)
{
    static const char format[] = "Indiquez un nombre, par exemple 12,5.";
    if (normal_p)
        *normal_p = NULL;
    if (s_absent (value))
        return s_msg_missing;
    double number;
    if (json_is_number (value))
        number = json_number_value (value);
    else {
        const char *text = s_text (value);
        char buf[128];
        if (!text || !s_trim (text, buf, sizeof buf))
            return format;
        if (!*buf)
            return s_msg_missing;
        s_number_t read;
        if (!s_number_read (buf, &read))
            return format;
        size_t decimals = strlen (read.fraction);
        while (decimals && read.fraction[decimals - 1] == '0')
            read.fraction[--decimals] = 0;
        //  15 digits fit a double exactly, and so does 10^15: the division
        //  below is then correctly rounded, like strtod but locale-free.
        if (strlen (read.whole) + decimals > 15)
            return "Ce nombre compte trop de chiffres.";
        int64_t mantissa = 0, scale = 1;
        for (const char *c = read.whole; *c; c++)
            mantissa = mantissa * 10 + (*c - '0');
        for (const char *c = read.fraction; *c; c++) {
            mantissa = mantissa * 10 + (*c - '0');
            scale *= 10;
        }
        number = (double) mantissa / (double) scale;
        if (read.negative)
            number = -number;
    }
    if (number < min)
        return s_msg_below;
    if (number > max)
        return s_msg_above;
    if (normal_p) {
        *normal_p = json_real (number + 0.0);  //  + 0.0: no -0
        assert (*normal_p);
    }
    return NULL;
}

const char *
dossiers_check_money (const json_t *value, int64_t min, int64_t max,
                      json_t **normal_p)
{
    static const char format[] =
        "Indiquez un montant en euros, par exemple 25,50 €.";
    static const char negative[] = "Le montant ne peut pas être négatif.";
    static const char absurd[] = "Ce montant est trop élevé : vérifiez-le.";
    static const char euro[] = "€";
    if (normal_p)
        *normal_p = NULL;
    if (s_absent (value))
        return s_msg_missing;
    int64_t cents;
    if (json_is_integer (value)) {
        cents = json_integer_value (value);
        if (cents < 0)
            return negative;
    }
    else {
        const char *text = s_text (value);
        char buf[128];
        if (!text || !s_trim (text, buf, sizeof buf))
            return format;
        if (!*buf)
            return s_msg_missing;
        size_t length = strlen (buf);
        if (strncmp (buf, euro, 3) == 0)
            s_trim (buf + 3, buf, sizeof buf);
        else if (length > 3 && streq (buf + length - 3, euro)) {
            buf[length - 3] = 0;
            s_trim (buf, buf, sizeof buf);
        }
        s_number_t read;
        if (!s_number_read (buf, &read))
            return format;
        if (read.negative)
            return negative;
        size_t decimals = strlen (read.fraction);
        if (decimals > 2)
            return "Indiquez au plus deux chiffres après la virgule, pour "
                   "les centimes.";
        if (strlen (read.whole) > 10)
            return absurd;
        cents = 0;
        for (const char *c = read.whole; *c; c++)
            cents = cents * 10 + (*c - '0');
        cents *= 100;
        if (decimals >= 1)
            cents += (read.fraction[0] - '0') * 10;
        if (decimals == 2)
            cents += read.fraction[1] - '0';
    }
    if (cents > DOSSIERS_MONEY_MAX)
        return absurd;
    if (cents < min)
        return "Ce montant est inférieur au minimum autorisé.";
    if (cents > max)
        return "Ce montant dépasse le maximum autorisé.";
    if (normal_p) {
        *normal_p = json_integer (cents);
        assert (*normal_p);
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Dates

static bool
s_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_month_days (int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[month - 1] + (month == 2 && s_leap (year));
}

//  Value of the count digits at text (all digits).
static int
s_number_at (const char *text, size_t count)
{
    int number = 0;
    for (size_t index = 0; index < count; index++)
        number = number * 10 + (text[index] - '0');
    return number;
}

//  Read "YYYY-MM-DD" (digits where they belong, any values); false if text
//  is not written so.
static bool
s_date_read (const char *text, int *year, int *month, int *day)
{
    if (strlen (text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (size_t index = 0; index < 10; index++)
        if (index != 4 && index != 7 && !s_is_digit (text[index]))
            return false;
    *year = s_number_at (text, 4);
    *month = s_number_at (text + 5, 2);
    *day = s_number_at (text + 8, 2);
    return true;
}

static bool
s_date_real (int year, int month, int day)
{
    return year >= 1 && month >= 1 && month <= 12 && day >= 1 &&
           day <= s_month_days (year, month);
}

//  Days since 1970-01-01 of a real date (proleptic Gregorian calendar).
static int64_t
s_days_from_civil (int year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

//  The date of a day count since 1970-01-01.
static void
s_civil_from_days (int64_t days, int *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int) (doy - (153 * mp + 2) / 5 + 1);
    *month = (int) (mp < 10 ? mp + 3 : mp - 9);
    *year = (int) (yoe + era * 400 + (*month <= 2));
}

//  Write "YYYY-MM-DD" (11 bytes) for a date of years 1-9999.
static void
s_date_write (char *date, int year, int month, int day)
{
    int parts[] = {year, month, day};
    int widths[] = {4, 2, 2};
    char *c = date;
    for (size_t part = 0; part < 3; part++) {
        for (int digit = widths[part] - 1; digit >= 0; digit--) {
            int number = parts[part];
            for (int index = 0; index < digit; index++)
                number /= 10;
            *c++ = (char) ('0' + number % 10);
        }
        *c++ = part < 2 ? '-' : 0;
    }
}

bool
dossiers_date_valid (const char *text)
{
    int year, month, day;
    return text && s_date_read (text, &year, &month, &day) && year >= 1900 &&
           year <= 2199 && s_date_real (year, month, day);
}

bool
dossiers_date_bound_valid (const char *bound)
{
    int year, month, day;
    if (!bound)
        return false;
    if (s_date_read (bound, &year, &month, &day))
        return s_date_real (year, month, day);
    if (strncmp (bound, "today", 5) != 0)
        return false;
    const char *c = bound + 5;
    if (*c == 0)
        return true;
    if (*c != '+' && *c != '-')
        return false;
    c++;
    size_t digits = 0;
    while (s_is_digit (c[digits]))
        digits++;
    return digits >= 1 && digits <= 5 && c[digits] == 0;
}

void
dossiers_date_resolve (const char *bound, const char *today, char *date)
{
    assert (dossiers_date_bound_valid (bound));
    assert (date);
    int year, month, day;
    if (s_date_read (bound, &year, &month, &day)) {
        memcpy (date, bound, 11);
        return;
    }
    assert (today);
    assert (s_date_read (today, &year, &month, &day) &&
            s_date_real (year, month, day));
    int64_t days = s_days_from_civil (year, month, day);
    if (bound[5]) {
        int64_t shift = s_number_at (bound + 6, strlen (bound + 6));
        days += bound[5] == '-' ? -shift : shift;
    }
    int64_t first = s_days_from_civil (1, 1, 1);
    int64_t last = s_days_from_civil (9999, 12, 31);
    days = days < first ? first : days > last ? last : days;
    s_civil_from_days (days, &year, &month, &day);
    s_date_write (date, year, month, day);
}

int
dossiers_date_compare (const char *a, const char *b)
{
    int year, month, day;
    assert (a && s_date_read (a, &year, &month, &day));
    assert (b && s_date_read (b, &year, &month, &day));
    int order = strcmp (a, b);
    return (order > 0) - (order < 0);
}

const char *
dossiers_check_date (const json_t *value, const char *min, const char *max,
                     const char *today)
{
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    int year, month, day;
    if (!text || !s_date_read (text, &year, &month, &day))
        return "Indiquez une date au format AAAA-MM-JJ, par exemple "
               "2025-07-14.";
    if (year < 1900 || year > 2199)
        return "Indiquez une année comprise entre 1900 et 2199.";
    if (!s_date_real (year, month, day))
        return "Cette date n'existe pas dans le calendrier : vérifiez le "
               "jour et le mois.";
    char bound[11];
    if (min) {
        dossiers_date_resolve (min, today, bound);
        if (dossiers_date_compare (text, bound) < 0)
            return "Cette date est antérieure à la première date autorisée.";
    }
    if (max) {
        dossiers_date_resolve (max, today, bound);
        if (dossiers_date_compare (text, bound) > 0)
            return "Cette date est postérieure à la dernière date autorisée.";
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Boolean and choices

const char *
dossiers_check_boolean (const json_t *value)
{
    if (s_absent (value))
        return s_msg_missing;
    return json_is_boolean (value) ? NULL : "Répondez par oui ou par non.";
}

static bool
s_choice_known (const char *text, const char *const *choices, size_t nchoices)
{
    for (size_t index = 0; index < nchoices; index++)
        if (streq (choices[index], text))
            return true;
    return false;
}

const char *
dossiers_check_choice (const json_t *value, const char *const *choices,
                       size_t nchoices)
{
    assert (choices || nchoices == 0);
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text)
        return "Choisissez une des réponses proposées.";
    if (!s_choice_known (text, choices, nchoices))
        return "Cette réponse ne fait pas partie des choix proposés.";
    return NULL;
}

const char *
dossiers_check_multichoice (const json_t *value, const char *const *choices,
                            size_t nchoices, size_t min_count, size_t max_count)
{
    assert (choices || nchoices == 0);
    if (s_absent (value))
        return s_msg_missing;
    if (!json_is_array (value))
        return "Cochez une ou plusieurs des réponses proposées.";
    size_t size = json_array_size (value);
    for (size_t index = 0; index < size; index++) {
        const char *text = s_text (json_array_get (value, index));
        if (!text || !s_choice_known (text, choices, nchoices))
            return "Une des réponses cochées ne fait pas partie des choix "
                   "proposés.";
        for (size_t other = 0; other < index; other++)
            if (streq (json_string_value (json_array_get (value, other)), text))
                return "Une même réponse est cochée deux fois.";
    }
    if (size < min_count)
        return "Cochez au moins le nombre de réponses demandé.";
    if (size > max_count)
        return "Vous avez coché trop de réponses.";
    return NULL;
}

//  --------------------------------------------------------------------------
//  Codes: postcode, INSEE, plate, IBAN, SIRET, SIREN

static const char *
s_postcode (const json_t *value, char *code)
{
    static const char format[] =
        "Indiquez un code postal à 5 chiffres, par exemple 86000.";
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text)
        return format;
    if (s_blank (text))
        return s_msg_missing;
    size_t count = 0;
    for (const char *c = text; *c;) {
        size_t skip = s_space (c);
        if (skip)
            c += skip;
        else if (s_is_digit (*c) && count < 5)
            code[count++] = *c++;
        else
            return format;
    }
    if (count != 5)
        return format;
    code[5] = 0;
    int department = s_number_at (code, 2);
    if (department == 0 || department == 96 || department == 99)
        return "Ce code postal n'existe pas : vérifiez les deux premiers "
               "chiffres.";
    return NULL;
}

const char *
dossiers_check_postcode (const json_t *value, json_t **normal_p)
{
    char code[6];
    return s_normal_string (s_postcode (value, code), code, normal_p);
}

static const char *
s_insee (const json_t *value, char *code)
{
    static const char format[] = "Indiquez un code commune INSEE à 5 "
                                 "caractères, par exemple 86194 ou 2A004.";
    static const char unknown[] =
        "Ce code commune INSEE n'existe pas : vérifiez-le.";
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    char buf[8];
    if (!text || !s_trim (text, buf, sizeof buf))
        return format;
    if (!*buf)
        return s_msg_missing;
    if (strlen (buf) != 5)
        return format;
    strcpy (code, buf);
    const char *commune;
    if (code[0] == '2' &&
        (s_upper (code[1]) == 'A' || s_upper (code[1]) == 'B')) {
        code[1] = s_upper (code[1]);
        commune = code + 2;
    }
    else {
        if (!s_is_digit (code[0]) || !s_is_digit (code[1]))
            return format;
        int department = s_number_at (code, 2);
        if (department == 0 || department == 20 || department == 96 ||
            department > 97)
            return unknown;
        if (department == 97 && !(code[2] >= '1' && code[2] <= '6'))
            return unknown;
        commune = code + (department == 97 ? 3 : 2);
    }
    bool zero = true;
    for (const char *c = commune; *c; c++) {
        if (!s_is_digit (*c))
            return format;
        if (*c != '0')
            zero = false;
    }
    return zero ? unknown : NULL;
}

const char *
dossiers_check_insee (const json_t *value, json_t **normal_p)
{
    char code[6];
    return s_normal_string (s_insee (value, code), code, normal_p);
}

//  A group of a plate: letters or digits.
typedef struct {
    bool letters;  //  letters, else digits
    size_t size;   //  characters
    char text[5];  //  upper case
} s_group_t;

//  Split text into groups of letters or digits: separators (white space,
//  '-') and changes between letters and digits end a group. Returns the
//  number of groups, 0 on other characters, more than four groups or a
//  group longer than four.
static size_t
s_plate_groups (const char *text, s_group_t *groups)
{
    size_t count = 0;
    s_group_t *group = NULL;
    for (const char *c = text; *c;) {
        size_t skip = s_space (c);
        if (skip || *c == '-') {
            group = NULL;
            c += skip ? skip : 1;
            continue;
        }
        bool letter = s_is_letter (*c);
        if (!letter && !s_is_digit (*c))
            return 0;
        if (!group || group->letters != letter) {
            if (count == 4)
                return 0;
            group = &groups[count++];
            group->letters = letter;
            group->size = 0;
        }
        if (group->size == 4)
            return 0;
        group->text[group->size++] = s_upper (*c++);
        group->text[group->size] = 0;
    }
    return count;
}

static const char *
s_plate (const json_t *value, char *plate)
{
    static const char format[] = "Indiquez une immatriculation au format "
                                 "AB-123-CD, ou 1234 AB 56 pour une ancienne "
                                 "plaque.";
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text || strlen (text) > 32)
        return format;
    if (s_blank (text))
        return s_msg_missing;
    s_group_t groups[4];
    size_t count = s_plate_groups (text, groups);
    if (count == 3 && groups[0].letters && groups[0].size == 2 &&
        !groups[1].letters && groups[1].size == 3 && groups[2].letters &&
        groups[2].size == 2) {
        //  SIV (since 2009).
        const char *pairs[] = {groups[0].text, groups[2].text};
        for (size_t pair = 0; pair < 2; pair++)
            if (strpbrk (pairs[pair], "IOU"))
                return "Les lettres I, O et U ne sont pas utilisées dans les "
                       "immatriculations : vérifiez la plaque.";
        if (streq (groups[0].text, "SS"))
            return "Les immatriculations commençant par SS ne sont pas "
                   "attribuées : vérifiez la plaque.";
        if (streq (groups[1].text, "000"))
            return format;
        sprintf (plate, "%s-%s-%s", groups[0].text, groups[1].text,
                 groups[2].text);
        return NULL;
    }
    //  FNI (before 2009): digits, letters, department.
    bool fni = (count == 3 || count == 4) && !groups[0].letters &&
               groups[0].text[0] != '0' && groups[1].letters &&
               groups[1].size <= 3 && !groups[2].letters;
    if (!fni)
        return format;
    static const char department[] = "Le département de cette ancienne "
                                     "immatriculation n'existe pas : vérifiez "
                                     "la plaque.";
    char code[4];
    if (count == 4) {
        //  Corsica: "2A" and "2B" are split into "2" and "A".
        if (!groups[3].letters || groups[3].size != 1 || groups[2].size != 1)
            return format;
        if (!streq (groups[2].text, "2") ||
            (groups[3].text[0] != 'A' && groups[3].text[0] != 'B'))
            return department;
        sprintf (code, "2%c", groups[3].text[0]);
    }
    else if (groups[2].size == 2) {
        int number = s_number_at (groups[2].text, 2);
        if (number < 1 || number > 95)
            return department;
        strcpy (code, groups[2].text);
    }
    else if (groups[2].size == 3) {
        int number = s_number_at (groups[2].text, 3);
        if (number < 971 || number > 976)
            return department;
        strcpy (code, groups[2].text);
    }
    else
        return format;
    sprintf (plate, "%s %s %s", groups[0].text, groups[1].text, code);
    return NULL;
}

const char *
dossiers_check_plate (const json_t *value, json_t **normal_p)
{
    char plate[16];
    return s_normal_string (s_plate (value, plate), plate, normal_p);
}

//  IBAN length by country (SWIFT IBAN registry): SEPA countries, and the
//  French territories that use French IBANs. Others: 15 to 34.
static const struct {
    char country[3];
    size_t length;
} s_iban_lengths[] = {
    {"AD", 24}, {"AT", 20}, {"BE", 16}, {"BG", 22}, {"BL", 27}, {"CH", 21},
    {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"EE", 20}, {"ES", 24},
    {"FI", 18}, {"FR", 27}, {"GB", 22}, {"GF", 27}, {"GI", 23}, {"GP", 27},
    {"GR", 27}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IS", 26}, {"IT", 27},
    {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MF", 27},
    {"MQ", 27}, {"MT", 31}, {"NC", 27}, {"NL", 18}, {"NO", 15}, {"PF", 27},
    {"PL", 28}, {"PM", 27}, {"PT", 25}, {"RE", 27}, {"RO", 24}, {"SE", 24},
    {"SI", 19}, {"SK", 24}, {"SM", 27}, {"TF", 27}, {"VA", 22}, {"WF", 27},
    {"YT", 27}};

static const char *
s_iban (const json_t *value, char *iban)
{
    static const char format[] = "Indiquez un IBAN valide, par exemple "
                                 "FR76 3000 6000 0112 3456 7890 189.";
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text)
        return format;
    if (s_blank (text))
        return s_msg_missing;
    size_t count = 0;  //  may pass 34: then only counted
    for (const char *c = text; *c;) {
        size_t skip = s_space (c);
        if (skip)
            c += skip;
        else if (s_is_letter (*c) || s_is_digit (*c)) {
            if (count < 34)
                iban[count] = s_upper (*c);
            count++;
            c++;
        }
        else
            return format;
    }
    if (count < 4)
        return format;
    if (!s_is_letter (iban[0]) || !s_is_letter (iban[1]) ||
        !s_is_digit (iban[2]) || !s_is_digit (iban[3]))
        return "Un IBAN commence par les deux lettres du pays puis deux "
               "chiffres, par exemple FR76.";
    size_t expected = 0;
    for (size_t index = 0;
         index < sizeof s_iban_lengths / sizeof *s_iban_lengths; index++)
        if (strncmp (iban, s_iban_lengths[index].country, 2) == 0)
            expected = s_iban_lengths[index].length;
    if (expected ? count != expected : count < 15 || count > 34)
        return "Cet IBAN n'a pas le bon nombre de caractères pour son pays : "
               "vérifiez-le.";
    iban[count] = 0;
    //  ISO 7064 mod 97-10 on the account then country and check digits,
    //  letters as 10..35, with a running remainder.
    unsigned remainder = 0;
    for (size_t index = 0; index < count; index++) {
        char c = iban[(index + 4) % count];
        if (s_is_digit (c))
            remainder = (remainder * 10 + (unsigned) (c - '0')) % 97;
        else
            remainder = (remainder * 100 + (unsigned) (c - 'A' + 10)) % 97;
    }
    if (remainder != 1)
        return "Cet IBAN n'est pas valide : vérifiez les chiffres (clé de "
               "contrôle incorrecte).";
    return NULL;
}

const char *
dossiers_check_iban (const json_t *value, json_t **normal_p)
{
    char iban[35];
    return s_normal_string (s_iban (value, iban), iban, normal_p);
}

//  True if the digits pass the Luhn check (from the right, every second
//  digit doubled).
static bool
s_luhn (const char *digits)
{
    size_t length = strlen (digits);
    int sum = 0;
    for (size_t index = 0; index < length; index++) {
        int digit = digits[length - 1 - index] - '0';
        if (index % 2 == 1)
            digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
        sum += digit;
    }
    return sum % 10 == 0;
}

//  Exactly size digits of value, white space dropped, into digits (size +
//  1 bytes), or the message format.
static const char *
s_digits (const json_t *value, size_t size, char *digits, const char *format)
{
    if (s_absent (value))
        return s_msg_missing;
    const char *text = s_text (value);
    if (!text)
        return format;
    if (s_blank (text))
        return s_msg_missing;
    size_t count = 0;
    for (const char *c = text; *c;) {
        size_t skip = s_space (c);
        if (skip)
            c += skip;
        else if (s_is_digit (*c) && count < size)
            digits[count++] = *c++;
        else
            return format;
    }
    if (count != size)
        return format;
    digits[count] = 0;
    return NULL;
}

//  True if the 9 digits are a SIREN: Luhn, not all zeros.
static bool
s_siren_valid (const char *digits)
{
    return s_luhn (digits) && strspn (digits, "0") < 9;
}

static const char *
s_siren (const json_t *value, char *siren)
{
    const char *fault = s_digits (value, 9, siren,
                                  "Indiquez un numéro SIREN à 9 chiffres, "
                                  "par exemple 732 829 320.");
    if (fault)
        return fault;
    if (!s_siren_valid (siren))
        return "Ce numéro SIREN n'est pas valide : vérifiez les chiffres.";
    return NULL;
}

const char *
dossiers_check_siren (const json_t *value, json_t **normal_p)
{
    char siren[10];
    return s_normal_string (s_siren (value, siren), siren, normal_p);
}

static const char *
s_siret (const json_t *value, char *siret)
{
    const char *fault = s_digits (value, 14, siret,
                                  "Indiquez un numéro SIRET à 14 chiffres, "
                                  "par exemple 732 829 320 00074.");
    if (fault)
        return fault;
    char siren[10];
    memcpy (siren, siret, 9);
    siren[9] = 0;
    bool valid = s_siren_valid (siren) && s_luhn (siret);
    if (!valid && streq (siren, "356000000")) {
        //  La Poste numbers its many establishments so that the digits of
        //  the SIRET add up to a multiple of 5 (the head office,
        //  35600000000048, passes the Luhn check).
        int sum = 0;
        for (const char *c = siret; *c; c++)
            sum += *c - '0';
        valid = sum % 5 == 0;
    }
    if (!valid)
        return "Ce numéro SIRET n'est pas valide : vérifiez les chiffres.";
    return NULL;
}

const char *
dossiers_check_siret (const json_t *value, json_t **normal_p)
{
    char siret[15];
    return s_normal_string (s_siret (value, siret), siret, normal_p);
}

//  --------------------------------------------------------------------------
//  Address

//  The first key of object not in the NULL-terminated known list, or NULL.
static const char *
s_unknown_key (const json_t *object, const char *const *known)
{
    //  Iterating does not change the object; jansson's iterator API just
    //  does not take a const pointer.
    json_t *writable = (json_t *) object;
    for (void *it = json_object_iter (writable); it;
         it = json_object_iter_next (writable, it)) {
        const char *key = json_object_iter_key (it);
        size_t index = 0;
        while (known[index] && !streq (known[index], key))
            index++;
        if (!known[index])
            return key;
    }
    return NULL;
}

static const char *
s_address (const json_t *value, dossiers_commune_fn *commune_known, void *ctx,
           const char **key_p, char *postcode, char *insee)
{
    static const char *const known[] = {"street", "complement", "postcode",
                                        "commune", NULL};
    *key_p = NULL;
    if (s_absent (value))
        return s_msg_missing;
    if (!json_is_object (value))
        return "Indiquez une adresse complète : rue, code postal et commune.";
    const char *unknown = s_unknown_key (value, known);
    if (unknown) {
        *key_p = unknown;
        return "Cette adresse contient une information non prévue.";
    }
    *key_p = "street";
    const char *fault =
        dossiers_check_text (json_object_get (value, "street"), 1, 200);
    if (fault == s_msg_missing)
        return "Indiquez le numéro et le nom de la rue.";
    if (fault == s_msg_too_long)
        return "Le numéro et le nom de la rue ne doivent pas dépasser 200 "
               "caractères.";
    if (fault)
        return fault;

    *key_p = "complement";
    json_t *complement = json_object_get (value, "complement");
    if (!s_absent (complement)) {
        fault = dossiers_check_text (complement, 0, 200);
        if (fault == s_msg_too_long)
            return "Le complément d'adresse ne doit pas dépasser 200 "
                   "caractères.";
        if (fault)
            return fault;
    }
    *key_p = "postcode";
    fault = s_postcode (json_object_get (value, "postcode"), postcode);
    if (fault == s_msg_missing)
        return "Indiquez le code postal de l'adresse.";
    if (fault)
        return fault;

    *key_p = "commune";
    fault = s_insee (json_object_get (value, "commune"), insee);
    if (fault == s_msg_missing)
        return "Choisissez la commune de l'adresse.";
    if (fault)
        return "Cette commune n'est pas reconnue : choisissez-la dans la "
               "liste proposée.";
    if (commune_known && !commune_known (ctx, insee, postcode))
        return "Cette commune ne correspond pas au code postal, ou n'est pas "
               "desservie par ce service.";
    *key_p = NULL;
    return NULL;
}

const char *
dossiers_check_address (const json_t *value, dossiers_commune_fn *commune_known,
                        void *ctx, const char **key_p, json_t **normal_p)
{
    if (normal_p)
        *normal_p = NULL;
    const char *key;
    char postcode[6], insee[6];
    const char *fault =
        s_address (value, commune_known, ctx, &key, postcode, insee);
    if (key_p)
        *key_p = key;
    if (fault || !normal_p)
        return fault;
    json_t *address = json_object ();
    assert (address);
    json_object_set_new (
        address, "street",
        s_string_new (json_string_value (json_object_get (value, "street"))));
    const char *complement =
        json_string_value (json_object_get (value, "complement"));
    if (complement && !s_blank (complement))
        json_object_set_new (address, "complement", s_string_new (complement));
    json_object_set_new (address, "postcode", s_string_new (postcode));
    json_object_set_new (address, "commune", s_string_new (insee));
    *normal_p = address;
    return NULL;
}

//  --------------------------------------------------------------------------
//  Files

//  Length of the MIME token at text (RFC 6838 restricted name: a letter or
//  digit, then letters, digits and !#$&^_.+-), at most 127.
static size_t
s_mime_token (const char *text)
{
    size_t length = 0;
    if (!s_is_letter (text[0]) && !s_is_digit (text[0]))
        return 0;
    while (text[length] &&
           (s_is_letter (text[length]) || s_is_digit (text[length]) ||
            strchr ("!#$&^_.+-", text[length])))
        length++;
    return length <= 127 ? length : 0;
}

//  True if type is "type/subtype" and nothing more.
static bool
s_mime_valid (const char *type)
{
    size_t length = s_mime_token (type);
    if (length == 0 || type[length] != '/')
        return false;
    const char *subtype = type + length + 1;
    length = s_mime_token (subtype);
    return length > 0 && subtype[length] == 0;
}

//  True if a and b are equal, ASCII case ignored, on their first size
//  bytes (or up to their end).
static bool
s_same_ascii (const char *a, const char *b, size_t size)
{
    for (size_t index = 0; index < size; index++) {
        if (s_lower (a[index]) != s_lower (b[index]))
            return false;
        if (!a[index])
            return true;
    }
    return true;
}

//  True if type (valid) is allowed by one of the types ("image/*" allows
//  every image); types NULL allows any.
static bool
s_mime_allowed (const char *type, const char *const *types, size_t ntypes)
{
    if (!types)
        return true;
    for (size_t index = 0; index < ntypes; index++) {
        const char *allowed = types[index];
        size_t length = strlen (allowed);
        if (length >= 2 && streq (allowed + length - 2, "/*")) {
            if (s_same_ascii (type, allowed, length - 1))
                return true;
        }
        else if (s_same_ascii (type, allowed, length + 1))
            return true;
    }
    return false;
}

//  True if name is a file name: 1 to 255 characters of valid UTF-8, no '/',
//  '\', control character, not "." nor "..".
static bool
s_file_name_valid (const char *name)
{
    size_t count;
    if (!name || !s_utf8_count (name, &count) || count < 1 || count > 255)
        return false;
    if (streq (name, ".") || streq (name, ".."))
        return false;
    for (const unsigned char *c = (const unsigned char *) name; *c; c++)
        if (*c == '/' || *c == '\\' || s_control (c))
            return false;
    return true;
}

//  True if id is 1 to 64 characters [A-Za-z0-9_-].
static bool
s_file_id_valid (const char *id)
{
    if (!id)
        return false;
    size_t length = strlen (id);
    if (length < 1 || length > 64)
        return false;
    for (const char *c = id; *c; c++)
        if (!s_is_letter (*c) && !s_is_digit (*c) && *c != '_' && *c != '-')
            return false;
    return true;
}

const char *
dossiers_check_file (const json_t *value, const char *const *types,
                     size_t ntypes, int64_t max_size)
{
    static const char *const known[] = {"id", "name", "type", "size", NULL};
    if (s_absent (value))
        return s_msg_missing;
    if (!json_is_object (value) || s_unknown_key (value, known))
        return s_msg_file;
    if (!s_file_id_valid (s_text (json_object_get (value, "id"))))
        return s_msg_file;
    if (!s_file_name_valid (s_text (json_object_get (value, "name"))))
        return "Le nom de ce fichier n'est pas valide : renommez-le puis "
               "joignez-le de nouveau.";
    const char *type = s_text (json_object_get (value, "type"));
    if (!type || !s_mime_valid (type))
        return s_msg_file;
    if (!s_mime_allowed (type, types, ntypes))
        return "Ce type de fichier n'est pas accepté pour cette pièce.";
    json_t *size = json_object_get (value, "size");
    if (!json_is_integer (size))
        return s_msg_file;
    if (json_integer_value (size) < 1)
        return "Ce fichier est vide : joignez un fichier qui contient le "
               "document.";
    if (json_integer_value (size) > max_size)
        return "Ce fichier est trop volumineux pour cette pièce.";
    return NULL;
}

const char *
dossiers_check_files (const json_t *value, const char *const *types,
                      size_t ntypes, int64_t max_size, size_t min_count,
                      size_t max_count)
{
    if (s_absent (value))
        return s_msg_missing;
    if (!json_is_array (value))
        return "La liste des pièces jointes n'est pas valide : joignez vos "
               "fichiers de nouveau.";
    size_t size = json_array_size (value);
    if (size < min_count)
        return "Il manque des fichiers : joignez toutes les pièces "
               "demandées.";
    if (size > max_count)
        return "Vous avez joint trop de fichiers pour cette pièce.";
    for (size_t index = 0; index < size; index++) {
        json_t *file = json_array_get (value, index);
        if (s_absent (file))
            return s_msg_file;
        const char *fault = dossiers_check_file (file, types, ntypes, max_size);
        if (fault)
            return fault;
        const char *id = json_string_value (json_object_get (file, "id"));
        for (size_t other = 0; other < index; other++) {
            json_t *before = json_array_get (value, other);
            if (streq (json_string_value (json_object_get (before, "id")), id))
                return "Ce fichier a été joint deux fois.";
        }
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Self-test

//  A checker under test, its parameters fixed by a wrapper below.
typedef const char *(s_checker_fn) (const json_t *value, json_t **normal_p);

//  One value and what the checker must say of it.
typedef struct {
    const char *json;     //  the value, as JSON text
    const char *message;  //  expected message, NULL if valid
    const char *normal;   //  normalised value as JSON text, if valid
} s_case_t;

//  Run the cases through check. With normalises, every valid case must
//  give its normal form and every fault none.
static void
s_run (const char *name, s_checker_fn *check, bool normalises,
       const s_case_t *cases, size_t ncases, bool verbose)
{
    size_t valid = 0;
    for (size_t index = 0; index < ncases; index++) {
        const s_case_t *test = &cases[index];
        json_error_t error;
        json_t *value =
            json_loads (test->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
        if (!value)
            printf ("\n    %s: bad test JSON %s: %s\n", name, test->json,
                    error.text);
        assert (value);
        json_t *normal = json_null ();  //  must be replaced
        const char *message = check (value, &normal);
        bool ok = message && test->message ? streq (message, test->message)
                                           : message == test->message;
        if (ok && normalises && !message) {
            assert (test->normal);
            json_t *expected = json_loads (test->normal, JSON_DECODE_ANY, NULL);
            assert (expected);
            ok = normal && json_equal (normal, expected);
            json_decref (expected);
        }
        else if (ok && normalises)
            ok = normal == NULL;
        if (verbose || !ok) {
            char *dump = normalises && normal
                             ? json_dumps (normal, JSON_ENCODE_ANY)
                             : NULL;
            printf ("\n    %s %s: %s%s%s", name, test->json,
                    message ? message : "valid", dump ? " -> " : "",
                    dump ? dump : "");
            free (dump);
        }
        if (!ok) {
            printf ("\n    expected %s %s\n",
                    test->message ? test->message : "valid",
                    test->normal ? test->normal : "");
            fflush (stdout);
            assert (false);
        }
        //  Without normal_p, the same verdict.
        assert (check (value, NULL) == message);
        json_decref (normal);
        json_decref (value);
        valid += message == NULL;
    }
    //  Every type has at least 4 valid and 4 invalid values (boolean has
    //  only two valid ones).
    assert (valid >= 2 && ncases - valid >= 4);
}

#define S_RUN(name, check, normalises, cases)                                  \
    s_run (name, check, normalises, cases, sizeof cases / sizeof *cases,       \
           verbose)

static const char *
s_test_text (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_text (value, 1, 10);
}

static const char *
s_test_longtext (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_longtext (value, 0, 20);
}

static const char *
s_test_integer (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_integer (value, 1, 100);
}

static const char *
s_test_decimal (const json_t *value, json_t **normal_p)
{
    return dossiers_check_decimal (value, -10, 1000, normal_p);
}

static const char *
s_test_money (const json_t *value, json_t **normal_p)
{
    return dossiers_check_money (value, 100, INT64_MAX, normal_p);
}

static const char *
s_test_date (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_date (value, "2025-01-01", "today+30", "2025-06-15");
}

static const char *
s_test_boolean (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_boolean (value);
}

static const char *const s_test_choices[] = {"naissance", "mariage", "deces",
                                             "reconnaissance"};

static const char *
s_test_choice (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_choice (value, s_test_choices, 4);
}

static const char *
s_test_multichoice (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_multichoice (value, s_test_choices, 4, 1, 2);
}

static const char *const s_test_types[] = {"application/pdf", "image/*"};

static const char *
s_test_file (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_file (value, s_test_types, 2, 10485760);
}

static const char *
s_test_files (const json_t *value, json_t **normal_p)
{
    (void) normal_p;
    return dossiers_check_files (value, s_test_types, 2, 10485760, 1, 2);
}

//  The communes the address test knows, with their postcode.
static bool
s_test_commune_known (void *ctx, const char *insee, const char *postcode)
{
    static const char *const pairs[][2] = {
        {"86194", "86000"}, {"2A004", "20000"}, {"75056", "75001"}};
    int *calls = (int *) ctx;
    (*calls)++;
    for (size_t index = 0; index < 3; index++)
        if (streq (pairs[index][0], insee) && streq (pairs[index][1], postcode))
            return true;
    return false;
}

static void
s_suite_text_types (bool verbose)
{
    const char *too_long = "Ce texte est trop long : raccourcissez-le.";
    const char *bad = "Ce texte contient un caractère non autorisé.";
    const s_case_t text[] = {
        {"\"Bonjour\"", NULL, NULL},
        {"\"3 rue Nue\"", NULL, NULL},
        {"\"éééééééééé\"", NULL, NULL},  //  10 characters, 20 bytes
        {"\"a\"", NULL, NULL},
        {"\"ééééééééééé\"", too_long, NULL},
        {"\"\"", "Ce champ est obligatoire.", NULL},
        {"\"  \\u00a0 \"", "Ce champ est obligatoire.", NULL},
        {"null", "Ce champ est obligatoire.", NULL},
        {"\"a\\nb\"",
         "Ce champ tient sur une seule ligne : retirez les retours à la "
         "ligne.",
         NULL},
        {"\"a\\tb\"", bad, NULL},
        {"\"a\\u0007\"", bad, NULL},
        {"\"\\u0085\"", bad, NULL},  //  C1 control
        {"\"a\\u0000b\"", bad, NULL},
        {"12", "Ce champ attend un texte.", NULL},
        {"[\"a\"]", "Ce champ attend un texte.", NULL},
    };
    S_RUN ("text", s_test_text, false, text);
    const s_case_t longtext[] = {
        {"\"\"", NULL, NULL},
        {"\"ligne 1\\nligne 2\"", NULL, NULL},
        {"\"a\\r\\n\\tb\"", NULL, NULL},
        {"\"Chien\\nchez voisins\"", NULL, NULL},
        {"\"Chien chez les voisins\"", too_long, NULL},
        {"\"a\\u0001\"", bad, NULL},
        {"\"a\\u007fb\"", bad, NULL},
        {"true", "Ce champ attend un texte.", NULL},
        {"\"\\u0000\"", bad, NULL},
    };
    S_RUN ("longtext", s_test_longtext, false, longtext);

    assert (dossiers_check_length ("ab", 3, 10) ==
            dossiers_check_length ("abc", 4, 10));
    assert (streq (dossiers_check_length ("ab", 3, 10),
                   "Ce texte est trop court : complétez-le."));
    assert (
        streq (dossiers_check_length ("", 1, 10), "Ce champ est obligatoire."));
    assert (streq (dossiers_check_length ("\xff", 0, 10), bad));
    assert (streq (dossiers_check_length ("\xc0\xaf", 0, 10), bad));
    assert (streq (dossiers_check_length ("\xed\xa0\x80", 0, 10), bad));
    assert (streq (dossiers_check_length ("\xe9t\xe9", 0, 10), bad));
    assert (dossiers_check_length ("é", 1, 1) == NULL);
    assert (dossiers_check_length ("\xf0\x9f\x98\x80", 1, 1) == NULL);
    assert (dossiers_check_length ("", 0, INT_MAX) == NULL);
    assert (
        streq (dossiers_check_text (NULL, 0, 10), "Ce champ est obligatoire."));
}

static void
s_suite_contacts (bool verbose)
{
    const char *format = "Indiquez une adresse e-mail valide, par exemple "
                         "prenom.nom@exemple.fr.";
    const char *domain = "Le domaine de cette adresse e-mail (après @) n'est "
                         "pas valide, par exemple exemple.fr.";
    const char *too_long = "Cette adresse e-mail est trop longue.";
    const s_case_t email[] = {
        {"\"jean.dupont@example.fr\"", NULL, "\"jean.dupont@example.fr\""},
        {"\" Jean.Dupont@Example.FR \"", NULL, "\"Jean.Dupont@example.fr\""},
        {"\"a+tag@sub.mairie-poitiers.fr\"", NULL,
         "\"a+tag@sub.mairie-poitiers.fr\""},
        {"\"o'brien@xn--caf-dma.fr\"", NULL, "\"o'brien@xn--caf-dma.fr\""},
        {"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@"
         "b.fr\"",
         NULL,
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@"
         "b.fr\""},
        {"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "@b.fr\"",
         too_long, NULL},
        {"\"jean\"", format, NULL},
        {"\"a@@b.fr\"", format, NULL},
        {"\"@example.fr\"", format, NULL},
        {"\".jean@example.fr\"", format, NULL},
        {"\"jean..d@example.fr\"", format, NULL},
        {"\"jean(d)@example.fr\"", format, NULL},
        {"\"jean dupont@example.fr\"",
         "Une adresse e-mail ne contient pas d'espace.", NULL},
        {"\"jean@example\"", domain, NULL},
        {"\"jean@-example.fr\"", domain, NULL},
        {"\"jean@example..fr\"", domain, NULL},
        {"\"jean@example.fr.\"", domain, NULL},
        {"\"jean@1.2\"", domain, NULL},
        {"\"jean@exämple.fr\"", domain, NULL},
        {"42", format, NULL},
        {"\" \"", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("email", dossiers_check_email, true, email);

    const char *national = "Indiquez un numéro de téléphone français à 10 "
                           "chiffres, par exemple 05 49 12 34 56.";
    const char *french = "Après +33, indiquez les 9 chiffres du numéro sans le "
                         "0, par exemple +33 5 49 12 34 56.";
    const char *international = "Un numéro international commence par + et "
                                "l'indicatif du pays, et compte de 8 à 15 "
                                "chiffres.";
    const s_case_t phone[] = {
        {"\"05 49 12 34 56\"", NULL, "\"0549123456\""},
        {"\"05.49.12.34.56\"", NULL, "\"0549123456\""},
        {"\"0549123456\"", NULL, "\"0549123456\""},
        {"\"+33 5 49 12 34 56\"", NULL, "\"0549123456\""},
        {"\"+33 (0)5 49 12 34 56\"", NULL, "\"0549123456\""},
        {"\"+33 05 49 12 34 56\"", NULL, "\"0549123456\""},
        {"\"0033 5 49 12 34 56\"", NULL, "\"0549123456\""},
        {"\"06-12-34-56-78\"", NULL, "\"0612345678\""},
        {"\" 09\\u00a070\\u202f12 34 56 \"", NULL, "\"0970123456\""},
        {"\"+44 20 7946 0958\"", NULL, "\"+442079460958\""},
        {"\"+44 (0)20 7946 0958\"", NULL, "\"+442079460958\""},
        {"\"+1 (555) 123-4567\"", NULL, "\"+15551234567\""},
        {"\"0044 20 7946 0958\"", NULL, "\"+442079460958\""},
        {"\"+262 262 12 34 56\"", NULL, "\"+262262123456\""},
        {"\"12345\"", national, NULL},
        {"\"06 12 34 56 7a\"", national, NULL},
        {"\"06 12 34 56 78 9\"", national, NULL},
        {"\"00 12 34 56 78\"", national, NULL},
        {"\"6 12 34 56 78\"", national, NULL},
        {"\"06 12 34 56 78 #1\"", national, NULL},
        {"612345678", national, NULL},
        {"\"+33 6 12 34 56\"", french, NULL},
        {"\"+33 0 12 34 56 78\"", french, NULL},
        {"\"+33 6 12 34 56 78 9\"", french, NULL},
        {"\"+0 12 34 56 78\"", international, NULL},
        {"\"+1234567\"", international, NULL},
        {"\"+1234567890123456\"", international, NULL},
        {"\"+44 20 7946 0958 poste 2\"", international, NULL},
        {"\"\"", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("phone", dossiers_check_phone, true, phone);
}

static void
s_suite_numbers (bool verbose)
{
    const char *below = "Ce nombre est inférieur au minimum autorisé.";
    const char *above = "Ce nombre dépasse le maximum autorisé.";
    const char *integer_format =
        "Indiquez un nombre entier, sans virgule, par exemple 12.";
    const s_case_t integer[] = {
        {"1", NULL, NULL},
        {"100", NULL, NULL},
        {"42", NULL, NULL},
        {"7", NULL, NULL},
        {"0", below, NULL},
        {"-5", below, NULL},
        {"101", above, NULL},
        {"12.0", integer_format, NULL},
        {"\"12\"", integer_format, NULL},
        {"true", integer_format, NULL},
        {"null", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("integer", s_test_integer, false, integer);
    json_t *zero = json_integer (0);
    assert (dossiers_check_integer (zero, INT64_MIN, INT64_MAX) == NULL);
    json_decref (zero);

    const char *decimal_format = "Indiquez un nombre, par exemple 12,5.";
    const s_case_t decimal[] = {
        {"12.5", NULL, "12.5"},
        {"3", NULL, "3.0"},
        {"\"12,5\"", NULL, "12.5"},
        {"\" 0.1 \"", NULL, "0.1"},
        {"\"-1,25\"", NULL, "-1.25"},
        {"\"1 000\"", NULL, "1000.0"},
        {"\"-0\"", NULL, "0.0"},
        {"\"999,999999999999\"", NULL, "999.999999999999"},
        {"\"0,000000000000001\"", NULL, "1e-15"},
        {"\"12,50000000000000000000\"", NULL, "12.5"},
        {"\"12,5,3\"", decimal_format, NULL},
        {"\"abc\"", decimal_format, NULL},
        {"\"1e3\"", decimal_format, NULL},
        {"\"1 00\"", decimal_format, NULL},
        {"\"1000 000\"", decimal_format, NULL},
        {"\"12,\"", decimal_format, NULL},
        {"\",5\"", decimal_format, NULL},
        {"true", decimal_format, NULL},
        {"1000.5", above, NULL},
        {"\"-10,01\"", below, NULL},
        {"\"1,0000000000000001\"", "Ce nombre compte trop de chiffres.", NULL},
        {"\"  \"", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("decimal", s_test_decimal, true, decimal);

    const char *money_format =
        "Indiquez un montant en euros, par exemple 25,50 €.";
    const char *negative = "Le montant ne peut pas être négatif.";
    const char *decimals =
        "Indiquez au plus deux chiffres après la virgule, pour les centimes.";
    const char *absurd = "Ce montant est trop élevé : vérifiez-le.";
    const s_case_t money[] = {
        {"2500", NULL, "2500"},
        {"\"25,00\"", NULL, "2500"},
        {"\"25.5\"", NULL, "2550"},
        {"\"25\"", NULL, "2500"},
        {"\"1 250,50 €\"", NULL, "125050"},
        {"\"€ 12\"", NULL, "1200"},
        {"\"1\\u00a0250,05\\u00a0€\"", NULL, "125005"},
        {"\"1000000000\"", NULL, "100000000000"},
        {"100000000000", NULL, "100000000000"},
        {"-5", negative, NULL},
        {"\"-25,00\"", negative, NULL},
        {"\"25,005\"", decimals, NULL},
        {"\"1000000000,01\"", absurd, NULL},
        {"\"99999999999\"", absurd, NULL},
        {"100000000001", absurd, NULL},
        {"99", "Ce montant est inférieur au minimum autorisé.", NULL},
        {"\"0,99\"", "Ce montant est inférieur au minimum autorisé.", NULL},
        {"25.5", money_format, NULL},
        {"\"25 €50\"", money_format, NULL},
        {"\"€\"", money_format, NULL},
        {"\"abc\"", money_format, NULL},
        {"\"25 EUR\"", money_format, NULL},
    };
    S_RUN ("money", s_test_money, true, money);
    json_t *amount = json_string ("50,01");
    assert (streq (dossiers_check_money (amount, 0, 5000, NULL),
                   "Ce montant dépasse le maximum autorisé."));
    json_decref (amount);
    amount = json_integer (0);
    assert (dossiers_check_money (amount, 0, 5000, NULL) == NULL);
    json_decref (amount);
}

static void
s_suite_dates (bool verbose)
{
    const char *format =
        "Indiquez une date au format AAAA-MM-JJ, par exemple 2025-07-14.";
    const char *unreal = "Cette date n'existe pas dans le calendrier : "
                         "vérifiez le jour et le mois.";
    const char *year = "Indiquez une année comprise entre 1900 et 2199.";
    //  Between 2025-01-01 and today+30, today being 2025-06-15.
    const s_case_t date[] = {
        {"\"2025-01-01\"", NULL, NULL},
        {"\"2025-07-15\"", NULL, NULL},
        {"\"2025-02-28\"", NULL, NULL},
        {"\"2025-06-15\"", NULL, NULL},
        {"\"2024-12-31\"",
         "Cette date est antérieure à la première date autorisée.", NULL},
        {"\"2025-07-16\"",
         "Cette date est postérieure à la dernière date autorisée.", NULL},
        {"\"2025-02-29\"", unreal, NULL},
        {"\"2025-04-31\"", unreal, NULL},
        {"\"2025-13-01\"", unreal, NULL},
        {"\"2025-00-10\"", unreal, NULL},
        {"\"1899-12-31\"", year, NULL},
        {"\"2200-01-01\"", year, NULL},
        {"\"15/07/2025\"", format, NULL},
        {"\"2025-7-1\"", format, NULL},
        {"\" 2025-07-01\"", format, NULL},
        {"20250701", format, NULL},
    };
    S_RUN ("date", s_test_date, false, date);

    //  Leap years, no bounds.
    const char *leap[] = {"2024-02-29", "2000-02-29", "1904-02-29",
                          "1900-01-01", "2199-12-31"};
    for (size_t index = 0; index < 5; index++)
        assert (dossiers_date_valid (leap[index]));
    const char *not_leap[] = {"1900-02-29", "2100-02-29", "2023-02-29"};
    for (size_t index = 0; index < 3; index++) {
        assert (!dossiers_date_valid (not_leap[index]));
        json_t *value = json_string (not_leap[index]);
        assert (streq (dossiers_check_date (value, NULL, NULL, NULL), unreal));
        json_decref (value);
    }
    assert (!dossiers_date_valid (NULL));

    //  Bounds.
    assert (dossiers_date_bound_valid ("today"));
    assert (dossiers_date_bound_valid ("today+2"));
    assert (dossiers_date_bound_valid ("today-36500"));
    assert (dossiers_date_bound_valid ("2026-01-01"));
    assert (dossiers_date_bound_valid ("0001-01-01"));
    assert (!dossiers_date_bound_valid ("2026-02-29"));
    assert (!dossiers_date_bound_valid ("today+"));
    assert (!dossiers_date_bound_valid ("today+123456"));
    assert (!dossiers_date_bound_valid ("today+2d"));
    assert (!dossiers_date_bound_valid ("tomorrow"));
    assert (!dossiers_date_bound_valid ("2026-1-01"));
    assert (!dossiers_date_bound_valid (NULL));
    char resolved[11];
    dossiers_date_resolve ("today-1", "2024-03-01", resolved);
    assert (streq (resolved, "2024-02-29"));
    dossiers_date_resolve ("today+366", "2024-01-01", resolved);
    assert (streq (resolved, "2025-01-01"));
    dossiers_date_resolve ("today", "2025-06-15", resolved);
    assert (streq (resolved, "2025-06-15"));
    dossiers_date_resolve ("today-36500", "2025-06-15", resolved);
    assert (streq (resolved, "1925-07-10"));
    dossiers_date_resolve ("today+99999", "2199-12-31", resolved);
    assert (streq (resolved, "2473-10-14"));
    dossiers_date_resolve ("today-99999", "0100-01-01", resolved);
    assert (streq (resolved, "0001-01-01"));
    dossiers_date_resolve ("today+99999", "9999-01-01", resolved);
    assert (streq (resolved, "9999-12-31"));
    dossiers_date_resolve ("2026-01-01", NULL, resolved);
    assert (streq (resolved, "2026-01-01"));
    assert (dossiers_date_compare ("2025-01-02", "2025-01-10") == -1);
    assert (dossiers_date_compare ("2025-01-10", "2025-01-10") == 0);
    assert (dossiers_date_compare ("2025-02-01", "2025-01-31") == 1);
    //  A day count round trip over the whole range.
    for (int64_t days = s_days_from_civil (1, 1, 1);
         days <= s_days_from_civil (9999, 12, 31); days += 997) {
        int y, m, d;
        s_civil_from_days (days, &y, &m, &d);
        assert (s_date_real (y, m, d) && s_days_from_civil (y, m, d) == days);
    }
    //  An adult: born 18 years (6575 days, about) before today or earlier.
    json_t *birth = json_string ("2007-06-16");
    assert (dossiers_check_date (birth, NULL, "today-6575", "2025-06-15"));
    json_decref (birth);
    birth = json_string ("2007-06-14");
    assert (!dossiers_check_date (birth, NULL, "today-6575", "2025-06-15"));
    json_decref (birth);
}

static void
s_suite_choices (bool verbose)
{
    const s_case_t boolean[] = {
        {"true", NULL, NULL},
        {"false", NULL, NULL},
        {"\"oui\"", "Répondez par oui ou par non.", NULL},
        {"1", "Répondez par oui ou par non.", NULL},
        {"0", "Répondez par oui ou par non.", NULL},
        {"\"true\"", "Répondez par oui ou par non.", NULL},
        {"[]", "Répondez par oui ou par non.", NULL},
        {"null", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("boolean", s_test_boolean, false, boolean);

    const char *choose = "Choisissez une des réponses proposées.";
    const char *unknown =
        "Cette réponse ne fait pas partie des choix proposés.";
    const s_case_t choice[] = {
        {"\"naissance\"", NULL, NULL},
        {"\"mariage\"", NULL, NULL},
        {"\"deces\"", NULL, NULL},
        {"\"reconnaissance\"", NULL, NULL},
        {"\"Naissance\"", unknown, NULL},
        {"\"naissance \"", unknown, NULL},
        {"\"\"", unknown, NULL},
        {"1", choose, NULL},
        {"[\"naissance\"]", choose, NULL},
        {"null", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("choice", s_test_choice, false, choice);

    const char *unknown_checked =
        "Une des réponses cochées ne fait pas partie des choix proposés.";
    const s_case_t multichoice[] = {
        {"[\"naissance\"]", NULL, NULL},
        {"[\"mariage\", \"deces\"]", NULL, NULL},
        {"[\"reconnaissance\"]", NULL, NULL},
        {"[\"deces\", \"naissance\"]", NULL, NULL},
        {"[]", "Cochez au moins le nombre de réponses demandé.", NULL},
        {"[\"naissance\", \"mariage\", \"deces\"]",
         "Vous avez coché trop de réponses.", NULL},
        {"[\"naissance\", \"naissance\"]",
         "Une même réponse est cochée deux fois.", NULL},
        {"[\"autre\"]", unknown_checked, NULL},
        {"[1]", unknown_checked, NULL},
        {"[null]", unknown_checked, NULL},
        {"\"naissance\"", "Cochez une ou plusieurs des réponses proposées.",
         NULL},
        {"{}", "Cochez une ou plusieurs des réponses proposées.", NULL},
    };
    S_RUN ("multichoice", s_test_multichoice, false, multichoice);
}

static void
s_suite_codes (bool verbose)
{
    const char *postcode_format =
        "Indiquez un code postal à 5 chiffres, par exemple 86000.";
    const char *postcode_unknown =
        "Ce code postal n'existe pas : vérifiez les deux premiers chiffres.";
    const s_case_t postcode[] = {
        {"\"86000\"", NULL, "\"86000\""},
        {"\"01000\"", NULL, "\"01000\""},
        {"\"20000\"", NULL, "\"20000\""},
        {"\"97400\"", NULL, "\"97400\""},
        {"\"98000\"", NULL, "\"98000\""},
        {"\" 86 000 \"", NULL, "\"86000\""},
        {"\"75001\"", NULL, "\"75001\""},
        {"\"8600\"", postcode_format, NULL},
        {"\"860000\"", postcode_format, NULL},
        {"\"2A004\"", postcode_format, NULL},
        {"86000", postcode_format, NULL},
        {"\"00100\"", postcode_unknown, NULL},
        {"\"96000\"", postcode_unknown, NULL},
        {"\"99000\"", postcode_unknown, NULL},
        {"\"\"", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("postcode", dossiers_check_postcode, true, postcode);

    const char *insee_format = "Indiquez un code commune INSEE à 5 caractères, "
                               "par exemple 86194 ou 2A004.";
    const char *insee_unknown =
        "Ce code commune INSEE n'existe pas : vérifiez-le.";
    const s_case_t insee[] = {
        {"\"86194\"", NULL, "\"86194\""},   {"\"2A004\"", NULL, "\"2A004\""},
        {"\" 2b033 \"", NULL, "\"2B033\""}, {"\"97411\"", NULL, "\"97411\""},
        {"\"01053\"", NULL, "\"01053\""},   {"\"75056\"", NULL, "\"75056\""},
        {"\"97601\"", NULL, "\"97601\""},   {"\"20004\"", insee_unknown, NULL},
        {"\"97701\"", insee_unknown, NULL}, {"\"86000\"", insee_unknown, NULL},
        {"\"97100\"", insee_unknown, NULL}, {"\"2A000\"", insee_unknown, NULL},
        {"\"00123\"", insee_unknown, NULL}, {"\"96123\"", insee_unknown, NULL},
        {"\"98612\"", insee_unknown, NULL}, {"\"9741\"", insee_format, NULL},
        {"\"2C004\"", insee_format, NULL},  {"\"8619A\"", insee_format, NULL},
        {"86194", insee_format, NULL},
    };
    S_RUN ("insee", dossiers_check_insee, true, insee);

    const char *plate_format = "Indiquez une immatriculation au format "
                               "AB-123-CD, ou 1234 AB 56 pour une ancienne "
                               "plaque.";
    const char *iou = "Les lettres I, O et U ne sont pas utilisées dans les "
                      "immatriculations : vérifiez la plaque.";
    const char *department = "Le département de cette ancienne "
                             "immatriculation n'existe pas : vérifiez la "
                             "plaque.";
    const s_case_t plate[] = {
        {"\"AB-123-CD\"", NULL, "\"AB-123-CD\""},
        {"\"ab-123-cd\"", NULL, "\"AB-123-CD\""},
        {"\"ab123cd\"", NULL, "\"AB-123-CD\""},
        {"\" AB 123 CD \"", NULL, "\"AB-123-CD\""},
        {"\"WW-001-AB\"", NULL, "\"WW-001-AB\""},
        {"\"1234 AB 56\"", NULL, "\"1234 AB 56\""},
        {"\"123 abc 75\"", NULL, "\"123 ABC 75\""},
        {"\"45-ab-2a\"", NULL, "\"45 AB 2A\""},
        {"\"12 AB 971\"", NULL, "\"12 AB 971\""},
        {"\"1234AB56\"", NULL, "\"1234 AB 56\""},
        {"\"AI-123-CD\"", iou, NULL},
        {"\"AB-123-CU\"", iou, NULL},
        {"\"SS-123-AB\"",
         "Les immatriculations commençant par SS ne sont pas attribuées : "
         "vérifiez la plaque.",
         NULL},
        {"\"AB-000-CD\"", plate_format, NULL},
        {"\"AB-1234-CD\"", plate_format, NULL},
        {"\"A-B123CD\"", plate_format, NULL},
        {"\"AB_123_CD\"", plate_format, NULL},
        {"\"0123 AB 56\"", plate_format, NULL},
        {"\"12345 AB 56\"", plate_format, NULL},
        {"\"12 ABCD 56\"", plate_format, NULL},
        {"123", plate_format, NULL},
        {"\"1234 AB 96\"", department, NULL},
        {"\"1234 AB 00\"", department, NULL},
        {"\"1234 AB 977\"", department, NULL},
        {"\"1234 AB 2C\"", department, NULL},
    };
    S_RUN ("plate", dossiers_check_plate, true, plate);

    const char *iban_format = "Indiquez un IBAN valide, par exemple FR76 3000 "
                              "6000 0112 3456 7890 189.";
    const char *country = "Un IBAN commence par les deux lettres du pays puis "
                          "deux chiffres, par exemple FR76.";
    const char *length = "Cet IBAN n'a pas le bon nombre de caractères pour "
                         "son pays : vérifiez-le.";
    const char *checksum = "Cet IBAN n'est pas valide : vérifiez les "
                           "chiffres (clé de contrôle incorrecte).";
    const s_case_t iban[] = {
        {"\"FR7630006000011234567890189\"", NULL,
         "\"FR7630006000011234567890189\""},
        {"\"fr76 3000 6000 0112 3456 7890 189\"", NULL,
         "\"FR7630006000011234567890189\""},
        {"\"DE89 3704 0044 0532 0130 00\"", NULL, "\"DE89370400440532013000\""},
        {"\"GB29NWBK60161331926819\"", NULL, "\"GB29NWBK60161331926819\""},
        {"\"BE68539007547034\"", NULL, "\"BE68539007547034\""},
        {"\"CH9300762011623852957\"", NULL, "\"CH9300762011623852957\""},
        {"\"MC5811222000010123456789030\"", NULL,
         "\"MC5811222000010123456789030\""},
        {"\"IT60X0542811101000000123456\"", NULL,
         "\"IT60X0542811101000000123456\""},
        {"\"ES9121000418450200051332\"", NULL, "\"ES9121000418450200051332\""},
        {"\"NL91ABNA0417164300\"", NULL, "\"NL91ABNA0417164300\""},
        {"\"LU280019400644750000\"", NULL, "\"LU280019400644750000\""},
        {"\"PT50000201231234567890154\"", NULL,
         "\"PT50000201231234567890154\""},
        {"\"FR7630006000011234567890188\"", checksum, NULL},
        {"\"FR7630006000011234567890198\"", checksum, NULL},
        {"\"FR7730006000011234567890189\"", checksum, NULL},
        {"\"GB29NWBK60161331926818\"", checksum, NULL},
        {"\"FR763000600001123456789018\"", length, NULL},
        {"\"DE8937040044053201300\"", length, NULL},
        {"\"QQ1234567890123\"", checksum, NULL},
        {"\"QQ12345678901\"", length, NULL},
        {"\"7630006000011234567890189FR\"", country, NULL},
        {"\"FRAB30006000011234567890189\"", country, NULL},
        {"\"FR76-3000-6000\"", iban_format, NULL},
        {"\"FR7630006000011234567890é89\"", iban_format, NULL},
        {"\"FR7\"", iban_format, NULL},
        {"42", iban_format, NULL},
    };
    S_RUN ("iban", dossiers_check_iban, true, iban);

    const char *siret_format = "Indiquez un numéro SIRET à 14 chiffres, par "
                               "exemple 732 829 320 00074.";
    const char *siret_bad =
        "Ce numéro SIRET n'est pas valide : vérifiez les chiffres.";
    const s_case_t siret[] = {
        {"\"73282932000074\"", NULL, "\"73282932000074\""},
        {"\"732 829 320 00074\"", NULL, "\"73282932000074\""},
        {"\"55210055400013\"", NULL, "\"55210055400013\""},
        {"\"44306184100047\"", NULL, "\"44306184100047\""},
        {"\"35600000000048\"", NULL, "\"35600000000048\""},  //  La Poste, Luhn
        {"\"35600000049837\"", NULL, "\"35600000049837\""},  //  sum 45
        {"\"35600000000010\"", NULL, "\"35600000000010\""},  //  sum 15
        {"\"73282932000075\"", siret_bad, NULL},
        {"\"73282932000064\"", siret_bad, NULL},
        {"\"35600000049838\"", siret_bad, NULL},
        {"\"73282932100007\"", siret_bad, NULL},  //  Luhn, bad SIREN
        {"\"00000000000000\"", siret_bad, NULL},
        {"\"7328293200007\"", siret_format, NULL},
        {"\"732829320000745\"", siret_format, NULL},
        {"\"7328293200007A\"", siret_format, NULL},
        {"73282932000074", siret_format, NULL},
    };
    S_RUN ("siret", dossiers_check_siret, true, siret);

    const char *siren_format =
        "Indiquez un numéro SIREN à 9 chiffres, par exemple 732 829 320.";
    const char *siren_bad =
        "Ce numéro SIREN n'est pas valide : vérifiez les chiffres.";
    const s_case_t siren[] = {
        {"\"732829320\"", NULL, "\"732829320\""},
        {"\"732 829 320\"", NULL, "\"732829320\""},
        {"\"356000000\"", NULL, "\"356000000\""},
        {"\"552100554\"", NULL, "\"552100554\""},
        {"\"443061841\"", NULL, "\"443061841\""},
        {"\"732829321\"", siren_bad, NULL},
        {"\"742829320\"", siren_bad, NULL},
        {"\"000000000\"", siren_bad, NULL},
        {"\"73282932\"", siren_format, NULL},
        {"\"73282932A\"", siren_format, NULL},
        {"732829320", siren_format, NULL},
        {"\"\"", "Ce champ est obligatoire.", NULL},
    };
    S_RUN ("siren", dossiers_check_siren, true, siren);
}

static void
s_suite_address (bool verbose)
{
    typedef struct {
        const char *json;     //  the value
        const char *message;  //  expected message, NULL if valid
        const char *key;      //  expected faulty key, or normal if valid
    } address_case_t;
    const char *street_missing = "Indiquez le numéro et le nom de la rue.";
    const char *commune_bad = "Cette commune n'est pas reconnue : "
                              "choisissez-la dans la liste proposée.";
    const address_case_t cases[] = {
        {"{\"street\": \"3 rue de la Paix\", \"postcode\": \"86000\", "
         "\"commune\": \"86194\"}",
         NULL,
         "{\"street\": \"3 rue de la Paix\", \"postcode\": \"86000\", "
         "\"commune\": \"86194\"}"},
        {"{\"street\": \"3 rue de la Paix\", \"complement\": \"Bâtiment B\", "
         "\"postcode\": \"86000\", \"commune\": \"86194\"}",
         NULL,
         "{\"street\": \"3 rue de la Paix\", \"complement\": \"Bâtiment B\", "
         "\"postcode\": \"86000\", \"commune\": \"86194\"}"},
        {"{\"street\": \"1 cours Napoléon\", \"complement\": \"\", "
         "\"postcode\": \"20 000\", \"commune\": \"2a004\"}",
         NULL,
         "{\"street\": \"1 cours Napoléon\", \"postcode\": \"20000\", "
         "\"commune\": \"2A004\"}"},
        {"{\"commune\": \"75056\", \"street\": \"Place de l'Hôtel de Ville\", "
         "\"complement\": null, \"postcode\": \"75001\"}",
         NULL,
         "{\"street\": \"Place de l'Hôtel de Ville\", \"postcode\": "
         "\"75001\", \"commune\": \"75056\"}"},
        {"\"3 rue de la Paix, 86000 Poitiers\"",
         "Indiquez une adresse complète : rue, code postal et commune.", NULL},
        {"{}", street_missing, "street"},
        {"{\"street\": \"  \", \"postcode\": \"86000\", "
         "\"commune\": \"86194\"}",
         street_missing, "street"},
        {"{\"street\": \"3 rue\\nde la Paix\", \"postcode\": \"86000\", "
         "\"commune\": \"86194\"}",
         "Ce champ tient sur une seule ligne : retirez les retours à la "
         "ligne.",
         "street"},
        {"{\"street\": \"3 rue\", \"postcode\": \"86000\", "
         "\"commune\": \"86194\", \"pays\": \"FR\"}",
         "Cette adresse contient une information non prévue.", "pays"},
        {"{\"street\": \"3 rue\", \"complement\": 4, \"postcode\": \"86000\", "
         "\"commune\": \"86194\"}",
         "Ce champ attend un texte.", "complement"},
        {"{\"street\": \"3 rue\", \"commune\": \"86194\"}",
         "Indiquez le code postal de l'adresse.", "postcode"},
        {"{\"street\": \"3 rue\", \"postcode\": \"8600\", "
         "\"commune\": \"86194\"}",
         "Indiquez un code postal à 5 chiffres, par exemple 86000.",
         "postcode"},
        {"{\"street\": \"3 rue\", \"postcode\": \"86000\"}",
         "Choisissez la commune de l'adresse.", "commune"},
        {"{\"street\": \"3 rue\", \"postcode\": \"86000\", "
         "\"commune\": \"Poitiers\"}",
         commune_bad, "commune"},
        {"{\"street\": \"3 rue\", \"postcode\": \"86000\", "
         "\"commune\": \"75056\"}",
         "Cette commune ne correspond pas au code postal, ou n'est pas "
         "desservie par ce service.",
         "commune"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof *cases; index++) {
        const address_case_t *test = &cases[index];
        json_t *value = json_loads (test->json, JSON_DECODE_ANY, NULL);
        assert (value);
        int calls = 0;
        const char *key = "unset";
        json_t *normal = json_null ();
        const char *message = dossiers_check_address (
            value, s_test_commune_known, &calls, &key, &normal);
        if (verbose)
            printf ("\n    address %s: %s (%s)", test->json,
                    message ? message : "valid", key ? key : "-");
        if (test->message) {
            assert (message && streq (message, test->message));
            assert (test->key ? key && streq (key, test->key) : key == NULL);
            assert (normal == NULL);
        }
        else {
            assert (message == NULL && key == NULL && calls == 1);
            json_t *expected = json_loads (test->key, 0, NULL);
            assert (expected && normal && json_equal (normal, expected));
            json_decref (expected);
        }
        json_decref (normal);
        //  Without callback, key or normal_p.
        if (!message || !strstr (message, "desservie"))
            assert (dossiers_check_address (value, NULL, NULL, NULL, NULL) ==
                    message);
        json_decref (value);
    }
    //  A street of 200 characters passes, 201 do not.
    char street[256];
    memset (street, 'a', 200);
    street[200] = 0;
    json_t *address = json_pack ("{s:s, s:s, s:s}", "street", street,
                                 "postcode", "86000", "commune", "86194");
    assert (dossiers_check_address (address, NULL, NULL, NULL, NULL) == NULL);
    strcat (street, "a");
    json_object_set_new (address, "street", json_string (street));
    const char *key;
    assert (streq (dossiers_check_address (address, NULL, NULL, &key, NULL),
                   "Le numéro et le nom de la rue ne doivent pas dépasser 200 "
                   "caractères."));
    assert (streq (key, "street"));
    json_object_set_new (address, "street", json_string ("3 rue"));
    json_object_set_new (address, "complement", json_string (street));
    assert (streq (dossiers_check_address (address, NULL, NULL, &key, NULL),
                   "Le complément d'adresse ne doit pas dépasser 200 "
                   "caractères."));
    assert (streq (key, "complement"));
    json_decref (address);
    assert (streq (dossiers_check_address (NULL, NULL, NULL, &key, NULL),
                   "Ce champ est obligatoire."));
    assert (key == NULL);
}

static void
s_suite_files (bool verbose)
{
    const char *invalid =
        "Cette pièce jointe n'est pas valide : joignez le fichier de nouveau.";
    const char *name = "Le nom de ce fichier n'est pas valide : renommez-le "
                       "puis joignez-le de nouveau.";
    const s_case_t file[] = {
        {"{\"id\": \"f1\", \"name\": \"facture.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 12345}",
         NULL, NULL},
        {"{\"id\": \"a-B_9\", \"name\": \"photo été.JPG\", "
         "\"type\": \"image/jpeg\", \"size\": 1}",
         NULL, NULL},
        {"{\"id\": \"x\", \"name\": \"scan (1).png\", "
         "\"type\": \"IMAGE/PNG\", \"size\": 10485760}",
         NULL, NULL},
        {"{\"size\": 2048, \"type\": \"Application/PDF\", "
         "\"name\": \"..pdf\", \"id\": \"0123456789\"}",
         NULL, NULL},
        {"\"f1\"", invalid, NULL},
        {"{\"id\": \"f 1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         invalid, NULL},
        {"{\"id\": \"\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", \"type\": \"pdf\", "
         "\"size\": 1}",
         invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf; charset=x\", \"size\": 1}",
         invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": \"12\"}",
         invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\"}",
         invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1, \"url\": \"/x\"}",
         invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"../etc/passwd\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         name, NULL},
        {"{\"id\": \"f1\", \"name\": \"\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         name, NULL},
        {"{\"id\": \"f1\", \"name\": \"..\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         name, NULL},
        {"{\"id\": \"f1\", \"name\": \"a\\u0001.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         name, NULL},
        {"{\"id\": \"f1\", \"name\": \"lettre.docx\", \"type\": "
         "\"application/"
         "vnd.openxmlformats-officedocument.wordprocessingml.document\", "
         "\"size\": 1}",
         "Ce type de fichier n'est pas accepté pour cette pièce.", NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdfx\", \"size\": 1}",
         "Ce type de fichier n'est pas accepté pour cette pièce.", NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 0}",
         "Ce fichier est vide : joignez un fichier qui contient le document.",
         NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 10485761}",
         "Ce fichier est trop volumineux pour cette pièce.", NULL},
    };
    S_RUN ("file", s_test_file, false, file);

    const s_case_t files[] = {
        {"[{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}]",
         NULL, NULL},
        {"[{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}, "
         "{\"id\": \"f2\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}]",
         NULL, NULL},
        {"[{\"id\": \"img\", \"name\": \"photo.heic\", "
         "\"type\": \"image/heic\", \"size\": 5000000}]",
         NULL, NULL},
        {"[{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}, "
         "{\"id\": \"img\", \"name\": \"b.png\", "
         "\"type\": \"image/png\", \"size\": 1}]",
         NULL, NULL},
        {"[]", "Il manque des fichiers : joignez toutes les pièces demandées.",
         NULL},
        {"[{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}, "
         "{\"id\": \"f2\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}, "
         "{\"id\": \"f3\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}]",
         "Vous avez joint trop de fichiers pour cette pièce.", NULL},
        {"[{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}, "
         "{\"id\": \"f1\", \"name\": \"b.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}]",
         "Ce fichier a été joint deux fois.", NULL},
        {"[{\"id\": \"f1\", \"name\": \"a/b.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}]",
         name, NULL},
        {"[null]", invalid, NULL},
        {"{\"id\": \"f1\", \"name\": \"a.pdf\", "
         "\"type\": \"application/pdf\", \"size\": 1}",
         "La liste des pièces jointes n'est pas valide : joignez vos fichiers "
         "de nouveau.",
         NULL},
    };
    S_RUN ("files", s_test_files, false, files);

    //  Any type, no size limit, no file required.
    json_t *any = json_loads ("{\"id\": \"f1\", \"name\": \"a.bin\", "
                              "\"type\": \"application/octet-stream\", "
                              "\"size\": 99999999999}",
                              0, NULL);
    assert (any);
    assert (dossiers_check_file (any, NULL, 0, INT64_MAX) == NULL);
    json_decref (any);
    json_t *empty = json_array ();
    assert (dossiers_check_files (empty, NULL, 0, INT64_MAX, 0, SIZE_MAX) ==
            NULL);
    json_decref (empty);
}

void
dossiers_fields_test (bool verbose)
{
    printf (" * dossiers_fields: ");
    s_suite_text_types (verbose);
    s_suite_contacts (verbose);
    s_suite_numbers (verbose);
    s_suite_dates (verbose);
    s_suite_choices (verbose);
    s_suite_codes (verbose);
    s_suite_address (verbose);
    s_suite_files (verbose);
    printf ("%sOK\n", verbose ? "\n" : "");
}
