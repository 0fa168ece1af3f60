/*
 * wd_http_static_open.c -- opening the files static locations serve, and nginx's open file
 * cache.
 *
 *   open_file_cache off | max=N [inactive=time];   http, server, location   off
 *   open_file_cache_valid time;                    60s
 *   open_file_cache_min_uses N;                    1
 *   open_file_cache_errors on|off;                 off
 *
 * Every request holds a reference on the wd_http_open_file_t it uses (released when its
 * pool is reset); an asynchronous reader takes one more (wd_http_open_file_hold) so the
 * descriptor outlives a client that went away while a thread-pool read is in flight.
 *
 * The cache is per worker, one per configuration level that has an open_file_cache
 * directive (levels without one inherit it).  A hit within open_file_cache_valid costs no
 * system call; after that the entry is checked with one stat() (same inode, size and mtime:
 * kept).  Entries unused for `inactive` are closed (checked from the LRU end on every
 * lookup); beyond `max` the least recently used one goes.  Errors (ENOENT, EACCES...) are
 * cached only with open_file_cache_errors on.
 *
 * disable_symlinks on: the path is opened component by component from "/", each with
 * O_NOFOLLOW (intermediate ones O_PATH|O_DIRECTORY): a symlinked file -> ELOOP -> 403, a
 * symlinked directory on the way -> ENOTDIR -> 404, as nginx answers.
 */
#include <fcntl.h>
#include "wd_http_static.h"

typedef struct wd_http_ofc_entry_s wd_http_ofc_entry_t;

struct wd_http_ofc_entry_s {
    wd_http_ofc_entry_t  *hnext;        /* hash chain */
    wd_http_ofc_entry_t  *prev, *next;  /* LRU list: head = most recent */
    uint32_t              hash;
    unsigned              nofollow:1;
    wd_msec_t             created;      /* last validated */
    wd_msec_t             accessed;
    wd_uint_t             uses;
    wd_http_open_file_t  *of;
    size_t                len;
    char                  path[];
};

typedef struct {
    wd_uint_t             max;
    wd_msec_t             inactive;
    wd_uint_t             n;
    wd_uint_t             nbuckets;
    wd_http_ofc_entry_t **buckets;      /* allocated in the worker at first use */
    wd_http_ofc_entry_t  *head, *tail;
} wd_http_ofc_t;

/* one wd_http_ofc_t per open_file_cache directive of the configuration; a loc conf keeps
 * its slot + 1 in the high 32 bits of ofc_max (the low bits hold max).  The table is
 * refilled from slot 0 for each configuration the master parses (workers are forked after
 * it, the master never fills a cache). */
#define WD_OFC_MAX 256
static wd_http_ofc_t wd_http_ofcs[WD_OFC_MAX];
static wd_uint_t wd_http_nofcs;

void
wd_http_static_open_file_cache_reset(void)
{
    wd_http_nofcs = 0;
}

char *
wd_http_static_open_file_cache(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_static_loc_conf_t *slcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_int_t max = -1;
    wd_msec_t inactive = 60000;
    wd_uint_t i;

    if (slcf->ofc_max != WD_CONF_UNSET) {
        return "is duplicate";
    }
    for (i = 1; i < cf->args->nelts; i++) {
        if (args[i].len > 4 && memcmp(args[i].data, "max=", 4) == 0) {
            max = wd_atoi(args[i].data + 4, args[i].len - 4);
            if (max <= 0) {
                return wd_conf_invalid_value(cf, &args[i]);
            }
        } else if (args[i].len > 9 && memcmp(args[i].data, "inactive=", 9) == 0) {
            wd_str_t t = { args[i].len - 9, args[i].data + 9 };
            wd_int_t ms = wd_parse_time(&t, 0);
            if (ms == WD_ERROR) {
                return wd_conf_invalid_value(cf, &args[i]);
            }
            inactive = ms;
        } else if (wd_str_eq(&args[i], "off") && cf->args->nelts == 2) {
            slcf->ofc_max = 0;
            return WD_CONF_OK;
        } else {
            return wd_conf_invalid_value(cf, &args[i]);
        }
    }
    if (max <= 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                          "\"open_file_cache\" must have the \"max\" parameter");
        return WD_CONF_ERROR;
    }
    if (wd_http_nofcs == WD_OFC_MAX) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "too many \"open_file_cache\" directives");
        return WD_CONF_ERROR;
    }
    /* ofc_max keeps the maximum; the cache object is found by slot (stored in the high
     * bits: max fits 32 bits) */
    if (max > 0x7fffffff) {
        max = 0x7fffffff;
    }
    slcf->ofc_max = ((wd_int_t) (wd_http_nofcs + 1) << 32) | max;
    slcf->ofc_inactive = inactive;
    wd_http_nofcs++;
    return WD_CONF_OK;
}

static wd_http_ofc_t *
wd_http_ofc_get(wd_http_static_loc_conf_t *slcf)
{
    wd_uint_t slot = (wd_uint_t) (slcf->ofc_max >> 32);
    wd_http_ofc_t *c;

    if (slot == 0 || slot > WD_OFC_MAX) {
        return NULL;
    }
    c = &wd_http_ofcs[slot - 1];
    if (c->buckets == NULL) {
        c->max = (wd_uint_t) (slcf->ofc_max & 0x7fffffff);
        c->inactive = slcf->ofc_inactive;
        c->nbuckets = 64;
        while (c->nbuckets < c->max && c->nbuckets < (1u << 20)) {
            c->nbuckets <<= 1;
        }
        c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
        if (c->buckets == NULL) {
            return NULL;
        }
    }
    return c;
}

/* ---- reference counting ---- */

static void
wd_http_of_free(wd_http_open_file_t *of)
{
    if (of->fd >= 0) {
        close(of->fd);
    }
    free(of);
}

void
wd_http_open_file_hold(wd_http_open_file_t *of)
{
    of->refs++;
}

void
wd_http_open_file_release(wd_http_open_file_t *of)
{
    if (--of->refs == 0 && !of->cached) {
        wd_http_of_free(of);
    }
}

static void
wd_http_of_cleanup(void *data)
{
    wd_http_open_file_release(*(wd_http_open_file_t **) data);
}

/* ---- opening ---- */

static int
wd_http_open_nofollow(const char *path)
{
    int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
    const char *p = path, *seg;
    char name[256];

    if (dfd < 0) {
        return -1;
    }
    while (*p == '/') {
        p++;
    }
    for (;;) {
        size_t len;
        seg = p;
        while (*p && *p != '/') {
            p++;
        }
        len = p - seg;
        while (*p == '/') {
            p++;
        }
        if (len >= sizeof(name)) {
            close(dfd);
            errno = ENAMETOOLONG;
            return -1;
        }
        if (len == 0) {             /* "/" itself */
            return dfd;
        }
        memcpy(name, seg, len);
        name[len] = '\0';
        if (*p == '\0') {
            fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 && errno == EISDIR) {
                fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
        } else {
            fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        close(dfd);
        if (fd < 0) {
            errno = e;
            return -1;
        }
        if (*p == '\0') {
            return fd;
        }
        dfd = fd;
    }
}

/* Fills of from path: an open descriptor for regular files, is_dir for directories. */
static void
wd_http_of_open(wd_http_open_file_t *of, const char *path, int nofollow)
{
    struct stat st;
    int fd;

    of->fd = -1;
    of->err = 0;
    of->failed = NULL;
    fd = nofollow ? wd_http_open_nofollow(path)
                  : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && !nofollow && errno == EACCES) {
        /* a directory without read permission can still be a directory */
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            of->is_dir = 1;
            of->mtime = st.st_mtime;
            of->ino = st.st_ino;
            return;
        }
        errno = EACCES;
    }
    if (fd < 0) {
        of->err = errno;
        of->failed = "open()";
        return;
    }
    if (fstat(fd, &st) != 0) {
        of->err = errno;
        of->failed = "fstat()";
        close(fd);
        return;
    }
    of->is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    of->is_file = S_ISREG(st.st_mode) ? 1 : 0;
    of->size = st.st_size;
    of->mtime = st.st_mtime;
    of->ino = st.st_ino;
    if (of->is_file) {
        of->fd = fd;
    } else {
        close(fd);
    }
}

static uint32_t
wd_http_ofc_hash(const u_char *p, size_t len, int nofollow)
{
    uint32_t h = 2166136261u ^ (uint32_t) nofollow;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

static void
wd_http_ofc_unlink(wd_http_ofc_t *c, wd_http_ofc_entry_t *e)
{
    wd_http_ofc_entry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    c->n--;
}

static void
wd_http_ofc_evict(wd_http_ofc_t *c, wd_http_ofc_entry_t *e)
{
    wd_http_ofc_unlink(c, e);
    e->of->cached = 0;
    if (e->of->refs == 0) {
        wd_http_of_free(e->of);
    }
    free(e);
}

static void
wd_http_ofc_to_front(wd_http_ofc_t *c, wd_http_ofc_entry_t *e)
{
    if (c->head == e) {
        return;
    }
    e->prev->next = e->next;
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = NULL;
    e->next = c->head;
    c->head->prev = e;
    c->head = e;
}

static wd_http_open_file_t *
wd_http_ofc_lookup(wd_http_ofc_t *c, wd_http_static_loc_conf_t *slcf, const wd_str_t *path,
                   int nofollow)
{
    wd_msec_t now = (wd_msec_t) wd_event_now();
    uint32_t h = wd_http_ofc_hash(path->data, path->len, nofollow);
    wd_http_ofc_entry_t *e;
    wd_http_open_file_t *of;
    int n;

    /* close what has been inactive too long (a few per lookup) */
    for (n = 0; n < 4 && c->tail && now - c->tail->accessed > c->inactive; n++) {
        wd_http_ofc_evict(c, c->tail);
    }

    for (e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext) {
        if (e->hash == h && e->len == path->len && e->nofollow == (unsigned) nofollow
            && memcmp(e->path, path->data, path->len) == 0)
        {
            break;
        }
    }
    if (e) {
        e->accessed = now;
        e->uses++;
        wd_http_ofc_to_front(c, e);
        if (now - e->created < slcf->ofc_valid) {
            return e->of;
        }
        /* revalidate */
        struct stat st;
        if (e->of->err == 0 && stat((const char *) path->data, &st) == 0
            && st.st_ino == e->of->ino && st.st_mtime == e->of->mtime
            && (e->of->is_dir || st.st_size == e->of->size) && !nofollow)
        {
            e->created = now;
            return e->of;
        }
        wd_http_ofc_evict(c, e);
    }

    of = calloc(1, sizeof(*of));
    if (of == NULL) {
        return NULL;
    }
    wd_http_of_open(of, (const char *) path->data, nofollow);
    if (of->err && !slcf->ofc_errors) {
        return of;          /* errors are cached only with open_file_cache_errors on */
    }
    e = malloc(sizeof(*e) + path->len + 1);
    if (e == NULL) {
        return of;
    }
    while (c->n >= c->max && c->tail) {
        wd_http_ofc_evict(c, c->tail);
    }
    memcpy(e->path, path->data, path->len);
    e->path[path->len] = '\0';
    e->len = path->len;
    e->hash = h;
    e->nofollow = nofollow;
    e->created = e->accessed = now;
    e->uses = 1;
    e->of = of;
    of->cached = 1;
    of->entry = e;
    e->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    e->prev = NULL;
    e->next = c->head;
    if (c->head) {
        c->head->prev = e;
    } else {
        c->tail = e;
    }
    c->head = e;
    c->n++;
    return of;
}

int
wd_http_open_file(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf, const wd_str_t *path,
                  wd_http_open_file_t **out)
{
    wd_http_open_file_t *of = NULL;
    wd_pool_cleanup_t *cln;
    wd_http_ofc_t *c;

    cln = wd_pool_cleanup_add(r->pool, sizeof(wd_http_open_file_t *));
    if (cln == NULL) {
        return WD_ERROR;
    }
    if (slcf->ofc_max > 0 && (c = wd_http_ofc_get(slcf)) != NULL) {
        of = wd_http_ofc_lookup(c, slcf, path, (int) slcf->disable_symlinks);
    } else {
        of = calloc(1, sizeof(*of));
        if (of) {
            wd_http_of_open(of, (const char *) path->data, (int) slcf->disable_symlinks);
        }
    }
    if (of == NULL) {
        return WD_ERROR;
    }
    of->refs++;
    *(wd_http_open_file_t **) cln->data = of;
    cln->handler = wd_http_of_cleanup;
    *out = of;
    return WD_OK;
}
