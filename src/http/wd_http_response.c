/*
 * wd_http_response.c -- building and writing responses: status, headers, body framing,
 * the server's own pages (errors, redirects).
 *
 * The header is serialized once, into one buffer from the request pool, and handed to the
 * socket together with the first body bytes (or the final chunk) in one vectored write.
 * Framing: a declared Content-Length is enforced (more bytes -> abort; fewer at finish ->
 * abort: the connection closes without completing the response); without one an HTTP/1.1
 * response is chunked and an HTTP/1.0 response ends by closing the connection.
 * Responses to HEAD, 1xx, 204 and 304 carry no body: writes are counted and dropped.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

int wd_http_is_token(const u_char *p, size_t len);
int wd_http_is_field_value(const u_char *p, size_t len);

const char *
wd_http_status_text(unsigned status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    }
    return "";
}

wd_http_header_t *
wd_http_find_header(wd_http_headers_t *h, const char *name, size_t len)
{
    for (unsigned i = 0; i < h->nelts; i++) {
        if (h->elts[i].name.len == len
            && strncasecmp((char *) h->elts[i].name.data, name, len) == 0)
        {
            return &h->elts[i];
        }
    }
    return NULL;
}

int
wd_http_headers_push(wd_pool_t *pool, wd_http_headers_t *h, wd_http_header_t **out)
{
    if (h->nelts == h->nalloc) {
        unsigned n = h->nalloc ? h->nalloc * 2 : 8;
        wd_http_header_t *a = wd_palloc(pool, n * sizeof(*a));
        if (a == NULL) {
            return WD_ERROR;
        }
        if (h->nelts) {
            memcpy(a, h->elts, h->nelts * sizeof(*a));
        }
        h->elts = a;
        h->nalloc = n;
    }
    *out = &h->elts[h->nelts++];
    return WD_OK;
}

void
wd_http_set_status(wd_http_request_t *r, unsigned status)
{
    if (!r->header_sent && status >= 100 && status <= 999) {
        r->status = status;
    }
}

static int
wd_http_hop_by_hop(const char *name, size_t len)
{
#define WD_HOP(s) { s, sizeof(s) - 1 }
    static const struct { const char *name; size_t len; } hop[] = {
        WD_HOP("connection"), WD_HOP("keep-alive"), WD_HOP("transfer-encoding"), WD_HOP("te"),
        WD_HOP("trailer"), WD_HOP("upgrade"), WD_HOP("proxy-connection"), WD_HOP("date"),
        WD_HOP("server")
    };
#undef WD_HOP
    /* lengths first: this runs for every response header a handler adds */
    for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++) {
        if (hop[i].len == len && strncasecmp(hop[i].name, name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

int
wd_http_add_header(wd_http_request_t *r, const char *name, size_t nlen,
                   const char *value, size_t vlen)
{
    wd_http_header_t *h;
    u_char *p;

    if (r->header_sent || r->aborted) {
        return WD_ERROR;
    }
    if (!wd_http_is_token((const u_char *) name, nlen)
        || !wd_http_is_field_value((const u_char *) value, vlen)
        || wd_http_hop_by_hop(name, nlen))
    {
        return WD_ERROR;
    }
    if (nlen == 14 && strncasecmp(name, "content-length", 14) == 0) {
        int64_t n = 0;
        if (vlen == 0 || vlen > 18) {
            return WD_ERROR;
        }
        for (size_t i = 0; i < vlen; i++) {
            if (value[i] < '0' || value[i] > '9') {
                return WD_ERROR;
            }
            n = n * 10 + (value[i] - '0');
        }
        r->content_length_out = n;
        return WD_OK;
    }
    p = wd_pnalloc(r->pool, nlen + vlen + 2);
    if (p == NULL) {
        return WD_ERROR;
    }
    memcpy(p, name, nlen);
    p[nlen] = '\0';
    memcpy(p + nlen + 1, value, vlen);
    p[nlen + 1 + vlen] = '\0';
    if (nlen == 12 && strncasecmp(name, "content-type", 12) == 0) {
        r->content_type.data = p + nlen + 1;
        r->content_type.len = vlen;
        return WD_OK;
    }
    if (nlen == 8 && strncasecmp(name, "location", 8) == 0) {
        r->location.data = p + nlen + 1;
        r->location.len = vlen;
        return WD_OK;
    }
    if (wd_http_headers_push(r->pool, &r->headers_out, &h) != WD_OK) {
        return WD_ERROR;
    }
    h->name.data = p;
    h->name.len = nlen;
    h->value.data = p + nlen + 1;
    h->value.len = vlen;
    return WD_OK;
}

int
wd_http_add_header_applies(unsigned status)
{
    switch (status) {
    case 200: case 201: case 204: case 206:
    case 301: case 302: case 303: case 304: case 307: case 308:
        return 1;
    }
    return 0;
}

/*
 * A handler's response to a request whose body is bad (the handler saw the error, or the
 * bytes already buffered are bad when its head would go out) is refused: nothing was
 * written -> WD_ERROR, and finalizing answers r->body_status; the head is out -> the
 * response is aborted as for a trap.  Returns 1 if refused.
 */
static int
wd_http_body_refused(wd_http_request_t *r)
{
    if (wd_http_body_precheck(r) == WD_OK) {
        return 0;
    }
    if (r->header_written) {
        wd_http_abort(r);
    }
    return 1;
}

static u_char *
wd_http_put(u_char *p, const void *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define wd_http_put_lit(p, lit) wd_http_put(p, lit, sizeof(lit) - 1)

int
wd_http_send_header(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    wd_http_core_loc_conf_t *clcf = hc->clcf ? hc->clcf : hc->default_clcf;
    wd_connection_t *c = hc->c;
    const char *reason;
    size_t len, rlen;
    u_char *p;
    unsigned i;
    wd_array_t *adds = NULL;
    wd_str_t *add_vals = NULL;
    char num[32];
    int numlen = 0;

    if (r->header_sent) {
        return WD_OK;
    }
    if (hc->closed || r->aborted) {
        return WD_ERROR;
    }
    if (r->status == 0) {
        r->status = 200;
    }
    r->filter_body = 0;
    if (wd_http_top_header_filter && wd_http_top_header_filter(r) != WD_OK) {
        return WD_ERROR;
    }
    r->header_sent = 1;
    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->header_only = 1;
        if (r->status != 304) {
            r->content_length_out = -1;
        }
    }
    if (r->method == HTTP_HEAD) {
        r->header_only = 1;
    }
    if (r->tunnel) {
        /* 101: what follows is the new protocol's, unframed; the connection ends with it */
        r->filter_body = 0;
        r->header_only = 0;
        r->content_length_out = -1;
        r->keepalive = 0;
    }

    /* Expect: 100-continue answered without reading the body (RFC 9110 10.1.1): a client
     * that has started sending it anyway gets it read and discarded (the connection goes
     * on); one that still waits for the 100 would never send it: close after this one. */
    if (r->expect_continue && !r->continue_sent && r->body_state == WD_HTTP_BODY_PENDING) {
        if (hc->pos < hc->last) {
            r->continue_sent = 1;
        } else {
            r->keepalive = 0;
        }
    }

    /* persistence */
    if (r->keepalive) {
        if (r->close_after || clcf->keepalive_timeout <= 0
            || c->requests + 1 >= clcf->keepalive_requests
            || c->worker->quitting || c->worker->terminating)
        {
            r->keepalive = 0;
        }
    }
    /* framing */
    r->chunked_out = 0;
    if (r->content_length_out < 0 && !r->header_only && !r->tunnel) {
        if (r->http_minor >= 1) {
            r->chunked_out = 1;
        } else {
            r->keepalive = 0;   /* HTTP/1.0: the body ends when the connection closes */
        }
    }
    if (!r->keepalive) {
        r->close_after = 1;
    }

    reason = wd_http_status_text(r->status);
    rlen = strlen(reason);
    if (r->content_length_out >= 0 && !(r->status < 200 || r->status == 204)) {
        /* decimal without printf: this runs once per response */
        uint64_t v = (uint64_t) r->content_length_out;
        char tmp[24];
        int k = 0;
        do {
            tmp[k++] = '0' + v % 10;
            v /= 10;
        } while (v);
        while (k) {
            num[numlen++] = tmp[--k];
        }
    }

    len = sizeof("HTTP/1.1 000 \r\n") - 1 + rlen
          + sizeof("Server: " WD_NAME "\r\n") - 1
          + sizeof("Date: \r\n") - 1 + wd_cached_http_time.len
          + sizeof("Connection: keep-alive\r\n") - 1
          + sizeof("\r\n") - 1;
    if (r->tunnel) {
        len += sizeof("Upgrade: \r\n") - 1 + r->upgrade.len;
    }
    if (r->content_type.len) {
        len += sizeof("Content-Type: \r\n") - 1 + r->content_type.len;
    }
    if (numlen) {
        len += sizeof("Content-Length: \r\n") - 1 + numlen;
    }
    if (r->chunked_out) {
        len += sizeof("Transfer-Encoding: chunked\r\n") - 1;
    }
    if (r->location.len) {
        len += sizeof("Location: \r\n") - 1 + r->location.len;
    }
    for (i = 0; i < r->headers_out.nelts; i++) {
        len += r->headers_out.elts[i].name.len + 2 + r->headers_out.elts[i].value.len + 2;
    }
    if (clcf->add_headers && clcf->add_headers->nelts) {
        adds = clcf->add_headers;
        wd_http_add_header_t *a = adds->elts;
        /* values with $variables are evaluated now; an empty value adds no header (nginx) */
        add_vals = wd_palloc(r->pool, adds->nelts * sizeof(wd_str_t));
        if (add_vals == NULL) {
            return WD_ERROR;
        }
        for (i = 0; i < adds->nelts; i++) {
            add_vals[i] = a[i].value;
            if (a[i].value_cv && wd_http_complex_value(r, a[i].value_cv, &add_vals[i]) != WD_OK) {
                return WD_ERROR;
            }
            len += a[i].name.len + 2 + add_vals[i].len + 2;
        }
    }

    p = wd_pnalloc(r->pool, len);
    if (p == NULL) {
        return WD_ERROR;
    }
    hc->hdr_buf = p;

    p = wd_http_put_lit(p, "HTTP/1.1 ");
    *p++ = '0' + (r->status / 100) % 10;
    *p++ = '0' + (r->status / 10) % 10;
    *p++ = '0' + r->status % 10;
    *p++ = ' ';
    p = wd_http_put(p, reason, rlen);
    p = wd_http_put_lit(p, "\r\nServer: " WD_NAME "\r\nDate: ");
    p = wd_http_put(p, wd_cached_http_time.data, wd_cached_http_time.len);
    p = wd_http_put_lit(p, "\r\n");
    if (r->content_type.len) {
        p = wd_http_put_lit(p, "Content-Type: ");
        p = wd_http_put(p, r->content_type.data, r->content_type.len);
        p = wd_http_put_lit(p, "\r\n");
    }
    if (numlen) {
        p = wd_http_put_lit(p, "Content-Length: ");
        p = wd_http_put(p, num, numlen);
        p = wd_http_put_lit(p, "\r\n");
    }
    if (r->chunked_out) {
        p = wd_http_put_lit(p, "Transfer-Encoding: chunked\r\n");
    }
    if (r->location.len) {
        p = wd_http_put_lit(p, "Location: ");
        p = wd_http_put(p, r->location.data, r->location.len);
        p = wd_http_put_lit(p, "\r\n");
    }
    for (i = 0; i < r->headers_out.nelts; i++) {
        wd_http_header_t *h = &r->headers_out.elts[i];
        p = wd_http_put(p, h->name.data, h->name.len);
        p = wd_http_put_lit(p, ": ");
        p = wd_http_put(p, h->value.data, h->value.len);
        p = wd_http_put_lit(p, "\r\n");
    }
    if (adds) {
        wd_http_add_header_t *a = adds->elts;
        for (i = 0; i < adds->nelts; i++) {
            if ((!a[i].always && !wd_http_add_header_applies(r->status))
                || add_vals[i].len == 0)
            {
                continue;
            }
            p = wd_http_put(p, a[i].name.data, a[i].name.len);
            p = wd_http_put_lit(p, ": ");
            p = wd_http_put(p, add_vals[i].data, add_vals[i].len);
            p = wd_http_put_lit(p, "\r\n");
        }
    }
    if (r->tunnel) {
        p = wd_http_put_lit(p, "Connection: upgrade\r\nUpgrade: ");
        p = wd_http_put(p, r->upgrade.data, r->upgrade.len);
        p = wd_http_put_lit(p, "\r\n");
    } else if (r->keepalive) {
        p = wd_http_put_lit(p, "Connection: keep-alive\r\n");
    } else {
        p = wd_http_put_lit(p, "Connection: close\r\n");
    }
    p = wd_http_put_lit(p, "\r\n");
    hc->hdr_len = p - hc->hdr_buf;
    r->header_len = hc->hdr_len;
    return WD_OK;
}

/* Hands header (if not yet written), chunk framing and data to the socket. */
static int
wd_http_output_body(wd_http_request_t *r, const void *data, size_t len, int last)
{
    wd_http_connection_t *hc = r->hc;
    uv_buf_t b[4];
    unsigned n = 0;
    char chunk[24];
    static const char crlf[] = "\r\n";
    static const char last_chunk[] = "0\r\n\r\n";
    static const char crlf_last_chunk[] = "\r\n0\r\n\r\n";
    size_t total = 0;

    if (!r->header_written) {
        b[n++] = uv_buf_init((char *) hc->hdr_buf, hc->hdr_len);
        r->header_written = 1;
    }
    if (len > 0 && !r->header_only) {
        if (r->chunked_out) {
            int cl = snprintf(chunk, sizeof(chunk), "%zx\r\n", len);
            b[n++] = uv_buf_init(chunk, cl);
            b[n++] = uv_buf_init((char *) data, len);
            if (last) {
                b[n++] = uv_buf_init((char *) crlf_last_chunk, sizeof(crlf_last_chunk) - 1);
                last = 0;
            } else {
                b[n++] = uv_buf_init((char *) crlf, 2);
            }
        } else {
            b[n++] = uv_buf_init((char *) data, len);
        }
    }
    if (last && r->chunked_out && !r->header_only) {
        b[n++] = uv_buf_init((char *) last_chunk, sizeof(last_chunk) - 1);
    }
    if (n == 0) {
        return WD_OK;
    }
    for (unsigned i = 0; i < n; i++) {
        total += b[i].len;
    }
    r->bytes_sent += total;
    return wd_http_output(hc, b, n);
}

/* ---- filters: modules (gzip) change the header and transform the body ----
 * Header filters run in wd_http_send_header before the header is serialized (they may
 * still add headers and change the length); one that wants the body sets r->filter_body,
 * then every body byte of the response goes through wd_http_top_body_filter and
 * reaches the socket through wd_http_body_filter_end. */
wd_http_header_filter_pt wd_http_top_header_filter;
wd_http_body_filter_pt   wd_http_top_body_filter;

static int wd_http_write_out(wd_http_request_t *r, const void *data, size_t len);
static int wd_http_finish_out(wd_http_request_t *r);
static int wd_http_write_last(wd_http_request_t *r, const void *data, size_t len);

int
wd_http_body_filter_end(wd_http_request_t *r, const u_char *data, size_t len, int last)
{
    int rc = WD_OK;

    if (last && len && !r->response_done && !r->hc->closed && !r->aborted
        && (r->content_length_out < 0 || r->header_only
            || r->body_bytes_sent + len == (uint64_t) r->content_length_out))
    {
        /* the last bytes and the end of the response (a filter's final output, e.g.
         * gzip's) leave with one write */
        return wd_http_write_last(r, data, len);
    }

    if (len) {
        rc = wd_http_write_out(r, data, len);
        if (rc == WD_ERROR) {
            return rc;
        }
    }
    if (last) {
        return wd_http_finish_out(r);
    }
    return rc;
}

int
wd_http_output_header(wd_http_request_t *r)
{
    if (!r->header_sent && wd_http_send_header(r) != WD_OK) {
        return WD_ERROR;
    }
    if (r->header_written) {
        return WD_OK;
    }
    return wd_http_output_body(r, NULL, 0, 0);
}

int
wd_http_write(wd_http_request_t *r, const void *data, size_t len)
{
    wd_http_connection_t *hc = r->hc;

    if (hc->closed || r->aborted || r->response_done) {
        return WD_ERROR;
    }
    if (r->body_state >= WD_HTTP_BODY_PENDING && wd_http_body_refused(r)) {
        return WD_ERROR;
    }
    if (!r->header_sent && wd_http_send_header(r) != WD_OK) {
        return WD_ERROR;
    }
    if (len == 0) {
        return WD_OK;
    }
    if (r->filter_body) {
        return wd_http_top_body_filter(r, data, len, 0);
    }
    return wd_http_write_out(r, data, len);
}

static int
wd_http_write_out(wd_http_request_t *r, const void *data, size_t len)
{
    wd_http_connection_t *hc = r->hc;

    if (r->content_length_out >= 0 && !r->header_only
        && r->body_bytes_sent + len > (uint64_t) r->content_length_out)
    {
        wd_log_error(WD_LOG_ERR, wd_http_log(hc), 0,
                     "response body longer than its Content-Length: aborted");
        wd_http_abort(r);
        return WD_ERROR;
    }
    if (!r->header_only) {
        r->body_bytes_sent += len;
    }
    if (wd_http_output_body(r, data, len, 0) != WD_OK) {
        return WD_ERROR;
    }
    if (hc->out[0].len + hc->out[1].len > WD_HTTP_OUT_HIGH) {
        r->write_wait = 1;
        return WD_AGAIN;
    }
    return WD_OK;
}

/* Writes the last bytes of a response together with its completion. */
static int
wd_http_write_last(wd_http_request_t *r, const void *data, size_t len)
{
    wd_http_connection_t *hc = r->hc;

    if (!r->header_only) {
        r->body_bytes_sent += len;
    }
    r->response_done = 1;
    if (wd_http_output_body(r, data, len, 1) != WD_OK) {
        return WD_ERROR;
    }
    return hc->closed ? WD_ERROR : WD_OK;
}

int
wd_http_finish(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;

    if (r->response_done) {
        return WD_OK;
    }
    if (hc->closed || r->aborted) {
        return WD_ERROR;
    }
    if (r->body_state >= WD_HTTP_BODY_PENDING && wd_http_body_refused(r)) {
        return WD_ERROR;
    }
    if (!r->header_sent) {
        if (r->content_length_out < 0) {
            r->content_length_out = 0;
        }
        if (wd_http_send_header(r) != WD_OK) {
            return WD_ERROR;
        }
    }
    if (r->filter_body) {
        return wd_http_top_body_filter(r, NULL, 0, 1);
    }
    return wd_http_finish_out(r);
}

static int
wd_http_finish_out(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;

    if (r->response_done) {
        return WD_OK;
    }
    if (hc->closed || r->aborted) {
        return WD_ERROR;
    }
    if (r->content_length_out >= 0 && !r->header_only
        && r->body_bytes_sent != (uint64_t) r->content_length_out)
    {
        wd_log_error(WD_LOG_ERR, wd_http_log(hc), 0,
                     "response body shorter than its Content-Length: aborted");
        wd_http_abort(r);
        return WD_ERROR;
    }
    return wd_http_write_last(r, NULL, 0);
}

int
wd_http_send_simple(wd_http_request_t *r, unsigned status, const char *ctype,
                    const u_char *body, size_t len)
{
    if (r->header_sent) {
        return WD_ERROR;
    }
    r->status = status;
    if (ctype && !r->content_type.len) {
        r->content_type.data = (u_char *) ctype;
        r->content_type.len = strlen(ctype);
    }
    r->content_length_out = len;
    if (wd_http_send_header(r) != WD_OK) {
        return WD_ERROR;
    }
    if (r->header_only) {
        len = 0;
    }
    if (r->filter_body) {
        return wd_http_top_body_filter(r, body, len, 1);
    }
    return wd_http_write_last(r, body, len);
}

int
wd_http_special_response(wd_http_request_t *r, unsigned status)
{
    const char *reason = wd_http_status_text(status);
    u_char *body;
    int n;

    if (status < 200 || status == 204 || status == 304) {
        return wd_http_send_simple(r, status, NULL, NULL, 0);
    }
    if (status < 300) {
        return wd_http_send_simple(r, status, "text/plain", NULL, 0);
    }
    body = wd_pnalloc(r->pool, 256);
    if (body == NULL) {
        return WD_ERROR;
    }
    n = snprintf((char *) body, 256,
                 "<html>\r\n<head><title>%u %s</title></head>\r\n<body>\r\n"
                 "<center><h1>%u %s</h1></center>\r\n<hr><center>" WD_NAME "</center>\r\n"
                 "</body>\r\n</html>\r\n", status, reason, status, reason);
    r->content_type.len = 0;
    return wd_http_send_simple(r, status, "text/html", body, n);
}

/* ---- absolute URLs for redirects (nginx's absolute_redirect on) ---- */

static int
wd_http_redirect_escape(u_char c)
{
    return c <= ' ' || c >= 0x7f || c == '"' || c == '%' || c == '?' || c == '#'
           || c == '\'' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`'
           || c == '{' || c == '|' || c == '}';
}

int
wd_http_redirect_url(wd_http_request_t *r, const u_char *uri, size_t len, int flags,
                     wd_str_t *url)
{
    int add_slash = flags & WD_HTTP_URL_SLASH, raw = flags & WD_HTTP_URL_RAW;
    wd_http_core_srv_conf_t *srv = r->srv_conf;
    const wd_http_addr_conf_t *ac = r->hc->addr_conf;
    int https = r->connection->ssl != NULL;
    unsigned port = 0;
    wd_str_t host = r->host;
    size_t n = 0, i;
    u_char *p;

    if (ac && ac->sockaddr.ss_family == AF_INET) {
        port = ntohs(((const struct sockaddr_in *) &ac->sockaddr)->sin_port);
    } else if (ac && ac->sockaddr.ss_family == AF_INET6) {
        port = ntohs(((const struct sockaddr_in6 *) &ac->sockaddr)->sin6_port);
    }
    if (host.len == 0) {
        host = srv->server_name;
    }
    for (i = 0; i < len; i++) {
        n += !raw && wd_http_redirect_escape(uri[i]) ? 3 : 1;
    }
    p = wd_pnalloc(r->pool, sizeof("https://:65535/?") + host.len + n + r->args.len + 2);
    if (p == NULL) {
        return WD_ERROR;
    }
    url->data = p;
    p += sprintf((char *) p, "%s://%.*s", https ? "https" : "http", wd_str_pf(&host));
    if (port && port != (https ? 443u : 80u)) {
        p += sprintf((char *) p, ":%u", port);
    }
    for (i = 0; i < len; i++) {
        if (!raw && wd_http_redirect_escape(uri[i])) {
            p += sprintf((char *) p, "%%%02X", uri[i]);
        } else {
            *p++ = uri[i];
        }
    }
    if (add_slash) {
        *p++ = '/';
    }
    if (r->args.len && !raw) {
        *p++ = '?';
        memcpy(p, r->args.data, r->args.len);
        p += r->args.len;
    }
    url->len = p - url->data;
    return WD_OK;
}
