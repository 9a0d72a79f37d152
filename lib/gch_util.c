//  gch_util - clocks, random tokens, hashing, packing. Tokens come from
//  libsodium's CSPRNG; hashes are SHA-256 (libsodium).
#include "gch.h"

#include <stdarg.h>
#include <sodium.h>
#include <time.h>
#include <ctype.h>

int64_t
gch_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
gch_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
gch_crypto_init (void)
{
    if (sodium_init () < 0) {
        zsys_error ("libsodium could not be initialised");
        abort ();
    }
}

void
gch_random_hex (char *buf, size_t bytes)
{
    uint8_t raw[64];
    assert (bytes <= sizeof raw);
    gch_crypto_init ();  //  idempotent and thread-safe
    randombytes_buf (raw, bytes);
    sodium_bin2hex (buf, 2 * bytes + 1, raw, bytes);
}

void
gch_sha256_hex (const void *data, size_t size, char *out)
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, data, size);
    sodium_bin2hex (out, 65, digest, sizeof digest);
}

size_t
gch_pack (const ProtobufCMessage *msg, uint8_t **data_p)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    *data_p = (uint8_t *) malloc (size ? size : 1);
    assert (*data_p);
    protobuf_c_message_pack (msg, *data_p);
    return size;
}

char *
gch_email_normalize (const char *email)
{
    if (!email)
        return NULL;
    while (isspace ((unsigned char) *email))
        email++;
    size_t size = strlen (email);
    while (size && isspace ((unsigned char) email[size - 1]))
        size--;
    if (size < 3 || size > 254)
        return NULL;
    char *copy = strndup (email, size);
    assert (copy);
    int ats = 0;
    char *at = NULL;
    for (char *c = copy; *c; c++) {
        unsigned char u = (unsigned char) *c;
        if (u <= ' ' || u == 0x7f || u == '<' || u == '>' || u == ',' ||
            u == ';' || u == '"' || u == '\\') {
            free (copy);
            return NULL;
        }
        if (u == '@') {
            ats++;
            at = c;
        }
        *c = (char) tolower (u);
    }
    bool valid = ats == 1 && at != copy && at[1] && strchr (at + 1, '.') &&
                 at[strlen (at) - 1] != '.' && at[1] != '.';
    if (!valid) {
        free (copy);
        return NULL;
    }
    return copy;
}

int
gch_hex_digit (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void
gch_pathf (char *buf, size_t size, const char *format, ...)
{
    assert (buf && size >= 4);
    va_list args;
    va_start (args, format);
    int length = vsnprintf (buf, size, format, args);
    va_end (args);
    if (length < 0 || (size_t) length >= size)
        strcpy (buf + size - 4, "...");
}

void
gch_util_test (bool verbose)
{
    assert (gch_hex_digit ('7') == 7 && gch_hex_digit ('b') == 11 &&
            gch_hex_digit ('F') == 15 && gch_hex_digit ('g') == -1);
    char path[12];
    gch_pathf (path, sizeof path, "%s.%s", "form", "x");
    assert (streq (path, "form.x"));
    gch_pathf (path, sizeof path, "%s.%s", "form", "a-very-long-key");
    assert (streq (path, "form.a-v...") && strlen (path) == 11);
    (void) verbose;
    printf (" * gch_util: ");
    char a[65], b[65];
    gch_random_hex (a, 32);
    gch_random_hex (b, 32);
    assert (strlen (a) == 64 && strcmp (a, b) != 0);
    gch_sha256_hex ("abc", 3, a);
    assert (streq (a, "ba7816bf8f01cfea414140de5dae2223"
                      "b00361a396177a9cb410ff61f20015ad"));
    char *email = gch_email_normalize ("  Jean.Dupont@Example.FR ");
    assert (email && streq (email, "jean.dupont@example.fr"));
    free (email);
    assert (!gch_email_normalize ("jean"));
    assert (!gch_email_normalize ("a@b"));
    assert (!gch_email_normalize ("a@@b.fr"));
    assert (!gch_email_normalize ("a b@c.fr"));
    assert (!gch_email_normalize ("@c.fr"));
    assert (!gch_email_normalize (NULL));
    int64_t t0 = gch_mono_ms ();
    assert (t0 > 0 && gch_now_ms () > 1700000000000LL);
    Gch__DossierRef ref = GCH__DOSSIER_REF__INIT;
    ref.id = 42;
    uint8_t *data;
    size_t size = gch_pack (&ref.base, &data);
    Gch__DossierRef *back = gch__dossier_ref__unpack (NULL, size, data);
    assert (back && back->id == 42);
    gch__dossier_ref__free_unpacked (back, NULL);
    free (data);
    printf ("OK\n");
}
