/*
 * wd_http_chunked.c -- the chunked transfer coding checker (see wd_http_chunked.h).
 *
 * A byte-at-a-time state machine for the framing lines and a block copy-free hand-back of
 * the chunk data.  It is written against RFC 9112 7.1 and nothing else: it does not rely on
 * llhttp (8.1.0 takes any byte after a CR in the chunk-size and last-chunk lines for the
 * LF, which lets "5\rX" through as a line end -- a request-smuggling hole when a front
 * proxy reads the same bytes differently).  Each state names what the next byte may be.
 */
#include <stdint.h>
#include <string.h>

#include "wd_http_chunked.h"

enum {
    WD_CK_SIZE_START = 0,   /* first HEXDIG of a chunk-size */
    WD_CK_SIZE,             /* more HEXDIG, BWS, ';' or CR */
    WD_CK_EXT_BWS,          /* BWS before ';' (after the size or an extension value) */
    WD_CK_EXT_NAME_START,   /* BWS after ';', then the first tchar of chunk-ext-name */
    WD_CK_EXT_NAME,         /* tchar, BWS, '=', ';' or CR */
    WD_CK_EXT_NAME_BWS,     /* BWS after a name: '=' or ';' must follow */
    WD_CK_EXT_VAL_START,    /* BWS after '=', then a token or a quoted-string */
    WD_CK_EXT_TOKEN,        /* tchar, BWS, ';' or CR */
    WD_CK_EXT_QUOTED,       /* inside a quoted-string */
    WD_CK_EXT_QPAIR,        /* after a backslash inside a quoted-string */
    WD_CK_EXT_VAL_END,      /* after the closing quote: BWS, ';' or CR */
    WD_CK_SIZE_LF,          /* the LF of the chunk-size line */
    WD_CK_DATA,             /* chunk data */
    WD_CK_DATA_CR,          /* the CRLF after chunk data */
    WD_CK_DATA_LF,
    WD_CK_TRAILER_START,    /* a trailer field line, or the final CRLF */
    WD_CK_TRAILER_NAME,
    WD_CK_TRAILER_VALUE,
    WD_CK_TRAILER_LF,
    WD_CK_FINAL_LF,
    WD_CK_DONE,
    WD_CK_ERROR
};

/* RFC 9110 5.6.2 tchar */
static const uint8_t wd_ck_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
    ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static int
wd_ck_hex(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

void
wd_http_chunked_init(wd_http_chunked_t *ck)
{
    memset(ck, 0, sizeof(*ck));
    ck->state = WD_CK_SIZE_START;
}

static int
wd_ck_fail(wd_http_chunked_t *ck, const char *why)
{
    ck->state = WD_CK_ERROR;
    ck->error = why;
    return WD_HTTP_CHUNKED_ERROR;
}

int
wd_http_chunked_parse(wd_http_chunked_t *ck, const unsigned char **pos,
                      const unsigned char *end, size_t max,
                      const unsigned char **data, size_t *n)
{
    const unsigned char *p = *pos;
    int d;

    *n = 0;
    while (p < end) {
        unsigned char ch = *p;

        if (ck->state == WD_CK_DATA) {
            size_t k = end - p;
            if ((uint64_t) k > ck->size) {
                k = (size_t) ck->size;
            }
            if (k > max) {
                k = max;
            }
            if (k == 0) {
                break;              /* no room for data (max == 0) */
            }
            ck->size -= k;
            if (ck->size == 0) {
                ck->state = WD_CK_DATA_CR;
            }
            *data = p;
            *n = k;
            *pos = p + k;
            return WD_HTTP_CHUNKED_DATA;
        }

        if (ck->state <= WD_CK_SIZE_LF) {
            if (++ck->line > WD_HTTP_CHUNKED_LINE_MAX) {
                *pos = p;
                return wd_ck_fail(ck, "chunk extension too long");
            }
        } else if (ck->state >= WD_CK_TRAILER_START && ck->state <= WD_CK_FINAL_LF) {
            if (++ck->line > WD_HTTP_CHUNKED_LINE_MAX
                || ++ck->trailer > WD_HTTP_CHUNKED_TRAILER_MAX)
            {
                *pos = p;
                return wd_ck_fail(ck, "trailer section too large");
            }
        }

        switch (ck->state) {

        case WD_CK_SIZE_START:
            d = wd_ck_hex(ch);
            if (d < 0) {
                goto bad_size;
            }
            ck->size = d;
            ck->state = WD_CK_SIZE;
            break;

        case WD_CK_SIZE:
            d = wd_ck_hex(ch);
            if (d >= 0) {
                if (ck->size > (INT64_MAX >> 4)) {
                    *pos = p;
                    return wd_ck_fail(ck, "chunk size too large");
                }
                ck->size = (ck->size << 4) | (uint64_t) d;
            } else if (ch == '\r') {
                ck->state = WD_CK_SIZE_LF;
            } else if (ch == ';') {
                ck->state = WD_CK_EXT_NAME_START;
            } else if (ch == ' ' || ch == '\t') {
                ck->state = WD_CK_EXT_BWS;
            } else {
                goto bad_size;
            }
            break;

        case WD_CK_EXT_BWS:
            if (ch == ';') {
                ck->state = WD_CK_EXT_NAME_START;
            } else if (ch != ' ' && ch != '\t') {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_NAME_START:
            if (wd_ck_tchar[ch]) {
                ck->state = WD_CK_EXT_NAME;
            } else if (ch != ' ' && ch != '\t') {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_NAME:
            if (wd_ck_tchar[ch]) {
                break;
            }
            if (ch == '\r') {
                ck->state = WD_CK_SIZE_LF;
            } else if (ch == ';') {
                ck->state = WD_CK_EXT_NAME_START;
            } else if (ch == '=') {
                ck->state = WD_CK_EXT_VAL_START;
            } else if (ch == ' ' || ch == '\t') {
                ck->state = WD_CK_EXT_NAME_BWS;
            } else {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_NAME_BWS:
            if (ch == '=') {
                ck->state = WD_CK_EXT_VAL_START;
            } else if (ch == ';') {
                ck->state = WD_CK_EXT_NAME_START;
            } else if (ch != ' ' && ch != '\t') {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_VAL_START:
            if (wd_ck_tchar[ch]) {
                ck->state = WD_CK_EXT_TOKEN;
            } else if (ch == '"') {
                ck->state = WD_CK_EXT_QUOTED;
            } else if (ch != ' ' && ch != '\t') {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_TOKEN:
        case WD_CK_EXT_VAL_END:
            if (ck->state == WD_CK_EXT_TOKEN && wd_ck_tchar[ch]) {
                break;
            }
            if (ch == '\r') {
                ck->state = WD_CK_SIZE_LF;
            } else if (ch == ';') {
                ck->state = WD_CK_EXT_NAME_START;
            } else if (ch == ' ' || ch == '\t') {
                ck->state = WD_CK_EXT_BWS;
            } else {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_QUOTED:
            /* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
            if (ch == '"') {
                ck->state = WD_CK_EXT_VAL_END;
            } else if (ch == '\\') {
                ck->state = WD_CK_EXT_QPAIR;
            } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                goto bad_ext;
            }
            break;

        case WD_CK_EXT_QPAIR:
            /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                goto bad_ext;
            }
            ck->state = WD_CK_EXT_QUOTED;
            break;

        case WD_CK_SIZE_LF:
            if (ch != '\n') {
                *pos = p;
                return wd_ck_fail(ck, "chunk size line not ended by CRLF");
            }
            if (ck->size > (uint64_t) INT64_MAX - ck->declared) {
                *pos = p;
                return wd_ck_fail(ck, "chunked body too large");
            }
            ck->declared += ck->size;
            ck->line = 0;
            ck->state = ck->size ? WD_CK_DATA : WD_CK_TRAILER_START;
            break;

        case WD_CK_DATA_CR:
            if (ch != '\r') {
                *pos = p;
                return wd_ck_fail(ck, "chunk data not followed by CRLF");
            }
            ck->state = WD_CK_DATA_LF;
            break;

        case WD_CK_DATA_LF:
            if (ch != '\n') {
                *pos = p;
                return wd_ck_fail(ck, "chunk data not followed by CRLF");
            }
            ck->state = WD_CK_SIZE_START;
            break;

        case WD_CK_TRAILER_START:
            if (ch == '\r') {
                ck->state = WD_CK_FINAL_LF;
            } else if (wd_ck_tchar[ch]) {
                ck->state = WD_CK_TRAILER_NAME;
            } else {
                goto bad_trailer;
            }
            break;

        case WD_CK_TRAILER_NAME:
            if (ch == ':') {
                ck->state = WD_CK_TRAILER_VALUE;
            } else if (!wd_ck_tchar[ch]) {
                goto bad_trailer;
            }
            break;

        case WD_CK_TRAILER_VALUE:
            /* field-value: VCHAR, obs-text, SP, HTAB */
            if (ch == '\r') {
                ck->state = WD_CK_TRAILER_LF;
            } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                goto bad_trailer;
            }
            break;

        case WD_CK_TRAILER_LF:
            if (ch != '\n') {
                goto bad_trailer;
            }
            ck->line = 0;
            ck->state = WD_CK_TRAILER_START;
            break;

        case WD_CK_FINAL_LF:
            if (ch != '\n') {
                *pos = p;
                return wd_ck_fail(ck, "chunked body not ended by CRLF");
            }
            ck->state = WD_CK_DONE;
            *pos = p + 1;
            return WD_HTTP_CHUNKED_DONE;

        case WD_CK_DONE:
            *pos = p;
            return WD_HTTP_CHUNKED_DONE;

        default:
            *pos = p;
            return WD_HTTP_CHUNKED_ERROR;
        }
        p++;
    }
    *pos = p;
    if (ck->state == WD_CK_DONE) {
        return WD_HTTP_CHUNKED_DONE;
    }
    if (ck->state == WD_CK_ERROR) {
        return WD_HTTP_CHUNKED_ERROR;
    }
    return WD_HTTP_CHUNKED_AGAIN;

bad_size:
    *pos = p;
    return wd_ck_fail(ck, "invalid chunk size");
bad_ext:
    *pos = p;
    return wd_ck_fail(ck, "invalid chunk extension");
bad_trailer:
    *pos = p;
    return wd_ck_fail(ck, "invalid trailer field");
}

int
wd_http_chunked_check(const wd_http_chunked_t *ck, const unsigned char *p,
                      const unsigned char *end, const char **why)
{
    wd_http_chunked_t copy = *ck;
    const unsigned char *data;
    size_t n;
    int rc;

    do {
        rc = wd_http_chunked_parse(&copy, &p, end, SIZE_MAX, &data, &n);
    } while (rc == WD_HTTP_CHUNKED_DATA);
    if (rc == WD_HTTP_CHUNKED_ERROR) {
        *why = copy.error;
        return -1;
    }
    return 0;
}
