/*
 * wd_http_proxy.h -- the reverse proxy (nginx's proxy and upstream modules, a subset).
 *
 * wd_http_proxy_module.c: the directives (proxy_*, upstream { }), their merging and the
 * upstream blocks; wd_http_proxy_handler.c: the content handler, which runs each request
 * through the one outbound HTTP client (src/http/wd_http_client.c): peer choice (smooth
 * weighted round robin, max_fails/fail_timeout, backup), request line and headers as
 * nginx builds them, both bodies streamed with back-pressure, proxy_next_upstream.
 *
 * Per-peer failure state lives in the configuration: each worker has its own copy after
 * fork (nginx without `zone` does the same).
 */
#ifndef WD_HTTP_PROXY_H
#define WD_HTTP_PROXY_H

#include "wd_core.h"
#include "wd_conf.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

/* proxy_next_upstream conditions */
#define WD_PROXY_FT_ERROR          0x0001
#define WD_PROXY_FT_TIMEOUT        0x0002
#define WD_PROXY_FT_INVALID_HEADER 0x0004
#define WD_PROXY_FT_HTTP_500       0x0008
#define WD_PROXY_FT_HTTP_502       0x0010
#define WD_PROXY_FT_HTTP_503       0x0020
#define WD_PROXY_FT_HTTP_504       0x0040
#define WD_PROXY_FT_HTTP_403       0x0080
#define WD_PROXY_FT_HTTP_404       0x0100
#define WD_PROXY_FT_HTTP_429       0x0200
#define WD_PROXY_FT_NON_IDEMPOTENT 0x0400
#define WD_PROXY_FT_OFF            0x8000

typedef struct {
    char       *host;           /* NUL-terminated, no brackets */
    unsigned    port;
    wd_str_t    name;           /* "host:port" (logs, $upstream_addr) */
    wd_int_t    weight;
    wd_int_t    max_fails;
    wd_msec_t   fail_timeout;
    unsigned    backup:1;
    unsigned    down:1;
    /* run-time state (per worker) */
    wd_int_t    current_weight, effective_weight;
    wd_uint_t   fails;
    wd_msec_t   checked;        /* when the last failure was counted */
} wd_http_proxy_peer_t;

typedef struct {
    wd_str_t    name;           /* upstream NAME, or the host of proxy_pass */
    wd_array_t *peers;          /* wd_http_proxy_peer_t */
    wd_int_t    keepalive;      /* idle connections kept per worker and peer (0: none) */
    unsigned    port;           /* implicit: the port of proxy_pass */
    unsigned    https:1;
    unsigned    block:1;        /* declared by `upstream NAME { }` */
    unsigned    no_port:1;      /* proxy_pass named it without a port */
    unsigned    single:1;       /* one peer: never marked down (nginx) */
    wd_str_t    file;
    wd_uint_t   line;
} wd_http_proxy_upstream_t;

typedef struct {
    wd_str_t                 name;        /* as written */
    wd_http_complex_value_t  value;
    unsigned                 empty:1;     /* "" -> not sent */
} wd_http_proxy_header_t;

/* one proxy_redirect rule "redirect replacement": a Location (or Refresh url=) starting
 * with redirect has that prefix replaced (both may have variables) */
typedef struct {
    wd_http_complex_value_t    pattern;
    wd_http_complex_value_t    replacement;
    /* "~regex" / "~*regex" rules: the value (after "url=" in a Refresh) is searched for
     * the regex; on a match the whole of it becomes the replacement, whose parts are
     * text with variables or captures ($0..$9) */
    regex_t                   *re;
    wd_array_t                *parts;     /* wd_http_proxy_rpart_t */
} wd_http_proxy_redirect_t;

typedef struct {
    wd_http_complex_value_t    text;
    int                        capture;   /* -1: text */
} wd_http_proxy_rpart_t;

/* the proxy_ssl_* settings a client context is made of (one context per distinct set) */
typedef struct {
    wd_str_t    ca;                       /* proxy_ssl_trusted_certificate ("" none) */
    wd_str_t    cert, key;                /* proxy_ssl_certificate[_key] ("" none) */
    wd_str_t    ciphers;                  /* proxy_ssl_ciphers */
    wd_uint_t   protocols;                /* proxy_ssl_protocols: WD_OCONN_* bits */
    wd_flag_t   verify, sni, session_reuse;
    wd_uint_t   verify_depth;
} wd_http_proxy_tls_conf_t;

typedef struct {
    wd_http_proxy_tls_conf_t  conf;
    void                     *tls_ctx;
} wd_http_proxy_tls_t;

typedef struct {
    wd_array_t *upstreams;                /* wd_http_proxy_upstream_t * */
    wd_array_t *temp_paths;               /* wd_str_t: proxy_temp_path of proxy_pass locations
                                             (made by the master for the workers' user) */
    wd_array_t *tls;                      /* wd_http_proxy_tls_t: one SSL_CTX per setting */
} wd_http_proxy_main_conf_t;

typedef struct {
    /* proxy_pass (not inherited) */
    wd_str_t                   url;       /* as written */
    wd_http_proxy_upstream_t  *upstream;  /* NULL with variables */
    wd_http_complex_value_t   *url_cv;    /* non-NULL: proxy_pass with variables */
    wd_str_t                   uri;       /* URI part ("" none; "/x/" ...) */
    wd_str_t                   location;  /* the prefix the URI part replaces */
    wd_str_t                   proxy_host;/* $proxy_host */
    wd_str_t                   proxy_port;/* $proxy_port */
    unsigned                   has_uri:1;
    unsigned                   https:1;

    /* inherited */
    wd_array_t                *headers_set;   /* wd_http_proxy_header_t (user's) or UNSET */
    wd_array_t                *headers;       /* merged: user's + defaults not overridden */
    wd_uint_t                  http_version;  /* 10 or 11 */
    wd_msec_t                  connect_timeout, read_timeout, send_timeout;
    wd_flag_t                  buffering;
    wd_uint_t                  next_upstream;
    wd_uint_t                  next_upstream_tries;
    wd_msec_t                  next_upstream_timeout;
    wd_flag_t                  pass_request_headers, pass_request_body;
    wd_array_t                *hide_headers;  /* wd_str_t, or UNSET */
    wd_flag_t                  redirect;      /* proxy_redirect: 0 off */
    wd_array_t                *redirects;     /* wd_http_proxy_redirect_t; NULL: none */
    size_t                     buffer_size;   /* proxy_buffer_size: response head limit */
    /* proxy_buffering on: what the client has not taken yet is held in memory up to
     * proxy_buffers (N x size), then in a temporary file in proxy_temp_path up to
     * proxy_max_temp_file_size (0: no file), so the upstream is read at its own pace */
    wd_uint_t                  buffers_num;
    size_t                     buffers_size;
    size_t                     busy_buffers_size;     /* checked as nginx does */
    size_t                     temp_file_write_size;  /* the most written per call */
    off_t                      max_temp_file_size;
    /* as written (UNSET: from the buffers' size, per level, as nginx computes them) */
    size_t                     busy_conf, write_conf;
    off_t                      max_temp_conf;
    wd_str_t                   temp_path;             /* absolute */
    wd_flag_t                  ssl_verify, ssl_server_name, ssl_session_reuse;
    wd_str_t                   ssl_trusted_certificate;
    wd_str_t                   ssl_certificate, ssl_certificate_key, ssl_ciphers;
    wd_uint_t                  ssl_protocols, ssl_verify_depth;
    wd_http_complex_value_t   *ssl_name;      /* proxy_ssl_name (NULL: $proxy_host) */
    void                      *tls_ctx;       /* SSL_CTX (https), made at merge */
} wd_http_proxy_loc_conf_t;

extern wd_module_t wd_http_proxy_module;

/* wd_http_proxy_handler.c */
int  wd_http_proxy_handler(wd_http_request_t *r);
int  wd_http_proxy_add_variables(void);
/* the upstream block `name` (no port), NULL if none */
wd_http_proxy_upstream_t *wd_http_proxy_find_block(wd_http_proxy_main_conf_t *pmcf,
                                                   const u_char *name, size_t len);
/* "host[:port]" -> host (brackets removed, NUL-terminated in pool), port (0 if absent);
 * WD_OK or WD_ERROR */
int  wd_http_proxy_parse_hostport(wd_pool_t *pool, const u_char *s, size_t n, char **host,
                                  unsigned *port);

#endif /* WD_HTTP_PROXY_H */
