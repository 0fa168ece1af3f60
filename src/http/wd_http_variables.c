/*
 * wd_http_variables.c -- the variable registry and the core variables.
 *
 * The core variables live in a static table; modules append theirs to a small dynamic
 * table (wd_http_add_variable).  Lookup happens only at configuration time, so a linear
 * search is fine.  Values are produced on demand from the request; numbers are printed
 * into r->pool.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"

static u_char *
wd_http_var_alloc(wd_http_request_t *r, wd_str_t *v, size_t n)
{
    v->data = wd_pnalloc(r->pool, n);
    v->len = 0;
    return v->data;
}

static int
wd_http_var_u64(wd_http_request_t *r, wd_str_t *v, uint64_t n)
{
    if (wd_http_var_alloc(r, v, 24) == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 24, "%llu", (unsigned long long) n);
    return WD_OK;
}

static int
wd_http_var_str(wd_str_t *v, const wd_str_t *s)
{
    *v = *s;
    return WD_OK;
}

static int
wd_http_var_remote_addr(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    v->data = (u_char *) r->connection->addr_text;
    v->len = r->connection->addr_text_len;
    return WD_OK;
}

/* the client address in binary form: 4 bytes (IPv4), 16 (IPv6), as nginx's */
static int
wd_http_var_binary_remote_addr(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    struct sockaddr_storage *ss = &r->connection->sockaddr;

    v->len = 0;
    if (ss->ss_family == AF_INET) {
        v->data = (u_char *) &((struct sockaddr_in *) ss)->sin_addr;
        v->len = 4;
    } else if (ss->ss_family == AF_INET6) {
        v->data = (u_char *) &((struct sockaddr_in6 *) ss)->sin6_addr;
        v->len = 16;
    }
    return WD_OK;
}

static int
wd_http_var_remote_port(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    struct sockaddr_storage *ss = &r->connection->sockaddr;
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        port = ntohs(((struct sockaddr_in *) ss)->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        port = ntohs(((struct sockaddr_in6 *) ss)->sin6_port);
    }
    return wd_http_var_u64(r, v, port);
}

static int
wd_http_var_remote_user(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    v->len = 0;     /* no authentication module yet */
    v->data = NULL;
    return WD_OK;
}

static int
wd_http_var_time_local(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &wd_cached_http_log_time);
}

static int
wd_http_var_request(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &r->request_line);
}

static int
wd_http_var_status(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    if (wd_http_var_alloc(r, v, 4) == NULL) {
        return WD_ERROR;
    }
    unsigned s = r->status ? r->status : 0;
    v->data[0] = '0' + (s / 100) % 10;
    v->data[1] = '0' + (s / 10) % 10;
    v->data[2] = '0' + s % 10;
    v->len = 3;
    return WD_OK;
}

static int
wd_http_var_body_bytes_sent(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_u64(r, v, r->body_bytes_sent);
}

static int
wd_http_var_bytes_sent(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_u64(r, v, r->bytes_sent);
}

static int
wd_http_var_request_length(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_u64(r, v, r->request_length);
}

static int
wd_http_var_request_time(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    wd_msec_t ms = wd_current_msec - r->start_msec;
    if (ms < 0 || r->start_msec == 0) {
        ms = 0;
    }
    if (wd_http_var_alloc(r, v, 32) == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 32, "%lld.%03d", (long long) (ms / 1000), (int) (ms % 1000));
    return WD_OK;
}

static int
wd_http_var_msec(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    wd_msec_t ms = wd_current_msec;
    if (wd_http_var_alloc(r, v, 32) == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 32, "%lld.%03d", (long long) (ms / 1000), (int) (ms % 1000));
    return WD_OK;
}

static int
wd_http_var_host(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    if (r->host.len) {
        return wd_http_var_str(v, &r->host);
    }
    if (r->srv_conf) {
        return wd_http_var_str(v, &((wd_http_core_srv_conf_t *) r->srv_conf)->server_name);
    }
    v->len = 0;
    return WD_OK;
}

static int
wd_http_var_uri(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &r->uri);
}

static int
wd_http_var_request_uri(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &r->unparsed_uri);
}

static int
wd_http_var_args(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &r->args);
}

static int
wd_http_var_method(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &r->method_name);
}

static int
wd_http_var_protocol(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_str(v, &r->http_protocol);
}

static int
wd_http_var_connection(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_u64(r, v, r->connection->number);
}

static int
wd_http_var_connection_requests(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    /* counts the current request (nginx: 1 for the first request) */
    return wd_http_var_u64(r, v, r->connection->requests + 1);
}

static int
wd_http_var_server_name(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    if (r->srv_conf) {
        return wd_http_var_str(v, &((wd_http_core_srv_conf_t *) r->srv_conf)->server_name);
    }
    v->len = 0;
    return WD_OK;
}

static int
wd_http_var_pid(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_var_u64(r, v, (uint64_t) getpid());
}

/* header name matching for $http_x_y: '_' matches '-', case-insensitive */
static int
wd_http_var_name_match(const wd_str_t *hname, const wd_str_t *arg)
{
    if (hname->len != arg->len) {
        return 0;
    }
    for (size_t i = 0; i < arg->len; i++) {
        u_char a = wd_tolower(hname->data[i]), b = arg->data[i];
        if (a == '-') {
            a = '_';
        }
        if (a != b) {
            return 0;
        }
    }
    return 1;
}

static int
wd_http_var_http(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    v->len = 0;
    v->data = NULL;
    for (unsigned i = 0; i < r->headers_in.nelts; i++) {
        if (wd_http_var_name_match(&r->headers_in.elts[i].name, arg)) {
            *v = r->headers_in.elts[i].value;
            return WD_OK;
        }
    }
    return WD_OK;
}

static int
wd_http_var_sent_http(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    v->len = 0;
    v->data = NULL;
    if (arg->len == 12 && memcmp(arg->data, "content_type", 12) == 0) {
        *v = r->content_type;
        return WD_OK;
    }
    if (arg->len == 14 && memcmp(arg->data, "content_length", 14) == 0) {
        if (r->content_length_out >= 0) {
            return wd_http_var_u64(r, v, r->content_length_out);
        }
        return WD_OK;
    }
    if (arg->len == 8 && memcmp(arg->data, "location", 8) == 0) {
        *v = r->location;
        return WD_OK;
    }
    if (arg->len == 10 && memcmp(arg->data, "connection", 10) == 0) {
        if (r->header_sent) {
            wd_str_set(v, "close");
            if (r->keepalive) {
                wd_str_set(v, "keep-alive");
            }
        }
        return WD_OK;
    }
    if (arg->len == 17 && memcmp(arg->data, "transfer_encoding", 17) == 0) {
        if (r->chunked_out) {
            wd_str_set(v, "chunked");
        }
        return WD_OK;
    }
    for (unsigned i = 0; i < r->headers_out.nelts; i++) {
        if (wd_http_var_name_match(&r->headers_out.elts[i].name, arg)) {
            *v = r->headers_out.elts[i].value;
            return WD_OK;
        }
    }
    /* add_header of the location, when it applied to this response */
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    if (r->header_sent && clcf && clcf->add_headers) {
        wd_http_add_header_t *a = clcf->add_headers->elts;
        for (wd_uint_t i = 0; i < clcf->add_headers->nelts; i++) {
            if ((a[i].always || wd_http_add_header_applies(r->status))
                && wd_http_var_name_match(&a[i].name, arg))
            {
                *v = a[i].value;
                return WD_OK;
            }
        }
    }
    return WD_OK;
}

static int
wd_http_var_arg(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    u_char *p = r->args.data, *end = p ? p + r->args.len : NULL;   /* NULL + 0 is UB */

    v->len = 0;
    v->data = NULL;
    while (p && p < end) {
        u_char *amp = memchr(p, '&', end - p), *eq;
        if (amp == NULL) {
            amp = end;
        }
        eq = memchr(p, '=', amp - p);
        size_t nlen = (eq ? eq : amp) - p;
        if (nlen == arg->len && strncasecmp((char *) p, (char *) arg->data, nlen) == 0) {
            if (eq) {
                v->data = eq + 1;
                v->len = amp - eq - 1;
            } else {
                v->data = amp;
                v->len = 0;
            }
            return WD_OK;
        }
        p = amp + 1;
    }
    return WD_OK;
}

static const wd_http_variable_t wd_http_core_variables[] = {
    { wd_string("remote_addr"), wd_http_var_remote_addr, 0 },
    { wd_string("binary_remote_addr"), wd_http_var_binary_remote_addr, 0 },
    { wd_string("remote_port"), wd_http_var_remote_port, 0 },
    { wd_string("remote_user"), wd_http_var_remote_user, 0 },
    { wd_string("time_local"), wd_http_var_time_local, 0 },
    { wd_string("request"), wd_http_var_request, 0 },
    { wd_string("status"), wd_http_var_status, 0 },
    { wd_string("body_bytes_sent"), wd_http_var_body_bytes_sent, 0 },
    { wd_string("bytes_sent"), wd_http_var_bytes_sent, 0 },
    { wd_string("request_length"), wd_http_var_request_length, 0 },
    { wd_string("request_time"), wd_http_var_request_time, 0 },
    { wd_string("msec"), wd_http_var_msec, 0 },
    { wd_string("host"), wd_http_var_host, 0 },
    { wd_string("uri"), wd_http_var_uri, 0 },
    { wd_string("document_uri"), wd_http_var_uri, 0 },
    { wd_string("request_uri"), wd_http_var_request_uri, 0 },
    { wd_string("args"), wd_http_var_args, 0 },
    { wd_string("query_string"), wd_http_var_args, 0 },
    { wd_string("request_method"), wd_http_var_method, 0 },
    { wd_string("server_protocol"), wd_http_var_protocol, 0 },
    { wd_string("server_name"), wd_http_var_server_name, 0 },
    { wd_string("connection"), wd_http_var_connection, 0 },
    { wd_string("connection_requests"), wd_http_var_connection_requests, 0 },
    { wd_string("pid"), wd_http_var_pid, 0 },
    { wd_string("sent_http_"), wd_http_var_sent_http, 1 },
    { wd_string("http_"), wd_http_var_http, 1 },
    { wd_string("arg_"), wd_http_var_arg, 1 },
};

#define WD_HTTP_MAX_MODULE_VARS 256
static wd_http_variable_t wd_http_module_variables[WD_HTTP_MAX_MODULE_VARS];
static unsigned wd_http_nmodule_variables;

static const wd_http_variable_t *
wd_http_variable_find(const u_char *name, size_t len, wd_str_t *arg)
{
    unsigned i;

    for (i = 0; i < wd_http_nmodule_variables; i++) {
        const wd_http_variable_t *v = &wd_http_module_variables[i];
        if (!v->prefix && v->name.len == len && memcmp(v->name.data, name, len) == 0) {
            arg->len = 0;
            return v;
        }
    }
    for (i = 0; i < wd_nelems(wd_http_core_variables); i++) {
        const wd_http_variable_t *v = &wd_http_core_variables[i];
        if (!v->prefix && v->name.len == len && memcmp(v->name.data, name, len) == 0) {
            arg->len = 0;
            return v;
        }
    }
    for (i = 0; i < wd_http_nmodule_variables; i++) {
        const wd_http_variable_t *v = &wd_http_module_variables[i];
        if (v->prefix && len > v->name.len && memcmp(v->name.data, name, v->name.len) == 0) {
            arg->data = (u_char *) name + v->name.len;
            arg->len = len - v->name.len;
            return v;
        }
    }
    for (i = 0; i < wd_nelems(wd_http_core_variables); i++) {
        const wd_http_variable_t *v = &wd_http_core_variables[i];
        if (v->prefix && len > v->name.len && memcmp(v->name.data, name, v->name.len) == 0) {
            arg->data = (u_char *) name + v->name.len;
            arg->len = len - v->name.len;
            return v;
        }
    }
    return NULL;
}

int
wd_http_add_variable(const char *name, wd_http_variable_get_pt get, int prefix)
{
    size_t len = strlen(name);
    wd_str_t arg;
    const wd_http_variable_t *old = wd_http_variable_find((const u_char *) name, len, &arg);

    if (old && old->get == get) {
        return WD_OK;       /* registered again by a reload */
    }
    if ((old && arg.len == 0) || wd_http_nmodule_variables == WD_HTTP_MAX_MODULE_VARS) {
        return WD_ERROR;
    }
    char *copy = strdup(name);
    if (copy == NULL) {
        return WD_ERROR;
    }
    wd_http_variable_t *v = &wd_http_module_variables[wd_http_nmodule_variables++];
    v->name.data = (u_char *) copy;
    v->name.len = len;
    v->get = get;
    v->prefix = prefix == 1;
    v->named = prefix == WD_HTTP_VAR_NAMED;
    return WD_OK;
}

int
wd_http_variable_compile(wd_pool_t *pool, const u_char *name, size_t len, wd_http_var_ref_t *ref)
{
    const wd_http_variable_t *v = wd_http_variable_find(name, len, &ref->arg);

    if (v == NULL) {
        return WD_ERROR;
    }
    ref->var = v;
    if (v->named) {
        ref->arg = v->name;         /* one getter for many variables (map) */
    }
    if (v->prefix) {
        /* the argument is compared against lowercased names with '-' as '_' */
        u_char *a = wd_pnalloc(pool, ref->arg.len + 1);
        if (a == NULL) {
            return WD_ERROR;
        }
        for (size_t i = 0; i < ref->arg.len; i++) {
            a[i] = wd_tolower(ref->arg.data[i]);
            if (a[i] == '-') {
                a[i] = '_';
            }
        }
        a[ref->arg.len] = '\0';
        ref->arg.data = a;
    }
    return WD_OK;
}

int
wd_http_variable_value(wd_http_request_t *r, const wd_http_var_ref_t *ref, wd_str_t *v)
{
    v->len = 0;
    v->data = NULL;
    if (ref->var->get(r, v, &ref->arg) != WD_OK) {
        v->len = 0;
        return WD_ERROR;
    }
    if (v->data == NULL) {
        v->len = 0;
    }
    return WD_OK;
}
