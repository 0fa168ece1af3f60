/*
 * wd_http_conf.h -- http{} configuration structs and the pure routing API.
 *
 * Conf layout (nginx): http{}, each server{} and each location{} own a
 * wd_http_conf_ctx_t whose main/srv/loc arrays hold one conf struct per http
 * module (index module->ctx_index). Server and location levels share the
 * main_conf array of http{}; a location shares its server's srv_conf array.
 * After parsing, srv confs are merged http -> server and loc confs
 * http -> server -> location -> nested location (the http level itself is
 * not merged, like nginx: requests always use a server's or location's confs).
 *
 * Routing is pure (no I/O), so it is unit tested on its own:
 *   listening socket -> wd_http_addr_conf_t (servers on that address)
 *   Host header      -> wd_http_find_server()   (exact, *.wild/.wild, wild.*, ~regex, default)
 *   normalized path  -> wd_http_find_location() (=, longest prefix, ^~, regexes, nested)
 *
 * What the request code does with a location (contract for src/http):
 *   1. srv->return_code != 0: respond with it before looking at locations;
 *   2. clcf = wd_http_find_location(srv, uri): never NULL (the server's own
 *      level, kind WD_HTTP_LOC_SERVER, when no location matches);
 *   3. clcf->return_code != 0: respond with it (301/302/303/307/308 with
 *      return_text as Location; other codes with return_text as the body;
 *      when return_value != NULL the text has $variables: use
 *      wd_http_complex_value(r, return_value, &text) instead of return_text);
 *   4. else clcf->handler != NULL: call it; else 404.
 *   clcf->add_headers (inherited only if a level has none, like nginx) are
 *   added to 200/201/204/206/301/302/303/304/307/308 responses, or to every
 *   response when `always` is set.
 */
#ifndef WD_HTTP_CONF_H
#define WD_HTTP_CONF_H

#include <regex.h>
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"

struct wd_http_request_s;
#ifndef WD_HTTP_HANDLER_PT_DEFINED
#define WD_HTTP_HANDLER_PT_DEFINED
typedef int (*wd_http_handler_pt)(struct wd_http_request_s *r);
#endif

typedef struct {
    void  **main_conf;
    void  **srv_conf;
    void  **loc_conf;
} wd_http_conf_ctx_t;

#define WD_HTTP_MAIN_CONF_OFFSET  offsetof(wd_http_conf_ctx_t, main_conf)
#define WD_HTTP_SRV_CONF_OFFSET   offsetof(wd_http_conf_ctx_t, srv_conf)
#define WD_HTTP_LOC_CONF_OFFSET   offsetof(wd_http_conf_ctx_t, loc_conf)

/* while parsing (cf->ctx is the current wd_http_conf_ctx_t) */
#define wd_http_conf_get_module_main_conf(cf, module) \
    (((wd_http_conf_ctx_t *) (cf)->ctx)->main_conf[(module).ctx_index])
#define wd_http_conf_get_module_srv_conf(cf, module) \
    (((wd_http_conf_ctx_t *) (cf)->ctx)->srv_conf[(module).ctx_index])
#define wd_http_conf_get_module_loc_conf(cf, module) \
    (((wd_http_conf_ctx_t *) (cf)->ctx)->loc_conf[(module).ctx_index])
/* at run time */
#define wd_http_cycle_get_module_main_conf(cycle, module)                      \
    ((cycle)->http_ctx                                                         \
     ? ((wd_http_conf_ctx_t *) (cycle)->http_ctx)->main_conf[(module).ctx_index] \
     : NULL)
#define wd_http_srv_get_module_conf(cscf, module)  ((cscf)->ctx->srv_conf[(module).ctx_index])
#define wd_http_loc_get_module_conf(clcf, module)  ((clcf)->loc_conf[(module).ctx_index])

typedef struct wd_http_core_srv_conf_s wd_http_core_srv_conf_t;
typedef struct wd_http_core_loc_conf_s wd_http_core_loc_conf_t;

/* location kinds */
#define WD_HTTP_LOC_SERVER          0   /* not a location: the server{} level itself */
#define WD_HTTP_LOC_PREFIX          1   /* location /x */
#define WD_HTTP_LOC_EXACT           2   /* location = /x */
#define WD_HTTP_LOC_NOREGEX         3   /* location ^~ /x */
#define WD_HTTP_LOC_REGEX           4   /* location ~ re */
#define WD_HTTP_LOC_REGEX_CASELESS  5   /* location ~* re */
#define WD_HTTP_LOC_NAMED           6   /* location @name */

/* A configuration string with variables ("https://$host$request_uri", "${uri}x"),
 * compiled once against the variable registry (wd_http_variables.h). */
typedef struct {
    wd_str_t    source;     /* the text as written */
    wd_array_t *parts;      /* wd_http_cv_part_t; NULL: no variables (use source) */
} wd_http_complex_value_t;

typedef struct {
    wd_str_t                  name;
    wd_str_t                  value;
    wd_http_complex_value_t  *value_cv;  /* non-NULL when value has $variables */
    unsigned                  always:1;
} wd_http_add_header_t;

struct wd_http_core_loc_conf_s {
    wd_str_t                  name;         /* "/x", regex source, "@name"; "" for the server level */
    wd_uint_t                 kind;         /* WD_HTTP_LOC_* */
    regex_t                  *regex;
    wd_http_core_loc_conf_t  *parent;       /* enclosing location, NULL for top-level ones */
    wd_http_core_srv_conf_t  *server;
    wd_array_t               *locations;    /* nested (wd_http_core_loc_conf_t *), config order */
    void                    **loc_conf;     /* every http module's loc conf for this level */

    wd_http_handler_pt        handler;      /* content handler (set by modules; not inherited) */
    unsigned                  auto_redirect:1; /* nginx's: "/x" -> 301 "/x/" when this "/x/"
                                                  location has a proxy_pass (set by the module) */

    wd_int_t                  return_code;  /* 0: no `return` here (not inherited) */
    wd_str_t                  return_text;  /* URL for 301..308, else the body; may be empty */
    wd_http_complex_value_t  *return_value; /* non-NULL when return_text has $variables:
                                               evaluate with wd_http_complex_value() */

    wd_msec_t                 keepalive_timeout;      /* 75s; 0 disables keep-alive */
    time_t                    keepalive_header;       /* 2nd keepalive_timeout value, seconds:
                                                         send "Keep-Alive: timeout=N"; 0: none */
    wd_uint_t                 keepalive_requests;     /* 1000 */
    wd_msec_t                 client_header_timeout;  /* 60s (http, server) */
    wd_msec_t                 client_body_timeout;    /* 60s */
    wd_msec_t                 send_timeout;           /* 60s */
    off_t                     client_max_body_size;   /* 1m; 0 = unlimited */
    size_t                    client_header_buffer_size;        /* 1k (http, server) */
    wd_uint_t                 large_client_header_buffers_num;  /* 4 (http, server) */
    size_t                    large_client_header_buffers_size; /* 8k (http, server) */
    wd_array_t               *add_headers;  /* wd_http_add_header_t; NULL: none */
    wd_log_t                 *error_log;    /* http/server/location error_log; else the cycle's */

    wd_str_t                  file;         /* where it was declared (messages) */
    wd_uint_t                 line;
};

typedef struct {
    wd_str_t                  name;         /* lowercased; "*.x.com" stored as given */
    regex_t                  *regex;        /* for "~re" names */
    wd_http_core_srv_conf_t  *server;
} wd_http_server_name_t;

struct wd_http_core_srv_conf_s {
    wd_array_t                server_names;  /* wd_http_server_name_t */
    wd_str_t                  server_name;   /* the first name ("" if none), for logs */
    wd_http_conf_ctx_t       *ctx;           /* this server{}'s confs */
    wd_http_core_loc_conf_t  *loc_conf;      /* server-level loc conf (its locations hang here) */
    wd_int_t                  return_code;   /* server-level `return`: 0 if none */
    wd_str_t                  return_text;
    wd_http_complex_value_t  *return_value;  /* as in the loc conf */
    unsigned                  listen:1;      /* has a listen directive */
    wd_str_t                  file;
    wd_uint_t                 line;
};

/* The servers reachable through one listening address. */
typedef struct wd_http_addr_conf_s {
    struct sockaddr_storage   sockaddr;
    socklen_t                 socklen;
    wd_str_t                  addr_text;
    wd_http_core_srv_conf_t  *default_server;
    wd_array_t                servers;    /* wd_http_core_srv_conf_t * (config order) */
    wd_array_t                exact;      /* wd_http_server_name_t, sorted by name */
    wd_array_t                wc_head;    /* "*.x.com" / ".x.com" (name holds ".x.com") */
    wd_array_t                wc_tail;    /* "www.x.*" (name holds "www.x.") */
    wd_array_t                regex;      /* config order */
    wd_array_t               *specific;   /* wildcard socket only: wd_http_addr_conf_t * of
                                             specific addresses on the same port served by
                                             this socket (then pass getsockname() to
                                             wd_http_addr_conf); NULL otherwise */
    int                       backlog;
    unsigned                  ssl:1;
    unsigned                  reuseport:1;
    unsigned                  default_set:1;  /* default_server given explicitly */
    unsigned                  opts_set:1;     /* socket options given by some listen */
} wd_http_addr_conf_t;

typedef struct {
    wd_array_t                servers;    /* wd_http_core_srv_conf_t * */
    wd_array_t                addrs;      /* wd_http_addr_conf_t * */
    wd_array_t                listens;    /* listen directives (while parsing) */
} wd_http_core_main_conf_t;

/* Set to 1 by a TLS module (in its preconfiguration hook); until then `listen ... ssl`
 * is a configuration error rather than a plaintext socket that claims to be TLS. */
extern int wd_http_ssl_available;

extern wd_module_t wd_http_module;        /* the http{} block (core module) */
extern wd_module_t wd_http_core_module;   /* server, listen, location, ... */

/* The servers for a connection accepted on ls; local is the socket's local
 * address (getsockname) and may be NULL (only needed when one wildcard socket
 * serves several addresses; today every address has its own socket). */
const wd_http_addr_conf_t *wd_http_addr_conf(const wd_listening_t *ls,
                                             const struct sockaddr *local);

/* host: lowercased, port stripped (len 0: no Host). Never NULL: falls back
 * to the address's default server. */
wd_http_core_srv_conf_t *wd_http_find_server(const wd_http_addr_conf_t *addr,
                                             const u_char *host, size_t len);

/* path: normalized (wd_http_normalize_uri). Never NULL: the server level when
 * no location matches. nginx's rules: exact '=' wins; else the longest
 * matching prefix; if it is '^~', it wins; else regexes in config order, those
 * nested in the longest prefix first, first match wins; else the longest prefix. */
wd_http_core_loc_conf_t *wd_http_find_location(wd_http_core_srv_conf_t *srv,
                                               const u_char *path, size_t len);
/* location @name; NULL if none */
/* The same, and *redirect = 1 when the path is a location's name minus its final '/' and that
 * location has auto_redirect (nginx: a 301 to the location's name, no regex tried). */
wd_http_core_loc_conf_t *wd_http_find_location_redirect(wd_http_core_srv_conf_t *srv,
                                                        const u_char *path, size_t len,
                                                        int *redirect);
wd_http_core_loc_conf_t *wd_http_find_named_location(wd_http_core_srv_conf_t *srv,
                                                     const u_char *name, size_t len);

/* Normalizes a request target's path: drops the query (from '?'), percent-
 * decodes, merges "//", resolves "." and ".." segments. out must hold len
 * bytes. WD_OK, or WD_ERROR (-> 400) for: no leading '/', a bad %XX escape,
 * a decoded NUL, ".." above the root. */
int wd_http_normalize_uri(const u_char *in, size_t len, u_char *out, size_t *out_len);

/* Compiles a POSIX extended regex (REG_EXTENDED | cflags) after refusing patterns whose
 * compilation would explode (nested quantifiers); freed with the configuration's pool.
 * NULL after logging why. */
regex_t *wd_http_regex_compile_flags(wd_conf_t *cf, const wd_str_t *src, int cflags);

/* Compiles src ("$name" and "${name}" refer to variables; "$" not followed by a name is
 * literal) into cv. WD_OK, or WD_ERROR after logging `unknown variable "$x"` with file:line. */
int wd_http_complex_value_compile(wd_conf_t *cf, const wd_str_t *src,
                                  wd_http_complex_value_t *cv);
/* Evaluates cv for r into *out (r->pool memory, or cv->source when it has no variables).
 * WD_OK or WD_ERROR (out of memory). */
int wd_http_complex_value(struct wd_http_request_s *r, const wd_http_complex_value_t *cv,
                          wd_str_t *out);

/* Checks a Host header value and returns its lowercased host part (port and a
 * trailing dot stripped) in out (len bytes). WD_OK or WD_ERROR (-> 400). */
int wd_http_validate_host(const u_char *in, size_t len, u_char *out, size_t *out_len);

#endif /* WD_HTTP_CONF_H */
