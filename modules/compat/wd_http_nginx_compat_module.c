/*
 * wd_http_nginx_compat_module.c -- nginx directives that wasmd does not implement, named.
 *
 * A snippet pasted from an nginx configuration should either work or be refused by -t
 * with a message that says which directive and why, never "unknown directive" for a name
 * every nginx user knows, and never silently ignored. This module declares such names
 * (http, server and location contexts) with a handler that refuses them, each with a
 * hint where wasmd has another way. Directives of the modules wasmd does implement in
 * part (proxy, gzip, upstream, limit_*) are refused by those modules themselves.
 *
 * A few names are accepted and do nothing, because what they tune does not exist in
 * wasmd (its hash sizes: wasmd's lookups are not nginx's hashes); their values are still
 * checked (a size). `server_tokens off` is what wasmd does ("Server: wasmd", no version);
 * `on` and `build` are refused.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_http_conf.h"

static char *wd_http_compat_refuse(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_compat_hash(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_compat_tokens(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

#define HSL (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)
#define REFUSE(name, hint) \
    { name, HSL | WD_CONF_ANY, wd_http_compat_refuse, 0, 0, (void *) hint }
#define REFUSE_BLOCK(name, hint) \
    { name, HSL | WD_CONF_BLOCK | WD_CONF_ANY, wd_http_compat_refuse, 0, 0, (void *) hint }
#define HASH(name) \
    { name, WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_TAKE1, \
      wd_http_compat_hash, 0, 0, NULL }

static const wd_command_t wd_http_compat_commands[] = {
    /* static files and output */
    REFUSE("aio", "files are sent with sendfile on the event loop"),
    REFUSE("aio_write", "files are sent with sendfile on the event loop"),
    REFUSE("directio", NULL),
    REFUSE("directio_alignment", NULL),
    REFUSE("output_buffers", NULL),
    REFUSE("postpone_output", NULL),
    REFUSE("read_ahead", NULL),
    REFUSE("open_file_cache_events", NULL),
    REFUSE("random_index", NULL),
    REFUSE("limit_rate", NULL),
    REFUSE("limit_rate_after", NULL),
    REFUSE("gunzip", "responses are never decompressed"),
    REFUSE("gunzip_buffers", "responses are never decompressed"),
    REFUSE("gzip_static", "gzip compresses on the fly"),
    REFUSE("charset", NULL),
    REFUSE("charset_types", NULL),
    REFUSE("source_charset", NULL),
    REFUSE("override_charset", NULL),
    REFUSE("sub_filter", NULL),
    REFUSE("sub_filter_once", NULL),
    REFUSE("sub_filter_types", NULL),
    REFUSE("ssi", NULL),
    REFUSE("add_trailer", NULL),
    { "server_tokens", HSL | WD_CONF_TAKE1, wd_http_compat_tokens, 0, 0, NULL },
    /* rewrite, access, auth */
    REFUSE("rewrite", "use \"return\" or \"try_files\""),
    REFUSE_BLOCK("if", "use separate locations"),
    REFUSE("set", "use \"map\""),
    REFUSE("break", NULL),
    REFUSE("rewrite_log", NULL),
    REFUSE("uninitialized_variable_warn", NULL),
    REFUSE("error_page", NULL),
    REFUSE("recursive_error_pages", NULL),
    REFUSE("allow", NULL),
    REFUSE("deny", NULL),
    REFUSE("satisfy", NULL),
    REFUSE("auth_basic", NULL),
    REFUSE("auth_basic_user_file", NULL),
    REFUSE("auth_request", NULL),
    REFUSE("auth_request_set", NULL),
    REFUSE("real_ip_header", NULL),
    REFUSE("set_real_ip_from", NULL),
    REFUSE("real_ip_recursive", NULL),
    REFUSE("internal", NULL),
    REFUSE_BLOCK("limit_except", NULL),
    REFUSE("resolver", "names are resolved with the system's resolver (libuv)"),
    REFUSE("resolver_timeout", "names are resolved with the system's resolver (libuv)"),
    /* other upstream protocols */
    REFUSE("fastcgi_pass", "use proxy_pass or a Wasm handler"),
    REFUSE("fastcgi_param", "use proxy_pass or a Wasm handler"),
    REFUSE("uwsgi_pass", "use proxy_pass or a Wasm handler"),
    REFUSE("scgi_pass", "use proxy_pass or a Wasm handler"),
    REFUSE("grpc_pass", "use proxy_pass or a Wasm handler"),
    REFUSE("memcached_pass", "use proxy_pass or a Wasm handler"),
    /* connection handling */
    REFUSE("http2", "wasmd speaks HTTP/1.1"),
    REFUSE("http2_push", "wasmd speaks HTTP/1.1"),
    REFUSE("client_body_buffer_size", "bodies stream through the connection buffer"),
    REFUSE("client_body_temp_path", "bodies stream through the connection buffer"),
    REFUSE("client_body_in_file_only", NULL),
    REFUSE("underscores_in_headers", NULL),
    REFUSE("ignore_invalid_headers", NULL),
    REFUSE("merge_slashes", NULL),
    REFUSE("absolute_redirect", NULL),
    REFUSE("port_in_redirect", NULL),
    REFUSE("server_name_in_redirect", NULL),
    REFUSE("msie_padding", NULL),
    REFUSE("msie_refresh", NULL),
    REFUSE("chunked_transfer_encoding", NULL),
    REFUSE("reset_timedout_connection", NULL),
    REFUSE("lingering_close", NULL),
    REFUSE("lingering_time", NULL),
    REFUSE("lingering_timeout", NULL),
    REFUSE("keepalive_time", NULL),
    REFUSE("keepalive_disable", NULL),
    REFUSE("open_log_file_cache", NULL),
    REFUSE("log_subrequest", NULL),
    REFUSE("ssl_stapling", NULL),
    REFUSE("ssl_stapling_verify", NULL),
    REFUSE("ssl_dhparam", NULL),
    REFUSE("ssl_ecdh_curve", NULL),
    REFUSE("ssl_buffer_size", NULL),
    /* nginx's hash tuning: nothing to tune in wasmd */
    HASH("types_hash_max_size"),
    HASH("types_hash_bucket_size"),
    HASH("server_names_hash_max_size"),
    HASH("server_names_hash_bucket_size"),
    HASH("variables_hash_max_size"),
    HASH("variables_hash_bucket_size"),
    HASH("proxy_headers_hash_max_size"),
    HASH("proxy_headers_hash_bucket_size"),
    wd_null_command
};

static const wd_module_ctx_t wd_http_compat_module_ctx = { 0 };

wd_module_t wd_http_nginx_compat_module = {
    .name = "wd_http_nginx_compat_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_compat_commands,
    .ctx = &wd_http_compat_module_ctx,
};

static char *
wd_http_compat_refuse(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    const char *hint = cmd->post;

    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" is an nginx directive wasmd does not "
                      "support%s%s%s", cmd->name, hint ? " (" : "", hint ? hint : "",
                      hint ? ")" : "");
    return WD_CONF_ERROR;
}

static char *
wd_http_compat_hash(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *args = cf->args->elts;

    if (wd_parse_size(&args[1]) <= 0) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    return WD_CONF_OK;
}

static char *
wd_http_compat_tokens(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *args = cf->args->elts;

    if (wd_str_eq(&args[1], "off")) {
        return WD_CONF_OK;
    }
    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"server_tokens %.*s\" is not supported by wasmd "
                      "(its Server field never carries a version: \"off\" is what it does)",
                      wd_str_pf(&args[1]));
    return WD_CONF_ERROR;
}
