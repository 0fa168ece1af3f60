/*
 * wd_http_limit.h -- what limit_req and limit_conn share: their zones.
 *
 * `limit_req_zone KEY zone=NAME:SIZE rate=R` and `limit_conn_zone KEY zone=NAME:SIZE`
 * declare a zone: a shared memory zone (src/core/wd_shm.h) holding a hash table
 * (wd_shm_table.h) of per-key state, used by every worker and kept across reloads when
 * NAME, SIZE and KEY stay the same (a changed KEY is refused, as nginx does). `limit_req
 * zone=NAME` / `limit_conn NAME N` may come before the zone's declaration: they refer to
 * it by name, and a name no zone directive declares is an error after parsing.
 */
#ifndef WD_HTTP_LIMIT_H
#define WD_HTTP_LIMIT_H

#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_shm.h"
#include "wd_shm_table.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

#define WD_HTTP_LIMIT_KEY_MAX  64       /* longer keys are stored as their SHA-256 */

typedef struct {
    wd_str_t                  name;
    wd_shm_zone_t            *shm;      /* NULL: referenced, not (yet) declared */
    wd_shm_table_t           *table;
    wd_http_complex_value_t   key;
    wd_uint_t                 rate;     /* limit_req: requests per 1000 s (nginx's units) */
    wd_str_t                  file;     /* first reference, for "unknown zone" */
    wd_uint_t                 line;
} wd_http_limit_zone_t;

/* The zone NAME in zones (wd_http_limit_zone_t *), added as a reference when missing. */
wd_http_limit_zone_t *wd_http_limit_zone_ref(wd_conf_t *cf, wd_array_t *zones,
                                             const wd_str_t *name);

/* Declares the zone of `args[1]` (the key) and the "zone=NAME:SIZE" argument `zarg`:
 * compiles the key, maps the memory (tag: the module), formats or checks the table for
 * values of value_size bytes. Returns the zone, or NULL after logging the error. */
wd_http_limit_zone_t *wd_http_limit_zone_declare(wd_conf_t *cf, wd_array_t *zones,
                                                 const void *tag, const wd_str_t *key,
                                                 const wd_str_t *zarg, size_t value_size);

/* After parsing: WD_ERROR (logged) when a referenced zone was never declared. */
int wd_http_limit_zones_check(wd_conf_t *cf, wd_array_t *zones, const char *directive);

/* log levels of *_log_level: info | notice | warn | error */
extern const wd_conf_enum_t wd_http_limit_log_levels[];
/* *_status: 400..599 */
extern const wd_conf_num_bounds_t wd_http_limit_status_bounds;

#endif /* WD_HTTP_LIMIT_H */
