/*
 * wd_http_parse.c -- llhttp glue: parse only, no I/O.
 *
 * The request header is parsed from the connection buffer (the request starts at offset
 * 0); callbacks record OFFSETS, not pointers, because the buffer may grow (realloc) while a
 * large header arrives.  llhttp pauses at on_headers_complete; the header block is then
 * checked, copied into the request pool and turned into wd_http_header_t entries, and the
 * buffer is free again for body bytes and the next pipelined request.  The body is parsed
 * on demand (wd_http_parse_body) straight into the consumer's buffer; at most dst_len input
 * bytes are fed per call, so the decoded output always fits (framing only shrinks data).
 *
 * llhttp runs in strict mode: we never call its lenient setters.  llhttp 8.1.0 (Debian)
 * still accepts some framing attacks, so the glue adds its own checks (each was observed):
 *   - "Transfer-Encoding: gzip, chunked" (anything but exactly "chunked" that mentions
 *     chunked) -> 400; a TE without chunked ("gzip") -> 501; TE in HTTP/1.0 -> 400;
 *     more than one TE header -> 400
 *   - any two bytes after chunk data are taken as CRLF by llhttp -> we verify them
 *   - obs-folded header lines (a value continued on the next line) -> 400
 *   - bare LF line endings in the request line / header block -> 400
 *   - spaces or other non-token bytes in header names ("Ho st", "Host :") and an empty
 *     name -> 400; CTL bytes in values -> 400
 *   - HTAB or other CTLs in the request-target -> 400
 *   - versions other than HTTP/1.0 and HTTP/1.1 -> 505 ("HTTP/2.0", "HTTP/0.9" are parsed
 *     by llhttp; "HTTP/1.2" is its HPE_INVALID_VERSION)
 * Duplicate Content-Length headers, even identical ones, are rejected by llhttp (400) and
 * we keep that: RFC 9112 6.3 allows either, refusing is the safer choice.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_http_request.h"
#include "wd_http_conf.h"

static int wd_http_on_url(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_url_complete(llhttp_t *p);
static int wd_http_on_header_field(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_header_value(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_header_value_complete(llhttp_t *p);
static int wd_http_on_headers_complete(llhttp_t *p);
static int wd_http_on_body(llhttp_t *p, const char *at, size_t len);
static int wd_http_on_chunk_header(llhttp_t *p);
static int wd_http_on_message_complete(llhttp_t *p);

static llhttp_settings_t wd_http_parser_settings = {
    .on_url = wd_http_on_url,
    .on_url_complete = wd_http_on_url_complete,
    .on_header_field = wd_http_on_header_field,
    .on_header_value = wd_http_on_header_value,
    .on_header_value_complete = wd_http_on_header_value_complete,
    .on_headers_complete = wd_http_on_headers_complete,
    .on_body = wd_http_on_body,
    .on_chunk_header = wd_http_on_chunk_header,
    .on_message_complete = wd_http_on_message_complete,
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
    r->parser.data = r;
    r->url_off = r->url_len = 0;
    r->hdr_name_off = r->hdr_name_len = 0;
    r->hdr_value_off = r->hdr_value_len = 0;
    r->hdr_in_value = 0;
    r->nheaders_raw = 0;
    r->header_end = 0;
    r->parse_status = 0;
    r->chunk_left = 0;
    r->crlf_need = 0;
    r->body_dst = NULL;
    r->in_body = 0;
    r->body_complete = 0;
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

    if (r->in_body) {
        return 0;   /* trailer fields of a chunked body: ignored */
    }
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

    if (r->in_body) {
        return 0;
    }
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

    if (r->in_body) {
        return 0;
    }
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
    r->in_body = 1;
    return HPE_PAUSED;
}

/* Checks the CRLF that must follow chunk data: llhttp 8.1.0 skips any two bytes there. */
static int
wd_http_check_crlf(wd_http_request_t *r, const u_char *p, const u_char *end)
{
    while (r->crlf_need > 0 && p < end) {
        u_char want = r->crlf_need == 2 ? '\r' : '\n';
        if (*p != want) {
            return -1;
        }
        p++;
        r->crlf_need--;
    }
    return 0;
}

static int
wd_http_on_body(llhttp_t *p, const char *at, size_t len)
{
    wd_http_request_t *r = wd_http_parser_request(p);

    if (r->body_dst) {
        memcpy(r->body_dst + r->body_dst_pos, at, len);
        r->body_dst_pos += len;
    }
    r->body_received += len;
    if (r->chunked) {
        r->chunk_left -= len;
        if (r->chunk_left == 0) {
            r->crlf_need = 2;
            if (wd_http_check_crlf(r, (const u_char *) at + len, r->feed_end) != 0) {
                return wd_http_parse_fail(r, 400, "bad chunk data end");
            }
        }
    }
    return 0;
}

static int
wd_http_on_chunk_header(llhttp_t *p)
{
    wd_http_request_t *r = wd_http_parser_request(p);
    int64_t max = r->hc->max_body;

    r->chunk_left = p->content_length;
    if (max > 0 && (p->content_length > (uint64_t) max
                    || r->body_received + p->content_length > (uint64_t) max))
    {
        return wd_http_parse_fail(r, 413, "chunked body too large");
    }
    return 0;
}

static int
wd_http_on_message_complete(llhttp_t *p)
{
    wd_http_request_t *r = wd_http_parser_request(p);
    r->body_complete = 1;
    return HPE_PAUSED;
}

/*
 * Parses the header bytes in hc->buf[hc->pos, hc->last).  Returns WD_AGAIN (need more),
 * WD_OK (header complete; hc->pos is just past it) or an HTTP status for the error.
 */
int
wd_http_parse_header(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    const char *start = (const char *) hc->buf + hc->pos;
    size_t len = hc->last - hc->pos;
    llhttp_errno_t err;

    r->feed_end = hc->buf + hc->last;
    err = llhttp_execute(&r->parser, start, len);
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
        if (why && strcmp(why, "Invalid HTTP version") == 0) {
            return 505;
        }
        return 400;
    }

    case HPE_INVALID_METHOD:
        /* CONNECT/PRI etc. are known methods; this is garbage */
        return 400;

    case HPE_INVALID_TRANSFER_ENCODING:
        return 400;

    default:
        return 400;
    }
}

/*
 * Parses body bytes from hc->buf[hc->pos, hc->last) into dst (NULL: discard), at most
 * dst_len input bytes.  Returns WD_DONE (body complete), WD_AGAIN (all given input
 * consumed, body not complete) or an HTTP status (400, 413) for a bad body.
 */
int
wd_http_parse_body(wd_http_request_t *r, u_char *dst, size_t dst_len, size_t *produced)
{
    wd_http_connection_t *hc = r->hc;
    size_t len = hc->last - hc->pos;
    llhttp_errno_t err;
    const u_char *start = hc->buf + hc->pos;

    *produced = 0;
    if (dst && len > dst_len) {
        len = dst_len;
    }
    if (len == 0) {
        return WD_AGAIN;
    }
    if (r->crlf_need > 0) {
        if (wd_http_check_crlf(r, start, start + len) != 0) {
            return 400;
        }
    }
    r->body_dst = dst;
    r->body_dst_pos = 0;
    r->feed_end = start + len;

    err = llhttp_execute(&r->parser, (const char *) start, len);
    *produced = r->body_dst_pos;
    r->body_dst = NULL;
    if (err != HPE_OK && err != HPE_PAUSED && r->parse_status) {
        return r->parse_status;
    }

    switch (err) {
    case HPE_OK:
        hc->pos += len;
        return WD_AGAIN;
    case HPE_PAUSED:
        hc->pos = (const u_char *) llhttp_get_error_pos(&r->parser) - hc->buf;
        if (r->body_complete) {
            return WD_DONE;
        }
        llhttp_resume(&r->parser);
        return WD_AGAIN;
    case HPE_USER:
        return r->parse_status ? r->parse_status : 400;
    default:
        return 400;
    }
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
 * After the header was parsed: checks the header block, copies it into the request pool
 * and fills the request fields.  Returns WD_OK or an HTTP status (the connection is then
 * closed by the caller).
 */
int
wd_http_process_request_header(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    const u_char *b = hc->buf;
    size_t n = r->header_end, i;
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
        if (te->len == 7 && strncasecmp((char *) te->data, "chunked", 7) == 0) {
            r->chunked = 1;
        } else {
            /* any other coding: "gzip, chunked" is a smuggling vector -> 400; a coding we
             * do not implement without chunked -> 501 */
            for (i = 0; i + 7 <= te->len; i++) {
                if (strncasecmp((char *) te->data + i, "chunked", 7) == 0) {
                    return 400;
                }
            }
            return 501;
        }
    } else if (r->h_content_length) {
        if (!(r->parser.flags & F_CONTENT_LENGTH)) {
            return 400;
        }
        r->content_length_n = (int64_t) r->parser.content_length;
        if (r->content_length_n < 0) {
            return 400;
        }
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
