/*
 * wd_http_static.h -- static files: what the modules of modules/static share.
 *
 *   wd_http_static_module     root, alias, types, default_type, etag, if_modified_since,
 *                             disable_symlinks, sendfile, open_file_cache*; the content
 *                             handler of every location without one (nginx's static module):
 *                             GET/HEAD of files, conditionals (304/412), Range (206,
 *                             multipart/byteranges, 416), directories -> 301 / index.
 *   wd_http_index_module      index: "/dir/" -> internal redirect to the first index file.
 *   wd_http_autoindex_module  autoindex: "/dir/" listings when no index file exists.
 *   wd_http_try_files_module  try_files: runs before the location's content handler.
 *   wd_http_expires_module    expires: Expires and Cache-Control (a header filter).
 *
 * Paths: root + $uri, or alias + ($uri minus the location prefix); the request path is
 * already normalized (wd_http_normalize_uri: no "." or ".." segments, no NUL), and
 * wd_http_static_map() refuses a mapped path whose part after the configured directory
 * has a ".." segment (alias without a trailing slash: "/img../x").  With
 * `disable_symlinks on` every component is opened with O_NOFOLLOW.
 */
#ifndef WD_HTTP_STATIC_H
#define WD_HTTP_STATIC_H

#include <sys/stat.h>
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_http_conf.h"
#include "wd_event.h"
#include "wd_http_request.h"

/* a configured path with $variables and $1..$9 regex captures of the location */
typedef struct {
    wd_str_t      source;
    wd_array_t   *parts;        /* wd_http_static_part_t; NULL: no variables */
    regex_t      *re;           /* the location's regex with captures (the core compiles
                                   locations with REG_NOSUB) */
    unsigned      captures:1;
} wd_http_static_value_t;

typedef struct {
    wd_str_t   ext;             /* lowercased */
    wd_str_t   type;
} wd_http_static_type_t;

#define WD_HTTP_IMS_OFF     0
#define WD_HTTP_IMS_EXACT   1
#define WD_HTTP_IMS_BEFORE  2

typedef struct {
    wd_http_static_value_t  *root;        /* NULL: unset (default "html") */
    unsigned                 alias;       /* root holds an alias */
    wd_str_t                 alias_name;  /* the location name the alias replaces */
    wd_array_t              *types;       /* wd_http_static_type_t; NULL: unset */
    wd_str_t                 default_type;
    wd_flag_t                etag;
    wd_uint_t                if_modified_since;
    wd_flag_t                disable_symlinks;
    wd_flag_t                sendfile;
    size_t                   sendfile_max_chunk;
    wd_flag_t                tcp_nopush;
    wd_flag_t                log_not_found;
    wd_uint_t                max_ranges;
    /* open_file_cache */
    wd_int_t                 ofc_max;     /* 0: off; WD_CONF_UNSET: inherit */
    wd_msec_t                ofc_inactive;
    wd_msec_t                ofc_valid;
    wd_uint_t                ofc_min_uses;
    wd_flag_t                ofc_errors;
} wd_http_static_loc_conf_t;

extern wd_module_t wd_http_static_module;
extern wd_module_t wd_http_index_module;
extern wd_module_t wd_http_autoindex_module;

/* The file the request maps to: path (NUL-terminated, r->pool) and where the part that
 * comes from the URI starts.  WD_OK, WD_ERROR (500), or 404 for a refused path. */
int wd_http_static_map(wd_http_request_t *r, const wd_str_t *uri, wd_str_t *path,
                       size_t *root_len);

/* a string with $variables and $1..$9 (captures of the location's regex) */
wd_http_static_value_t *wd_http_static_compile(wd_conf_t *cf, const wd_str_t *src,
                                               int prefix_relative);
int wd_http_static_eval(wd_http_request_t *r, const wd_http_static_value_t *v, int is_path,
                        wd_str_t *out);

/* $document_root-style value of root/alias for r (r->pool) */
int wd_http_static_root(wd_http_request_t *r, wd_str_t *root);

/* An opened file or directory (the open file cache's entry, or the request's own). */
typedef struct wd_http_open_file_s {
    int            fd;          /* -1 for a directory or an error */
    int            err;         /* errno of the failed open/stat; 0: fine */
    const char    *failed;      /* the call that failed ("open()", "stat()") */
    unsigned       is_dir:1;
    unsigned       is_file:1;
    off_t          size;
    time_t         mtime;
    ino_t          ino;
    uint64_t       resident_ms; /* loop time the whole file was last found in the page
                                   cache (0: never): sendfile skips its check for 1 s */
    /* cache bookkeeping */
    unsigned       cached:1;
    unsigned       refs;
    void          *entry;
} wd_http_open_file_t;

/* Opens path (NUL-terminated) honouring disable_symlinks and the location's
 * open_file_cache; the result lives until the request's pool is reset (a reference
 * is held until then; wd_http_open_file_hold() keeps it beyond, for async reads). */
int  wd_http_open_file(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                       const wd_str_t *path, wd_http_open_file_t **of);
void wd_http_open_file_hold(wd_http_open_file_t *of);
void wd_http_open_file_release(wd_http_open_file_t *of);

/* Logs a failed open like nginx and returns the status (404, 403, 500). */
int wd_http_static_open_error(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                              const wd_str_t *path, wd_http_open_file_t *of);

/* Content type for a path's extension (r->content_type). */
void wd_http_static_set_type(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                             const wd_str_t *uri);

/* index and autoindex, called by the static handler for "/dir/" URIs */
int wd_http_index_handler(wd_http_request_t *r);
int wd_http_autoindex_handler(wd_http_request_t *r, const wd_str_t *dirpath);

/* range serving (wd_http_static_range.c) */
int wd_http_static_send(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                        wd_http_open_file_t *of);

/* the gzip module: will this response be compressed (then Range is ignored)? */
int wd_http_gzip_applies(wd_http_request_t *r);

#endif /* WD_HTTP_STATIC_H */
