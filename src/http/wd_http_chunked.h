/*
 * wd_http_chunked.h -- the chunked transfer coding (RFC 9112 7.1), checked byte by byte.
 *
 * One small state machine over the raw bytes, independent of any request or connection
 * object, so the server's request-body reader and the outbound client's response reader
 * apply the same rules.  Every line of the framing must end in exactly CRLF: the
 * chunk-size line (with its extensions), the CRLF after the chunk data, the last chunk,
 * each trailer field line and the final empty line.  A bare CR, a bare LF, a NUL or any
 * byte the grammar does not allow is an error, never a line end:
 *
 *   chunked-body    = *chunk last-chunk trailer-section CRLF
 *   chunk           = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size      = 1*HEXDIG                      (no sign, no "0x", no spaces before)
 *   last-chunk      = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext       = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val   = token / quoted-string
 *   trailer-section = *( field-line CRLF )           (field-name ":" field-value)
 *
 * Limits: a chunk size (and the running total of sizes) above 2^63-1 is an error; one
 * framing line (size line with extensions, or a trailer field line) may be at most
 * WD_HTTP_CHUNKED_LINE_MAX bytes and the trailer section WD_HTTP_CHUNKED_TRAILER_MAX.
 *
 * Use: zero the state (wd_http_chunked_init), then call wd_http_chunked_parse with the
 * bytes at hand as often as needed; the parser consumes framing bytes and hands chunk
 * data back as pointers into the input (never copying).  The state is a plain value:
 * copying it and running the copy over buffered bytes checks them without consuming.
 */
#ifndef WD_HTTP_CHUNKED_H
#define WD_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#define WD_HTTP_CHUNKED_LINE_MAX     4096
#define WD_HTTP_CHUNKED_TRAILER_MAX  16384

typedef struct {
    uint64_t     size;       /* data bytes left in the current chunk (its size while read) */
    uint64_t     declared;   /* sum of all chunk sizes so far, the current one included */
    uint32_t     line;       /* bytes of the current framing line */
    uint32_t     trailer;    /* bytes of the trailer section */
    uint8_t      state;
    const char  *error;      /* why the framing is bad (static text), after ERROR */
} wd_http_chunked_t;

enum {
    WD_HTTP_CHUNKED_AGAIN = 0,  /* every input byte consumed; the body goes on */
    WD_HTTP_CHUNKED_DATA,       /* *data, *n: chunk data (n > 0) */
    WD_HTTP_CHUNKED_DONE,       /* the final CRLF was read: the body is complete */
    WD_HTTP_CHUNKED_ERROR       /* bad framing: ck->error; *pos at the offending byte */
};

void wd_http_chunked_init(wd_http_chunked_t *ck);

/*
 * Reads from *pos (up to end), advancing *pos past what it consumed.  Returns DATA with
 * at most max bytes of chunk data (*data points into the input), AGAIN when all input was
 * framing (or nothing), DONE with *pos just past the body (a pipelined request may
 * follow), or ERROR.  After DONE or ERROR further calls return the same.
 */
int wd_http_chunked_parse(wd_http_chunked_t *ck, const unsigned char **pos,
                          const unsigned char *end, size_t max,
                          const unsigned char **data, size_t *n);

/* Runs a copy of ck over [p, end) and discards the data: 0 if the bytes are a valid
 * continuation of the body so far (complete or not), -1 if not (*why: the reason). */
int wd_http_chunked_check(const wd_http_chunked_t *ck, const unsigned char *p,
                          const unsigned char *end, const char **why);

#endif /* WD_HTTP_CHUNKED_H */
