/*
 * wd_http_ssl_module.c -- HTTPS: `listen ... ssl` and the ssl_* directives.
 *
 *   ssl_certificate file;        PEM certificate (chain) of the server (http, server)
 *   ssl_certificate_key file;    PEM private key; must match the certificate
 *   ssl_protocols TLSv1.2 ...;   default TLSv1.2 TLSv1.3
 *   ssl_ciphers list;            OpenSSL cipher list for TLS <= 1.2 (default HIGH:!aNULL:!MD5)
 *   ssl_session_cache off | none | [builtin[:size]] [shared:name:size];   default none
 *   ssl_session_timeout time;                        default 5m
 *   ssl_session_tickets on | off;                    default on
 *
 * Session cache, with nginx's meaning: `off` tells clients sessions cannot be resumed;
 * `none` (the default) lets them think so but stores nothing; `builtin[:size]` is
 * OpenSSL's cache inside each worker (size in sessions, 20480 by default), so a client
 * resumes only when it reaches the same worker again; `shared:name:size` is one cache in
 * shared memory for every worker (src/event/wd_event_ssl_cache.c), created by the master
 * before the workers fork and kept across reloads while its name and size stay the same;
 * several servers may name the same zone. Both may be given. A shared zone also holds the
 * session-ticket keys of every SSL_CTX using it (otherwise each SSL_CTX has its own random
 * keys, made in the master and so common to all its workers, but new on each reload): a
 * ticket resumes in any worker, and after a reload. With tickets off, TLS 1.2 resumes by
 * session id and TLS 1.3 by stateful tickets, both through the cache.
 *
 * Every server{} that ends up with a certificate gets its own SSL_CTX, built while the
 * configuration is merged (so `-t` and reload load the files again and report errors with
 * the directive's file:line; a reload therefore picks up renewed certificates).  A server
 * reachable through an ssl listen socket without a certificate is an error found when the
 * cycle is initialised.  The SSL_CTXs live until the cycle's pool is destroyed.
 *
 * A connection accepted on an ssl socket starts with the default server's SSL_CTX; the
 * SNI callback looks the name up exactly like a Host header (wd_http_find_server) and
 * switches to that server's SSL_CTX, so the certificate matches the name.  The request is
 * then routed by its Host header as usual, which for an honest client is the SNI name.
 * ALPN: only "http/1.1" is offered; a client that insists on another protocol gets the
 * no_application_protocol alert (like nginx).  The handshake itself and the record layer
 * live in src/event/wd_event_ssl.c; once the handshake completed the connection is handed
 * to wd_http_init_connection() and the HTTP code never knows it runs over TLS.
 *
 * Variables: $https ("on" or ""), $ssl_protocol, $ssl_cipher, $ssl_server_name,
 * $ssl_session_reused ("r" if the session was resumed, else ".").
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"
#include "wd_event_ssl_cache.h"

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#define WD_SSL_TLSv1    0x01
#define WD_SSL_TLSv1_1  0x02
#define WD_SSL_TLSv1_2  0x04
#define WD_SSL_TLSv1_3  0x08

typedef struct {
    wd_str_t        certificate;
    wd_str_t        certificate_key;
    wd_str_t        ciphers;
    wd_uint_t       protocols;        /* WD_SSL_* bits */
    wd_int_t        session_cache;    /* -3 shared only, -2 off, -1 unset, 0 none,
                                         >0 builtin size */
    wd_ssl_cache_zone_t *shm_zone;    /* shared:name:size, NULL if none */
    time_t          session_timeout;
    wd_flag_t       session_tickets;
    wd_str_t        cert_file;        /* where ssl_certificate / _key were given */
    wd_uint_t       cert_line;
    wd_str_t        key_file;
    wd_uint_t       key_line;
    SSL_CTX        *ctx;
} wd_http_ssl_srv_conf_t;

#define WD_SSL_CACHE_OFF    (-2)
#define WD_SSL_CACHE_UNSET  (-1)
#define WD_SSL_CACHE_NONE   0
#define WD_SSL_CACHE_NO_BUILTIN (-3)
#define WD_SSL_CACHE_BUILTIN_DEFAULT 20480

static char *wd_http_ssl_set_file(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_ssl_protocols(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_ssl_session_cache(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static int   wd_http_ssl_preconfiguration(wd_conf_t *cf);
static void *wd_http_ssl_create_srv_conf(wd_conf_t *cf);
static char *wd_http_ssl_merge_srv_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_http_ssl_init_master(wd_cycle_t *cycle);

static const wd_command_t wd_http_ssl_commands[] = {
    { "ssl_certificate", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_TAKE1,
      wd_http_ssl_set_file, WD_HTTP_SRV_CONF_OFFSET,
      offsetof(wd_http_ssl_srv_conf_t, certificate), NULL },
    { "ssl_certificate_key", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_TAKE1,
      wd_http_ssl_set_file, WD_HTTP_SRV_CONF_OFFSET,
      offsetof(wd_http_ssl_srv_conf_t, certificate_key), NULL },
    { "ssl_protocols", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_1MORE,
      wd_http_ssl_protocols, WD_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { "ssl_ciphers", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_TAKE1,
      wd_conf_set_str_slot, WD_HTTP_SRV_CONF_OFFSET,
      offsetof(wd_http_ssl_srv_conf_t, ciphers), NULL },
    { "ssl_session_cache", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_TAKE12,
      wd_http_ssl_session_cache, WD_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { "ssl_session_timeout", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_TAKE1,
      wd_conf_set_sec_slot, WD_HTTP_SRV_CONF_OFFSET,
      offsetof(wd_http_ssl_srv_conf_t, session_timeout), NULL },
    { "ssl_session_tickets", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_CONF_FLAG,
      wd_conf_set_flag_slot, WD_HTTP_SRV_CONF_OFFSET,
      offsetof(wd_http_ssl_srv_conf_t, session_tickets), NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_ssl_module_ctx = {
    .preconfiguration = wd_http_ssl_preconfiguration,
    .create_srv_conf = wd_http_ssl_create_srv_conf,
    .merge_srv_conf = wd_http_ssl_merge_srv_conf,
};

wd_module_t wd_http_ssl_module = {
    .name = "wd_http_ssl_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_ssl_commands,
    .ctx = &wd_http_ssl_module_ctx,
    .init_master = wd_http_ssl_init_master,
};

/* ---- variables ---- */

static int
wd_http_ssl_var_set(wd_http_request_t *r, wd_str_t *v, const char *s)
{
    (void) r;
    v->data = (u_char *) s;
    v->len = s ? strlen(s) : 0;
    return WD_OK;
}

static int
wd_http_ssl_var_https(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    (void) arg;
    return wd_http_ssl_var_set(r, v, r->connection->ssl ? "on" : "");
}

static int
wd_http_ssl_var_protocol(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    (void) arg;
    return wd_http_ssl_var_set(r, v, wd_ssl_protocol(r->connection));
}

static int
wd_http_ssl_var_cipher(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    (void) arg;
    return wd_http_ssl_var_set(r, v, wd_ssl_cipher(r->connection));
}

static int
wd_http_ssl_var_session_reused(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    int reused = wd_ssl_session_reused(r->connection);

    (void) arg;
    return wd_http_ssl_var_set(r, v, reused < 0 ? "" : reused ? "r" : ".");
}

static int
wd_http_ssl_var_server_name(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    (void) arg;
    return wd_http_ssl_var_set(r, v, wd_ssl_server_name(r->connection));
}

static int
wd_http_ssl_preconfiguration(wd_conf_t *cf)
{
    static int vars_added;

    (void) cf;
    wd_http_ssl_available = 1;
    if (!vars_added) {
        if (wd_http_add_variable("https", wd_http_ssl_var_https, 0) != WD_OK
            || wd_http_add_variable("ssl_protocol", wd_http_ssl_var_protocol, 0) != WD_OK
            || wd_http_add_variable("ssl_cipher", wd_http_ssl_var_cipher, 0) != WD_OK
            || wd_http_add_variable("ssl_server_name", wd_http_ssl_var_server_name, 0) != WD_OK
            || wd_http_add_variable("ssl_session_reused", wd_http_ssl_var_session_reused, 0)
               != WD_OK)
        {
            return WD_ERROR;
        }
        vars_added = 1;
    }
    return WD_OK;
}

/* ---- directives ---- */

static void *
wd_http_ssl_create_srv_conf(wd_conf_t *cf)
{
    wd_http_ssl_srv_conf_t *sc = wd_pcalloc(cf->pool, sizeof(*sc));

    if (sc == NULL) {
        return NULL;
    }
    sc->protocols = WD_CONF_UNSET_UINT;
    sc->session_cache = WD_SSL_CACHE_UNSET;
    sc->session_timeout = WD_CONF_UNSET;
    sc->session_tickets = WD_CONF_UNSET;
    return sc;
}

static char *
wd_http_ssl_set_file(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_ssl_srv_conf_t *sc = conf;
    wd_str_t *field = (wd_str_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;

    if (field->data != NULL) {
        return "is duplicate";
    }
    *field = value[1];
    /* relative to the configuration directory, like nginx */
    if (wd_conf_full_name(cf->cycle, field, 1) != WD_OK) {
        return WD_CONF_ERROR;
    }
    if (field == &sc->certificate) {
        sc->cert_file = cf->conf_file->name;
        sc->cert_line = cf->conf_file->line;
    } else {
        sc->key_file = cf->conf_file->name;
        sc->key_line = cf->conf_file->line;
    }
    return WD_CONF_OK;
}

static char *
wd_http_ssl_protocols(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    static const struct { const char *name; wd_uint_t bit; } names[] = {
        { "TLSv1", WD_SSL_TLSv1 }, { "TLSv1.1", WD_SSL_TLSv1_1 },
        { "TLSv1.2", WD_SSL_TLSv1_2 }, { "TLSv1.3", WD_SSL_TLSv1_3 },
    };
    wd_http_ssl_srv_conf_t *sc = conf;
    wd_str_t *value = cf->args->elts;
    wd_uint_t i, j;

    (void) cmd;
    if (sc->protocols != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    sc->protocols = 0;
    for (i = 1; i < cf->args->nelts; i++) {
        for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
            if (value[i].len == strlen(names[j].name)
                && memcmp(value[i].data, names[j].name, value[i].len) == 0)
            {
                sc->protocols |= names[j].bit;
                break;
            }
        }
        if (j == sizeof(names) / sizeof(names[0])) {
            return wd_conf_invalid_value(cf, &value[i]);
        }
    }
    return WD_CONF_OK;
}

static char *
wd_http_ssl_session_cache(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_ssl_srv_conf_t *sc = conf;
    wd_str_t *value = cf->args->elts;
    wd_uint_t i;
    int builtin = 0;

    (void) cmd;
    if (sc->session_cache != WD_SSL_CACHE_UNSET) {
        return "is duplicate";
    }
    sc->session_cache = WD_SSL_CACHE_NO_BUILTIN;
    for (i = 1; i < cf->args->nelts; i++) {
        wd_str_t *v = &value[i];
        if (wd_str_eq(v, "off") || wd_str_eq(v, "none")) {
            if (cf->args->nelts != 2) {
                return wd_conf_invalid_value(cf, v);     /* alone, as in nginx */
            }
            sc->session_cache = wd_str_eq(v, "off") ? WD_SSL_CACHE_OFF : WD_SSL_CACHE_NONE;
        } else if (wd_str_eq(v, "builtin")) {
            if (builtin++) {
                return wd_conf_invalid_value(cf, v);
            }
            sc->session_cache = WD_SSL_CACHE_BUILTIN_DEFAULT;
        } else if (v->len > 8 && memcmp(v->data, "builtin:", 8) == 0) {
            wd_int_t n = wd_atoi(v->data + 8, v->len - 8);
            if (n <= 0 || builtin++) {
                return wd_conf_invalid_value(cf, v);
            }
            sc->session_cache = n;
        } else if (v->len > 7 && memcmp(v->data, "shared:", 7) == 0) {
            /* shared:name:size */
            u_char *name = v->data + 7, *colon;
            size_t rest = v->len - 7, nlen;
            wd_str_t size_str;
            ssize_t size;
            const char *err = NULL;

            colon = memchr(name, ':', rest);
            if (colon == NULL || colon == name || sc->shm_zone != NULL) {
                return wd_conf_invalid_value(cf, v);
            }
            nlen = colon - name;
            size_str.data = colon + 1;
            size_str.len = rest - nlen - 1;
            size = size_str.len ? wd_parse_size(&size_str) : -1;
            if (size <= 0) {
                return wd_conf_invalid_value(cf, v);
            }
            sc->shm_zone = wd_ssl_cache_zone(name, nlen, (size_t) size, cf->cycle->generation,
                                             &err);
            if (sc->shm_zone == NULL) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s", err);
                return WD_CONF_ERROR;
            }
        } else {
            return wd_conf_invalid_value(cf, v);
        }
    }
    return WD_CONF_OK;
}

/* ---- SSL_CTX ---- */

static void
wd_http_ssl_ctx_cleanup(void *data)
{
    SSL_CTX_free(data);
}

/* Logs msg + the OpenSSL error queue with file:line of the directive. */
static void
wd_http_ssl_conf_error(wd_conf_t *cf, const wd_str_t *file, wd_uint_t line, const char *fmt,
                       const char *arg)
{
    wd_conf_file_t fake, *saved = cf->conf_file;
    char e[256] = "";
    unsigned long code = ERR_peek_last_error();
    char msg[1024];

    if (code) {
        ERR_error_string_n(code, e, sizeof(e));
    }
    ERR_clear_error();
    snprintf(msg, sizeof(msg), fmt, arg);
    memset(&fake, 0, sizeof(fake));
    if (file->data) {
        fake.name = *file;
        fake.line = line;
        cf->conf_file = &fake;
    }
    if (code) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s (SSL: %s)", msg, e);
    } else {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s", msg);
    }
    cf->conf_file = saved;
}

static int
wd_http_ssl_servername(SSL *ssl, int *ad, void *arg)
{
    wd_connection_t *c = SSL_get_app_data(ssl);
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const wd_http_addr_conf_t *addr;
    wd_http_core_srv_conf_t *srv;
    wd_http_ssl_srv_conf_t *sc;
    u_char host[256];
    size_t len;

    (void) ad;
    (void) arg;
    if (c == NULL || name == NULL) {
        return SSL_TLSEXT_ERR_OK;
    }
    len = strlen(name);
    if (len == 0 || len >= sizeof(host)
        || wd_http_validate_host((const u_char *) name, len, host, &len) != WD_OK)
    {
        return SSL_TLSEXT_ERR_OK;        /* unusable name: the default server answers */
    }
    addr = wd_http_addr_conf(c->listening, NULL);
    if (addr == NULL) {
        return SSL_TLSEXT_ERR_OK;
    }
    srv = wd_http_find_server(addr, host, len);
    sc = wd_http_srv_get_module_conf(srv, wd_http_ssl_module);
    if (sc->ctx != NULL && sc->ctx != SSL_get_SSL_CTX(ssl)) {
        SSL_set_SSL_CTX(ssl, sc->ctx);
        SSL_clear_options(ssl, SSL_get_options(ssl) & ~SSL_CTX_get_options(sc->ctx));
        SSL_set_options(ssl, SSL_CTX_get_options(sc->ctx));
    }
    return SSL_TLSEXT_ERR_OK;
}

static int
wd_http_ssl_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char protos[] = "\x08http/1.1";
    unsigned char *o;

    (void) ssl;
    (void) arg;
    if (SSL_select_next_proto(&o, outlen, protos, sizeof(protos) - 1, in, inlen)
        != OPENSSL_NPN_NEGOTIATED)
    {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static char *
wd_http_ssl_create_ctx(wd_conf_t *cf, wd_http_ssl_srv_conf_t *sc, const wd_str_t *id)
{
    static const struct { wd_uint_t bit; long op; } noops[] = {
        { WD_SSL_TLSv1, SSL_OP_NO_TLSv1 }, { WD_SSL_TLSv1_1, SSL_OP_NO_TLSv1_1 },
        { WD_SSL_TLSv1_2, SSL_OP_NO_TLSv1_2 }, { WD_SSL_TLSv1_3, SSL_OP_NO_TLSv1_3 },
    };
    wd_pool_cleanup_t *cln;
    SSL_CTX *ctx;
    unsigned i;
    unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
    size_t sidlen;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        wd_http_ssl_conf_error(cf, &sc->cert_file, sc->cert_line, "%sSSL_CTX_new() failed", "");
        return WD_CONF_ERROR;
    }
    cln = wd_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        SSL_CTX_free(ctx);
        return WD_CONF_ERROR;
    }
    cln->handler = wd_http_ssl_ctx_cleanup;
    cln->data = ctx;
    sc->ctx = ctx;

    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_max_proto_version(ctx, 0);
    for (i = 0; i < sizeof(noops) / sizeof(noops[0]); i++) {
        if (!(sc->protocols & noops[i].bit)) {
            SSL_CTX_set_options(ctx, noops[i].op);
        }
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    if (SSL_CTX_use_certificate_chain_file(ctx, (const char *) sc->certificate.data) != 1) {
        wd_http_ssl_conf_error(cf, &sc->cert_file, sc->cert_line,
                               "cannot load certificate \"%s\"", (const char *) sc->certificate.data);
        return WD_CONF_ERROR;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, (const char *) sc->certificate_key.data,
                                    SSL_FILETYPE_PEM) != 1)
    {
        unsigned long code = ERR_peek_last_error();
        wd_http_ssl_conf_error(cf, &sc->key_file, sc->key_line,
                               ERR_GET_LIB(code) == ERR_LIB_X509
                               && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH
                               ? "certificate key \"%s\" does not match the certificate"
                               : "cannot load certificate key \"%s\"",
                               (const char *) sc->certificate_key.data);
        return WD_CONF_ERROR;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        wd_http_ssl_conf_error(cf, &sc->key_file, sc->key_line,
                               "certificate key \"%s\" does not match the certificate",
                               (const char *) sc->certificate_key.data);
        return WD_CONF_ERROR;
    }
    if (SSL_CTX_set_cipher_list(ctx, (const char *) sc->ciphers.data) != 1) {
        wd_http_ssl_conf_error(cf, &sc->cert_file, sc->cert_line,
                               "invalid ssl_ciphers \"%s\"", (const char *) sc->ciphers.data);
        return WD_CONF_ERROR;
    }

    if (sc->session_cache == WD_SSL_CACHE_OFF) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    } else if (sc->shm_zone != NULL) {
        if (wd_ssl_cache_attach(ctx, sc->shm_zone, sc->session_cache > 0) != WD_OK) {
            wd_http_ssl_conf_error(cf, &sc->cert_file, sc->cert_line,
                                   "%scannot use the shared session cache", "");
            return WD_CONF_ERROR;
        }
    } else if (sc->session_cache > 0) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    } else {
        /* none: clients are told sessions may be reused, nothing is stored */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR
                                            | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_cache_size(ctx, 1);
    }
    if (sc->session_cache > 0) {
        SSL_CTX_sess_set_cache_size(ctx, sc->session_cache);
    }
    SSL_CTX_set_timeout(ctx, (long) sc->session_timeout);
    sidlen = wd_min(id->len, sizeof(sid));
    memcpy(sid, id->data, sidlen);
    SSL_CTX_set_session_id_context(ctx, sid, (unsigned) sidlen);
    if (!sc->session_tickets) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        if (sc->session_cache <= 0 && sc->shm_zone == NULL) {
            SSL_CTX_set_num_tickets(ctx, 0);   /* TLS 1.3: nothing could resume anyway */
        }
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, wd_http_ssl_servername);
    SSL_CTX_set_alpn_select_cb(ctx, wd_http_ssl_alpn_select, NULL);
    return WD_CONF_OK;
}

static char *
wd_http_ssl_merge_srv_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_ssl_srv_conf_t *prev = parent, *conf = child;
    wd_http_core_srv_conf_t *cscf = wd_http_conf_get_module_srv_conf(cf, wd_http_core_module);

    if (conf->certificate.data == NULL && prev->certificate.data != NULL) {
        conf->certificate = prev->certificate;
        conf->cert_file = prev->cert_file;
        conf->cert_line = prev->cert_line;
    }
    if (conf->certificate_key.data == NULL && prev->certificate_key.data != NULL) {
        conf->certificate_key = prev->certificate_key;
        conf->key_file = prev->key_file;
        conf->key_line = prev->key_line;
    }
    wd_conf_merge_uint_value(conf->protocols, prev->protocols, WD_SSL_TLSv1_2 | WD_SSL_TLSv1_3);
    wd_conf_merge_str_value(conf->ciphers, prev->ciphers, "HIGH:!aNULL:!MD5");
    if (conf->session_cache == WD_SSL_CACHE_UNSET) {
        conf->session_cache = prev->session_cache == WD_SSL_CACHE_UNSET
                              ? WD_SSL_CACHE_NONE : prev->session_cache;
        conf->shm_zone = prev->shm_zone;
    }
    wd_conf_merge_value(conf->session_timeout, prev->session_timeout, 300);
    wd_conf_merge_value(conf->session_tickets, prev->session_tickets, 1);
    if (conf->ciphers.data[conf->ciphers.len] != '\0') {
        conf->ciphers.data = wd_pstrdup(cf->pool, &conf->ciphers);
        if (conf->ciphers.data == NULL) {
            return WD_CONF_ERROR;
        }
    }

    if (conf->certificate.data == NULL) {
        if (conf->certificate_key.data != NULL) {
            wd_http_ssl_conf_error(cf, &conf->key_file, conf->key_line,
                                   "%sno \"ssl_certificate\" is defined for \"ssl_certificate_key\"",
                                   "");
            return WD_CONF_ERROR;
        }
        return WD_CONF_OK;
    }
    if (conf->certificate_key.data == NULL) {
        wd_http_ssl_conf_error(cf, &conf->cert_file, conf->cert_line,
                               "no \"ssl_certificate_key\" is defined for certificate \"%s\"",
                               (const char *) conf->certificate.data);
        return WD_CONF_ERROR;
    }
    if (cscf == NULL || cf->ctx == NULL) {
        return WD_CONF_OK;
    }
    return wd_http_ssl_create_ctx(cf, conf, cscf->server_name.len ? &cscf->server_name
                                                                  : &conf->certificate);
}

/* Every server reachable through an ssl socket needs a certificate. */
static int
wd_http_ssl_init_master(wd_cycle_t *cycle)
{
    wd_listening_t *ls = cycle->listening.elts;
    wd_uint_t i, j;

    for (i = 0; i < cycle->listening.nelts; i++) {
        const wd_http_addr_conf_t *addr = ls[i].servers;
        if (!ls[i].ssl || addr == NULL) {
            continue;
        }
        wd_http_core_srv_conf_t **srv = addr->servers.elts;
        for (j = 0; j < addr->servers.nelts; j++) {
            wd_http_ssl_srv_conf_t *sc = wd_http_srv_get_module_conf(srv[j], wd_http_ssl_module);
            if (sc->ctx == NULL) {
                char msg[1024];
                snprintf(msg, sizeof(msg), "no \"ssl_certificate\" is defined for the server "
                         "listening on %.*s with \"ssl\" in %.*s:%lu",
                         wd_str_pf(&ls[i].addr_text), wd_str_pf(&srv[j]->file),
                         (unsigned long) srv[j]->line);
                wd_log_error(WD_LOG_EMERG, cycle->log, 0, "%s", msg);
                wd_conf_record_error(msg);
                return WD_ERROR;
            }
        }
    }
    return WD_OK;
}

/* ---- connections ---- */

void
wd_http_ssl_init_connection(wd_connection_t *c)
{
    const wd_http_addr_conf_t *addr = wd_http_addr_conf(c->listening, NULL);
    wd_http_ssl_srv_conf_t *sc;
    wd_http_core_loc_conf_t *clcf;
    wd_log_t *log;
    SSL *ssl;

    if (addr && addr->specific != NULL) {
        struct sockaddr_storage local;
        socklen_t llen = sizeof(local);
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *) &c->tcp, &fd) == 0
            && getsockname(fd, (struct sockaddr *) &local, &llen) == 0)
        {
            addr = wd_http_addr_conf(c->listening, (struct sockaddr *) &local);
        }
    }
    if (addr == NULL || addr->default_server == NULL) {
        wd_log_error(WD_LOG_ALERT, wd_cycle->log, 0, "no http server for %.*s",
                     wd_str_pf(&c->listening->addr_text));
        wd_connection_close(c);
        return;
    }
    sc = wd_http_srv_get_module_conf(addr->default_server, wd_http_ssl_module);
    clcf = addr->default_server->loc_conf;
    log = clcf->error_log ? clcf->error_log : wd_cycle->log;
    if (sc->ctx == NULL) {
        wd_log_error(WD_LOG_ALERT, log, 0, "no SSL context for %.*s",
                     wd_str_pf(&c->listening->addr_text));
        wd_connection_close(c);
        return;
    }
    ERR_clear_error();
    ssl = SSL_new(sc->ctx);
    if (ssl == NULL) {
        wd_log_error(WD_LOG_CRIT, log, 0, "SSL_new() failed");
        ERR_clear_error();
        wd_connection_close(c);
        return;
    }
    SSL_set_app_data(ssl, c);
    wd_ssl_cache_bind(ssl);        /* the shared cache of the connection's first SSL_CTX */
    (void) wd_ssl_handshake(c, ssl, clcf->client_header_timeout, log, wd_http_init_connection);
}
