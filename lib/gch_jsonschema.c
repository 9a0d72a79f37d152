//  gch_jsonschema - JSON Schema (a subset of draft 2020-12) on jansson.
//
//  Compiling turns every schema object into a node (a struct with one
//  member per keyword); a json_t reached twice (by $ref) is one node, so
//  recursive schemas are graphs. References are resolved once the tree is
//  compiled, then the graph is checked for cycles that stay on the same
//  instance value. Validation walks instance and graph together, keeps the
//  instance path as a stack of segments, collects errors with their
//  position in the document, then sorts them into document order.
//
//  Patterns: s_rx_* translate ECMA-262 syntax to POSIX ERE (see the
//  header for what is translated and what is refused), compiled with
//  REG_EXTENDED | REG_NOSUB under a C.UTF-8 LC_CTYPE set with uselocale,
//  so the process' locale is never touched.
#include "gch.h"
#include <float.h>
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <unistd.h>

#define S_MAX_REFS 64         //  $ref followed without consuming input
#define S_MAX_DEPTH 256       //  instance nesting
#define S_MAX_SCHEMA 1000     //  schema nesting while compiling
#define S_RX_MAX_REPEAT 1000  //  largest {n,m} count
#define S_RX_MAX_SPAN 256     //  largest non-ASCII range, enumerated
#define S_RX_MAX_GROUPS 100   //  group nesting
#define S_ENUM_SHOWN 20       //  enum values named in a message

//  ---------------------------------------------------------------------
//  Growable strings

typedef struct {
    char *data;  //  NUL-terminated once anything was put
    size_t len;  //  bytes used
    size_t cap;  //  bytes allocated
} s_buf_t;

static void
s_buf_put (s_buf_t *buf, const char *data, size_t size)
{
    if (buf->len + size + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 64;
        while (cap < buf->len + size + 1)
            cap *= 2;
        buf->data = (char *) realloc (buf->data, cap);
        assert (buf->data);
        buf->cap = cap;
    }
    if (size)
        memcpy (buf->data + buf->len, data, size);
    buf->len += size;
    buf->data[buf->len] = '\0';
}

static void
s_buf_puts (s_buf_t *buf, const char *text)
{
    s_buf_put (buf, text, strlen (text));
}

static void
s_buf_putc (s_buf_t *buf, char c)
{
    s_buf_put (buf, &c, 1);
}

static void s_buf_printf (s_buf_t *buf, const char *format, ...)
    CHECK_PRINTF (2);

static void
s_buf_printf (s_buf_t *buf, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    assert (text);
    s_buf_puts (buf, text);
    free (text);
}

//  The string built (never NULL; caller frees); buf is empty again.
static char *
s_buf_take (s_buf_t *buf)
{
    if (!buf->data)
        s_buf_put (buf, "", 0);
    char *data = buf->data;
    memset (buf, 0, sizeof *buf);
    return data;
}

//  ---------------------------------------------------------------------
//  UTF-8

//  Decode the character at *p_p (before end) and step over it; -1 if the
//  bytes are not UTF-8.
static long
s_utf8_next (const char **p_p, const char *end)
{
    const unsigned char *p = (const unsigned char *) *p_p;
    long cp;
    int more;
    if (p[0] < 0x80) {
        cp = p[0];
        more = 0;
    }
    else if ((p[0] & 0xE0) == 0xC0) {
        cp = p[0] & 0x1F;
        more = 1;
    }
    else if ((p[0] & 0xF0) == 0xE0) {
        cp = p[0] & 0x0F;
        more = 2;
    }
    else if ((p[0] & 0xF8) == 0xF0) {
        cp = p[0] & 0x07;
        more = 3;
    }
    else
        return -1;
    if ((const char *) p + more >= end)
        return -1;
    for (int i = 1; i <= more; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *p_p += more + 1;
    return cp;
}

static void
s_utf8_put (s_buf_t *buf, long cp)
{
    char out[4];
    size_t size;
    if (cp < 0x80) {
        out[0] = (char) cp;
        size = 1;
    }
    else if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        size = 2;
    }
    else if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        size = 3;
    }
    else {
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        size = 4;
    }
    s_buf_put (buf, out, size);
}

//  Code points in size bytes of UTF-8.
static size_t
s_utf8_length (const char *text, size_t size)
{
    size_t count = 0;
    for (size_t i = 0; i < size; i++)
        if (((unsigned char) text[i] & 0xC0) != 0x80)
            count++;
    return count;
}

//  ---------------------------------------------------------------------
//  Regular expressions: ECMA-262 to POSIX ERE

typedef struct {
    long lo, hi;  //  code points, inclusive
} s_range_t;

typedef struct {
    s_range_t *ranges;  //  sorted and merged by s_set_normalize
    size_t count;
    size_t cap;
} s_set_t;

static const s_range_t s_digit_ranges[] = {{'0', '9'}};
static const s_range_t s_word_ranges[] = {
    {'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
//  ECMA-262 WhiteSpace and LineTerminator
static const s_range_t s_space_ranges[] = {
    {0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680},
    {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
    {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
//  What "." does not match
static const s_range_t s_line_ranges[] = {
    {'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};

typedef struct {
    const s_range_t *ranges;
    size_t count;
} s_class_t;

static const s_class_t s_digit = {s_digit_ranges, 1};
static const s_class_t s_word = {s_word_ranges, 4};
static const s_class_t s_space = {s_space_ranges, 10};
static const s_class_t s_line = {s_line_ranges, 3};

static void
s_set_add (s_set_t *set, long lo, long hi)
{
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 8;
        set->ranges =
            (s_range_t *) realloc (set->ranges, set->cap * sizeof (s_range_t));
        assert (set->ranges);
    }
    set->ranges[set->count].lo = lo;
    set->ranges[set->count].hi = hi;
    set->count++;
}

static void
s_set_add_class (s_set_t *set, const s_class_t *cls)
{
    for (size_t i = 0; i < cls->count; i++)
        s_set_add (set, cls->ranges[i].lo, cls->ranges[i].hi);
}

static int
s_range_compare (const void *a, const void *b)
{
    long x = ((const s_range_t *) a)->lo, y = ((const s_range_t *) b)->lo;
    return (x > y) - (x < y);
}

static void
s_set_normalize (s_set_t *set)
{
    if (set->count == 0)
        return;
    qsort (set->ranges, set->count, sizeof (s_range_t), s_range_compare);
    size_t out = 0;
    for (size_t i = 1; i < set->count; i++)
        if (set->ranges[i].lo <= set->ranges[out].hi + 1) {
            if (set->ranges[i].hi > set->ranges[out].hi)
                set->ranges[out].hi = set->ranges[i].hi;
        }
        else
            set->ranges[++out] = set->ranges[i];
    set->count = out + 1;
}

typedef enum { S_RX_OK, S_RX_UNSUPPORTED, S_RX_INVALID } s_rx_status_t;

typedef struct {
    const char *p;         //  next character of the ECMA pattern
    const char *end;       //  its end
    s_buf_t out;           //  the ERE so far
    s_rx_status_t status;  //  first failure
    const char *why;       //  and its reason (static text)
} s_rx_t;

static bool
s_rx_fail (s_rx_t *rx, s_rx_status_t status, const char *why)
{
    if (rx->status == S_RX_OK) {
        rx->status = status;
        rx->why = why;
    }
    return false;
}

//  One character outside brackets, escaped if ERE gives it a meaning.
static void
s_rx_literal (s_buf_t *out, long cp)
{
    if (cp > 0 && cp < 0x80 && strchr (".[\\()*+?{|^$", (int) cp))
        s_buf_putc (out, '\\');
    s_utf8_put (out, cp);
}

//  Characters lo..hi inside brackets, none of them - [ ] ^ (placed apart).
//  Ranges are only written between ASCII characters: the C library
//  refuses others, so those are listed one by one (a few only).
static bool
s_rx_piece (s_rx_t *rx, s_buf_t *body, long lo, long hi)
{
    if (lo == 0)
        lo = 1;  //  U+0000 cannot be written, and ends every subject
    if (lo > hi)
        return true;
    if (lo < 0x80 && hi >= 0x80)
        return s_rx_piece (rx, body, lo, 0x7F) &&
               s_rx_piece (rx, body, 0x80, hi);
    if (hi < 0x80) {
        s_utf8_put (body, lo);
        if (hi > lo + 1)
            s_buf_putc (body, '-');
        if (hi > lo)
            s_utf8_put (body, hi);
        return true;
    }
    if (hi - lo + 1 > S_RX_MAX_SPAN)
        return s_rx_fail (rx, S_RX_UNSUPPORTED,
                          "a range of more than 256 non-ASCII characters");
    for (long cp = lo; cp <= hi; cp++)
        if (cp < 0xD800 || cp > 0xDFFF)
            s_utf8_put (body, cp);
    return true;
}

//  A bracket expression for set (or its complement): ']' first, '[' and
//  '^' late, '-' last, so none takes a special meaning.
static bool
s_rx_bracket (s_rx_t *rx, s_set_t *set, bool negated)
{
    s_set_normalize (set);
    if (set->count == 0) {
        if (!negated)
            return s_rx_fail (rx, S_RX_UNSUPPORTED, "the empty class []");
        s_buf_putc (&rx->out, '.');
        return true;
    }
    if (!negated && set->count == 1 && set->ranges[0].lo == set->ranges[0].hi &&
        set->ranges[0].lo != 0) {
        s_rx_literal (&rx->out, set->ranges[0].lo);
        return true;
    }
    static const long specials[] = {'-', '[', ']', '^'};
    bool has[4] = {false, false, false, false};
    s_buf_t body = {NULL, 0, 0};
    bool ok = true;
    for (size_t i = 0; ok && i < set->count; i++) {
        long lo = set->ranges[i].lo, hi = set->ranges[i].hi;
        for (size_t s = 0; ok && s < 4; s++)
            if (lo <= specials[s] && specials[s] <= hi) {
                has[s] = true;
                ok = s_rx_piece (rx, &body, lo, specials[s] - 1);
                lo = specials[s] + 1;
            }
        if (ok)
            ok = s_rx_piece (rx, &body, lo, hi);
    }
    bool empty = !body.len && !has[0] && !has[1] && !has[2] && !has[3];
    if (ok && empty) {
        //  Only U+0000, which never reaches a match (subjects end there)
        if (negated)
            s_buf_putc (&rx->out, '.');
        else
            ok = s_rx_fail (rx, S_RX_UNSUPPORTED,
                            "a class of the character U+0000 only");
    }
    else if (ok && !negated && has[3] && !has[0] && !has[1] && !has[2] &&
             !body.len)
        s_rx_literal (&rx->out, '^');  //  [^] would mean something else
    else if (ok) {
        s_buf_t *out = &rx->out;
        s_buf_putc (out, '[');
        if (negated)
            s_buf_putc (out, '^');
        if (has[2])
            s_buf_putc (out, ']');
        if (body.len)
            s_buf_put (out, body.data, body.len);
        if (has[1])
            s_buf_putc (out, '[');
        if (has[3]) {
            if (!negated && !has[2] && !body.len && !has[1]) {
                //  "[^-]" would negate: the set is {'^', '-'}
                s_buf_puts (out, "-^");
                has[0] = false;
            }
            else
                s_buf_putc (out, '^');
        }
        if (has[0])
            s_buf_putc (out, '-');
        s_buf_putc (out, ']');
    }
    free (body.data);
    return ok;
}

static bool
s_rx_bracket_class (s_rx_t *rx, const s_class_t *cls, bool negated)
{
    s_set_t set = {NULL, 0, 0};
    s_set_add_class (&set, cls);
    bool ok = s_rx_bracket (rx, &set, negated);
    free (set.ranges);
    return ok;
}

//  Value of the count hex digits at p (before end), or -1.
static long
s_hex_value (const char *p, const char *end, int count)
{
    if (end - p < count)
        return -1;
    long value = 0;
    for (int i = 0; i < count; i++) {
        int digit = gch_hex_digit (p[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

//  One escape, rx->p just after the backslash. Either a character
//  (*cp_p) or a class (*cls_p, *negated_p). Returns false on failure.
static bool
s_rx_escape (s_rx_t *rx, bool in_class, long *cp_p, const s_class_t **cls_p,
             bool *negated_p)
{
    *cls_p = NULL;
    *negated_p = false;
    if (rx->p >= rx->end)
        return s_rx_fail (rx, S_RX_INVALID, "a trailing backslash");
    char c = *rx->p++;
    switch (c) {
        case 'd':
        case 'D':
            *cls_p = &s_digit;
            *negated_p = c == 'D';
            return true;
        case 'w':
        case 'W':
            *cls_p = &s_word;
            *negated_p = c == 'W';
            return true;
        case 's':
        case 'S':
            *cls_p = &s_space;
            *negated_p = c == 'S';
            return true;
        case 't':
            *cp_p = '\t';
            return true;
        case 'n':
            *cp_p = '\n';
            return true;
        case 'v':
            *cp_p = '\v';
            return true;
        case 'f':
            *cp_p = '\f';
            return true;
        case 'r':
            *cp_p = '\r';
            return true;
        case 'b':
            if (in_class) {
                *cp_p = '\b';
                return true;
            }
            return s_rx_fail (rx, S_RX_UNSUPPORTED, "word boundaries \\b \\B");
        case 'B':
            return s_rx_fail (rx, S_RX_UNSUPPORTED, "word boundaries \\b \\B");
        case 'c':
            if (rx->p < rx->end && ((*rx->p >= 'a' && *rx->p <= 'z') ||
                                    (*rx->p >= 'A' && *rx->p <= 'Z'))) {
                *cp_p = *rx->p++ % 32;
                return true;
            }
            return s_rx_fail (rx, S_RX_UNSUPPORTED, "\\c without a letter");
        case 'x': {
            long value = s_hex_value (rx->p, rx->end, 2);
            if (value < 0)
                return s_rx_fail (rx, S_RX_UNSUPPORTED,
                                  "\\x without two hex digits");
            rx->p += 2;
            if (value == 0 && !in_class)
                return s_rx_fail (rx, S_RX_UNSUPPORTED, "the character U+0000");
            *cp_p = value;
            return true;
        }
        case 'u': {
            if (rx->p < rx->end && *rx->p == '{')
                return s_rx_fail (rx, S_RX_UNSUPPORTED, "\\u{...}");
            long value = s_hex_value (rx->p, rx->end, 4);
            if (value < 0)
                return s_rx_fail (rx, S_RX_UNSUPPORTED,
                                  "\\u without four hex digits");
            rx->p += 4;
            if (value >= 0xD800 && value <= 0xDBFF && rx->end - rx->p >= 6 &&
                rx->p[0] == '\\' && rx->p[1] == 'u') {
                long low = s_hex_value (rx->p + 2, rx->end, 4);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00);
                    rx->p += 6;
                }
            }
            if (value >= 0xD800 && value <= 0xDFFF)
                return s_rx_fail (rx, S_RX_UNSUPPORTED, "a lone surrogate");
            if (value == 0 && !in_class)
                return s_rx_fail (rx, S_RX_UNSUPPORTED, "the character U+0000");
            *cp_p = value;
            return true;
        }
        case '0':
            if (rx->p < rx->end && *rx->p >= '0' && *rx->p <= '9')
                return s_rx_fail (rx, S_RX_UNSUPPORTED, "octal escapes");
            if (!in_class)
                return s_rx_fail (rx, S_RX_UNSUPPORTED, "the character U+0000");
            *cp_p = 0;
            return true;
        case 'k':
            return s_rx_fail (rx, S_RX_UNSUPPORTED, "backreferences");
        case 'p':
        case 'P':
            return s_rx_fail (rx, S_RX_UNSUPPORTED,
                              "Unicode property escapes \\p \\P");
        default:
            if (c >= '1' && c <= '9')
                return s_rx_fail (rx, S_RX_UNSUPPORTED,
                                  in_class ? "octal escapes"
                                           : "backreferences");
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                return s_rx_fail (rx, S_RX_UNSUPPORTED,
                                  "an escaped letter with no meaning");
            if ((unsigned char) c >= 0x80) {
                rx->p--;
                long cp = s_utf8_next (&rx->p, rx->end);
                if (cp < 0)
                    return s_rx_fail (rx, S_RX_INVALID, "bad UTF-8");
                *cp_p = cp;
                return true;
            }
            *cp_p = (unsigned char) c;  //  escaped punctuation, itself
            return true;
    }
}

//  One class member: a character or a class escape.
static bool
s_rx_class_atom (s_rx_t *rx, long *cp_p, const s_class_t **cls_p,
                 bool *negated_p)
{
    if (*rx->p == '\\') {
        rx->p++;
        return s_rx_escape (rx, true, cp_p, cls_p, negated_p);
    }
    *cls_p = NULL;
    *negated_p = false;
    *cp_p = s_utf8_next (&rx->p, rx->end);
    if (*cp_p < 0)
        return s_rx_fail (rx, S_RX_INVALID, "bad UTF-8");
    return true;
}

//  A class, rx->p just after its '['.
static bool
s_rx_class (s_rx_t *rx)
{
    bool negated = false;
    if (rx->p < rx->end && *rx->p == '^') {
        negated = true;
        rx->p++;
    }
    s_set_t set = {NULL, 0, 0};
    const s_class_t *complements[3];  //  \D \W \S met
    size_t ncomplements = 0;
    bool ok = true;
    while (ok) {
        if (rx->p >= rx->end) {
            ok = s_rx_fail (rx, S_RX_INVALID, "a class without its ]");
            break;
        }
        if (*rx->p == ']') {
            rx->p++;
            break;
        }
        long lo = 0, hi = 0;
        const s_class_t *cls, *cls_hi;
        bool neg, neg_hi;
        ok = s_rx_class_atom (rx, &lo, &cls, &neg);
        if (!ok)
            break;
        if (rx->end - rx->p >= 2 && rx->p[0] == '-' && rx->p[1] != ']') {
            rx->p++;
            ok = s_rx_class_atom (rx, &hi, &cls_hi, &neg_hi);
            if (ok && (cls || cls_hi))
                ok = s_rx_fail (rx, S_RX_UNSUPPORTED,
                                "a range with a class escape at one end");
            else if (ok && lo > hi)
                ok = s_rx_fail (rx, S_RX_INVALID, "a range out of order");
            else if (ok)
                s_set_add (&set, lo, hi);
        }
        else if (cls && neg) {
            bool seen = false;
            for (size_t i = 0; i < ncomplements; i++)
                seen = seen || complements[i] == cls;
            if (!seen)
                complements[ncomplements++] = cls;
        }
        else if (cls)
            s_set_add_class (&set, cls);
        else
            s_set_add (&set, lo, lo);
    }
    if (ok && ncomplements && negated)
        ok = s_rx_fail (rx, S_RX_UNSUPPORTED,
                        "\\D \\W \\S inside a negated class");
    else if (ok && ncomplements) {
        //  [a\D] is (a|[^0-9])
        s_buf_putc (&rx->out, '(');
        bool first = true;
        if (set.count) {
            ok = s_rx_bracket (rx, &set, false);
            first = false;
        }
        for (size_t i = 0; ok && i < ncomplements; i++) {
            if (!first)
                s_buf_putc (&rx->out, '|');
            first = false;
            ok = s_rx_bracket_class (rx, complements[i], true);
        }
        s_buf_putc (&rx->out, ')');
    }
    else if (ok)
        ok = s_rx_bracket (rx, &set, negated);
    free (set.ranges);
    return ok;
}

//  If p starts a {n}, {n,} or {n,m} quantifier, the end of it (*max_p is
//  -1 for no upper bound); else NULL.
static const char *
s_rx_braces (const char *p, const char *end, long *min_p, long *max_p)
{
    if (p >= end || *p != '{')
        return NULL;
    p++;
    long min = 0, max = 0;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    while (p < end && *p >= '0' && *p <= '9') {
        if (min <= S_RX_MAX_REPEAT)
            min = min * 10 + (*p - '0');
        p++;
    }
    max = min;
    if (p < end && *p == ',') {
        p++;
        max = -1;
        if (p < end && *p >= '0' && *p <= '9') {
            max = 0;
            while (p < end && *p >= '0' && *p <= '9') {
                if (max <= S_RX_MAX_REPEAT)
                    max = max * 10 + (*p - '0');
                p++;
            }
        }
    }
    if (p >= end || *p != '}')
        return NULL;
    *min_p = min;
    *max_p = max;
    return p + 1;
}

static bool
s_rx_at_quantifier (s_rx_t *rx)
{
    long min, max;
    return rx->p < rx->end &&
           (*rx->p == '*' || *rx->p == '+' || *rx->p == '?' ||
            s_rx_braces (rx->p, rx->end, &min, &max));
}

static bool
s_rx_quantifier (s_rx_t *rx)
{
    if (rx->p >= rx->end)
        return true;
    long min, max;
    const char *after;
    if (*rx->p == '*' || *rx->p == '+' || *rx->p == '?')
        s_buf_putc (&rx->out, *rx->p++);
    else if ((after = s_rx_braces (rx->p, rx->end, &min, &max))) {
        if (min > S_RX_MAX_REPEAT || max > S_RX_MAX_REPEAT)
            return s_rx_fail (rx, S_RX_UNSUPPORTED, "counts above 1000");
        if (max >= 0 && min > max)
            return s_rx_fail (rx, S_RX_INVALID, "a count out of order");
        if (max == min)
            s_buf_printf (&rx->out, "{%ld}", min);
        else if (max < 0)
            s_buf_printf (&rx->out, "{%ld,}", min);
        else
            s_buf_printf (&rx->out, "{%ld,%ld}", min, max);
        rx->p = after;
    }
    else
        return true;
    //  Lazy or greedy, the same strings have a match
    if (rx->p < rx->end && *rx->p == '?')
        rx->p++;
    if (s_rx_at_quantifier (rx))
        return s_rx_fail (rx, S_RX_INVALID, "nothing to repeat");
    return true;
}

static bool s_rx_disjunction (s_rx_t *rx, int depth);

//  A group, rx->p on its '('.
static bool
s_rx_group (s_rx_t *rx, int depth)
{
    if (depth >= S_RX_MAX_GROUPS)
        return s_rx_fail (rx, S_RX_UNSUPPORTED, "groups nested too deeply");
    rx->p++;
    const char *p = rx->p;
    size_t left = (size_t) (rx->end - p);
    if (left >= 2 && p[0] == '?' && p[1] == ':')
        rx->p += 2;
    else if (left >= 2 && p[0] == '?' && (p[1] == '=' || p[1] == '!'))
        return s_rx_fail (rx, S_RX_UNSUPPORTED, "lookahead (?= (?!");
    else if (left >= 3 && p[0] == '?' && p[1] == '<' &&
             (p[2] == '=' || p[2] == '!'))
        return s_rx_fail (rx, S_RX_UNSUPPORTED, "lookbehind (?<= (?<!");
    else if (left >= 2 && p[0] == '?' && p[1] == '<') {
        //  A named group: only its name differs from a plain one
        const char *q = p + 2;
        while (q < rx->end &&
               (*q == '_' || *q == '$' || isalnum ((unsigned char) *q)))
            q++;
        if (q == p + 2 || q >= rx->end || *q != '>')
            return s_rx_fail (rx, S_RX_INVALID, "a bad group name");
        rx->p = q + 1;
    }
    else if (left >= 1 && p[0] == '?')
        return s_rx_fail (rx, S_RX_INVALID, "an unknown group (?");
    s_buf_putc (&rx->out, '(');
    if (!s_rx_disjunction (rx, depth + 1))
        return false;
    if (rx->p >= rx->end || *rx->p != ')')
        return s_rx_fail (rx, S_RX_INVALID, "a group without its )");
    rx->p++;
    s_buf_putc (&rx->out, ')');
    return true;
}

//  One assertion, or one atom and its quantifier.
static bool
s_rx_term (s_rx_t *rx, int depth)
{
    char c = *rx->p;
    long cp = 0;
    if (c == '^' || c == '$') {
        s_buf_putc (&rx->out, *rx->p++);
        if (s_rx_at_quantifier (rx))
            return s_rx_fail (rx, S_RX_INVALID, "nothing to repeat");
        return true;
    }
    if (c == '(') {
        if (!s_rx_group (rx, depth))
            return false;
    }
    else if (c == '[') {
        rx->p++;
        if (!s_rx_class (rx))
            return false;
    }
    else if (c == '.') {
        rx->p++;
        if (!s_rx_bracket_class (rx, &s_line, true))
            return false;
    }
    else if (c == '*' || c == '+' || c == '?' || s_rx_at_quantifier (rx))
        return s_rx_fail (rx, S_RX_INVALID, "nothing to repeat");
    else if (c == '\\') {
        rx->p++;
        const s_class_t *cls;
        bool negated;
        if (!s_rx_escape (rx, false, &cp, &cls, &negated))
            return false;
        if (cls) {
            if (!s_rx_bracket_class (rx, cls, negated))
                return false;
        }
        else
            s_rx_literal (&rx->out, cp);
    }
    else {
        //  Any other character is itself, '{' '}' ']' included
        cp = s_utf8_next (&rx->p, rx->end);
        if (cp < 0)
            return s_rx_fail (rx, S_RX_INVALID, "bad UTF-8");
        s_rx_literal (&rx->out, cp);
    }
    return s_rx_quantifier (rx);
}

static bool
s_rx_disjunction (s_rx_t *rx, int depth)
{
    while (true) {
        while (rx->p < rx->end && *rx->p != '|' && *rx->p != ')')
            if (!s_rx_term (rx, depth))
                return false;
        if (rx->p < rx->end && *rx->p == '|') {
            s_buf_putc (&rx->out, '|');
            rx->p++;
        }
        else
            return true;
    }
}

//  The POSIX ERE for the ECMA-262 pattern of size bytes, or NULL with
//  *status_p and *why_p (static text) set. Caller frees.
static char *
s_rx_translate (const char *pattern, size_t size, s_rx_status_t *status_p,
                const char **why_p)
{
    s_rx_t rx = {pattern, pattern + size, {NULL, 0, 0}, S_RX_OK, NULL};
    if (memchr (pattern, '\0', size))
        s_rx_fail (&rx, S_RX_UNSUPPORTED, "the character U+0000");
    else if (s_rx_disjunction (&rx, 0) && rx.p < rx.end)
        s_rx_fail (&rx, S_RX_INVALID, "an unmatched )");
    *status_p = rx.status;
    *why_p = rx.why;
    if (rx.status != S_RX_OK) {
        free (rx.out.data);
        return NULL;
    }
    return s_buf_take (&rx.out);
}

//  ---------------------------------------------------------------------
//  Compiled schemas

#define S_TYPE_OBJECT (1u << 0)
#define S_TYPE_ARRAY (1u << 1)
#define S_TYPE_STRING (1u << 2)
#define S_TYPE_INTEGER (1u << 3)
#define S_TYPE_NUMBER (1u << 4)
#define S_TYPE_BOOLEAN (1u << 5)
#define S_TYPE_NULL (1u << 6)

static const struct {
    const char *name;     //  in schemas
    const char *article;  //  in messages
    unsigned bit;
} s_types[] = {
    {"object", "an object", S_TYPE_OBJECT},
    {"array", "an array", S_TYPE_ARRAY},
    {"string", "a string", S_TYPE_STRING},
    {"integer", "an integer", S_TYPE_INTEGER},
    {"number", "a number", S_TYPE_NUMBER},
    {"boolean", "a boolean", S_TYPE_BOOLEAN},
    {"null", "null", S_TYPE_NULL},
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])

typedef struct _s_node_t s_node_t;

//  One schema. Counts are -1 when absent; json_t members and names are
//  borrowed from the schema document, which the compiled object holds.
struct _s_node_t {
    int boolean;  //  0 or 1 for a boolean schema, -1 for an object
    int mark;     //  cycle search: 0 new, 1 on the path, 2 done

    s_node_t *ref;   //  $ref target
    unsigned types;  //  S_TYPE_* bits; 0 = no type keyword
    char *type_message;
    json_t *enum_values;
    char *enum_message;
    json_t *const_value;
    char *const_message;

    json_t *minimum;
    json_t *maximum;
    json_t *exclusive_minimum;
    json_t *exclusive_maximum;
    json_t *multiple_of;

    int64_t min_length;
    int64_t max_length;
    regex_t *pattern;
    const char *pattern_source;

    s_node_t **prefix_items;
    size_t prefix_count;
    s_node_t *items;
    s_node_t *contains;
    int64_t min_contains;
    int64_t max_contains;
    int64_t min_items;
    int64_t max_items;
    bool unique_items;

    const char **property_names;  //  properties
    s_node_t **properties;
    size_t property_count;
    regex_t *patterns;  //  patternProperties
    const char **pattern_sources;
    s_node_t **pattern_nodes;
    size_t pattern_count;
    s_node_t *additional;  //  additionalProperties
    s_node_t *names;       //  propertyNames
    json_t *required;
    int64_t min_properties;
    int64_t max_properties;
    json_t *dependent_required;
    const char **dependent_names;  //  dependentSchemas
    s_node_t **dependent_schemas;
    size_t dependent_count;

    s_node_t **all_of;
    size_t all_count;
    s_node_t **any_of;
    size_t any_count;
    s_node_t **one_of;
    size_t one_count;
    s_node_t *not_schema;
    s_node_t *if_schema;
    s_node_t *then_schema;
    s_node_t *else_schema;
};

struct _gch_jsonschema_t {
    json_t *document;   //  the schema, one reference held
    s_node_t *root;     //  its node
    s_node_t **nodes;   //  every node, owned
    size_t node_count;  //  nodes used
    size_t node_cap;    //  nodes allocated
    locale_t utf8;      //  C.UTF-8 LC_CTYPE for patterns, or 0
};

static void
s_node_destroy (s_node_t **self_p)
{
    assert (self_p);
    s_node_t *self = *self_p;
    if (self) {
        free (self->type_message);
        free (self->enum_message);
        free (self->const_message);
        if (self->pattern) {
            regfree (self->pattern);
            free (self->pattern);
        }
        free (self->prefix_items);
        free (self->property_names);
        free (self->properties);
        for (size_t i = 0; i < self->pattern_count; i++)
            if (self->pattern_nodes[i])  //  set once its regex is compiled
                regfree (&self->patterns[i]);
        free (self->patterns);
        free (self->pattern_sources);
        free (self->pattern_nodes);
        free (self->dependent_names);
        free (self->dependent_schemas);
        free (self->all_of);
        free (self->any_of);
        free (self->one_of);
        free (self);
        *self_p = NULL;
    }
}

void
gch_jsonschema_destroy (gch_jsonschema_t **self_p)
{
    assert (self_p);
    gch_jsonschema_t *self = *self_p;
    if (self) {
        for (size_t i = 0; i < self->node_count; i++)
            s_node_destroy (&self->nodes[i]);
        free (self->nodes);
        if (self->utf8)
            freelocale (self->utf8);
        json_decref (self->document);
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Compiling

typedef struct {
    s_node_t *node;   //  holding the $ref
    const char *ref;  //  its value (borrowed)
    char *location;   //  of the $ref keyword
} s_pending_t;

typedef struct {
    gch_jsonschema_t *self;
    zhashx_t *seen;        //  "%p" of a json_t -> its node
    const char *root_id;   //  the root's $id, or NULL
    s_pending_t *pending;  //  $refs to resolve
    size_t pending_count;
    size_t pending_cap;
    int depth;    //  schema nesting
    char *error;  //  the first error, or NULL
} s_compiler_t;

static void s_compile_error (s_compiler_t *c, const char *format, ...)
    CHECK_PRINTF (2);

static void
s_compile_error (s_compiler_t *c, const char *format, ...)
{
    if (c->error)
        return;
    va_list args;
    va_start (args, format);
    c->error = zsys_vprintf (format, args);
    va_end (args);
    assert (c->error);
}

//  location + "/" + name as a JSON pointer token. Caller frees.
static char *
s_location (const char *location, const char *name)
{
    s_buf_t buf = {NULL, 0, 0};
    s_buf_puts (&buf, location);
    s_buf_putc (&buf, '/');
    for (const char *p = name; *p; p++)
        if (*p == '~')
            s_buf_puts (&buf, "~0");
        else if (*p == '/')
            s_buf_puts (&buf, "~1");
        else
            s_buf_putc (&buf, *p);
    return s_buf_take (&buf);
}

static char *
s_location_index (const char *location, size_t index)
{
    return zsys_sprintf ("%s/%zu", location, index);
}

//  A number as text for messages. Caller frees.
static char *
s_number_text (const json_t *number)
{
    if (json_is_integer (number))
        return zsys_sprintf ("%" JSON_INTEGER_FORMAT,
                             json_integer_value (number));
    double value = json_real_value (number);
    char *text = zsys_sprintf ("%.15g", value);
    if (strtod (text, NULL) != value) {
        free (text);
        text = zsys_sprintf ("%.17g", value);
    }
    return text;
}

//  A value as text for messages: strings as they are, others as JSON.
static void
s_value_text (s_buf_t *buf, const json_t *value)
{
    if (json_is_string (value))
        s_buf_put (buf, json_string_value (value), json_string_length (value));
    else if (json_is_number (value)) {
        char *text = s_number_text (value);
        s_buf_puts (buf, text);
        free (text);
    }
    else {
        char *text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
        assert (text);
        s_buf_puts (buf, text);
        free (text);
    }
}

//  A non-negative integer keyword value (2.0 is one).
static bool
s_count_value (const json_t *value, int64_t *count_p)
{
    if (json_is_integer (value) && json_integer_value (value) >= 0) {
        *count_p = json_integer_value (value);
        return true;
    }
    if (json_is_real (value)) {
        double real = json_real_value (value);
        if (real >= 0 && real < 9.2e18 && real == (double) (int64_t) real) {
            *count_p = (int64_t) real;
            return true;
        }
    }
    return false;
}

static s_node_t *s_compile (s_compiler_t *c, json_t *schema,
                            const char *location);

//  A non-empty array of schemas.
static bool
s_compile_list (s_compiler_t *c, json_t *value, const char *at,
                s_node_t ***list_p, size_t *count_p)
{
    if (!json_is_array (value) || json_array_size (value) == 0) {
        s_compile_error (c,
                         "invalid schema at %s: must be a non-empty array "
                         "of schemas",
                         at);
        return false;
    }
    *count_p = json_array_size (value);
    *list_p = (s_node_t **) zmalloc (*count_p * sizeof (s_node_t *));
    for (size_t i = 0; i < *count_p; i++) {
        char *loc = s_location_index (at, i);
        (*list_p)[i] = s_compile (c, json_array_get (value, i), loc);
        free (loc);
        if (!(*list_p)[i])
            return false;
    }
    return true;
}

//  An object whose values are schemas; names borrowed from it. With
//  regexes, its names are patterns compiled into *regexes_p.
static bool
s_compile_map (s_compiler_t *c, json_t *value, const char *at,
               const char ***names_p, s_node_t ***nodes_p, size_t *count_p)
{
    if (!json_is_object (value)) {
        s_compile_error (c, "invalid schema at %s: must be an object", at);
        return false;
    }
    size_t count = json_object_size (value);
    *names_p = (const char **) zmalloc ((count + 1) * sizeof (char *));
    *nodes_p = (s_node_t **) zmalloc ((count + 1) * sizeof (s_node_t *));
    *count_p = 0;
    const char *name;
    json_t *member;
    json_object_foreach (value, name, member)
    {
        char *loc = s_location (at, name);
        s_node_t *node = s_compile (c, member, loc);
        free (loc);
        if (!node)
            return false;
        (*names_p)[*count_p] = name;
        (*nodes_p)[(*count_p)++] = node;
    }
    return true;
}

static bool
s_compile_regex (s_compiler_t *c, const json_t *source, regex_t *regex,
                 const char *at)
{
    s_rx_status_t status;
    const char *why;
    char *ere = s_rx_translate (json_string_value (source),
                                json_string_length (source), &status, &why);
    if (!ere) {
        s_compile_error (c, "%s regular expression at %s: %s",
                         status == S_RX_UNSUPPORTED ? "unsupported" : "invalid",
                         at, why);
        return false;
    }
    gch_jsonschema_t *self = c->self;
    if (!self->utf8)
        self->utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
    if (!self->utf8) {
        free (ere);
        s_compile_error (c,
                         "unsupported regular expression at %s: no "
                         "C.UTF-8 locale on this system",
                         at);
        return false;
    }
    locale_t old = uselocale (self->utf8);
    int rc = regcomp (regex, ere, REG_EXTENDED | REG_NOSUB);
    uselocale (old);
    free (ere);
    if (rc) {
        char reason[128];
        regerror (rc, regex, reason, sizeof reason);
        s_compile_error (c, "invalid regular expression at %s: %s", at, reason);
        return false;
    }
    return true;
}

static bool
s_compile_schema_uri (s_compiler_t *c, json_t *value, const char *at)
{
    const char *uri = json_string_value (value);
    if (uri && (streq (uri, "https://json-schema.org/draft/2020-12/schema") ||
                streq (uri, "https://json-schema.org/draft/2020-12/schema#")))
        return true;
    s_compile_error (c,
                     "unsupported $schema at %s: only draft 2020-12 "
                     "(https://json-schema.org/draft/2020-12/schema)",
                     at);
    return false;
}

//  The message for a type keyword, in the order of s_types.
static char *
s_type_message (unsigned types)
{
    size_t count = 0;
    for (size_t i = 0; i < S_NTYPES; i++)
        count += (types & s_types[i].bit) != 0;
    s_buf_t buf = {NULL, 0, 0};
    size_t done = 0;
    for (size_t i = 0; i < S_NTYPES; i++)
        if (types & s_types[i].bit) {
            if (count == 1)
                s_buf_printf (&buf, "must be %s", s_types[i].article);
            else {
                s_buf_puts (&buf, done == 0           ? "must be of type "
                                  : done == count - 1 ? " or "
                                                      : ", ");
                s_buf_puts (&buf, s_types[i].name);
            }
            done++;
        }
    return s_buf_take (&buf);
}

static bool
s_compile_type (s_compiler_t *c, s_node_t *node, json_t *value, const char *at)
{
    size_t count = json_is_array (value) ? json_array_size (value) : 1;
    for (size_t i = 0; i < count; i++) {
        json_t *name =
            json_is_array (value) ? json_array_get (value, i) : value;
        unsigned bit = 0;
        for (size_t t = 0; json_is_string (name) && t < S_NTYPES; t++)
            if (streq (json_string_value (name), s_types[t].name))
                bit = s_types[t].bit;
        if (!bit) {
            s_compile_error (c,
                             "invalid schema at %s: must be one of object, "
                             "array, string, integer, number, boolean, null, "
                             "or a non-empty array of them",
                             at);
            return false;
        }
        node->types |= bit;
    }
    if (!node->types) {
        s_compile_error (c, "invalid schema at %s: must not be empty", at);
        return false;
    }
    node->type_message = s_type_message (node->types);
    return true;
}

static bool
s_compile_enum (s_compiler_t *c, s_node_t *node, json_t *value, const char *at)
{
    if (!json_is_array (value)) {
        s_compile_error (c, "invalid schema at %s: must be an array", at);
        return false;
    }
    node->enum_values = value;
    s_buf_t buf = {NULL, 0, 0};
    s_buf_puts (&buf, "must be one of: ");
    size_t count = json_array_size (value);
    for (size_t i = 0; i < count && i < S_ENUM_SHOWN; i++) {
        if (i)
            s_buf_puts (&buf, ", ");
        s_value_text (&buf, json_array_get (value, i));
    }
    if (count > S_ENUM_SHOWN)
        s_buf_printf (&buf, ", and %zu more", count - S_ENUM_SHOWN);
    node->enum_message = s_buf_take (&buf);
    return true;
}

static bool
s_compile_strings (s_compiler_t *c, json_t *value, const char *at)
{
    bool ok = json_is_array (value);
    for (size_t i = 0; ok && i < json_array_size (value); i++)
        ok = json_is_string (json_array_get (value, i));
    if (!ok)
        s_compile_error (c,
                         "invalid schema at %s: must be an array of "
                         "strings",
                         at);
    return ok;
}

static bool
s_compile_patterns (s_compiler_t *c, s_node_t *node, json_t *value,
                    const char *at)
{
    if (!json_is_object (value)) {
        s_compile_error (c, "invalid schema at %s: must be an object", at);
        return false;
    }
    size_t count = json_object_size (value);
    node->patterns = (regex_t *) zmalloc ((count + 1) * sizeof (regex_t));
    node->pattern_sources =
        (const char **) zmalloc ((count + 1) * sizeof (char *));
    node->pattern_nodes =
        (s_node_t **) zmalloc ((count + 1) * sizeof (s_node_t *));
    const char *name;
    json_t *member;
    json_object_foreach (value, name, member)
    {
        char *loc = s_location (at, name);
        json_t *source = json_string (name);
        assert (source);
        size_t i = node->pattern_count++;
        bool ok = s_compile_regex (c, source, &node->patterns[i], loc);
        json_decref (source);
        node->pattern_sources[i] = name;
        if (ok)  //  from here on the regex is freed with the node
            node->pattern_nodes[i] = s_compile (c, member, loc);
        free (loc);
        if (!ok || !node->pattern_nodes[i]) {
            if (ok)
                regfree (&node->patterns[i]);
            node->pattern_count--;
            return false;
        }
    }
    return true;
}

static bool
s_compile_dependent_required (s_compiler_t *c, s_node_t *node, json_t *value,
                              const char *at)
{
    if (!json_is_object (value)) {
        s_compile_error (c, "invalid schema at %s: must be an object", at);
        return false;
    }
    const char *name;
    json_t *member;
    json_object_foreach (value, name, member)
    {
        char *loc = s_location (at, name);
        bool ok = s_compile_strings (c, member, loc);
        free (loc);
        if (!ok)
            return false;
    }
    node->dependent_required = value;
    return true;
}

//  One keyword of an object schema.
static bool
s_compile_keyword (s_compiler_t *c, s_node_t *node, json_t *schema,
                   const char *name, json_t *value, const char *at)
{
    int64_t *count = NULL;
    json_t **number = NULL;
    s_node_t **single = NULL;
    if (streq (name, "$comment") || streq (name, "title") ||
        streq (name, "description") || streq (name, "default") ||
        streq (name, "examples") || streq (name, "deprecated") ||
        streq (name, "readOnly") || streq (name, "format"))
        return true;  //  annotations
    else if (streq (name, "$schema"))
        return s_compile_schema_uri (c, value, at);
    else if (streq (name, "$id")) {
        const char *id = json_string_value (value);
        if (!id) {
            s_compile_error (c, "invalid schema at %s: must be a string", at);
            return false;
        }
        if (schema != c->self->document) {
            s_compile_error (c, "unsupported $id at %s: only at the root", at);
            return false;
        }
        const char *hash = strchr (id, '#');
        if (hash && hash[1]) {
            s_compile_error (c, "unsupported $id at %s: a fragment", at);
            return false;
        }
        c->root_id = id;
        return true;
    }
    else if (streq (name, "$defs")) {
        const char **names = NULL;
        s_node_t **nodes = NULL;
        size_t n = 0;
        bool ok = s_compile_map (c, value, at, &names, &nodes, &n);
        free (names);
        free (nodes);
        return ok;
    }
    else if (streq (name, "$ref")) {
        if (!json_is_string (value)) {
            s_compile_error (c, "invalid schema at %s: must be a string", at);
            return false;
        }
        if (c->pending_count == c->pending_cap) {
            c->pending_cap = c->pending_cap ? c->pending_cap * 2 : 8;
            c->pending = (s_pending_t *) realloc (
                c->pending, c->pending_cap * sizeof (s_pending_t));
            assert (c->pending);
        }
        s_pending_t *pending = &c->pending[c->pending_count++];
        pending->node = node;
        pending->ref = json_string_value (value);
        pending->location = strdup (at);
        return true;
    }
    else if (streq (name, "type"))
        return s_compile_type (c, node, value, at);
    else if (streq (name, "enum"))
        return s_compile_enum (c, node, value, at);
    else if (streq (name, "const")) {
        node->const_value = value;
        s_buf_t buf = {NULL, 0, 0};
        s_buf_puts (&buf, "must be equal to ");
        s_value_text (&buf, value);
        node->const_message = s_buf_take (&buf);
        return true;
    }
    else if (streq (name, "properties"))
        return s_compile_map (c, value, at, &node->property_names,
                              &node->properties, &node->property_count);
    else if (streq (name, "patternProperties"))
        return s_compile_patterns (c, node, value, at);
    else if (streq (name, "dependentSchemas"))
        return s_compile_map (c, value, at, &node->dependent_names,
                              &node->dependent_schemas, &node->dependent_count);
    else if (streq (name, "required")) {
        node->required = value;
        return s_compile_strings (c, value, at);
    }
    else if (streq (name, "dependentRequired"))
        return s_compile_dependent_required (c, node, value, at);
    else if (streq (name, "prefixItems"))
        return s_compile_list (c, value, at, &node->prefix_items,
                               &node->prefix_count);
    else if (streq (name, "allOf"))
        return s_compile_list (c, value, at, &node->all_of, &node->all_count);
    else if (streq (name, "anyOf"))
        return s_compile_list (c, value, at, &node->any_of, &node->any_count);
    else if (streq (name, "oneOf"))
        return s_compile_list (c, value, at, &node->one_of, &node->one_count);
    else if (streq (name, "uniqueItems")) {
        if (!json_is_boolean (value)) {
            s_compile_error (c, "invalid schema at %s: must be a boolean", at);
            return false;
        }
        node->unique_items = json_is_true (value);
        return true;
    }
    else if (streq (name, "pattern")) {
        if (!json_is_string (value)) {
            s_compile_error (c, "invalid schema at %s: must be a string", at);
            return false;
        }
        node->pattern = (regex_t *) zmalloc (sizeof (regex_t));
        if (!s_compile_regex (c, value, node->pattern, at)) {
            free (node->pattern);
            node->pattern = NULL;
            return false;
        }
        node->pattern_source = json_string_value (value);
        return true;
    }
    else if (streq (name, "items"))
        single = &node->items;
    else if (streq (name, "contains"))
        single = &node->contains;
    else if (streq (name, "additionalProperties"))
        single = &node->additional;
    else if (streq (name, "propertyNames"))
        single = &node->names;
    else if (streq (name, "not"))
        single = &node->not_schema;
    else if (streq (name, "if"))
        single = &node->if_schema;
    else if (streq (name, "then"))
        single = &node->then_schema;
    else if (streq (name, "else"))
        single = &node->else_schema;
    else if (streq (name, "minLength"))
        count = &node->min_length;
    else if (streq (name, "maxLength"))
        count = &node->max_length;
    else if (streq (name, "minItems"))
        count = &node->min_items;
    else if (streq (name, "maxItems"))
        count = &node->max_items;
    else if (streq (name, "minContains"))
        count = &node->min_contains;
    else if (streq (name, "maxContains"))
        count = &node->max_contains;
    else if (streq (name, "minProperties"))
        count = &node->min_properties;
    else if (streq (name, "maxProperties"))
        count = &node->max_properties;
    else if (streq (name, "minimum"))
        number = &node->minimum;
    else if (streq (name, "maximum"))
        number = &node->maximum;
    else if (streq (name, "exclusiveMinimum"))
        number = &node->exclusive_minimum;
    else if (streq (name, "exclusiveMaximum"))
        number = &node->exclusive_maximum;
    else if (streq (name, "multipleOf"))
        number = &node->multiple_of;
    else {
        s_compile_error (c, "unsupported keyword \"%s\" at %s", name, at);
        return false;
    }
    if (single) {
        if (json_is_array (value) && streq (name, "items")) {
            s_compile_error (c,
                             "invalid schema at %s: must be a schema (an "
                             "array is prefixItems since draft 2020-12)",
                             at);
            return false;
        }
        *single = s_compile (c, value, at);
        return *single != NULL;
    }
    if (count) {
        if (!s_count_value (value, count)) {
            s_compile_error (c,
                             "invalid schema at %s: must be a non-negative "
                             "integer",
                             at);
            return false;
        }
        return true;
    }
    assert (number);
    if (!json_is_number (value) ||
        (number == &node->multiple_of && json_number_value (value) <= 0)) {
        s_compile_error (c, "invalid schema at %s: must be a%s number", at,
                         number == &node->multiple_of ? " positive" : "");
        return false;
    }
    *number = value;
    return true;
}

static void
s_node_add (gch_jsonschema_t *self, s_node_t *node)
{
    if (self->node_count == self->node_cap) {
        self->node_cap = self->node_cap ? self->node_cap * 2 : 16;
        self->nodes = (s_node_t **) realloc (
            self->nodes, self->node_cap * sizeof (s_node_t *));
        assert (self->nodes);
    }
    self->nodes[self->node_count++] = node;
}

//  The node of schema (at location, a JSON pointer for messages), compiled
//  once per json_t; NULL on error.
static s_node_t *
s_compile (s_compiler_t *c, json_t *schema, const char *location)
{
    char key[32];
    snprintf (key, sizeof key, "%p", (void *) schema);
    s_node_t *node = (s_node_t *) zhashx_lookup (c->seen, key);
    if (node)
        return node;
    if (!json_is_object (schema) && !json_is_boolean (schema)) {
        s_compile_error (c,
                         "invalid schema at %s: must be an object or a "
                         "boolean",
                         location);
        return NULL;
    }
    if (c->depth >= S_MAX_SCHEMA) {
        s_compile_error (c, "invalid schema at %s: nested too deeply",
                         location);
        return NULL;
    }
    node = (s_node_t *) zmalloc (sizeof (s_node_t));
    node->boolean = json_is_boolean (schema) ? json_is_true (schema) : -1;
    node->min_length = node->max_length = -1;
    node->min_items = node->max_items = -1;
    node->min_contains = node->max_contains = -1;
    node->min_properties = node->max_properties = -1;
    s_node_add (c->self, node);
    zhashx_insert (c->seen, key, node);
    if (node->boolean >= 0)
        return node;
    c->depth++;
    const char *name;
    json_t *value;
    bool ok = true;
    json_object_foreach (schema, name, value)
    {
        char *at = s_location (location, name);
        ok = s_compile_keyword (c, node, schema, name, value, at);
        free (at);
        if (!ok)
            break;
    }
    c->depth--;
    return ok ? node : NULL;
}

//  Percent-decode text (RFC 3986); NULL if badly escaped. Caller frees.
static char *
s_percent_decode (const char *text)
{
    s_buf_t buf = {NULL, 0, 0};
    for (const char *p = text; *p; p++)
        if (*p == '%') {
            long value = s_hex_value (p + 1, p + strlen (p), 2);
            if (value <= 0) {
                free (buf.data);
                return NULL;
            }
            s_buf_putc (&buf, (char) value);
            p += 2;
        }
        else
            s_buf_putc (&buf, *p);
    return s_buf_take (&buf);
}

//  The value at a JSON pointer ("" or "/a/0") in document, or NULL.
static json_t *
s_pointer (json_t *document, const char *pointer)
{
    json_t *value = document;
    const char *p = pointer;
    while (value && *p) {
        if (*p != '/')
            return NULL;
        p++;
        s_buf_t token = {NULL, 0, 0};
        s_buf_put (&token, "", 0);
        for (; *p && *p != '/'; p++)
            if (*p == '~' && p[1] == '0') {
                s_buf_putc (&token, '~');
                p++;
            }
            else if (*p == '~' && p[1] == '1') {
                s_buf_putc (&token, '/');
                p++;
            }
            else if (*p == '~') {
                free (token.data);
                return NULL;
            }
            else
                s_buf_putc (&token, *p);
        if (json_is_object (value))
            value = json_object_get (value, token.data);
        else if (json_is_array (value)) {
            const char *t = token.data;
            bool digits = *t && (t[0] != '0' || !t[1]);
            for (const char *d = t; digits && *d; d++)
                digits = *d >= '0' && *d <= '9';
            value = digits && strlen (t) < 10
                        ? json_array_get (value, strtoul (t, NULL, 10))
                        : NULL;
        }
        else
            value = NULL;
        free (token.data);
    }
    return value;
}

//  Resolve the index-th $ref to its node (compiled if first met).
static bool
s_resolve (s_compiler_t *c, size_t index)
{
    //  Compiling the target may add to c->pending (and move it)
    s_pending_t *pending = &c->pending[index];
    s_node_t *node = pending->node;
    const char *ref = pending->ref;
    const char *fragment = NULL;
    if (*ref == '#')
        fragment = ref + 1;
    else if (c->root_id) {
        size_t size = strcspn (c->root_id, "#");
        if (size && strncmp (ref, c->root_id, size) == 0 &&
            (ref[size] == '\0' || ref[size] == '#'))
            fragment = ref[size] ? ref + size + 1 : "";
    }
    if (!fragment) {
        s_compile_error (c,
                         "unsupported $ref \"%s\" at %s: only references "
                         "inside the document (\"#...\")",
                         ref, pending->location);
        return false;
    }
    char *pointer = s_percent_decode (fragment);
    if (!pointer) {
        s_compile_error (c, "invalid $ref \"%s\" at %s: bad %% escape", ref,
                         pending->location);
        return false;
    }
    if (*pointer && *pointer != '/') {
        free (pointer);
        s_compile_error (c, "unsupported $ref \"%s\" at %s: anchors", ref,
                         pending->location);
        return false;
    }
    json_t *target = s_pointer (c->self->document, pointer);
    if (!target) {
        s_compile_error (c,
                         "invalid $ref \"%s\" at %s: no such place in the "
                         "schema",
                         ref, pending->location);
        free (pointer);
        return false;
    }
    char *location = zsys_sprintf ("#%s", pointer);
    free (pointer);
    node->ref = s_compile (c, target, location);
    free (location);
    return node->ref != NULL;
}

//  Search for a cycle of schemas applied to the same instance value (which
//  would never end): true if one goes through node.
static bool
s_cycle (s_node_t *node)
{
    if (node->mark == 1)
        return true;
    if (node->mark == 2)
        return false;
    node->mark = 1;
    s_node_t *next[] = {node->ref, node->not_schema, node->if_schema,
                        node->then_schema, node->else_schema};
    bool cycle = false;
    for (size_t i = 0; !cycle && i < sizeof next / sizeof next[0]; i++)
        cycle = next[i] && s_cycle (next[i]);
    s_node_t **lists[] = {node->all_of, node->any_of, node->one_of,
                          node->dependent_schemas};
    size_t counts[] = {node->all_count, node->any_count, node->one_count,
                       node->dependent_count};
    for (size_t l = 0; !cycle && l < 4; l++)
        for (size_t i = 0; !cycle && i < counts[l]; i++)
            cycle = s_cycle (lists[l][i]);
    node->mark = 2;
    return cycle;
}

gch_jsonschema_t *
gch_jsonschema_new (json_t *schema, char **error_p)
{
    assert (schema);
    if (error_p)
        *error_p = NULL;
    gch_jsonschema_t *self =
        (gch_jsonschema_t *) zmalloc (sizeof (gch_jsonschema_t));
    self->document = json_incref (schema);
    s_compiler_t c;
    memset (&c, 0, sizeof c);
    c.self = self;
    c.seen = zhashx_new ();
    zhashx_set_destructor (c.seen, NULL);
    zhashx_set_duplicator (c.seen, NULL);
    //  $id is read first: references depend on it
    json_t *id =
        json_is_object (schema) ? json_object_get (schema, "$id") : NULL;
    if (json_is_string (id))
        c.root_id = json_string_value (id);
    self->root = s_compile (&c, schema, "#");
    for (size_t i = 0; self->root && !c.error && i < c.pending_count; i++)
        s_resolve (&c, i);  //  may add more
    for (size_t i = 0; !c.error && i < self->node_count; i++)
        if (s_cycle (self->nodes[i]))
            s_compile_error (&c, "invalid $ref: a cycle of references that "
                                 "never descends into the instance");
    for (size_t i = 0; i < c.pending_count; i++)
        free (c.pending[i].location);
    free (c.pending);
    zhashx_destroy (&c.seen);
    if (c.error) {
        if (error_p)
            *error_p = c.error;
        else
            free (c.error);
        gch_jsonschema_destroy (&self);
    }
    return self;
}

gch_jsonschema_t *
gch_jsonschema_load (const char *path, char **error_p)
{
    assert (path);
    json_error_t error;
    json_t *schema =
        json_load_file (path, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    if (!schema) {
        if (error_p)
            *error_p = zsys_sprintf ("%s:%d:%d: %s", path, error.line,
                                     error.column, error.text);
        return NULL;
    }
    char *reason = NULL;
    gch_jsonschema_t *self = gch_jsonschema_new (schema, &reason);
    json_decref (schema);
    if (!self) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: %s", path, reason);
        free (reason);
    }
    return self;
}

//  ---------------------------------------------------------------------
//  Validating

typedef struct {
    const char *key;  //  object key, or NULL for an array index
    size_t index;     //  array index
    long position;    //  order in the document; -1 for a missing key
} s_segment_t;

typedef struct {
    char *path;
    char *message;
    long *positions;  //  of the path's segments
    size_t depth;     //  segments
    size_t sequence;  //  order found
} s_error_t;

typedef struct {
    gch_jsonschema_t *self;
    s_segment_t *segments;  //  path of the value being validated
    size_t depth;
    size_t segment_cap;
    s_error_t *errors;
    size_t error_count;
    size_t error_cap;
    const char *prefix;  //  before messages, or NULL
} s_eval_t;

static void
s_push (s_eval_t *ev, const char *key, size_t index, long position)
{
    if (ev->depth == ev->segment_cap) {
        ev->segment_cap = ev->segment_cap ? ev->segment_cap * 2 : 16;
        ev->segments = (s_segment_t *) realloc (
            ev->segments, ev->segment_cap * sizeof (s_segment_t));
        assert (ev->segments);
    }
    s_segment_t *segment = &ev->segments[ev->depth++];
    segment->key = key;
    segment->index = index;
    segment->position = position;
}

static void
s_pop (s_eval_t *ev)
{
    assert (ev->depth);
    ev->depth--;
}

static size_t s_fail (s_eval_t *ev, bool quiet, const char *format, ...)
    CHECK_PRINTF (3);

//  Record an error at the current path; returns 1 (one error). Quiet
//  evaluations (inside anyOf, not, ...) only count.
static size_t
s_fail (s_eval_t *ev, bool quiet, const char *format, ...)
{
    if (quiet)
        return 1;
    if (ev->error_count == ev->error_cap) {
        ev->error_cap = ev->error_cap ? ev->error_cap * 2 : 8;
        ev->errors = (s_error_t *) realloc (ev->errors,
                                            ev->error_cap * sizeof (s_error_t));
        assert (ev->errors);
    }
    s_error_t *error = &ev->errors[ev->error_count];
    error->sequence = ev->error_count++;
    s_buf_t buf = {NULL, 0, 0};
    if (ev->prefix)
        s_buf_puts (&buf, ev->prefix);
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    assert (text);
    s_buf_puts (&buf, text);
    free (text);
    error->message = s_buf_take (&buf);
    error->depth = ev->depth;
    error->positions = (long *) zmalloc ((ev->depth + 1) * sizeof (long));
    s_buf_put (&buf, "", 0);
    for (size_t i = 0; i < ev->depth; i++) {
        s_segment_t *segment = &ev->segments[i];
        error->positions[i] = segment->position;
        if (segment->key) {
            if (i)
                s_buf_putc (&buf, '.');
            s_buf_puts (&buf, segment->key);
        }
        else
            s_buf_printf (&buf, "[%zu]", segment->index);
    }
    error->path = s_buf_take (&buf);
    return 1;
}

//  A real with no fraction.
static bool
s_integral (double value)
{
    if (!isfinite (value))
        return false;
    if (value >= 4503599627370496.0 || value <= -4503599627370496.0)
        return true;  //  2^52: no fraction bits left
    return value == (double) (int64_t) value;
}

static bool
s_type_ok (unsigned types, const json_t *value)
{
    switch (json_typeof (value)) {
        case JSON_OBJECT:
            return types & S_TYPE_OBJECT;
        case JSON_ARRAY:
            return types & S_TYPE_ARRAY;
        case JSON_STRING:
            return types & S_TYPE_STRING;
        case JSON_INTEGER:
            return types & (S_TYPE_INTEGER | S_TYPE_NUMBER);
        case JSON_REAL:
            return (types & S_TYPE_NUMBER) ||
                   ((types & S_TYPE_INTEGER) &&
                    s_integral (json_real_value (value)));
        case JSON_TRUE:
        case JSON_FALSE:
            return types & S_TYPE_BOOLEAN;
        case JSON_NULL:
            return types & S_TYPE_NULL;
    }
    return false;
}

//  Compare two numbers by value: -1, 0 or 1. long double holds any
//  int64_t exactly.
static int
s_number_compare (const json_t *a, const json_t *b)
{
    if (json_is_integer (a) && json_is_integer (b)) {
        json_int_t x = json_integer_value (a), y = json_integer_value (b);
        return (x > y) - (x < y);
    }
    long double x = json_is_integer (a) ? (long double) json_integer_value (a)
                                        : (long double) json_real_value (a);
    long double y = json_is_integer (b) ? (long double) json_integer_value (b)
                                        : (long double) json_real_value (b);
    return (x > y) - (x < y);
}

//  JSON equality: numbers by value, objects whatever their key order.
static bool
s_equal (const json_t *a, const json_t *b)
{
    if (json_is_number (a) && json_is_number (b))
        return s_number_compare (a, b) == 0;
    if (json_typeof (a) != json_typeof (b))
        return false;
    if (json_is_string (a))
        return json_string_length (a) == json_string_length (b) &&
               memcmp (json_string_value (a), json_string_value (b),
                       json_string_length (a)) == 0;
    if (json_is_array (a)) {
        if (json_array_size (a) != json_array_size (b))
            return false;
        for (size_t i = 0; i < json_array_size (a); i++)
            if (!s_equal (json_array_get (a, i), json_array_get (b, i)))
                return false;
        return true;
    }
    if (json_is_object (a)) {
        if (json_object_size (a) != json_object_size (b))
            return false;
        const char *key;
        json_t *value;
        json_object_foreach ((json_t *) a, key, value)
        {
            json_t *other = json_object_get (b, key);
            if (!other || !s_equal (value, other))
                return false;
        }
        return true;
    }
    return true;  //  true, false, null
}

//  value a multiple of divisor (> 0). Reals allow for the rounding of
//  decimal fractions (0.0075 is a multiple of 0.0001).
static bool
s_multiple (const json_t *value, const json_t *divisor)
{
    if (json_is_integer (value) && json_is_integer (divisor))
        return json_integer_value (value) % json_integer_value (divisor) == 0;
    double quotient = json_number_value (value) / json_number_value (divisor);
    if (!isfinite (quotient))
        return false;
    double size = quotient < 0 ? -quotient : quotient;
    if (size >= 4503599627370496.0)
        return true;
    double nearest =
        (double) (int64_t) (quotient + (quotient < 0 ? -0.5 : 0.5));
    double gap = quotient - nearest;
    if (gap < 0)
        gap = -gap;
    return gap <= 8 * DBL_EPSILON * size;
}

static bool
s_regex_match (s_eval_t *ev, regex_t *regex, const char *text)
{
    locale_t old = uselocale (ev->self->utf8);
    int rc = regexec (regex, text, 0, NULL, 0);
    uselocale (old);
    return rc == 0;
}

static size_t s_eval (s_eval_t *ev, s_node_t *node, const json_t *value,
                      bool quiet, int refs);

//  A quiet evaluation stops at the first error.
#define S_ADD(expr)                                                            \
    do {                                                                       \
        errors += (expr);                                                      \
        if (quiet && errors)                                                   \
            return errors;                                                     \
    } while (0)

static size_t
s_eval_number (s_eval_t *ev, s_node_t *node, const json_t *value, bool quiet)
{
    size_t errors = 0;
    json_t *limits[] = {node->minimum, node->maximum, node->exclusive_minimum,
                        node->exclusive_maximum, node->multiple_of};
    static const char *formats[] = {"must be >= %s", "must be <= %s",
                                    "must be > %s", "must be < %s",
                                    "must be a multiple of %s"};
    for (size_t i = 0; i < 5; i++) {
        if (!limits[i])
            continue;
        int cmp = i < 4 ? s_number_compare (value, limits[i]) : 0;
        bool ok = i == 0   ? cmp >= 0
                  : i == 1 ? cmp <= 0
                  : i == 2 ? cmp > 0
                  : i == 3 ? cmp < 0
                           : s_multiple (value, limits[i]);
        if (!ok) {
            char *text = s_number_text (limits[i]);
            errors += s_fail (ev, quiet, formats[i], text);
            free (text);
            if (quiet)
                return errors;
        }
    }
    return errors;
}

static size_t
s_eval_string (s_eval_t *ev, s_node_t *node, const json_t *value, bool quiet)
{
    size_t errors = 0;
    if (node->min_length >= 0 || node->max_length >= 0) {
        int64_t length = (int64_t) s_utf8_length (json_string_value (value),
                                                  json_string_length (value));
        if (node->min_length >= 0 && length < node->min_length)
            S_ADD (s_fail (ev, quiet,
                           "must be at least %" PRId64 " characters long",
                           node->min_length));
        if (node->max_length >= 0 && length > node->max_length)
            S_ADD (s_fail (ev, quiet,
                           "must be at most %" PRId64 " characters long",
                           node->max_length));
    }
    if (node->pattern &&
        !s_regex_match (ev, node->pattern, json_string_value (value)))
        S_ADD (s_fail (ev, quiet, "must match %s", node->pattern_source));
    return errors;
}

static size_t
s_eval_array (s_eval_t *ev, s_node_t *node, const json_t *value, bool quiet)
{
    size_t errors = 0;
    size_t size = json_array_size (value);
    if (node->min_items >= 0 && (int64_t) size < node->min_items)
        S_ADD (s_fail (ev, quiet, "must have at least %" PRId64 " items",
                       node->min_items));
    if (node->max_items >= 0 && (int64_t) size > node->max_items)
        S_ADD (s_fail (ev, quiet, "must have at most %" PRId64 " items",
                       node->max_items));
    if (node->contains) {
        int64_t matches = 0;
        for (size_t i = 0; i < size; i++) {
            s_push (ev, NULL, i, (long) i);
            matches += s_eval (ev, node->contains, json_array_get (value, i),
                               true, 0) == 0;
            s_pop (ev);
        }
        int64_t min = node->min_contains >= 0 ? node->min_contains : 1;
        if (matches < min)
            S_ADD (s_fail (ev, quiet,
                           "must contain at least %" PRId64 " matching items",
                           min));
        if (node->max_contains >= 0 && matches > node->max_contains)
            S_ADD (s_fail (ev, quiet,
                           "must contain at most %" PRId64 " matching items",
                           node->max_contains));
    }
    for (size_t i = 0; i < size; i++) {
        const json_t *item = json_array_get (value, i);
        s_node_t *schema =
            i < node->prefix_count ? node->prefix_items[i] : node->items;
        size_t found = 0;
        s_push (ev, NULL, i, (long) i);
        if (node->unique_items)
            for (size_t j = 0; j < i; j++)
                if (s_equal (json_array_get (value, j), item)) {
                    found += s_fail (ev, quiet, "duplicates item %zu", j);
                    break;
                }
        if (schema && !(quiet && found))
            found += s_eval (ev, schema, item, quiet, 0);
        s_pop (ev);
        S_ADD (found);
    }
    return errors;
}

static size_t
s_eval_object (s_eval_t *ev, s_node_t *node, const json_t *value, bool quiet,
               int refs)
{
    size_t errors = 0;
    int64_t size = (int64_t) json_object_size (value);
    if (node->min_properties >= 0 && size < node->min_properties)
        S_ADD (s_fail (ev, quiet, "must have at least %" PRId64 " properties",
                       node->min_properties));
    if (node->max_properties >= 0 && size > node->max_properties)
        S_ADD (s_fail (ev, quiet, "must have at most %" PRId64 " properties",
                       node->max_properties));
    for (size_t i = 0; i < json_array_size (node->required); i++) {
        const char *name =
            json_string_value (json_array_get (node->required, i));
        if (!json_object_get (value, name)) {
            s_push (ev, name, 0, -1);
            errors += s_fail (ev, quiet, "is required");
            s_pop (ev);
            if (quiet)
                return errors;
        }
    }
    const char *name;
    json_t *list;
    json_object_foreach (node->dependent_required, name, list)
    {
        if (!json_object_get (value, name))
            continue;
        for (size_t i = 0; i < json_array_size (list); i++) {
            const char *needed = json_string_value (json_array_get (list, i));
            if (!json_object_get (value, needed)) {
                s_push (ev, needed, 0, -1);
                errors +=
                    s_fail (ev, quiet, "is required when %s is present", name);
                s_pop (ev);
                if (quiet)
                    return errors;
            }
        }
    }
    for (size_t i = 0; i < node->dependent_count; i++)
        if (json_object_get (value, node->dependent_names[i]))
            S_ADD (s_eval (ev, node->dependent_schemas[i], value, quiet, refs));

    long position = 0;
    const char *key;
    json_t *member;
    json_object_foreach ((json_t *) value, key, member)
    {
        size_t found = 0;
        s_push (ev, key, 0, position++);
        if (node->names) {
            json_t *text = json_stringn_nocheck (key, strlen (key));
            const char *prefix = ev->prefix;
            ev->prefix = "key ";
            found += s_eval (ev, node->names, text, quiet, 0);
            ev->prefix = prefix;
            json_decref (text);
        }
        bool known = false;
        for (size_t i = 0; i < node->property_count && !(quiet && found); i++)
            if (streq (node->property_names[i], key)) {
                known = true;
                found += s_eval (ev, node->properties[i], member, quiet, 0);
                break;
            }
        for (size_t i = 0; i < node->pattern_count && !(quiet && found); i++)
            if (s_regex_match (ev, &node->patterns[i], key)) {
                known = true;
                found += s_eval (ev, node->pattern_nodes[i], member, quiet, 0);
            }
        if (!known && node->additional && !(quiet && found)) {
            if (node->additional->boolean == 0)
                found += s_fail (ev, quiet, "unknown key");
            else
                found += s_eval (ev, node->additional, member, quiet, 0);
        }
        s_pop (ev);
        S_ADD (found);
    }
    return errors;
}

//  Validate value against node; returns the number of errors (quiet: 0 or
//  1). refs counts the $refs followed on this same value.
static size_t
s_eval (s_eval_t *ev, s_node_t *node, const json_t *value, bool quiet, int refs)
{
    size_t errors = 0;
    if (node->boolean >= 0)
        return node->boolean ? 0 : s_fail (ev, quiet, "is not allowed");
    if (node->ref) {
        if (refs >= S_MAX_REFS)
            return s_fail (ev, quiet, "exceeds the schema's nesting limit");
        S_ADD (s_eval (ev, node->ref, value, quiet, refs + 1));
    }
    if (node->types && !s_type_ok (node->types, value))
        S_ADD (s_fail (ev, quiet, "%s", node->type_message));
    if (node->enum_values) {
        bool found = false;
        for (size_t i = 0; !found && i < json_array_size (node->enum_values);
             i++)
            found = s_equal (json_array_get (node->enum_values, i), value);
        if (!found)
            S_ADD (s_fail (ev, quiet, "%s", node->enum_message));
    }
    if (node->const_value && !s_equal (node->const_value, value))
        S_ADD (s_fail (ev, quiet, "%s", node->const_message));
    if (json_is_number (value))
        S_ADD (s_eval_number (ev, node, value, quiet));
    else if (json_is_string (value))
        S_ADD (s_eval_string (ev, node, value, quiet));
    else if (json_is_array (value) || json_is_object (value)) {
        bool descends =
            json_is_array (value)
                ? node->contains || node->prefix_count || node->items
                : node->names || node->property_count || node->pattern_count ||
                      node->additional;
        if (descends && ev->depth >= S_MAX_DEPTH)
            S_ADD (s_fail (ev, quiet, "is nested too deeply"));
        else if (json_is_array (value))
            S_ADD (s_eval_array (ev, node, value, quiet));
        else
            S_ADD (s_eval_object (ev, node, value, quiet, refs));
    }
    for (size_t i = 0; i < node->all_count; i++)
        S_ADD (s_eval (ev, node->all_of[i], value, quiet, refs));
    if (node->any_count) {
        bool matched = false;
        for (size_t i = 0; !matched && i < node->any_count; i++)
            matched = s_eval (ev, node->any_of[i], value, true, refs) == 0;
        if (!matched)
            S_ADD (s_fail (ev, quiet,
                           "must match at least one of the allowed forms"));
    }
    if (node->one_count) {
        size_t matches = 0;
        for (size_t i = 0; matches < 2 && i < node->one_count; i++)
            matches += s_eval (ev, node->one_of[i], value, true, refs) == 0;
        if (matches == 0)
            S_ADD (s_fail (ev, quiet,
                           "must match exactly one of the allowed forms"));
        else if (matches > 1)
            S_ADD (s_fail (ev, quiet,
                           "must match exactly one of the allowed "
                           "forms, not several"));
    }
    if (node->not_schema &&
        s_eval (ev, node->not_schema, value, true, refs) == 0)
        S_ADD (s_fail (ev, quiet, "must not match the excluded form"));
    if (node->if_schema) {
        s_node_t *branch = s_eval (ev, node->if_schema, value, true, refs) == 0
                               ? node->then_schema
                               : node->else_schema;
        if (branch)
            S_ADD (s_eval (ev, branch, value, quiet, refs));
    }
    return errors;
}

//  Document order: by segment positions, a value before its children,
//  then in the order found.
static int
s_error_compare (const void *a, const void *b)
{
    const s_error_t *x = (const s_error_t *) a, *y = (const s_error_t *) b;
    for (size_t i = 0; i < x->depth && i < y->depth; i++)
        if (x->positions[i] != y->positions[i])
            return x->positions[i] < y->positions[i] ? -1 : 1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return (x->sequence > y->sequence) - (x->sequence < y->sequence);
}

static bool
s_same_place (const s_error_t *a, const s_error_t *b)
{
    return a->depth == b->depth &&
           memcmp (a->positions, b->positions, a->depth * sizeof (long)) == 0;
}

size_t
gch_jsonschema_validate (gch_jsonschema_t *self, const json_t *instance,
                         gch_jsonschema_error_fn *fn, void *ctx)
{
    assert (self);
    assert (instance);
    s_eval_t ev;
    memset (&ev, 0, sizeof ev);
    ev.self = self;
    s_eval (&ev, self->root, instance, false, 0);
    if (ev.error_count > 1)
        qsort (ev.errors, ev.error_count, sizeof (s_error_t), s_error_compare);
    size_t reported = 0, group = 0;
    for (size_t i = 0; i < ev.error_count; i++) {
        s_error_t *error = &ev.errors[i];
        //  The same error twice (allOf branches...) is at the same place
        if (i && !s_same_place (&ev.errors[i - 1], error))
            group = i;
        bool repeated = false;
        for (size_t j = group; !repeated && j < i; j++)
            repeated = streq (ev.errors[j].path, error->path) &&
                       streq (ev.errors[j].message, error->message);
        if (!repeated) {
            if (fn)
                fn (ctx, error->path, error->message);
            reported++;
        }
    }
    for (size_t i = 0; i < ev.error_count; i++) {
        free (ev.errors[i].path);
        free (ev.errors[i].message);
        free (ev.errors[i].positions);
    }
    free (ev.errors);
    free (ev.segments);
    return reported;
}

//  ---------------------------------------------------------------------
//  Self-test

static void
s_test_collect (void *ctx, const char *path, const char *message)
{
    s_buf_printf ((s_buf_t *) ctx, "%s: %s\n", path, message);
}

//  JSON from text written with ' for " (readable in C). Caller decrefs.
static json_t *
s_test_json (const char *text)
{
    char *copy = strdup (text);
    assert (copy);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t error;
    json_t *json = json_loads (copy, JSON_DECODE_ANY, &error);
    if (!json)
        fprintf (stderr, "\nbad test JSON %s: %s\n", copy, error.text);
    assert (json);
    free (copy);
    return json;
}

//  Errors of instance against compiled, one "path: message" line each.
static char *
s_test_errors (gch_jsonschema_t *compiled, const json_t *instance)
{
    s_buf_t buf = {NULL, 0, 0};
    size_t count =
        gch_jsonschema_validate (compiled, instance, s_test_collect, &buf);
    char *errors = s_buf_take (&buf);
    size_t lines = 0;
    for (const char *p = errors; *p; p++)
        lines += *p == '\n';
    assert (count == lines);
    assert (gch_jsonschema_validate (compiled, instance, NULL, NULL) == count);
    return errors;
}

static void
s_test_case (const char *schema_text, const char *instance_text,
             const char *expected)
{
    json_t *schema = s_test_json (schema_text);
    char *reason = NULL;
    gch_jsonschema_t *compiled = gch_jsonschema_new (schema, &reason);
    if (!compiled)
        fprintf (stderr, "\n%s: %s\n", schema_text, reason);
    assert (compiled && !reason);
    json_decref (schema);  //  the compiled schema holds its own reference
    json_t *instance = s_test_json (instance_text);
    char *errors = s_test_errors (compiled, instance);
    if (!streq (errors, expected))
        fprintf (stderr, "\nschema %s\ninstance %s\nexpected:\n%sgot:\n%s",
                 schema_text, instance_text, expected, errors);
    assert (streq (errors, expected));
    //  Deterministic
    char *again = s_test_errors (compiled, instance);
    assert (streq (again, errors));
    free (again);
    free (errors);
    json_decref (instance);
    gch_jsonschema_destroy (&compiled);
    assert (compiled == NULL);
}

static void
s_test_refused (const char *schema_text, const char *expected_start)
{
    json_t *schema = s_test_json (schema_text);
    char *reason = NULL;
    gch_jsonschema_t *compiled = gch_jsonschema_new (schema, &reason);
    if (compiled || !reason ||
        strncmp (reason, expected_start, strlen (expected_start)) != 0)
        fprintf (stderr, "\n%s: expected \"%s...\", got \"%s\"\n", schema_text,
                 expected_start, reason ? reason : "(compiled)");
    assert (!compiled && reason);
    assert (strncmp (reason, expected_start, strlen (expected_start)) == 0);
    free (reason);
    //  error_p may be NULL
    assert (!gch_jsonschema_new (schema, NULL));
    json_decref (schema);
}

//  pattern on subject: match or not.
static void
s_test_regex (const char *pattern, const char *subject, bool match)
{
    json_t *schema = json_pack ("{s:s}", "pattern", pattern);
    assert (schema);
    char *reason = NULL;
    gch_jsonschema_t *compiled = gch_jsonschema_new (schema, &reason);
    if (!compiled)
        fprintf (stderr, "\npattern %s: %s\n", pattern, reason);
    assert (compiled);
    json_t *instance = json_string (subject);
    assert (instance);
    size_t errors = gch_jsonschema_validate (compiled, instance, NULL, NULL);
    if ((errors == 0) != match)
        fprintf (stderr, "\npattern %s on \"%s\": expected %s\n", pattern,
                 subject, match ? "a match" : "no match");
    assert ((errors == 0) == match);
    json_decref (instance);
    json_decref (schema);
    gch_jsonschema_destroy (&compiled);
}

//  pattern refused, the error starting with "<kind> regular expression".
static void
s_test_regex_refused (const char *pattern, const char *kind)
{
    json_t *schema = json_pack ("{s:s}", "pattern", pattern);
    assert (schema);
    char *reason = NULL;
    gch_jsonschema_t *compiled = gch_jsonschema_new (schema, &reason);
    char *expected = zsys_sprintf ("%s regular expression at #/pattern", kind);
    if (compiled || strncmp (reason, expected, strlen (expected)) != 0)
        fprintf (stderr, "\npattern %s: expected \"%s...\", got \"%s\"\n",
                 pattern, expected, reason ? reason : "(compiled)");
    assert (!compiled);
    assert (strncmp (reason, expected, strlen (expected)) == 0);
    free (expected);
    free (reason);
    json_decref (schema);
}

static void
s_test_cases (void)
{
    //  A form definition: paths, document order, messages
    const char *form =
        "{'type': 'object', 'required': ['form'],"
        " 'properties': {'form': {'type': 'object',"
        "  'additionalProperties': false, 'required': ['title', 'pages'],"
        "  'properties': {"
        "   'title': {'type': 'string', 'minLength': 1, 'maxLength': 5},"
        "   'pages': {'type': 'array', 'minItems': 1,"
        "             'items': {'$ref': '#/$defs/page'}}}}},"
        " '$defs': {"
        "  'page': {'type': 'object', 'required': ['fields'],"
        "   'properties': {'fields': {'type': 'array',"
        "                             'items': {'$ref': '#/$defs/field'}}}},"
        "  'field': {'type': 'object', 'required': ['name', 'type'],"
        "   'additionalProperties': false, 'properties': {"
        "    'name': {'type': 'string', 'pattern': '^[a-z][a-z0-9_]*$'},"
        "    'type': {'enum': ['text', 'longtext', 'email']},"
        "    'max': {'type': 'integer', 'minimum': 0}}}}}";
    s_test_case (form,
                 "{'form': {'title': 'h\\u00e9llo!', 'extra': 1, 'pages': ["
                 " {'fields': [{'name': 'ok', 'type': 'text'}]},"
                 " {'fields': []},"
                 " {'fields': [{'name': 'Bad', 'type': 'date', 'max': -1,"
                 "              'zz': true}, {'type': 'text'}]}]}}",
                 "form.title: must be at most 5 characters long\n"
                 "form.extra: unknown key\n"
                 "form.pages[2].fields[0].name: must match "
                 "^[a-z][a-z0-9_]*$\n"
                 "form.pages[2].fields[0].type: must be one of: text, "
                 "longtext, email\n"
                 "form.pages[2].fields[0].max: must be >= 0\n"
                 "form.pages[2].fields[0].zz: unknown key\n"
                 "form.pages[2].fields[1].name: is required\n");
    s_test_case (form,
                 "{'form': {'title': 'D\\u00e9mo', 'pages': [{'fields': "
                 "[{'name': 'a_1', 'type': 'email', 'max': 3.0}]}]}}",
                 "");
    s_test_case (form, "{}", "form: is required\n");
    s_test_case (form, "{'form': {'pages': []}}",
                 "form.title: is required\n"
                 "form.pages: must have at least 1 items\n");
    s_test_case (form, "[]", ": must be an object\n");

    //  Types
    s_test_case ("{'type': 'integer'}", "1.0", "");
    s_test_case ("{'type': 'integer'}", "1.5", ": must be an integer\n");
    s_test_case ("{'type': ['string', 'null']}", "1",
                 ": must be of type string or null\n");
    s_test_case ("{'type': ['null', 'array', 'object']}", "true",
                 ": must be of type object, array or null\n");
    s_test_case ("{'type': 'number'}", "'1'", ": must be a number\n");
    s_test_case ("{'type': 'null'}", "0", ": must be null\n");
    //  enum, const: numbers by value
    s_test_case ("{'const': 1}", "1.0", "");
    s_test_case ("{'const': {'a': [1, 'x']}}", "{'a': [1.0, 'x']}", "");
    s_test_case ("{'const': 'x'}", "'y'", ": must be equal to x\n");
    s_test_case ("{'enum': [1, null, [2], {'a': 'b'}]}", "'1'",
                 ": must be one of: 1, null, [2], {\"a\":\"b\"}\n");
    s_test_case ("{'enum': [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,"
                 "20,21,22]}",
                 "0",
                 ": must be one of: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "
                 "13, 14, 15, 16, 17, 18, 19, 20, and 2 more\n");
    //  Numbers
    s_test_case ("{'exclusiveMaximum': 10, 'multipleOf': 0.5}", "10.25",
                 ": must be < 10\n: must be a multiple of 0.5\n");
    s_test_case ("{'exclusiveMinimum': 0, 'maximum': 1.5}", "0",
                 ": must be > 0\n");
    s_test_case ("{'maximum': 1.5}", "2", ": must be <= 1.5\n");
    s_test_case ("{'multipleOf': 0.01}", "19.99", "");
    s_test_case ("{'multipleOf': 0.01}", "19.995",
                 ": must be a multiple of 0.01\n");
    s_test_case ("{'multipleOf': 3}", "-9", "");
    s_test_case ("{'minimum': 9007199254740993}", "9007199254740992",
                 ": must be >= 9007199254740993\n");
    //  Strings: code points, not bytes
    s_test_case ("{'maxLength': 2, 'minLength': 2}", "'\\u00e9\\u00e9'", "");
    s_test_case ("{'minLength': 3}", "'\\u00e9\\u00e9'",
                 ": must be at least 3 characters long\n");
    s_test_case ("{'maxLength': 1}", "'\\ud83d\\ude00'", "");
    //  Arrays
    s_test_case ("{'prefixItems': [{'type': 'string'}], 'items': false}",
                 "['a', 1, 2]", "[1]: is not allowed\n[2]: is not allowed\n");
    s_test_case ("{'uniqueItems': true}", "[1, 2, 1.0, {'a': 1}, {'a': 1}]",
                 "[2]: duplicates item 0\n[4]: duplicates item 3\n");
    s_test_case ("{'contains': {'type': 'integer'}, 'minContains': 2,"
                 " 'maxItems': 1}",
                 "[1, 'a']",
                 ": must have at most 1 items\n"
                 ": must contain at least 2 matching items\n");
    s_test_case ("{'contains': {'const': 1}, 'maxContains': 1}", "[1, 1]",
                 ": must contain at most 1 matching items\n");
    s_test_case ("{'items': {'type': 'array', 'items': {'type': 'integer'}}}",
                 "[[1], [2, 'x', 3.5]]",
                 "[1][1]: must be an integer\n[1][2]: must be an integer\n");
    //  Objects
    s_test_case ("{'patternProperties': {'^x_': {'type': 'integer'}},"
                 " 'additionalProperties': {'type': 'string'}}",
                 "{'x_a': 's', 'b': 2, 'c': 'ok'}",
                 "x_a: must be an integer\nb: must be a string\n");
    s_test_case ("{'propertyNames': {'pattern': '^[a-z]+$', 'maxLength': 3}}",
                 "{'ok': 1, 'Bad': 2, 'long': 3}",
                 "Bad: key must match ^[a-z]+$\n"
                 "long: key must be at most 3 characters long\n");
    s_test_case ("{'minProperties': 2}", "{'a': 1}",
                 ": must have at least 2 properties\n");
    s_test_case ("{'maxProperties': 1}", "{'a': 1, 'b': 2}",
                 ": must have at most 1 properties\n");
    s_test_case ("{'dependentRequired': {'card': ['cvv', 'expiry']}}",
                 "{'card': 1, 'expiry': 2}",
                 "cvv: is required when card is present\n");
    s_test_case ("{'dependentSchemas': {'card': {'required': ['cvv']}}}",
                 "{'card': 1}", "cvv: is required\n");
    s_test_case ("{'properties': {'a.b': {'properties': {'': false}}}}",
                 "{'a.b': {'': 1}}", "a.b.: is not allowed\n");
    //  Keys in document order, missing ones first
    s_test_case ("{'required': ['z'], 'properties': {'a': {'type': 'string'},"
                 " 'b': {'type': 'string'}}}",
                 "{'b': 1, 'a': 2}",
                 "z: is required\nb: must be a string\na: must be a string\n");
    //  Applicators
    s_test_case (
        "{'oneOf': [{'type': 'integer'}, {'minimum': 2}]}", "3",
        ": must match exactly one of the allowed forms, not several\n");
    s_test_case ("{'oneOf': [{'type': 'integer'}, {'minimum': 2}]}", "1.5",
                 ": must match exactly one of the allowed forms\n");
    s_test_case ("{'oneOf': [{'type': 'integer'}, {'minimum': 2}]}", "1", "");
    s_test_case ("{'anyOf': [{'type': 'integer'}, {'minimum': 2}]}", "1.5",
                 ": must match at least one of the allowed forms\n");
    s_test_case ("{'allOf': [{'type': 'string'}, {'type': 'string'}]}", "1",
                 ": must be a string\n");
    s_test_case ("{'not': {'type': 'string'}}", "'a'",
                 ": must not match the excluded form\n");
    const char *branches =
        "{'if': {'properties': {'kind': {'const': 'a'}}},"
        " 'then': {'required': ['x']}, 'else': {'required': ['y']}}";
    s_test_case (branches, "{'kind': 'a'}", "x: is required\n");
    s_test_case (branches, "{'kind': 'b'}", "y: is required\n");
    s_test_case (branches, "{'kind': 'a', 'x': 1}", "");
    //  Boolean schemas, annotations, $ref with siblings, pointers
    s_test_case ("false", "1", ": is not allowed\n");
    s_test_case ("true", "1", "");
    s_test_case ("{'$schema': 'https://json-schema.org/draft/2020-12/schema',"
                 " '$id': 'https://example.org/form', 'title': 't',"
                 " 'description': 'd', '$comment': 'c', 'default': 1,"
                 " 'examples': [1], 'deprecated': false, 'readOnly': true,"
                 " 'format': 'email', 'type': 'string'}",
                 "'not an address'", "");
    s_test_case ("{'$defs': {'s': {'type': 'string'}},"
                 " '$ref': '#/$defs/s', 'maxLength': 1}",
                 "'ab'", ": must be at most 1 characters long\n");
    s_test_case ("{'$defs': {'a~b/c%d': {'type': 'string'}},"
                 " '$ref': '#/$defs/a~0b~1c%25d'}",
                 "1", ": must be a string\n");
    s_test_case ("{'$id': 'urn:example:x', '$defs': {'n': {'type': 'null'}},"
                 " 'prefixItems': [{'$ref': 'urn:example:x#/$defs/n'},"
                 "  {'$ref': '#/prefixItems/0'}]}",
                 "[null, 1]", "[1]: must be null\n");
    //  A $ref to a place outside the tree of subschemas, itself holding
    //  more $refs than were pending
    s_test_case ("{'$ref': '#/examples/0', '$defs': {'i': {'type': 'integer'}},"
                 " 'examples': [{'allOf': [{'$ref': '#/$defs/i'},"
                 "  {'$ref': '#/$defs/i'}, {'$ref': '#/$defs/i'},"
                 "  {'$ref': '#/$defs/i'}, {'$ref': '#/$defs/i'},"
                 "  {'$ref': '#/$defs/i'}, {'$ref': '#/$defs/i'},"
                 "  {'$ref': '#/$defs/i'}, {'$ref': '#/$defs/i'}]}]}",
                 "'x'", ": must be an integer\n");
    //  A recursive schema: a tree
    const char *tree =
        "{'type': 'object', 'required': ['name'],"
        " 'properties': {'name': {'type': 'string'},"
        "  'children': {'type': 'array', 'items': {'$ref': '#'}}}}";
    s_test_case (tree,
                 "{'name': 'a', 'children': [{'name': 'b', 'children': "
                 "[{'children': []}]}]}",
                 "children[0].children[0].name: is required\n");

    //  Refused at compile time
    s_test_refused ("{'unevaluatedProperties': false}",
                    "unsupported keyword \"unevaluatedProperties\" at #");
    s_test_refused ("{'properties': {'a/b~': {'$dynamicRef': '#x'}}}",
                    "unsupported keyword \"$dynamicRef\" at "
                    "#/properties/a~1b~0/$dynamicRef");
    s_test_refused ("{'$anchor': 'x'}", "unsupported keyword \"$anchor\"");
    s_test_refused ("{'definitions': {}}", "unsupported keyword");
    s_test_refused ("{'$ref': 'http://example.com/x'}",
                    "unsupported $ref \"http://example.com/x\" at #/$ref");
    s_test_refused ("{'$ref': '#foo'}", "unsupported $ref \"#foo\"");
    s_test_refused ("{'$ref': '#/$defs/missing'}", "invalid $ref");
    s_test_refused ("{'$ref': '#/$defs/%zz'}", "invalid $ref");
    s_test_refused ("{'$defs': {'a': {'$id': 'x'}}}",
                    "unsupported $id at #/$defs/a/$id");
    s_test_refused ("{'$schema': 'http://json-schema.org/draft-07/schema#'}",
                    "unsupported $schema");
    s_test_refused ("{'$defs': {'a': {'$ref': '#/$defs/b'},"
                    " 'b': {'allOf': [{'$ref': '#/$defs/a'}]}},"
                    " '$ref': '#/$defs/a'}",
                    "invalid $ref: a cycle");
    s_test_refused ("{'pattern': '(?=a)'}",
                    "unsupported regular expression at #/pattern: lookahead");
    s_test_refused ("{'patternProperties': {'(a': {}}}",
                    "invalid regular expression at #/patternProperties/(a");
    s_test_refused ("5", "invalid schema at #:");
    s_test_refused ("{'minLength': -1}", "invalid schema at #/minLength");
    s_test_refused ("{'maxItems': 1.5}", "invalid schema at #/maxItems");
    s_test_refused ("{'type': 'text'}", "invalid schema at #/type");
    s_test_refused ("{'type': []}", "invalid schema at #/type");
    s_test_refused ("{'items': [{}]}", "invalid schema at #/items");
    s_test_refused ("{'multipleOf': 0}", "invalid schema at #/multipleOf");
    s_test_refused ("{'required': [1]}", "invalid schema at #/required");
    s_test_refused ("{'anyOf': []}", "invalid schema at #/anyOf");
    s_test_refused ("{'properties': {'a': 1}}",
                    "invalid schema at #/properties/a");
    s_test_refused ("{'dependentRequired': {'a': 'b'}}",
                    "invalid schema at #/dependentRequired/a");
}

static void
s_test_regexes (void)
{
    s_test_regex ("^[a-z][a-z0-9_]*$", "abc_1", true);
    s_test_regex ("^[a-z][a-z0-9_]*$", "Abc", false);
    s_test_regex ("^[a-z][a-z0-9_]*$", "ab-c", false);
    s_test_regex ("^[a-z]$", "\xc3\xa9", false);
    s_test_regex ("\\d{3}", "ab123", true);
    s_test_regex ("\\d{3}", "ab12", false);
    s_test_regex ("^\\w+$", "a_B9", true);
    s_test_regex ("^\\w+$", "\xc3\xa9", false);  //  \w is ASCII
    s_test_regex ("^\\W$", "\xc3\xa9", true);
    s_test_regex ("^\\s$", "\xc2\xa0", true);      //  U+00A0
    s_test_regex ("^\\s$", "\xe2\x80\x83", true);  //  U+2003
    s_test_regex ("^\\S$", "\t", false);
    s_test_regex ("^[\\d\\s]+$", "1 2", true);
    s_test_regex ("^[^\\d]+$", "abc", true);
    s_test_regex ("^[^\\d]+$", "a1", false);
    s_test_regex ("^[a\\D]$", "x", true);
    s_test_regex ("^[1\\D]$", "1", true);
    s_test_regex ("^[1\\D]$", "2", false);
    s_test_regex ("^.$", "\xc3\xa9", true);  //  one code point
    s_test_regex ("^.$", "\xf0\x9f\x98\x80", true);
    s_test_regex ("^.$", "\n", false);
    s_test_regex ("^[^]$", "\n", true);
    s_test_regex ("^(ab|cd)+?$", "abcd", true);
    s_test_regex ("^(ab|cd)+?$", "abc", false);
    s_test_regex ("^a{2,3}$", "aaa", true);
    s_test_regex ("^a{2,3}$", "aaaa", false);
    s_test_regex ("^a{2,}?$", "aaaa", true);
    s_test_regex ("^(?:x|y)z$", "yz", true);
    s_test_regex ("^(?<word>ab)$", "ab", true);
    s_test_regex ("^[\\]\\-\\^\\[]+$", "]-^[", true);
    s_test_regex ("^[\\]\\-\\^\\[]+$", "a", false);
    s_test_regex ("^[-a]$", "-", true);
    s_test_regex ("^[.=:a]+$", ".=:a", true);
    s_test_regex ("^[.=:a]$", "b", false);
    s_test_regex ("^[\\0^]$", "^", true);
    s_test_regex ("^[\\0^]$", "-", false);
    s_test_regex ("^[\\\\]$", "\\", true);
    s_test_regex ("^[\\^-]$", "^", true);
    s_test_regex ("^[\\^-]$", "a", false);
    s_test_regex ("^[^\\^]$", "^", false);
    s_test_regex ("^[[:alpha:]]$", ":]", true);  //  [[:alpha:] then ]
    s_test_regex ("^[[:alpha:]]$", "x]", false);
    s_test_regex ("^[[:alpha:]]$", "a]", true);
    s_test_regex ("^[+--]$", ",", true);  //  '+' to '-'
    s_test_regex ("^\\u00e9$", "\xc3\xa9", true);
    s_test_regex ("^\\x41\\cJ$", "A\n", true);
    s_test_regex ("^\\uD83D\\uDE00$", "\xf0\x9f\x98\x80", true);
    s_test_regex ("^[\\u00e9-\\u00ea]+$", "\xc3\xaa\xc3\xa9", true);
    s_test_regex ("^[\\u00e9-\\u00ea]$", "e", false);
    s_test_regex ("^[\\x00-\\x7f]+$", "ascii", true);
    s_test_regex ("^[\\x00-\\x7f]+$", "\xc3\xa9", false);
    s_test_regex ("^[^\\0]$", "a", true);
    s_test_regex ("^[\\0a]$", "a", true);
    s_test_regex ("^\xc3\xa9+$", "\xc3\xa9\xc3\xa9", true);
    s_test_regex ("a.c", "xabcx", true);  //  a search, not a full match
    s_test_regex ("^\\$\\.\\*\\/\\(\\)$", "$.*/()", true);
    s_test_regex ("^{}$", "{}", true);  //  no quantifier: literal
    s_test_regex ("^a{,2}$", "a{,2}", true);
    s_test_regex ("^a}]$", "a}]", true);
    s_test_regex ("^[\\w-]+$", "a-b", true);
    s_test_regex ("^[\\b]$", "\b", true);
    s_test_regex ("", "anything", true);
    s_test_regex ("^(|a)$", "", true);
    s_test_regex ("a|", "b", true);
    s_test_regex ("^\\t\\n\\v\\f\\r$", "\t\n\v\f\r", true);

    s_test_regex_refused ("(?=a)", "unsupported");
    s_test_regex_refused ("(?!a)", "unsupported");
    s_test_regex_refused ("(?<=a)b", "unsupported");
    s_test_regex_refused ("(?<!a)b", "unsupported");
    s_test_regex_refused ("(a)\\1", "unsupported");
    s_test_regex_refused ("(?<n>a)\\k<n>", "unsupported");
    s_test_regex_refused ("\\bx", "unsupported");
    s_test_regex_refused ("x\\B", "unsupported");
    s_test_regex_refused ("\\p{L}", "unsupported");
    s_test_regex_refused ("\\u{41}", "unsupported");
    s_test_regex_refused ("a\\0", "unsupported");
    s_test_regex_refused ("[\\0]", "unsupported");
    s_test_regex_refused ("[]", "unsupported");
    s_test_regex_refused ("[^\\D]", "unsupported");
    s_test_regex_refused ("[\\d-z]", "unsupported");
    s_test_regex_refused ("a{1001}", "unsupported");
    s_test_regex_refused ("[\\u0100-\\u0300]", "unsupported");
    s_test_regex_refused ("\\q", "unsupported");
    s_test_regex_refused ("\\uD800", "unsupported");
    s_test_regex_refused ("(a", "invalid");
    s_test_regex_refused ("a)", "invalid");
    s_test_regex_refused ("*a", "invalid");
    s_test_regex_refused ("a**", "invalid");
    s_test_regex_refused ("a{2}{3}", "invalid");
    s_test_regex_refused ("^*", "invalid");
    s_test_regex_refused ("[a", "invalid");
    s_test_regex_refused ("[z-a]", "invalid");
    s_test_regex_refused ("a{3,2}", "invalid");
    s_test_regex_refused ("(?x)", "invalid");
    s_test_regex_refused ("a\\", "invalid");
}

//  Limits, files, long paths.
static void
s_test_limits (void)
{
    //  Deep instances against a recursive schema: an error, no crash
    json_t *schema = s_test_json ("{'items': {'$ref': '#'}}");
    gch_jsonschema_t *compiled = gch_jsonschema_new (schema, NULL);
    assert (compiled);
    json_t *deep = json_array ();
    for (int i = 0; i < 300; i++) {
        json_t *outer = json_array ();
        json_array_append_new (outer, deep);
        deep = outer;
    }
    s_buf_t buf = {NULL, 0, 0};
    assert (gch_jsonschema_validate (compiled, deep, s_test_collect, &buf) ==
            1);
    assert (strstr (buf.data, "]: is nested too deeply\n"));
    assert (strncmp (buf.data, "[0][0][0]", 9) == 0);
    free (buf.data);
    json_decref (deep);
    gch_jsonschema_destroy (&compiled);
    json_decref (schema);

    //  A chain of 70 references on one value: over the limit
    schema = json_object ();
    json_t *defs = json_object ();
    for (int i = 0; i < 70; i++) {
        char name[16], target[32];
        snprintf (name, sizeof name, "d%d", i);
        snprintf (target, sizeof target, "#/$defs/d%d", i + 1);
        json_object_set_new (defs, name, json_pack ("{s:s}", "$ref", target));
    }
    json_object_set_new (defs, "d70", json_pack ("{s:s}", "type", "string"));
    json_object_set_new (schema, "$defs", defs);
    json_object_set_new (schema, "$ref", json_string ("#/$defs/d0"));
    compiled = gch_jsonschema_new (schema, NULL);
    assert (compiled);
    json_t *text = json_string ("x");
    char *errors = s_test_errors (compiled, text);
    assert (streq (errors, ": exceeds the schema's nesting limit\n"));
    free (errors);
    json_decref (text);
    gch_jsonschema_destroy (&compiled);
    json_decref (schema);

    //  Long keys make long paths
    schema = s_test_json ("{'additionalProperties': {'additionalProperties':"
                          " {'type': 'integer'}}}");
    compiled = gch_jsonschema_new (schema, NULL);
    char *key = (char *) zmalloc (5001);
    memset (key, 'k', 5000);
    json_t *instance = json_pack ("{s:{s:s}}", key, key, "x");
    errors = s_test_errors (compiled, instance);
    assert (strlen (errors) == 5000 + 1 + 5000 +
                                   strlen (": must be an "
                                           "integer\n"));
    free (errors);
    free (key);
    json_decref (instance);
    gch_jsonschema_destroy (&compiled);
    json_decref (schema);
    gch_jsonschema_destroy (&compiled);  //  idempotent

    //  Files
    char path[] = "/tmp/gch_jsonschema_XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    const char *content = "{\"type\": \"object\", \"required\": [\"a\"]}";
    assert (write (fd, content, strlen (content)) ==
            (ssize_t) strlen (content));
    close (fd);
    char *reason = NULL;
    compiled = gch_jsonschema_load (path, &reason);
    assert (compiled && !reason);
    instance = s_test_json ("{'b': 1}");
    errors = s_test_errors (compiled, instance);
    assert (streq (errors, "a: is required\n"));
    free (errors);
    json_decref (instance);
    gch_jsonschema_destroy (&compiled);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs ("{\"minimum\": 1, \"minimum\": 2}", file);
    fclose (file);
    assert (!gch_jsonschema_load (path, &reason));
    assert (reason && strncmp (reason, path, strlen (path)) == 0 &&
            strstr (reason, "duplicate"));
    free (reason);
    file = fopen (path, "w");
    assert (file);
    fputs ("{\"$anchor\": \"x\"}", file);
    fclose (file);
    assert (!gch_jsonschema_load (path, &reason));
    char *expected = zsys_sprintf ("%s: unsupported keyword", path);
    assert (strncmp (reason, expected, strlen (expected)) == 0);
    free (expected);
    free (reason);
    unlink (path);
    assert (!gch_jsonschema_load (path, NULL));
}

//  ---------------------------------------------------------------------
//  The JSON Schema Test Suite

//  Its draft2020-12 files for the keywords of the subset (and format,
//  defs, infinite-loop-detection, which it also covers).
static const char *s_suite_files[] = {"type",
                                      "enum",
                                      "const",
                                      "properties",
                                      "required",
                                      "additionalProperties",
                                      "patternProperties",
                                      "propertyNames",
                                      "minProperties",
                                      "maxProperties",
                                      "items",
                                      "prefixItems",
                                      "minItems",
                                      "maxItems",
                                      "uniqueItems",
                                      "contains",
                                      "minContains",
                                      "maxContains",
                                      "minLength",
                                      "maxLength",
                                      "pattern",
                                      "minimum",
                                      "maximum",
                                      "exclusiveMinimum",
                                      "exclusiveMaximum",
                                      "multipleOf",
                                      "allOf",
                                      "anyOf",
                                      "oneOf",
                                      "not",
                                      "if-then-else",
                                      "dependentRequired",
                                      "dependentSchemas",
                                      "ref",
                                      "boolean_schema",
                                      "default",
                                      "defs",
                                      "format",
                                      "infinite-loop-detection",
                                      NULL};

typedef struct {
    size_t files;    //  read
    size_t groups;   //  whose schema compiled
    size_t skipped;  //  groups whose schema is outside the subset
    size_t passed;   //  tests
    size_t failed;   //  tests, and groups refused for another reason
} s_suite_t;

//  The folder of draft2020-12 files, or NULL. Caller frees.
static char *
s_suite_dir (void)
{
    const char *roots[] = {
        getenv ("GCH_JSONSCHEMA_SUITE"), "/usr/share/json-schema-test-suite",
        "/usr/share/perl5/auto/share/dist/Test-JSON-Schema-Acceptance"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (!roots[i] || !*roots[i])
            continue;
        const char *subdirs[] = {"/tests/draft2020-12", ""};
        for (size_t j = 0; j < 2; j++) {
            char *dir = zsys_sprintf ("%s%s", roots[i], subdirs[j]);
            char *probe = zsys_sprintf ("%s/type.json", dir);
            bool found = access (probe, R_OK) == 0;
            free (probe);
            if (found)
                return dir;
            free (dir);
        }
        if (i == 0) {
            fprintf (stderr,
                     "\nGCH_JSONSCHEMA_SUITE=%s has no draft2020-12 files\n",
                     roots[i]);
            assert (false);
        }
    }
    return NULL;
}

static void
s_suite_file (const char *dir, const char *name, bool verbose, s_suite_t *stats)
{
    char *path = zsys_sprintf ("%s/%s.json", dir, name);
    json_error_t error;
    json_t *groups = json_load_file (path, JSON_ALLOW_NUL, &error);
    if (!groups)
        fprintf (stderr, "\n%s: %s\n", path, error.text);
    assert (json_is_array (groups));
    stats->files++;
    size_t index;
    json_t *group;
    json_array_foreach (groups, index, group)
    {
        const char *description =
            json_string_value (json_object_get (group, "description"));
        char *reason = NULL;
        gch_jsonschema_t *compiled =
            gch_jsonschema_new (json_object_get (group, "schema"), &reason);
        if (!compiled) {
            bool unsupported = strncmp (reason, "unsupported", 11) == 0;
            if (unsupported)
                stats->skipped++;
            else
                stats->failed++;
            if (verbose || !unsupported)
                fprintf (unsupported ? stdout : stderr,
                         "\n    %s %s.json \"%s\": %s",
                         unsupported ? "skipped" : "FAILED", name, description,
                         reason);
            free (reason);
            continue;
        }
        stats->groups++;
        size_t t;
        json_t *test;
        json_array_foreach (json_object_get (group, "tests"), t, test)
        {
            size_t errors = gch_jsonschema_validate (
                compiled, json_object_get (test, "data"), NULL, NULL);
            if ((errors == 0) == json_is_true (json_object_get (test, "valid")))
                stats->passed++;
            else {
                stats->failed++;
                fprintf (
                    stderr, "\n    FAILED %s.json \"%s\" / \"%s\": expected %s",
                    name, description,
                    json_string_value (json_object_get (test, "description")),
                    json_is_true (json_object_get (test, "valid")) ? "valid"
                                                                   : "invalid");
            }
        }
        gch_jsonschema_destroy (&compiled);
    }
    json_decref (groups);
    free (path);
}

void
gch_jsonschema_test (bool verbose)
{
    printf (" * gch_jsonschema: ");
    s_test_cases ();
    s_test_regexes ();
    s_test_limits ();

    char *dir = s_suite_dir ();
    if (!dir) {
        printf ("OK (JSON Schema Test Suite not installed: suite skipped)\n");
        return;
    }
    s_suite_t stats;
    memset (&stats, 0, sizeof stats);
    for (const char **name = s_suite_files; *name; name++)
        s_suite_file (dir, *name, verbose, &stats);
    if (verbose)
        printf ("\n    suite %s: %zu files, %zu groups run, %zu groups "
                "skipped (outside the subset), %zu tests passed, %zu "
                "failed\n    ",
                dir, stats.files, stats.groups, stats.skipped, stats.passed,
                stats.failed);
    free (dir);
    assert (stats.failed == 0);
    printf ("OK (suite: %zu groups run, %zu skipped, %zu tests passed)\n",
            stats.groups, stats.skipped, stats.passed);
}
