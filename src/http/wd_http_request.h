/*
 * wd_http_request.h -- the HTTP request object and the API content handlers use.
 *
 * One wd_http_connection_t per client connection owns a read buffer, an output queue and
 * ONE wd_http_request_t that is reused for every request of a keep-alive connection (its
 * pool is reset, not freed).  Requests on a connection are strictly sequential: the next
 * pipelined request is parsed only after the current response was completely written;
 * bytes that arrived early wait in the connection buffer.
 *
 * Lifecycle (wd_http_request.c): read + parse headers (wd_http_parse.c, llhttp in strict
 * mode plus our own framing checks) -> find server by Host -> normalize URI -> find
 * location -> content phase (`return` of the location, else its `handler`, else 404) ->
 * finalize (discard an unread body, log, keep-alive or close).
 *
 * ---- The content handler contract ----
 * A handler `int handler(wd_http_request_t *r)` (wd_http_handler_pt in wd_http_conf.h)
 * returns:
 *   WD_OK        the response is complete or will be completed now: the server calls
 *                wd_http_finish(r) if the handler did not (sending the header first if needed).
 *   WD_DONE      the handler continues asynchronously and calls
 *                wd_http_finalize_request(r, rc) later (rc: WD_OK, WD_ERROR or a status).
 *   100..599     send the server's own response for that status (if no header was sent).
 *   WD_DECLINED  404.
 *   WD_ERROR     500 if nothing was sent yet, else the connection is closed (truncated).
 * If the client goes away while a request is in progress (connection reset, EOF while an
 * asynchronous handler has not finished its response, send_timeout, a failed write,
 * worker shutdown timeout), the server calls r->cleanup(r) (when set) and then releases
 * the request: after the cleanup returns the handler must not touch r.  A handler that
 * calls wd_http_abort(r) itself should clear r->cleanup first if it does not want it run.
 * Timers and other uv handles a handler creates are its own: close them in the cleanup.
 *
 * ---- Request body (pull API with back-pressure) ----
 *   ssize_t n = wd_http_body_read(r, buf, len);
 *     > 0          bytes of decoded body (Content-Length or chunked) copied into buf
 *     0            end of body (also for requests without a body)
 *     WD_AGAIN     no data now; r->read_event_handler(r) is called when more arrived,
 *                  the body ended, or an error happened (then call body_read again)
 *     WD_ERROR     the body is bad or too big or timed out; r->body_status holds the
 *                  status the server will answer with (400, 408, 413) when the handler
 *                  returns that status / calls wd_http_finalize_request(r, r->body_status)
 *                  (the connection is then closed).
 *   The first call sends "HTTP/1.1 100 Continue" when the client asked for it.  The socket
 *   is read only as far as the connection buffer has room: a slow consumer stops the
 *   client (back-pressure).  client_max_body_size is checked against Content-Length before
 *   the handler runs (413) and against the running total of a chunked body.
 *   A handler that never reads the body is fine: the server discards the rest after the
 *   response (within client_body_timeout), so the next pipelined request still parses.
 *   wd_http_read_body(r, done) is the convenience: read the whole body into r->body
 *   (pool memory), then done(r) is called (r->body_status != 0 on error).  done() may run
 *   before wd_http_read_body() returns (the body was already buffered); the handler then
 *   usually returns WD_DONE and finalizes from done().
 *
 * ---- Response ----
 *   wd_http_set_status(r, 200);
 *   wd_http_add_header(r, name, nlen, value, vlen);   WD_OK, or WD_ERROR for an invalid
 *       name (not a token), a value with CR/LF/NUL/CTL, a hop-by-hop header (Connection,
 *       Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Proxy-Connection) or a header
 *       after the header was sent.  "Content-Length" sets the length (digits only);
 *       "Content-Type" replaces the default type; "Date" and "Server" are rejected (the
 *       server sets them).
 *   wd_http_send_header(r);   serializes status line + headers into one buffer; they are
 *       written together with the first body bytes (one vectored write).
 *   wd_http_write(r, data, len);  WD_OK: accepted (copied if the socket could not take it
 *       at once); WD_AGAIN: accepted, but more than the high-water mark is now queued: wait
 *       for r->write_event_handler(r) before writing more; WD_ERROR: the connection is gone
 *       or the body exceeds the declared Content-Length (the response is aborted).
 *       Without Content-Length an HTTP/1.1 response is sent chunked; for HTTP/1.0 the
 *       body is delimited by closing the connection.
 *   wd_http_finish(r);  completes the response (final chunk); if a Content-Length was set
 *       and fewer bytes were written, the connection is closed without completing (WD_ERROR).
 *   wd_http_abort(r);   closes the connection without completing the response.
 *   For HEAD (and 1xx/204/304) the header goes out and body writes are accepted and dropped.
 *
 * ---- Variables ----
 *   wd_http_variables.c keeps a registry of named getters ($status, $request_time, ...,
 *   prefixes $http_NAME, $sent_http_NAME, $arg_NAME); modules add their own with
 *   wd_http_add_variable() before the configuration is parsed (or lazily at first use);
 *   the access log compiles formats against it.
 */
#ifndef WD_HTTP_REQUEST_H
#define WD_HTTP_REQUEST_H

#include <uv.h>
#include <llhttp.h>

#include "wd_core.h"
#include "wd_log.h"
#include "wd_event.h"
#include "wd_http_chunked.h"

typedef struct wd_http_request_s    wd_http_request_t;
typedef struct wd_http_connection_s wd_http_connection_t;

#ifndef WD_HTTP_HANDLER_PT_DEFINED
#define WD_HTTP_HANDLER_PT_DEFINED
typedef int (*wd_http_handler_pt)(struct wd_http_request_s *r);
#endif
typedef void (*wd_http_event_handler_pt)(wd_http_request_t *r);
typedef void (*wd_http_cleanup_pt)(wd_http_request_t *r);

typedef struct {
    wd_str_t    name;
    wd_str_t    value;
} wd_http_header_t;

typedef struct {
    wd_http_header_t  *elts;
    unsigned           nelts;
    unsigned           nalloc;
} wd_http_headers_t;

/* body reading states */
enum {
    WD_HTTP_BODY_NONE = 0,      /* no body in the request */
    WD_HTTP_BODY_PENDING,       /* body bytes follow */
    WD_HTTP_BODY_DONE,          /* completely parsed */
    WD_HTTP_BODY_ERROR          /* bad/too big/timed out: r->body_status */
};

/* Per-request phases (what the connection timer means) */
enum {
    WD_HTTP_PHASE_IDLE = 0,     /* keep-alive, waiting for the first byte */
    WD_HTTP_PHASE_HEADER,       /* reading the request header */
    WD_HTTP_PHASE_HANDLER,      /* content handler running / response being written */
    WD_HTTP_PHASE_DISCARD,      /* response done, discarding an unread body */
    WD_HTTP_PHASE_LINGER        /* closing after an error: draining briefly */
};

struct wd_http_request_s {
    wd_http_connection_t   *hc;
    wd_connection_t        *connection;
    wd_pool_t              *pool;         /* reset after each request */

    /* ---- request line ---- */
    unsigned                method;       /* llhttp_method_t (HTTP_GET, ...) */
    wd_str_t                method_name;
    wd_str_t                request_line; /* "GET /x HTTP/1.1" */
    wd_str_t                unparsed_uri; /* request-target as sent */
    wd_str_t                uri;          /* decoded, normalized path ($uri) */
    wd_str_t                args;         /* query string without '?' ($args) */
    wd_str_t                http_protocol;/* "HTTP/1.1" */
    unsigned                http_major, http_minor;
    unsigned                http_version; /* major * 1000 + minor */

    /* ---- request headers (pointers stay valid for the request's lifetime) ---- */
    wd_http_headers_t       headers_in;
    wd_http_header_t       *h_host, *h_content_length, *h_transfer_encoding,
                           *h_connection, *h_expect, *h_user_agent, *h_referer;
    wd_str_t                host;         /* lowercased, without port ($host) */
    int64_t                 content_length_n;  /* -1: none */

    /* ---- configuration chosen for this request ---- */
    void                   *srv_conf;     /* wd_http_core_srv_conf_t * */
    void                   *loc_conf;     /* wd_http_core_loc_conf_t * */

    /* ---- response ---- */
    unsigned                status;
    wd_http_headers_t       headers_out;  /* added by the handler / add_header */
    int64_t                 content_length_out; /* -1: unknown */
    wd_str_t                content_type;
    wd_str_t                location;     /* for redirects */
    uint64_t                body_bytes_sent;  /* $body_bytes_sent (body only) */
    uint64_t                bytes_sent;       /* $bytes_sent (header + body + framing) */
    uint64_t                request_length;   /* $request_length: header + body bytes read */
    size_t                  header_len;

    /* ---- body ---- */
    int                     body_state;   /* WD_HTTP_BODY_* */
    unsigned                body_status;  /* error status for body problems */
    uint64_t                body_received;/* decoded body bytes */
    wd_str_t                body;         /* wd_http_read_body() result */
    size_t                  body_received_cap;
    wd_http_event_handler_pt body_done;

    /* ---- handler hooks ---- */
    wd_http_event_handler_pt read_event_handler;   /* body data available */
    wd_http_event_handler_pt write_event_handler;  /* output drained below low-water */
    wd_http_cleanup_pt      cleanup;      /* client went away: release handler state */
    void                   *ctx;          /* the content handler's own state */
    void                  **module_ctx;   /* per-module state, indexed by ctx_index */

    /* ---- timing ---- */
    wd_msec_t               start_msec;   /* wall clock ms when the request started */
    /* ---- set by a Wasm handler ($wasm_fuel, $wasm_instance_wait) ---- */
    uint64_t                wasm_fuel;        /* fuel used by the handler */
    uint64_t                wasm_wait_ns;     /* waited for a pooled instance */
    uint32_t                wasm_outbound;    /* outgoing requests started ($wasm_outbound) */
    uint64_t                wasm_outbound_ms; /* ... their summed durations */
    unsigned                wasm_ran:1;       /* wasm_fuel is set */
    unsigned                wasm_pooled:1;    /* wasm_wait_ns is set */

    /* ---- flags ---- */
    unsigned                chunked:1;          /* request body chunked */
    unsigned                expect_continue:1;  /* "Expect: 100-continue" */
    unsigned                continue_sent:1;
    unsigned                keepalive:1;        /* connection may be reused */
    unsigned                header_only:1;      /* HEAD, 204, 304: no response body */
    unsigned                header_sent:1;      /* wd_http_send_header() called */
    unsigned                header_written:1;   /* header bytes handed to the socket */
    unsigned                chunked_out:1;      /* response body is chunked */
    unsigned                response_done:1;    /* wd_http_finish() done */
    unsigned                finalized:1;        /* handler finished (rc seen) */
    unsigned                async:1;            /* handler returned WD_DONE */
    unsigned                write_wait:1;       /* WD_AGAIN returned by wd_http_write */
    unsigned                in_handler:1;       /* content handler on the C stack */
    unsigned                aborted:1;
    unsigned                close_after:1;      /* close the connection after the response */
    unsigned                body_reading:1;     /* handler started reading the body */
    unsigned                logged:1;
    unsigned                lingering:1;
    unsigned                filter_body:1;      /* a header filter routes the body through
                                                   wd_http_top_body_filter */
    unsigned                internal:1;         /* internally redirected (try_files, index) */
    unsigned                uri_changes:4;      /* internal redirects so far (at most 10) */
    unsigned                limit_req_status:3; /* $limit_req_status (modules/limit) */
    unsigned                limit_conn_status:2;/* $limit_conn_status */
    unsigned                tunnel:1;           /* 101 sent: raw bytes both ways */
    wd_str_t                upgrade;            /* the 101's Upgrade value */

    /* ---- parser state (wd_http_parse.c) ---- */
    llhttp_t                parser;
    size_t                  url_off, url_len;
    size_t                  hdr_name_off, hdr_name_len, hdr_value_off, hdr_value_len;
    int                     hdr_in_value;       /* last callback was a value */
    unsigned                nheaders_raw;
    struct wd_http_raw_header_s *raw_headers;   /* offsets into the connection buffer */
    unsigned                raw_nalloc;
    size_t                  header_end;         /* offset just past the header block */
    unsigned                parse_status;       /* status of a parse error */
    uint64_t                body_left;          /* Content-Length bytes still to come */
    wd_http_chunked_t       ck;                 /* chunked framing state (wd_http_chunked.c) */
    const char             *body_error;         /* why the body is bad (static text) */
    u_char                  minor_sent;         /* "HTTP/1.x" digit sent when x > 1, else 0 */
    unsigned                url_done:1;
};

typedef struct wd_http_raw_header_s {
    size_t  name_off, name_len, value_off, value_len;
} wd_http_raw_header_t;

/* ---- connection buffers / output queue ---- */
typedef struct {
    u_char  *data;
    size_t   len, size;
} wd_http_buf_t;

struct wd_http_connection_s {
    /* Fields every request touches come first, packed in a few cache lines: with
     * 1000 keep-alive connections each connection's state is cold when its next request
     * arrives, and every distinct line touched is a cache miss. */
    wd_connection_t    *c;
    u_char             *buf;          /* read buffer */
    size_t              size, pos, last;
    unsigned            phase;        /* WD_HTTP_PHASE_* */
    unsigned            running;      /* wd_http_run() depth */
    unsigned            next_pending:1; /* request done inside wd_http_run(): start next */
    unsigned            shutdown:1;   /* uv_shutdown issued (lingering close) */
    unsigned            writing:1;    /* uv_write in flight */
    unsigned            reading:1;    /* uv_read_start active */
    unsigned            eof:1;        /* peer closed its side */
    unsigned            closed:1;
    unsigned            in_request:1; /* a request is being processed */
    int                 fill;
    wd_http_buf_t       out[2];       /* [fill] queued output, [1-fill] being written */
    void               *default_clcf; /* default server's loc conf (header phase limits) */
    void               *clcf;         /* loc conf in effect for timeouts */
    u_char             *hdr_buf;      /* serialized response header (request pool) */
    size_t              hdr_len;
    wd_msec_t           header_start; /* when the current request's first byte arrived */
    uint64_t            deadline;     /* loop ms when the current timeout expires; 0: none */
    uint64_t            timer_due;    /* loop ms the uv timer is armed for; 0: not armed */
    size_t              max_header;   /* number * size (whole header) */
    int64_t             max_body;     /* client_max_body_size of the location (0: none) */
    wd_http_request_t  *r;            /* from the worker's cache while a request runs;
                                         NULL while idle (see wd_http_request.c) */
    /* rarely touched */
    uv_write_t          wreq;
    uv_buf_t            wbuf;
    uv_shutdown_t       shutdown_req;
    const void         *addr_conf;    /* wd_http_addr_conf_t * of the listening socket */
    size_t              large_header; /* large_client_header_buffers size (one line) */
    wd_log_t            log;          /* error log with this connection's context */
};

/* ---- request body ---- */
ssize_t wd_http_body_read(wd_http_request_t *r, void *buf, size_t len);
int     wd_http_read_body(wd_http_request_t *r, wd_http_event_handler_pt done);

/* ---- response ---- */
void    wd_http_set_status(wd_http_request_t *r, unsigned status);
int     wd_http_add_header(wd_http_request_t *r, const char *name, size_t nlen,
                           const char *value, size_t vlen);
int     wd_http_send_header(wd_http_request_t *r);
int     wd_http_write(wd_http_request_t *r, const void *data, size_t len);
int     wd_http_finish(wd_http_request_t *r);
/* Queues the serialized header now (for a body the caller sends itself, e.g. sendfile
 * once the connection's output queue is empty). WD_OK or WD_ERROR. */
int     wd_http_output_header(wd_http_request_t *r);
void    wd_http_abort(wd_http_request_t *r);
/* Ends a request whose handler returned WD_DONE (rc as a handler's return value). */
void    wd_http_finalize_request(wd_http_request_t *r, int rc);
/* Sends a complete simple response (used by `return` and error pages). */
int     wd_http_send_simple(wd_http_request_t *r, unsigned status, const char *ctype,
                            const u_char *body, size_t len);
/* Sends the server's own page for status (error pages, redirects with r->location). */
int     wd_http_special_response(wd_http_request_t *r, unsigned status);
const char *wd_http_status_text(unsigned status);
/* The absolute URL "scheme://host[:port]" + uri (escaped) [+ "/"] [+ "?args"] for a redirect,
 * as nginx builds it with absolute_redirect on (host: Host, else server_name).
 * flags: WD_HTTP_URL_SLASH adds the "/"; WD_HTTP_URL_RAW: uri as it is, no args (a
 * relative Location made absolute, as nginx's header filter does). */
#define WD_HTTP_URL_SLASH 1
#define WD_HTTP_URL_RAW   2
int     wd_http_redirect_url(wd_http_request_t *r, const u_char *uri, size_t len, int flags,
                             wd_str_t *url);

/* ---- tunnel (a 101 Switching Protocols response, e.g. a proxied WebSocket) ----
 * wd_http_tunnel_start(r, upgrade, len) sends "101 Switching Protocols" with
 * "Connection: upgrade" and "Upgrade: <upgrade>" plus the headers added before (the
 * request must be HTTP/1.1 with no unread body). From then on the connection carries raw
 * bytes: wd_http_write sends them unframed (WD_AGAIN / write_event_handler as for a
 * body), wd_http_tunnel_read reads what the client sends -- > 0 bytes, 0 the client
 * closed its side, WD_AGAIN (r->read_event_handler(r) is called when bytes or the end
 * arrive; the socket is read only while the connection buffer has room), WD_ERROR.
 * wd_http_finalize_request(r, WD_OK) flushes what is queued and closes the connection;
 * the client's send_timeout applies to writes, no read timeout (the handler has its own). */
int     wd_http_tunnel_start(wd_http_request_t *r, const char *upgrade, size_t len);
ssize_t wd_http_tunnel_read(wd_http_request_t *r, void *buf, size_t len);

/* ---- the content phase ----
 * wd_http_run_location(r) runs the location in r->loc_conf: its `return`, else the
 * precontent hook (try_files; WD_DECLINED: go on), else its handler, else the default
 * content handler (static files), else 404.  Returns what a handler returns.
 * wd_http_internal_redirect() / wd_http_named_location() select another location for the
 * same request (nginx's internal redirect; at most 10 per request, then 500) and run it. */
int     wd_http_run_location(wd_http_request_t *r);
int     wd_http_internal_redirect(wd_http_request_t *r, const wd_str_t *uri,
                                  const wd_str_t *args);
int     wd_http_named_location(wd_http_request_t *r, const wd_str_t *name);
extern wd_http_handler_pt wd_http_precontent_handler;
/* The preaccess phase (limit_req, limit_conn): after the location's `return`, before
 * try_files, nginx's order. A handler returns WD_DECLINED (go on), a status, or WD_DONE
 * after suspending the request; it resumes with
 * wd_http_finalize_request(r, wd_http_run_preaccess(r, itself)), which runs the handlers
 * after it, then precontent and content (after == NULL: all of them). */
#define WD_HTTP_PREACCESS_MAX 4
extern wd_http_handler_pt wd_http_preaccess[WD_HTTP_PREACCESS_MAX];
void    wd_http_preaccess_add(wd_http_handler_pt h, int first);
int     wd_http_run_preaccess(wd_http_request_t *r, wd_http_handler_pt after);
extern wd_http_handler_pt wd_http_default_content_handler;

/* ---- output filters (nginx's header/body filter chains) ----
 * A module inserts itself at configuration time: saves the current top in its own `next`
 * and sets the top to its function.  A header filter runs before the header is serialized
 * (r->status is set; headers can still be added); it calls its next and may set
 * r->filter_body, after which the body goes through the body filters: data/len (len may
 * be 0), last = 1 for the end of the response.  The chain ends in wd_http_body_filter_end
 * (the socket).  Body filters return WD_OK, WD_AGAIN (back-pressure, as wd_http_write) or
 * WD_ERROR. */
typedef int (*wd_http_header_filter_pt)(wd_http_request_t *r);
typedef int (*wd_http_body_filter_pt)(wd_http_request_t *r, const u_char *data, size_t len,
                                      int last);
extern wd_http_header_filter_pt wd_http_top_header_filter;
/* the location conf a filter should use: the request's, else (an error answered before a
 * location was chosen) the connection's default server level */
#define wd_http_filter_clcf(r)                                                        \
    ((r)->loc_conf ? (wd_http_core_loc_conf_t *) (r)->loc_conf                        \
                   : (wd_http_core_loc_conf_t *) ((r)->hc->clcf ? (r)->hc->clcf          \
                                                                : (r)->hc->default_clcf))
extern wd_http_body_filter_pt   wd_http_top_body_filter;
int     wd_http_body_filter_end(wd_http_request_t *r, const u_char *data, size_t len, int last);

/* add_header applies to this status without `always` (2xx/3xx list of nginx) */
int     wd_http_add_header_applies(unsigned status);

/* Finds a request header (case-insensitive name); NULL if absent. */
wd_http_header_t *wd_http_find_header(wd_http_headers_t *h, const char *name, size_t len);

/* ---- internal (between the http sources) ---- */
int     wd_http_parse_header(wd_http_request_t *r);     /* WD_AGAIN, WD_OK, or a status */
int     wd_http_parse_body(wd_http_request_t *r, u_char *dst, size_t dst_len, size_t *produced);
int     wd_http_check_buffered_body(wd_http_request_t *r);    /* WD_OK or 400 */
/* a bad body (400, r->body_error) or a too large one (413): fail the request, log it */
void    wd_http_body_failed(wd_http_request_t *r, unsigned status);
/* WD_OK, or WD_ERROR if the body is bad (checks what is buffered before the head is out) */
int     wd_http_body_precheck(wd_http_request_t *r);
void    wd_http_parser_start(wd_http_request_t *r);
int     wd_http_process_request_header(wd_http_request_t *r);
int     wd_http_output(wd_http_connection_t *hc, const uv_buf_t *bufs, unsigned nbufs);
void    wd_http_request_done(wd_http_request_t *r);
void    wd_http_close_connection(wd_http_connection_t *hc);
void    wd_http_log_request(wd_http_request_t *r);      /* access log */
/* Called for every finished request just before its access log line (NULL: none);
 * the Wasm module's wasm_status counts requests with it. */
extern wd_http_event_handler_pt wd_http_log_hook;
void    wd_http_set_timer(wd_http_connection_t *hc, wd_msec_t ms);
/* the error log of the location in effect (else the cycle's) */
wd_log_t *wd_http_log(wd_http_connection_t *hc);
int     wd_http_headers_push(wd_pool_t *pool, wd_http_headers_t *h, wd_http_header_t **out);

#define WD_HTTP_OUT_HIGH  (64 * 1024)
#define WD_HTTP_OUT_LOW   (16 * 1024)

#endif /* WD_HTTP_REQUEST_H */
