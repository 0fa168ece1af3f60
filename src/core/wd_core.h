/*
 * wd_core.h -- what every server source file includes first.
 *
 * Common system headers, the return codes (one meaning each, nginx style),
 * counted strings (wd_str_t), memory pools by lifetime (a config generation,
 * a connection, a request each own one pool and free everything at once),
 * and two containers that allocate from a pool: a growable array and a list
 * of chunks whose elements never move (safe to keep pointers to).
 *
 * Ownership: nothing allocated from a pool is freed individually (except
 * "large" blocks via wd_pfree); destroying the pool runs its cleanup handlers
 * in reverse registration order, then frees every block.
 */
#ifndef WD_CORE_H
#define WD_CORE_H

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <limits.h>

#define WD_VERSION      "0.1.0"
#define WD_VER          "wasmd/" WD_VERSION
#define WD_NAME         "wasmd"

/* return codes */
#define WD_OK           0
#define WD_ERROR       -1
#define WD_AGAIN       -2
#define WD_BUSY        -3
#define WD_DONE        -4
#define WD_DECLINED    -5
#define WD_ABORT       -6

typedef intptr_t  wd_int_t;
typedef uintptr_t wd_uint_t;
typedef intptr_t  wd_flag_t;      /* 0, 1 or WD_CONF_UNSET */
typedef int64_t   wd_msec_t;      /* milliseconds */

typedef struct wd_pool_s    wd_pool_t;
typedef struct wd_log_s     wd_log_t;
typedef struct wd_cycle_s   wd_cycle_t;
typedef struct wd_conf_s    wd_conf_t;
typedef struct wd_module_s  wd_module_t;
typedef struct wd_command_s wd_command_t;

#define WD_ALIGNMENT    16
#define wd_align(d, a)  (((d) + ((a) - 1)) & ~((uintptr_t) (a) - 1))
#define wd_nelems(a)    (sizeof(a) / sizeof((a)[0]))
#define wd_min(a, b)    ((a) < (b) ? (a) : (b))
#define wd_max(a, b)    ((a) > (b) ? (a) : (b))

/* ---- counted strings (data need not be NUL-terminated) ---- */
typedef struct {
    size_t   len;
    u_char  *data;
} wd_str_t;

#define wd_string(s)      { sizeof(s) - 1, (u_char *) (s) }
#define wd_null_string    { 0, NULL }
#define wd_str_set(str, text) \
    do { (str)->len = sizeof(text) - 1; (str)->data = (u_char *) (text); } while (0)
#define wd_str_null(str)  do { (str)->len = 0; (str)->data = NULL; } while (0)
#define wd_tolower(c)     (u_char) (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))
#define wd_toupper(c)     (u_char) (((c) >= 'a' && (c) <= 'z') ? ((c) & ~0x20) : (c))
/* printf helper: printf("%.*s", wd_str_pf(&s)) */
#define wd_str_pf(s)      (int) (s)->len, (const char *) (s)->data

static inline int
wd_str_eq(const wd_str_t *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->len == n && memcmp(s->data, lit, n) == 0;
}

static inline int
wd_str_caseeq(const wd_str_t *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->len == n && strncasecmp((const char *) s->data, lit, n) == 0;
}

void wd_strlow(u_char *dst, const u_char *src, size_t n);

/* Decimal parsing: non-negative numbers only; WD_ERROR on bad input or overflow. */
wd_int_t wd_atoi(const u_char *line, size_t n);
/* "1024", "8k", "1m", "2g" -> bytes; WD_ERROR on bad input or overflow. */
ssize_t  wd_parse_size(const wd_str_t *line);
off_t    wd_parse_offset(const wd_str_t *line);
/* "500ms", "30s", "1m30s", "2h", "1d", "10" (seconds) -> milliseconds if !is_sec,
 * else seconds ("ms" units then invalid); WD_ERROR on bad input or overflow. */
wd_int_t wd_parse_time(const wd_str_t *line, int is_sec);

/* ---- memory pools ---- */
typedef void (*wd_pool_cleanup_pt)(void *data);

typedef struct wd_pool_cleanup_s {
    wd_pool_cleanup_pt          handler;
    void                       *data;
    struct wd_pool_cleanup_s   *next;
} wd_pool_cleanup_t;

#define WD_POOL_DEFAULT_SIZE  (16 * 1024)

/* size: bytes per block (allocations bigger than a quarter block get their own malloc). */
wd_pool_t *wd_pool_create(size_t size);
void       wd_pool_destroy(wd_pool_t *pool);       /* NULL is fine */
void       wd_pool_reset(wd_pool_t *pool);         /* runs cleanups, keeps the first block */
void      *wd_palloc(wd_pool_t *pool, size_t size);   /* WD_ALIGNMENT-aligned */
void      *wd_pnalloc(wd_pool_t *pool, size_t size);  /* unaligned (strings) */
void      *wd_pcalloc(wd_pool_t *pool, size_t size);
int        wd_pfree(wd_pool_t *pool, void *p);     /* large blocks only; WD_DECLINED otherwise */
wd_pool_cleanup_t *wd_pool_cleanup_add(wd_pool_t *pool, size_t data_size);
/* NUL-terminated copies */
u_char    *wd_pstrdup(wd_pool_t *pool, const wd_str_t *src);
char      *wd_pstrdup_c(wd_pool_t *pool, const char *src);
int        wd_pstr_copy(wd_pool_t *pool, wd_str_t *dst, const u_char *data, size_t len);
/* total bytes the pool holds (for tests and stats) */
size_t     wd_pool_size(wd_pool_t *pool);

/* ---- growable array ---- */
typedef struct {
    void       *elts;
    wd_uint_t   nelts;
    size_t      size;
    wd_uint_t   nalloc;
    wd_pool_t  *pool;
} wd_array_t;

wd_array_t *wd_array_create(wd_pool_t *p, wd_uint_t n, size_t size);
int         wd_array_init(wd_array_t *a, wd_pool_t *p, wd_uint_t n, size_t size);
void       *wd_array_push(wd_array_t *a);
void       *wd_array_push_n(wd_array_t *a, wd_uint_t n);

/* ---- list of chunks (elements never move) ---- */
typedef struct wd_list_part_s {
    void                   *elts;
    wd_uint_t               nelts;
    struct wd_list_part_s  *next;
} wd_list_part_t;

typedef struct {
    wd_list_part_t *last;
    wd_list_part_t  part;
    size_t          size;
    wd_uint_t       nalloc;
    wd_pool_t      *pool;
} wd_list_t;

wd_list_t *wd_list_create(wd_pool_t *p, wd_uint_t n, size_t size);
int        wd_list_init(wd_list_t *l, wd_pool_t *p, wd_uint_t n, size_t size);
void      *wd_list_push(wd_list_t *l);

#endif /* WD_CORE_H */
