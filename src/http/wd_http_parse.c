/*
 * wd_http_parse.c -- llhttp glue: parse only, no I/O.
 *
 * The request header is parsed from the connection buffer (the request starts at offset
 * 0); callbacks record OFFSETS, not pointers, because the buffer may grow (realloc) while a
 * large header arrives.  llhttp pauses at on_headers_complete; the header block is then
 * checked, copied into the request pool and turned into wd_http_header_t entries, and the
 * buffer is free again for body bytes and the next pipelined request.  llhttp never sees
 * the body: wd_http_parse_body counts a Content-Length body and decodes a chunked one with
 * our own checker (wd_http_chunked.c), straight into the consumer's buffer.
 *
 * llhttp runs in strict mode, with one leniency: Transfer-Encoding lists, which we check
 * ourselves.  llhttp 8.1.0 still accepts some framing attacks and refuses some valid forms,
 * so the glue adds its own rules (each was observed):
 *   - Transfer-Encoding is a list with empty elements allowed (RFC 9110 5.6.1: ",chunked",
 *     "chunked,", "chunked\t" are chunked); exactly one "chunked" and nothing else ->
 *     chunked; any other list that names chunked ("gzip, chunked", "chunked, chunked") ->
 *     400; codings without chunked ("gzip") -> 501; TE in HTTP/1.0 -> 400; more than one
 *     TE header -> 400
 *   - the chunked framing: every line must end in exactly CRLF (llhttp 8.1.0 takes any
 *     byte after a CR in the chunk-size and last-chunk lines as the LF: "5\rX" smuggles)
 *   - obs-folded header lines (a value continued on the next line) -> 400
 *   - bare CR / bare LF in the request line / header block -> 400
 *   - spaces or other non-token bytes in header names ("Ho st", "Host :") and an empty
 *     name -> 400; CTL bytes in values -> 400
 *   - HTAB or other CTLs in the request-target -> 400
 *   - empty lines (CRLF) before the request line are skipped (RFC 9112 2.2)
 *   - a method llhttp does not know: a token -> 501 (RFC 9110 9.1), else 400
 *   - "HTTP/1.2".."HTTP/1.9" are processed as HTTP/1.1 (RFC 9110 2.5; llhttp refuses
 *     them); other versions than 1.x -> 505 ("HTTP/2.0", "HTTP/0.9")
 * Duplicate Content-Length headers, even identical ones, are rejected by llhttp (400) and
 * we keep that: RFC 9112 6.3 allows either, refusing is the safer choice.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_http_request.h"
#include "wd_http_conf.h"
#include "wd_http_chunked.h"

static int wd_http_on_url(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_url_complete(llhttp_t *p);
static int wd_http_on_header_field(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_header_value(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_header_value_complete(llhttp_t *p);
static int wd_http_on_headers_complete(llhttp_t *p);

static llhttp_settings_t wd_http_parser_settings = {
    .on_url = wd_http_on_url,
    .on_url_complete = wd_http_on_url_complete,
    .on_header_field = wd_http_on_header_field,
    .on_header_value = wd_http_on_header_value,
    .on_header_value_complete = wd_http_on_header_value_complete,
    .on_headers_complete = wd_http_on_headers_complete,
};

/* RFC 9110 5.6.2 tchar */
static const uint8_t wd_http_tchar[256] = {
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

int
wd_http_is_token(const u_char *p, size_t len)
{
    if (len == 0) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!wd_http_tchar[p[i]]) {
            return 0;
        }
    }
    return 1;
}

/* field-value: VCHAR, obs-text, SP, HTAB (RFC 9110 5.5) */
int
wd_http_is_field_value(const u_char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        u_char ch = p[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return 0;
        }
    }
    return 1;
}

void
wd_http_parser_start(wd_http_request_t *r)
{
    llhttp_init(&r->parser, HTTP_REQUEST, &wd_http_parser_settings);
    /* the one leniency: llhttp 8.1.0 refuses valid Transfer-Encoding lists ("chunked,",
     * ",chunked"); the value is checked by wd_http_te_chunked and llhttp never frames the
     * body (it stops at the end of the header) */
    r->parser.lenient_flags |= LENIENT_TRANSFER_ENCODING;  /* llhttp_set_lenient_... */
    r->parser.data = r;
    r->url_off = r->url_len = 0;
    r->hdr_name_off = r->hdr_name_len = 0;
    r->hdr_value_off = r->hdr_value_len = 0;
    r->hdr_in_value = 0;
    r->nheaders_raw = 0;
    r->header_end = 0;
    r->parse_status = 0;
    r->body_left = 0;
    r->body_error = NULL;
    r->url_done = 0;
}

static wd_http_request_t *
wd_http_parser_request(llhttp_t *p)
{
    return p->data;
}

static int
wd_http_parse_fail(wd_http_request_t *r, unsigned status, const char *why)
{
    r->parse_status = status;
    llhttp_set_error_reason(&r->parser, why);
    return HPE_USER;
}

static int
wd_http_on_url(llhttp_t *p, const char *at, size_t len)
{
    wd_http_request_t *r = wd_http_parser_request(p);
    size_t off = (const u_char *) at - r->hc->buf;

    if (r->url_len == 0) {
        r->url_off = off;
    } else if (r->url_off + r->url_len != off) {
        return wd_http_parse_fail(r, 400, "discontiguous url");
    }
    r->url_len += len;
    if (r->url_off + r->url_len > r->hc->large_header) {
        return wd_http_parse_fail(r, 414, "request line too long");
    }
    return 0;
}

static int
wd_http_on_url_complete(llhttp_t *p)
{
    wd_http_parser_request(p)->url_done = 1;
    return 0;
}

static int
wd_http_push_raw_header(wd_http_request_t *r)
{
    wd_http_raw_header_t *h;

    if (r->nheaders_raw == r->raw_nalloc) {
        unsigned n = r->raw_nalloc ? r->raw_nalloc * 2 : 16;
        wd_http_raw_header_t *a = wd_palloc(r->pool, n * sizeof(*a));
        if (a == NULL) {
            return wd_http_parse_fail(r, 500, "out of memory");
        }
        if (r->nheaders_raw) {
            memcpy(a, r->raw_headers, r->nheaders_raw * sizeof(*a));
        }
        r->raw_headers = a;
        r->raw_nalloc = n;
    }
    h = &r->raw_headers[r->nheaders_raw++];
    h->name_off = r->hdr_name_off;
    h->name_len = r->hdr_name_len;
    h->value_off = r->hdr_value_off;
    h->value_len = r->hdr_value_len;
    r->hdr_name_len = 0;
    r->hdr_value_len = 0;
    r->hdr_in_value = 0;
    return 0;
}

static int
wd_http_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    wd_http_request_t *r = wd_http_parser_request(p);
    size_t off = (const u_char *) at - r->hc->buf;

    if (r->hdr_in_value) {
        return wd_http_parse_fail(r, 400, "header without value end");
    }
    if (r->hdr_name_len == 0) {
        r->hdr_name_off = off;
    } else if (r->hdr_name_off + r->hdr_name_len != off) {
        return wd_http_parse_fail(r, 400, "discontiguous header name");
    }
    r->hdr_name_len += len;
    if (r->hdr_name_len > r->hc->large_header) {
        return wd_http_parse_fail(r, 431, "header line too long");
    }
    return 0;
}

static int
wd_http_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    wd_http_request_t *r = wd_http_parser_request(p);
    size_t off = (const u_char *) at - r->hc->buf;

    if (!r->hdr_in_value) {
        if (r->hdr_name_len == 0) {
            /* a value with no field before it: an obs-fold continuation line */
            return wd_http_parse_fail(r, 400, "obsolete line folding");
        }
        r->hdr_value_off = off;
        r->hdr_value_len = len;
        r->hdr_in_value = 1;
    } else {
        if (r->hdr_value_off + r->hdr_value_len != off) {
            /* the value went on after a line break: obs-fold (RFC 9112 5.2) */
            return wd_http_parse_fail(r, 400, "obsolete line folding");
        }
        r->hdr_value_len += len;
    }
    if (r->hdr_value_off + r->hdr_value_len - r->hdr_name_off > r->hc->large_header) {
        return wd_http_parse_fail(r, 431, "header line too long");
    }
    return 0;
}

static int
wd_http_on_header_value_complete(llhttp_t *p)
{
    wd_http_request_t *r = wd_http_parser_request(p);

    if (!r->hdr_in_value) {
        /* "Name:" with nothing after the colon */
        r->hdr_value_off = r->hdr_name_off + r->hdr_name_len;
        r->hdr_value_len = 0;
    }
    return wd_http_push_raw_header(r);
}

static int
wd_http_on_headers_complete(llhttp_t *p)
{
    wd_http_request_t *r = wd_http_parser_request(p);

    if (r->hdr_in_value || r->hdr_name_len) {
        int rc = wd_http_push_raw_header(r);
        if (rc) {
            return rc;
        }
    }
    return HPE_PAUSED;          /* the body is read by wd_http_parse_body, not llhttp */
}

/* RFC 9112 2.2: empty lines (CRLF) before the request line are ignored.  Only at the
 * start of a request (nothing fed to llhttp yet); the request keeps starting at offset 0.
 * A lone CR waits for its LF; a bare CR or LF is left to the checks (400). */
static int
wd_http_skip_empty_lines(wd_http_connection_t *hc)
{
    size_t k = 0;

    while (k + 2 <= hc->last && hc->buf[k] == '\r' && hc->buf[k + 1] == '\n') {
        k += 2;
    }
    if (k) {
        memmove(hc->buf, hc->buf + k, hc->last - k);
        hc->last -= k;
    }
    return hc->last == 0 || (hc->last == 1 && hc->buf[0] == '\r') ? WD_AGAIN : WD_OK;
}

/* llhttp knows a fixed list of methods.  Any other token is a method we do not implement
 * (RFC 9110 9.1, 15.6.2): 501 once "token SP" is there; not a token: 400.  WD_AGAIN while
 * the method may still be arriving (the bytes are fed again from the start). */
static int
wd_http_unknown_method(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    size_t i;

    for (i = 0; i < hc->last && wd_http_tchar[hc->buf[i]]; i++) { /* void */ }
    if (i > 0 && i < hc->last && hc->buf[i] == ' ') {
        return 501;
    }
    if (i == hc->last && i < hc->large_header) {
        wd_http_parser_start(r);
        hc->pos = 0;
        return WD_AGAIN;
    }
    return 400;
}

/* RFC 9110 2.5: "HTTP/1.x" with x > 1 is processed as HTTP/1.1.  llhttp 8.1.0 refuses it,
 * so the digit is rewritten in the buffer (the original goes back into $request, see
 * r->minor_sent) and the request is parsed again from its start.  1 if it did so. */
static int
wd_http_higher_minor(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    size_t v = r->url_off + r->url_len + 1;
    u_char *b = hc->buf, minor;

    if (!r->url_done || r->url_len == 0 || v + 8 > hc->last || b[v - 1] != ' '
        || memcmp(b + v, "HTTP/1.", 7) != 0 || b[v + 7] < '2' || b[v + 7] > '9')
    {
        return 0;
    }
    minor = b[v + 7];
    b[v + 7] = '1';
    wd_http_parser_start(r);
    r->minor_sent = minor;
    hc->pos = 0;
    return 1;
}

/*
 * Parses the header bytes in hc->buf[hc->pos, hc->last).  Returns WD_AGAIN (need more),
 * WD_OK (header complete; hc->pos is just past it) or an HTTP status for the error.
 */
int
wd_http_parse_header(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    llhttp_errno_t err;

    if (hc->pos == 0 && hc->last > 0 && hc->buf[0] == '\r'
        && wd_http_skip_empty_lines(hc) == WD_AGAIN)
    {
        return WD_AGAIN;
    }

again:
    err = llhttp_execute(&r->parser, (const char *) hc->buf + hc->pos, hc->last - hc->pos);
    if (err != HPE_OK && err != HPE_PAUSED && r->parse_status) {
        return r->parse_status;     /* our own check failed inside a callback */
    }

    switch (err) {
    case HPE_OK:
        hc->pos = hc->last;
        if (!r->url_done && hc->pos > hc->large_header) {
            return 414;
        }
        if (hc->pos >= hc->max_header) {
            return r->url_done ? 431 : 414;
        }
        return WD_AGAIN;

    case HPE_PAUSED:
        hc->pos = (const u_char *) llhttp_get_error_pos(&r->parser) - hc->buf;
        r->header_end = hc->pos;
        llhttp_resume(&r->parser);
        if (r->header_end > hc->max_header) {
            return 431;     /* arrived at once in a buffer larger than the limit */
        }
        return WD_OK;

    case HPE_USER:
        return r->parse_status ? r->parse_status : 400;

    case HPE_INVALID_VERSION: {
        const char *why = llhttp_get_error_reason(&r->parser);
        if (wd_http_higher_minor(r)) {
            goto again;
        }
        if (why && strcmp(why, "Invalid HTTP version") == 0) {
            return 505;
        }
        return 400;
    }

    case HPE_INVALID_METHOD:
        return wd_http_unknown_method(r);

    default:
        return 400;
    }
}

/*
 * Parses body bytes from hc->buf[hc->pos, hc->last) into dst (NULL: discard, else at most
 * dst_len bytes of decoded body).  Returns WD_DONE (body complete), WD_AGAIN (the input
 * is consumed or dst is full, body not complete) or an HTTP status for a bad body: 400
 * (r->body_error says why) or 413 (chunked body above client_max_body_size).
 * Content-Length bodies are counted here; chunked ones go through wd_http_chunked.c.
 */
int
wd_http_parse_body(wd_http_request_t *r, u_char *dst, size_t dst_len, size_t *produced)
{
    wd_http_connection_t *hc = r->hc;
    const u_char *p = hc->buf + hc->pos, *end = hc->buf + hc->last, *data;
    size_t room = dst ? dst_len : SIZE_MAX, n;
    int64_t max = hc->max_body;
    int rc;

    *produced = 0;
    if (!r->chunked) {
        n = end - p;
        if ((uint64_t) n > r->body_left) {
            n = (size_t) r->body_left;
        }
        if (n > room) {
            n = room;
        }
        if (dst) {
            memcpy(dst, p, n);
            *produced = n;
        }
        hc->pos += n;
        r->body_left -= n;
        r->body_received += n;
        return r->body_left == 0 ? WD_DONE : WD_AGAIN;
    }

    for (;;) {
        rc = wd_http_chunked_parse(&r->ck, &p, end, room, &data, &n);
        hc->pos = p - hc->buf;
        if (max > 0 && r->ck.declared > (uint64_t) max) {
            r->body_error = "chunked body too large";
            return 413;
        }
        switch (rc) {
        case WD_HTTP_CHUNKED_DATA:
            if (dst) {
                memcpy(dst + *produced, data, n);
                *produced += n;
                room -= n;
            }
            r->body_received += n;
            if (room == 0) {
                return WD_AGAIN;
            }
            continue;
        case WD_HTTP_CHUNKED_AGAIN:
            return WD_AGAIN;
        case WD_HTTP_CHUNKED_DONE:
            return WD_DONE;
        default:
            r->body_error = r->ck.error;
            return 400;
        }
    }
}

/* Checks the body bytes already in the buffer without consuming them: WD_OK, or the
 * status of a body that is bad already (r->body_error says why). */
int
wd_http_check_buffered_body(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;

    if (!r->chunked || hc->pos == hc->last) {
        return WD_OK;
    }
    if (wd_http_chunked_check(&r->ck, hc->buf + hc->pos, hc->buf + hc->last,
                              &r->body_error) != 0)
    {
        return 400;
    }
    return WD_OK;
}

/* The request's host (Host header or absolute-form authority) through wd_http_validate_host,
 * into r->pool. */
static int
wd_http_request_host(wd_http_request_t *r, const u_char *h, size_t len, wd_str_t *out)
{
    u_char *d = wd_pnalloc(r->pool, len + 1);
    size_t n;

    if (d == NULL || wd_http_validate_host(h, len, d, &n) != WD_OK) {
        return WD_ERROR;
    }
    d[n] = '\0';
    out->data = d;
    out->len = n;
    return WD_OK;
}

static int
wd_http_parse_target(wd_http_request_t *r)
{
    u_char *p = r->unparsed_uri.data, *end = p + r->unparsed_uri.len, *q;

    for (q = p; q < end; q++) {
        if (*q <= 0x20 || *q == 0x7f) {
            return 400;
        }
    }

    if (r->method == HTTP_CONNECT) {
        return 405;
    }
    if (end - p == 1 && *p == '*') {
        if (r->method != HTTP_OPTIONS) {
            return 400;
        }
        wd_str_set(&r->uri, "*");
        return WD_OK;
    }
    if (*p != '/') {
        /* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
        u_char *s = p, *auth;
        size_t slen;
        while (s < end && *s != ':') {
            s++;
        }
        slen = s - p;
        if (s + 3 > end || s[1] != '/' || s[2] != '/'
            || !((slen == 4 && strncasecmp((char *) p, "http", 4) == 0)
                 || (slen == 5 && strncasecmp((char *) p, "https", 5) == 0)))
        {
            return 400;
        }
        auth = s + 3;
        for (q = auth; q < end && *q != '/' && *q != '?'; q++) {
            if (*q == '@') {
                return 400;
            }
        }
        if (q == auth || wd_http_request_host(r, auth, q - auth, &r->host) != WD_OK) {
            return 400;
        }
        p = q;
        if (p == end || *p == '?') {
            /* empty path: "/" */
            u_char *n = wd_pnalloc(r->pool, end - p + 1);
            if (n == NULL) {
                return 500;
            }
            n[0] = '/';
            memcpy(n + 1, p, end - p);
            end = n + 1 + (end - p);
            p = n;
        }
    }
    for (q = p; q < end && *q != '?'; q++) { /* void */ }
    r->uri.data = p;            /* raw path: normalized by the request code */
    r->uri.len = q - p;
    if (q < end) {
        r->args.data = q + 1;
        r->args.len = end - q - 1;
    } else {
        r->args.data = NULL;
        r->args.len = 0;
    }
    return WD_OK;
}

static int
wd_http_token_list_has(const wd_str_t *v, const char *tok)
{
    size_t tl = strlen(tok), i = 0;

    while (i < v->len) {
        while (i < v->len && (v->data[i] == ' ' || v->data[i] == '\t' || v->data[i] == ',')) {
            i++;
        }
        size_t s = i;
        while (i < v->len && v->data[i] != ',') {
            i++;
        }
        size_t e = i;
        while (e > s && (v->data[e - 1] == ' ' || v->data[e - 1] == '\t')) {
            e--;
        }
        if (e - s == tl && strncasecmp((char *) v->data + s, tok, tl) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Transfer-Encoding (RFC 9112 6.1) is a list whose empty elements are ignored (RFC 9110
 * 5.6.1: ",chunked", "chunked,"); the only coding we implement is chunked, once.  WD_OK for
 * exactly "chunked"; any other list that names chunked ("gzip, chunked", "chunked,
 * chunked", "chunked;x=1") is a smuggling vector -> 400; codings without chunked -> 501.
 */
static int
wd_http_te_chunked(const wd_str_t *v)
{
    unsigned nchunked = 0, nother = 0, mention = 0;
    size_t i = 0;

    while (i < v->len) {
        while (i < v->len && (v->data[i] == ' ' || v->data[i] == '\t' || v->data[i] == ',')) {
            i++;
        }
        size_t s = i;
        while (i < v->len && v->data[i] != ',') {
            i++;
        }
        size_t e = i;
        while (e > s && (v->data[e - 1] == ' ' || v->data[e - 1] == '\t')) {
            e--;
        }
        if (e == s) {
            continue;
        }
        if (e - s == 7 && strncasecmp((char *) v->data + s, "chunked", 7) == 0) {
            nchunked++;
            continue;
        }
        nother++;
        for (size_t k = s; k + 7 <= e; k++) {
            if (strncasecmp((char *) v->data + k, "chunked", 7) == 0) {
                mention = 1;
            }
        }
    }
    if (nchunked == 1 && nother == 0) {
        return WD_OK;
    }
    return nchunked || mention || nother == 0 ? 400 : 501;
}

/*
 * After the header was parsed: checks the header block, copies it into the request pool
 * and fills the request fields.  Returns WD_OK or an HTTP status (the connection is then
 * closed by the caller).
 */
int
wd_http_process_request_header(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    const u_char *b = hc->buf;
    size_t n = r->header_end;
    u_char *copy, *cr;
    unsigned k;
    int rc;

    /* bare CR / bare LF anywhere in the header block (RFC 9112 2.2: we reject): every LF
     * follows a CR and every CR precedes an LF (memchr from line to line, not a byte loop) */
    for (const u_char *p = b, *end = b + n; (p = memchr(p, '\n', end - p)) != NULL; p++) {
        if (p == b || p[-1] != '\r') {
            return 400;
        }
    }
    for (const u_char *p = b, *end = b + n; (p = memchr(p, '\r', end - p)) != NULL; p++) {
        if (p + 1 >= end || p[1] != '\n') {
            return 400;
        }
    }

    copy = wd_pnalloc(r->pool, n + 1);
    if (copy == NULL) {
        return 500;
    }
    memcpy(copy, b, n);
    copy[n] = '\0';
    r->request_length = n;

    /* method SP target SP "HTTP/x.y" (the spacing is checked below) */
    r->request_line.data = copy;
    r->request_line.len = r->url_off + r->url_len + sizeof(" HTTP/1.1") - 1;
    if (r->request_line.len > n) {
        cr = memchr(copy, '\r', n);
        r->request_line.len = cr ? (size_t) (cr - copy) : n;
    }
    if (r->minor_sent) {
        copy[r->request_line.len - 1] = r->minor_sent;  /* "HTTP/1.2" as sent, parsed as 1.1 */
    }

    r->method = r->parser.method;
    r->method_name.data = (u_char *) llhttp_method_name(r->parser.method);
    r->method_name.len = strlen((char *) r->method_name.data);
    r->http_major = r->parser.http_major;
    r->http_minor = r->parser.http_minor;
    r->http_version = r->http_major * 1000 + r->http_minor;
    if (r->http_major != 1 || r->http_minor > 1) {
        r->http_protocol.len = 0;
        return 505;
    }
    if (r->http_minor == 1) {
        wd_str_set(&r->http_protocol, "HTTP/1.1");
    } else {
        wd_str_set(&r->http_protocol, "HTTP/1.0");
    }

    r->unparsed_uri.data = copy + r->url_off;
    r->unparsed_uri.len = r->url_len;
    /* request-line = method SP request-target SP HTTP-version (RFC 9112 3): llhttp 8.1.0
     * accepts several spaces between method and target */
    if (r->url_len == 0 || r->url_off != r->method_name.len + 1) {
        return 400;
    }

    /* headers */
    r->headers_in.nelts = 0;
    r->headers_in.nalloc = 0;
    r->headers_in.elts = NULL;
    if (r->nheaders_raw) {
        r->headers_in.elts = wd_palloc(r->pool, r->nheaders_raw * sizeof(wd_http_header_t));
        if (r->headers_in.elts == NULL) {
            return 500;
        }
        r->headers_in.nalloc = r->nheaders_raw;
    }

    unsigned n_te = 0;
    for (k = 0; k < r->nheaders_raw; k++) {
        wd_http_raw_header_t *raw = &r->raw_headers[k];
        wd_http_header_t *h = &r->headers_in.elts[r->headers_in.nelts++];
        u_char *v;
        size_t vl;

        h->name.data = copy + raw->name_off;
        h->name.len = raw->name_len;
        if (!wd_http_is_token(h->name.data, h->name.len)) {
            return 400;
        }
        v = copy + raw->value_off;
        vl = raw->value_len;
        while (vl > 0 && (v[0] == ' ' || v[0] == '\t')) {
            v++;
            vl--;
        }
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
            vl--;
        }
        if (!wd_http_is_field_value(v, vl)) {
            return 400;
        }
        v[vl] = '\0';   /* past the value: OWS, CR or the colon of an empty value */
        h->value.data = v;
        h->value.len = vl;

        switch (h->name.len) {
        case 4:
            if (strncasecmp((char *) h->name.data, "host", 4) == 0) {
                if (r->h_host) {
                    return 400;         /* duplicate Host (RFC 9112 3.2) */
                }
                r->h_host = h;
            }
            break;
        case 6:
            if (strncasecmp((char *) h->name.data, "expect", 6) == 0) {
                r->h_expect = h;
            }
            break;
        case 7:
            if (strncasecmp((char *) h->name.data, "referer", 7) == 0) {
                r->h_referer = h;
            }
            break;
        case 10:
            if (strncasecmp((char *) h->name.data, "connection", 10) == 0) {
                r->h_connection = h;
            } else if (strncasecmp((char *) h->name.data, "user-agent", 10) == 0) {
                r->h_user_agent = h;
            }
            break;
        case 14:
            if (strncasecmp((char *) h->name.data, "content-length", 14) == 0) {
                if (r->h_content_length) {
                    return 400;
                }
                r->h_content_length = h;
            }
            break;
        case 17:
            if (strncasecmp((char *) h->name.data, "transfer-encoding", 17) == 0) {
                n_te++;
                r->h_transfer_encoding = h;
            }
            break;
        }
    }

    /* framing (RFC 9112 6.1, 6.3) */
    r->content_length_n = -1;
    if (r->h_transfer_encoding) {
        wd_str_t *te = &r->h_transfer_encoding->value;
        if (n_te > 1 || r->h_content_length || r->http_minor == 0) {
            return 400;
        }
        rc = wd_http_te_chunked(te);
        if (rc != WD_OK) {
            return rc;
        }
        r->chunked = 1;
        wd_http_chunked_init(&r->ck);
    } else if (r->h_content_length) {
        if (!(r->parser.flags & F_CONTENT_LENGTH)) {
            return 400;
        }
        r->content_length_n = (int64_t) r->parser.content_length;
        if (r->content_length_n < 0) {
            return 400;
        }
        r->body_left = (uint64_t) r->content_length_n;
    }

    /* request-target, Host */
    rc = wd_http_parse_target(r);
    if (rc != WD_OK) {
        return rc;
    }
    if (r->h_host) {
        if (r->host.data == NULL) {
            if (wd_http_request_host(r, r->h_host->value.data, r->h_host->value.len,
                                      &r->host) != WD_OK)
            {
                return 400;
            }
        }
    } else if (r->http_minor == 1) {
        return 400;                     /* HTTP/1.1 requires Host (RFC 9112 3.2) */
    }

    /* persistence (RFC 9112 9.3) */
    if (r->http_minor == 1) {
        r->keepalive = r->h_connection ? !wd_http_token_list_has(&r->h_connection->value, "close") : 1;
    } else {
        r->keepalive = r->h_connection
                       && wd_http_token_list_has(&r->h_connection->value, "keep-alive")
                       && !wd_http_token_list_has(&r->h_connection->value, "close");
    }

    if (r->h_expect && r->http_minor == 1
        && r->h_expect->value.len == 12
        && strncasecmp((char *) r->h_expect->value.data, "100-continue", 12) == 0)
    {
        r->expect_continue = 1;
    }

    if (r->chunked || r->content_length_n > 0) {
        r->body_state = WD_HTTP_BODY_PENDING;
    } else {
        r->body_state = WD_HTTP_BODY_NONE;
    }
    if (r->method == HTTP_HEAD) {
        r->header_only = 1;
    }
    return WD_OK;
}
