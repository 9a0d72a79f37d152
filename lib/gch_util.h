//  gch_util - small helpers shared by every process: clocks, random tokens,
//  hashing, hex, and packing protobuf-c messages into fresh buffers.
#ifndef GCH_UTIL_H_INCLUDED
#define GCH_UTIL_H_INCLUDED

//  Milliseconds since the epoch (wall clock).
int64_t gch_now_ms (void);

//  Monotonic milliseconds, for timers.
int64_t gch_mono_ms (void);

//  Fill buf with a random url-safe token of `bytes` random bytes, hex encoded:
//  buf must hold 2 * bytes + 1 characters.
void gch_random_hex (char *buf, size_t bytes);

//  Hex sha256 of data into out (65 characters).
void gch_sha256_hex (const void *data, size_t size, char *out);

//  Pack a message into a new buffer. Caller owns *data_p (free ()).
size_t gch_pack (const ProtobufCMessage *msg, uint8_t **data_p);

//  Trimmed copy of an e-mail address in lower case, or NULL if it does not
//  look like one (one @, a dot in the domain, no spaces, <= 254 chars).
//  Caller owns the result.
char *gch_email_normalize (const char *email);

//  Initialise libsodium once; aborts if it cannot.
void gch_crypto_init (void);

//  Value of one hex digit, or -1.
int gch_hex_digit (char c);

//  Format a path (a JSON path, for messages) into buf, marked "..." at its
//  end when cut: paths that long come only from absurd client keys.
void gch_pathf (char *buf, size_t size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

void gch_util_test (bool verbose);

#endif
