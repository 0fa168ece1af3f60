/*
 * wd_http_client.h -- an HTTP/1.1 client on the worker's event loop.
 *
 * One wd_hc_req_t is one exchange: the request head is serialised at once, the body
 * (none, Content-Length or chunked) is streamed with wd_hc_write/wd_hc_finish while the
 * exchange runs, the response head and body arrive as the upstream sends them. Nothing
 * blocks: DNS, connect, TLS, writes and reads all run on the loop (src/event's
 * wd_event_connect), and the owner is told "something changed" through notify(data)
 * (never from inside a wd_hc_* call); it then looks at the state.
 *
 * Responses are parsed by llhttp in strict mode plus our own checks: the head must use
 * CRLF line ends only (no bare CR or LF), no obs-fold, token field names, at most
 * max_head bytes; Transfer-Encoding must be exactly "chunked" (with no Content-Length),
 * Content-Length decimal and single; each chunk's data must end with CRLF. Any violation
 * is WD_HC_E_PROTOCOL (a head too large: WD_HC_E_HEAD_SIZE) and the connection is closed.
 *
 * Connections are kept per worker and upstream (scheme, host, port, TLS context) in a
 * bounded pool once an exchange completed cleanly on them (whole request sent, whole
 * response read, keep-alive); idle ones are closed after an idle timeout or when the
 * upstream closes them.
 */
#ifndef WD_HTTP_CLIENT_H
#define WD_HTTP_CLIENT_H

#include <uv.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wd_hc_req_s wd_hc_req_t;

enum {                     /* wd_hc_state */
    WD_HC_CONNECTING = 0,  /* resolving / connecting / TLS handshake */
    WD_HC_WAITING,         /* request head sent: waiting for the response head */
    WD_HC_BODY,            /* response head here; body arriving */
    WD_HC_DONE,            /* whole response here (body may still be buffered) */
    WD_HC_FAILED           /* see wd_hc_error */
};

enum {                     /* wd_hc_error */
    WD_HC_E_NONE = 0,
    WD_HC_E_DNS,
    WD_HC_E_REFUSED,
    WD_HC_E_UNREACH,
    WD_HC_E_CONNECT,
    WD_HC_E_CONNECT_TIMEOUT,
    WD_HC_E_TLS,
    WD_HC_E_CERT,
    WD_HC_E_TLS_ALERT,
    WD_HC_E_RESET,         /* connection reset / closed mid-response */
    WD_HC_E_FIRST_BYTE_TIMEOUT,
    WD_HC_E_BETWEEN_BYTES_TIMEOUT,
    WD_HC_E_PROTOCOL,
    WD_HC_E_HEAD_SIZE,
    WD_HC_E_INCOMPLETE,    /* the connection ended before the response did */
    WD_HC_E_CODING,        /* a transfer coding other than chunked */
    WD_HC_E_UPGRADE,       /* 101 */
    WD_HC_E_REQ_BODY,      /* request body not as declared (Content-Length) */
    WD_HC_E_INTERNAL
};

typedef struct {
    const char *name, *value;
    size_t name_len, value_len;
} wd_hc_header_t;

typedef struct {
    int           https;
    const char   *host;          /* to connect to (no brackets) */
    unsigned      port;
    void         *tls_ctx;       /* SSL_CTX * (https) */
    const char   *method;
    const char   *target;        /* path-with-query */
    const char   *authority;     /* Host header */
    const wd_hc_header_t *headers;
    size_t        nheaders;
    int64_t       content_length; /* -1: chunked when body, else none */
    int           body;          /* a body follows (wd_hc_write/wd_hc_finish) */
    uint64_t      connect_timeout_ms, first_byte_timeout_ms, between_bytes_timeout_ms; /* 0 none */
    size_t        max_head;      /* response head limit */
    void        (*notify)(void *data);
    void         *data;
    /* added for the reverse proxy (zero keeps the behaviour above): */
    int           http10;        /* request line says HTTP/1.0 */
    int           pool_max;      /* 0: the pool's limits; -1: never pool this connection;
                                    N > 0: at most N idle connections for this upstream */
    /* authority NULL: no Host header is sent */
    const char   *tls_name;      /* https: the name verified and sent as SNI (NULL: host) */
    int           upgrade;       /* the request asks to switch protocols: a 101 answer
                                    makes the exchange a tunnel (below), not an error */
} wd_hc_request_t;

/* Starts an exchange (copies everything it needs). NULL: out of memory. */
wd_hc_req_t *wd_hc_start(uv_loop_t *loop, const wd_hc_request_t *rq);
int          wd_hc_state(wd_hc_req_t *q);
int          wd_hc_error(wd_hc_req_t *q);
const char  *wd_hc_error_text(wd_hc_req_t *q);
/* Response head (state BODY or DONE, or FAILED after the head). */
int          wd_hc_status(wd_hc_req_t *q);
size_t       wd_hc_nheaders(wd_hc_req_t *q);
void         wd_hc_header(wd_hc_req_t *q, size_t i, wd_hc_header_t *h);
int          wd_hc_has_head(wd_hc_req_t *q);
/* Response body: > 0 bytes copied; 0 nothing now; -1 end of body; -2 failed. */
long         wd_hc_read(wd_hc_req_t *q, void *buf, size_t len);
int          wd_hc_readable(wd_hc_req_t *q);
/* Request body: queue bytes (0, -1 failed / too long), bytes not yet on the wire,
 * the end of the body (0, -1 failed, -2 shorter than its Content-Length). */
int          wd_hc_write(wd_hc_req_t *q, const void *p, size_t n);
size_t       wd_hc_pending(wd_hc_req_t *q);
int          wd_hc_finish(wd_hc_req_t *q);
/* The same, ending a chunked request body with trailer fields (names and values are
 * the caller's, already checked; a body with a Content-Length has no room for them: they
 * are dropped). */
int          wd_hc_finish_trailers(wd_hc_req_t *q, const wd_hc_header_t *t, size_t n);
/* Response trailers (a chunked body's trailer section), once the body is complete. */
size_t       wd_hc_ntrailers(wd_hc_req_t *q);
void         wd_hc_trailer(wd_hc_req_t *q, size_t i, wd_hc_header_t *h);
int          wd_hc_reused(wd_hc_req_t *q);
/* Ends the exchange: a connection that finished cleanly goes back to the pool, any
 * other is closed. notify is never called again. */
void         wd_hc_close(wd_hc_req_t *q);

/* Tunnel (rq.upgrade and the upstream answered 101; the reverse proxy's WebSocket):
 * wd_hc_tunnel is 1 once the 101 head is here (state BODY). From then wd_hc_read gives
 * the raw bytes the upstream sends (-1: it closed its side, -2: failed), wd_hc_write
 * sends raw bytes at once (wd_hc_pending for back-pressure, notify when drained);
 * between_bytes_timeout_ms is the idle time: no byte in either direction for that long
 * fails the exchange with WD_HC_E_BETWEEN_BYTES_TIMEOUT. Never pooled. */
int          wd_hc_tunnel(wd_hc_req_t *q);

/* Pool tuning (per worker) and accounting (tests, wasm_status). */
void     wd_hc_pool_config(unsigned max_idle_per_upstream, unsigned max_idle, uint64_t idle_ms);
unsigned wd_hc_pool_idle(void);
unsigned wd_hc_active(void);
void     wd_hc_pool_close_all(void);

#endif /* WD_HTTP_CLIENT_H */
