/*
 * wd_event_connect.h -- outbound TCP (and TLS) streams on the worker's loop.
 *
 * A wd_oconn_t is one client-side connection: the name is resolved with libuv's
 * resolver (uv_getaddrinfo: the threadpool, never the loop), each address is tried in
 * turn with uv_tcp_connect, then, for TLS, OpenSSL runs the client handshake through
 * memory BIOs (SNI, ALPN "http/1.1", certificate and host-name verification against the
 * SSL_CTX's store). Nothing here knows which protocol runs on top: the owner gets
 * callbacks for "connected" (or why not), plaintext input, "output drained" and the end.
 *
 * Rules (libuv's): a callback never runs from inside the call that causes it; after
 * wd_oconn_close() no callback runs and the memory is freed from the close callbacks.
 * Writes go to the socket at once when it takes them; the rest is copied and queued;
 * wd_oconn_pending() is what has not reached the socket.
 */
#ifndef WD_EVENT_CONNECT_H
#define WD_EVENT_CONNECT_H

#include <uv.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wd_oconn_s wd_oconn_t;

/* Why a connection failed (the `err` of on_connect / on_read). */
enum {
    WD_OCONN_OK = 0,
    WD_OCONN_EDNS,          /* the name does not resolve */
    WD_OCONN_EREFUSED,      /* every address refused the connection */
    WD_OCONN_EUNREACH,      /* no route / network unreachable */
    WD_OCONN_ECONNECT,      /* other connect failure */
    WD_OCONN_ETLS,          /* TLS handshake or record error */
    WD_OCONN_ECERT,         /* certificate not trusted, or not for this name */
    WD_OCONN_EALERT,        /* the peer sent a TLS alert */
    WD_OCONN_ERESET,        /* reset / read error after connecting */
    WD_OCONN_EOF            /* orderly end of the peer's stream */
};

typedef struct {
    /* connected (err 0) or failed (then the connection is dead: close it) */
    void (*on_connect)(wd_oconn_t *oc, int err);
    /* plaintext input; n == 0 with err set: end of stream (WD_OCONN_EOF) or failure */
    void (*on_read)(wd_oconn_t *oc, const char *p, size_t n, int err);
    /* queued output dropped to 0 bytes */
    void (*on_drain)(wd_oconn_t *oc);
} wd_oconn_handler_t;

/* Starts connecting to host:port (host: a name, or an IP literal, without brackets).
 * tls_ctx (an SSL_CTX *) makes it a TLS connection verified for `host`. NULL on
 * allocation failure. */
wd_oconn_t *wd_oconn_connect(uv_loop_t *loop, const char *host, unsigned port,
                             void *tls_ctx, const wd_oconn_handler_t *h, void *data);
/* The same, verifying the server's certificate for (and sending as SNI) tls_name instead of
 * host when it is not NULL (nginx's proxy_ssl_name). */
wd_oconn_t *wd_oconn_connect_name(uv_loop_t *loop, const char *host, unsigned port,
                                  void *tls_ctx, const char *tls_name,
                                  const wd_oconn_handler_t *h, void *data);
void  *wd_oconn_data(wd_oconn_t *oc);
void   wd_oconn_set_handler(wd_oconn_t *oc, const wd_oconn_handler_t *h, void *data);
/* Send bytes: what the socket takes at once goes with one write(2)/writev(2), the rest is
 * copied and queued. 0, or -1 if the connection is dead. */
int    wd_oconn_write(wd_oconn_t *oc, const void *p, size_t n);
int    wd_oconn_writev(wd_oconn_t *oc, const uv_buf_t *bufs, unsigned nbufs);
size_t wd_oconn_pending(wd_oconn_t *oc);
/* Input flow control (reading is on after connecting). */
void   wd_oconn_read_start(wd_oconn_t *oc);
void   wd_oconn_read_stop(wd_oconn_t *oc);
/* A description of the last failure ("certificate verify failed: ...") */
const char *wd_oconn_error(wd_oconn_t *oc);
void   wd_oconn_close(wd_oconn_t *oc);
/* Live outbound connections of this process (tests: nothing leaks). */
unsigned wd_oconn_count(void);

/* A client SSL_CTX (TLS 1.2+, peer verification on) trusting the system store and,
 * if ca_file is not NULL, that file too; loaded at once (before workers fork).
 * NULL with err filled. */
void  *wd_oconn_tls_ctx(const char *ca_file, char *err, size_t errlen);
/* After wd_oconn_tls_ctx: verify 0 accepts any peer certificate (nginx's
 * proxy_ssl_verify off), sni 0 sends no server name (proxy_ssl_server_name off).
 * Contexts not passed here verify and send SNI, as described above. */
void   wd_oconn_tls_ctx_options(void *ctx, int verify, int sni);
void   wd_oconn_tls_ctx_free(void *ctx);

/* A client context with every setting of nginx's proxy_ssl_* (made in the master). */
#define WD_OCONN_SSLv2    0x01
#define WD_OCONN_SSLv3    0x02
#define WD_OCONN_TLSv1    0x04
#define WD_OCONN_TLSv1_1  0x08
#define WD_OCONN_TLSv1_2  0x10
#define WD_OCONN_TLSv1_3  0x20
typedef struct {
    const char *ca_file;        /* trusted besides the system store (NULL: none) */
    const char *cert, *key;     /* client certificate chain and its key, PEM (NULL: none) */
    const char *ciphers;        /* OpenSSL cipher list for TLS <= 1.2 (NULL: OpenSSL's) */
    unsigned    protocols;      /* WD_OCONN_* bits; 0: TLS 1.2 and 1.3 */
    int         verify, sni;    /* as wd_oconn_tls_ctx_options */
    int         verify_depth;   /* -1: OpenSSL's */
    int         session_reuse;  /* keep and offer each server's latest session */
} wd_oconn_tls_conf_t;
void  *wd_oconn_tls_ctx_conf(const wd_oconn_tls_conf_t *c, char *err, size_t errlen);
/* The TLS session of this connection was resumed (tests, logs). */
int    wd_oconn_tls_reused(wd_oconn_t *oc);

#endif /* WD_EVENT_CONNECT_H */
