/*
 * wd_cycle.c -- building, opening and freeing a configuration generation.
 *
 * wd_cycle_init: resolve prefix and file names, create every module's core
 * conf, parse (the http{} block handler builds the whole http tree, merges it
 * and declares the listening sockets), run init_core_conf, clone reuseport
 * sockets per worker, then open the log files. Nothing is bound here, so
 * `wasmd -t` and `-s` never touch the network.
 *
 * wd_cycle_open_listening: two phases so that a failure leaves the old cycle
 * intact: first open every socket that has no twin in the old cycle; only
 * when all succeeded, take over the twins' fds.
 */
#include "wd_cycle.h"
#include "wd_process.h"
#include <sys/un.h>
#include <netinet/tcp.h>

wd_cycle_t *wd_cycle;
int         wd_cycle_keep_config;
const char *wd_cycle_conf_param;
wd_paths_t  wd_paths = {
    WD_PREFIX, WD_DEFAULT_CONF_PATH, WD_DEFAULT_PID_PATH, NULL, "logs/access.log"
};

static void
wd_cycle_error(wd_cycle_t *cycle, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
wd_cycle_error(wd_cycle_t *cycle, int err, const char *fmt, ...)
{
    char msg[WD_MAX_ERROR_STR];
    size_t len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    len = n < 0 ? 0 : wd_min((size_t) n, sizeof(msg) - 1);
    if (err) {
        snprintf(msg + len, sizeof(msg) - len, " (%d: %s)", err, strerror(err));
    }
    wd_conf_record_error(msg);
    wd_log_error(WD_LOG_EMERG, cycle->log, 0, "%s", msg);
}

static int
wd_cycle_set_prefix(wd_cycle_t *cycle, const char *prefix)
{
    char cwd[PATH_MAX];
    const char *p = prefix ? prefix : wd_paths.prefix;
    size_t len = strlen(p), clen = 0;
    u_char *d;

    if (len == 0 || p[0] != '/') {
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            wd_cycle_error(cycle, errno, "getcwd() failed");
            return WD_ERROR;
        }
        clen = strlen(cwd);
    }
    d = wd_pnalloc(cycle->pool, clen + 1 + len + 2);
    if (d == NULL) {
        return WD_ERROR;
    }
    cycle->prefix.data = d;
    if (clen) {
        memcpy(d, cwd, clen);
        d += clen;
        if (d[-1] != '/') {
            *d++ = '/';
        }
    }
    memcpy(d, p, len);
    d += len;
    if (d > cycle->prefix.data && d[-1] != '/') {
        *d++ = '/';
    }
    *d = '\0';
    cycle->prefix.len = d - cycle->prefix.data;
    return WD_OK;
}

static wd_cycle_t *
wd_cycle_create(const char *conf_file, const char *conf_name, const char *prefix)
{
    wd_pool_t *pool;
    wd_cycle_t *cycle;
    u_char *slash;
    wd_uint_t i;

    wd_modules_init();
    pool = wd_pool_create(WD_POOL_DEFAULT_SIZE);
    if (pool == NULL) {
        return NULL;
    }
    cycle = wd_pcalloc(pool, sizeof(wd_cycle_t));
    if (cycle == NULL) {
        wd_pool_destroy(pool);
        return NULL;
    }
    cycle->pool = pool;
    cycle->log = wd_cycle ? wd_cycle->log : wd_log_startup();
    cycle->generation = wd_cycle ? wd_cycle->generation + 1 : 1;

    if (wd_array_init(&cycle->listening, pool, 4, sizeof(wd_listening_t)) != WD_OK
        || wd_array_init(&cycle->open_files, pool, 4, sizeof(wd_open_file_t *)) != WD_OK
        || wd_cycle_set_prefix(cycle, prefix) != WD_OK)
    {
        wd_pool_destroy(pool);
        return NULL;
    }

    if (conf_file) {
        cycle->conf_file.data = (u_char *) conf_file;
        cycle->conf_file.len = strlen(conf_file);
    } else if (conf_name) {
        cycle->conf_file.data = (u_char *) conf_name;
        cycle->conf_file.len = strlen(conf_name);
    } else {
        cycle->conf_file.data = (u_char *) wd_paths.conf;
        cycle->conf_file.len = strlen(wd_paths.conf);
    }
    /* -c relative to the prefix, like nginx */
    if (wd_conf_full_name(cycle, &cycle->conf_file, 0) != WD_OK) {
        wd_pool_destroy(pool);
        return NULL;
    }
    slash = (u_char *) strrchr((const char *) cycle->conf_file.data, '/');
    cycle->conf_prefix.data = cycle->conf_file.data;
    cycle->conf_prefix.len = slash - cycle->conf_file.data + 1;

    if (wd_cycle_keep_config) {
        cycle->config_dump = wd_array_create(pool, 4, sizeof(wd_conf_dump_t));
        if (cycle->config_dump == NULL) {
            wd_pool_destroy(pool);
            return NULL;
        }
    }
    cycle->conf_ctx = wd_pcalloc(pool, wd_modules_n * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        wd_pool_destroy(pool);
        return NULL;
    }
    for (i = 0; wd_modules[i]; i++) {
        if (wd_modules[i]->ctx && wd_modules[i]->ctx->create_core_conf) {
            cycle->conf_ctx[i] = wd_modules[i]->ctx->create_core_conf(cycle);
            if (cycle->conf_ctx[i] == NULL) {
                wd_pool_destroy(pool);
                return NULL;
            }
        }
    }
    return cycle;
}

/* A reuseport address gets one socket per worker (kernel load balancing). */
static int
wd_cycle_clone_reuseport(wd_cycle_t *cycle)
{
    wd_uint_t i, n = cycle->listening.nelts;
    wd_int_t w, workers = cycle->master_process ? cycle->worker_processes : 1;
    wd_listening_t *ls, *c;

    for (i = 0; i < n; i++) {
        ls = (wd_listening_t *) cycle->listening.elts + i;
        if (!ls->reuseport || ls->worker != -1) {
            continue;
        }
        ls->worker = 0;
        for (w = 1; w < workers; w++) {
            c = wd_array_push(&cycle->listening);
            if (c == NULL) {
                return WD_ERROR;
            }
            ls = (wd_listening_t *) cycle->listening.elts + i;   /* may have moved */
            *c = *ls;
            c->worker = (int) w;
        }
    }
    return WD_OK;
}

/* Creates <prefix>logs/ when a file under it is opened and it is missing
 * (documented in README: the default error log and pid file live there). */
static void
wd_cycle_maybe_create_logs_dir(wd_cycle_t *cycle, const char *path)
{
    size_t plen = cycle->prefix.len;
    char dir[PATH_MAX];

    if (strncmp(path, (const char *) cycle->prefix.data, plen) != 0
        || strncmp(path + plen, "logs/", 5) != 0 || strchr(path + plen + 5, '/') != NULL
        || plen + 5 >= sizeof(dir))
    {
        return;
    }
    memcpy(dir, path, plen + 4);
    dir[plen + 4] = '\0';
    (void) mkdir(dir, 0755);
}

static int
wd_cycle_open_files(wd_cycle_t *cycle)
{
    wd_open_file_t **files = cycle->open_files.elts;
    wd_uint_t i;
    int fd;

    for (i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->fd != -1) {
            continue;
        }
        fd = open((const char *) files[i]->name.data,
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ENOENT) {
            wd_cycle_maybe_create_logs_dir(cycle, (const char *) files[i]->name.data);
            fd = open((const char *) files[i]->name.data,
                      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        }
        if (fd < 0) {
            wd_cycle_error(cycle, errno, "open() \"%.*s\" failed",
                           wd_str_pf(&files[i]->name));
            return WD_ERROR;
        }
        files[i]->fd = fd;
    }
    return WD_OK;
}

static void
wd_cycle_close_files(wd_cycle_t *cycle)
{
    wd_open_file_t **files = cycle->open_files.elts;
    wd_uint_t i;

    for (i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->fd > STDERR_FILENO) {
            close(files[i]->fd);
        }
        files[i]->fd = -1;
    }
}

static wd_cycle_t *
wd_cycle_finish(wd_cycle_t *cycle, wd_conf_t *cf, char *rv, char **err)
{
    wd_uint_t i;
    char *r;
    static char errbuf[WD_MAX_ERROR_STR];

    if (rv != WD_CONF_OK) {
        goto failed;
    }
    for (i = 0; wd_modules[i]; i++) {
        if (wd_modules[i]->ctx && wd_modules[i]->ctx->init_core_conf) {
            r = wd_modules[i]->ctx->init_core_conf(cycle, cycle->conf_ctx[i]);
            if (r != WD_CONF_OK) {
                if (r != WD_CONF_ERROR) {
                    wd_cycle_error(cycle, 0, "%s in %.*s", r, wd_str_pf(&cycle->conf_file));
                }
                goto failed;
            }
        }
    }
    if (wd_cycle_clone_reuseport(cycle) != WD_OK) {
        goto failed;
    }
    if (cycle->error_log_conf == NULL) {
        /* default: stderr, in the file format (documented), or the configured path */
        wd_str_t name = wd_string("stderr");
        if (wd_paths.error_log != NULL) {
            name.data = (u_char *) wd_paths.error_log;
            name.len = strlen(wd_paths.error_log);
        }
        cycle->new_log.level = WD_LOG_ERR;
        cycle->new_log.file = wd_cycle_open_file(cycle, &name);
        if (cycle->new_log.file == NULL) {
            goto failed;
        }
    } else {
        cycle->new_log = *cycle->error_log_conf;
    }
    if (wd_cycle_open_files(cycle) != WD_OK) {
        goto failed;
    }
    cycle->log = &cycle->new_log;
    if (cf->temp_pool) {
        wd_pool_destroy(cf->temp_pool);
    }
    return cycle;

failed:
    if (err) {
        snprintf(errbuf, sizeof(errbuf), "%s", wd_conf_last_error());
        *err = errbuf;
    }
    if (cf->temp_pool) {
        wd_pool_destroy(cf->temp_pool);
    }
    wd_cycle_close_files(cycle);
    /* modules may have registered pool cleanups (regexes): run them */
    wd_pool_destroy(cycle->pool);
    return NULL;
}

static int
wd_cycle_conf_init(wd_cycle_t *cycle, wd_conf_t *cf)
{
    memset(cf, 0, sizeof(*cf));
    cf->cycle = cycle;
    cf->pool = cycle->pool;
    cf->log = cycle->log;
    cf->cmd_type = WD_MAIN_CONF;
    cf->temp_pool = wd_pool_create(WD_POOL_DEFAULT_SIZE);
    cf->args = cf->temp_pool ? wd_array_create(cf->temp_pool, 10, sizeof(wd_str_t)) : NULL;
    return cf->args ? WD_OK : WD_ERROR;
}

wd_cycle_t *
wd_cycle_init(const char *conf_file, const char *prefix, char **err)
{
    wd_cycle_t *cycle;
    wd_conf_t cf;

    wd_conf_clear_error();
    cycle = wd_cycle_create(conf_file, NULL, prefix);
    if (cycle == NULL) {
        if (err) {
            *err = (char *) (wd_conf_last_error()[0] ? wd_conf_last_error() : "out of memory");
        }
        return NULL;
    }
    if (wd_cycle_conf_init(cycle, &cf) != WD_OK) {
        return wd_cycle_finish(cycle, &cf, WD_CONF_ERROR, err);
    }
    if (wd_cycle_conf_param) {
        /* -g "directives": parsed before the file, like nginx */
        char *rv = wd_conf_parse_buffer(&cf, WD_CONF_PARAM_NAME,
                                        (const u_char *) wd_cycle_conf_param,
                                        strlen(wd_cycle_conf_param));
        if (rv != WD_CONF_OK) {
            return wd_cycle_finish(cycle, &cf, rv, err);
        }
    }
    return wd_cycle_finish(cycle, &cf, wd_conf_parse(&cf, &cycle->conf_file), err);
}

wd_cycle_t *
wd_cycle_init_buffer(const char *conf_text, const char *conf_name, const char *prefix, char **err)
{
    wd_cycle_t *cycle;
    wd_conf_t cf;

    wd_conf_clear_error();
    cycle = wd_cycle_create(NULL, conf_name, prefix);
    if (cycle == NULL) {
        if (err) {
            *err = "out of memory";
        }
        return NULL;
    }
    if (wd_cycle_conf_init(cycle, &cf) != WD_OK) {
        return wd_cycle_finish(cycle, &cf, WD_CONF_ERROR, err);
    }
    return wd_cycle_finish(cycle, &cf,
                           wd_conf_parse_buffer(&cf, (const char *) cycle->conf_file.data,
                                                (const u_char *) conf_text, strlen(conf_text)),
                           err);
}

wd_open_file_t *
wd_cycle_open_file(wd_cycle_t *cycle, const wd_str_t *name)
{
    wd_open_file_t **files, *f, **slot;
    wd_str_t full = *name;
    wd_uint_t i;

    if (!wd_str_eq(name, "stderr")) {
        if (wd_conf_full_name(cycle, &full, 0) != WD_OK) {
            return NULL;
        }
    }
    files = cycle->open_files.elts;
    for (i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->name.len == full.len
            && memcmp(files[i]->name.data, full.data, full.len) == 0)
        {
            return files[i];
        }
    }
    f = wd_pcalloc(cycle->pool, sizeof(wd_open_file_t));
    slot = wd_array_push(&cycle->open_files);
    if (f == NULL || slot == NULL) {
        return NULL;
    }
    if (wd_str_eq(&full, "stderr")) {
        f->fd = STDERR_FILENO;
        wd_str_set(&f->name, "stderr");
    } else {
        f->fd = -1;
        if (wd_pstr_copy(cycle->pool, &f->name, full.data, full.len) != WD_OK) {
            return NULL;
        }
    }
    *slot = f;
    return f;
}

int
wd_cycle_reopen_files(wd_cycle_t *cycle)
{
    wd_open_file_t **files = cycle->open_files.elts;
    wd_uint_t i;
    int fd, rc = WD_OK;

    for (i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->fd <= STDERR_FILENO) {
            continue;
        }
        fd = open((const char *) files[i]->name.data,
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "open() \"%.*s\" failed",
                         wd_str_pf(&files[i]->name));
            rc = WD_ERROR;
            continue;
        }
        if (wd_log_files_owner != (uid_t) -1 && geteuid() == 0) {
            /* the master, for unprivileged workers that reopen the file by name next */
            struct stat st;
            if (fstat(fd, &st) == 0) {
                if (st.st_uid != wd_log_files_owner
                    && fchown(fd, wd_log_files_owner, (gid_t) -1) < 0)
                {
                    wd_log_error(WD_LOG_ALERT, cycle->log, errno, "fchown() \"%.*s\" failed",
                                 wd_str_pf(&files[i]->name));
                }
                if ((st.st_mode & (S_IRUSR | S_IWUSR)) != (S_IRUSR | S_IWUSR)
                    && fchmod(fd, st.st_mode | S_IRUSR | S_IWUSR) < 0)
                {
                    wd_log_error(WD_LOG_ALERT, cycle->log, errno, "fchmod() \"%.*s\" failed",
                                 wd_str_pf(&files[i]->name));
                }
            }
        }
        /* keep the fd number: copies of it stay valid */
        if (dup3(fd, files[i]->fd, O_CLOEXEC) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "dup2() \"%.*s\" failed",
                         wd_str_pf(&files[i]->name));
            rc = WD_ERROR;
        }
        close(fd);
    }
    return rc;
}

/* ---- listening sockets ---- */

static int
wd_listening_same(const wd_listening_t *a, const wd_listening_t *b)
{
    return a->socklen == b->socklen && a->worker == b->worker && a->reuseport == b->reuseport
           && memcmp(&a->sockaddr, &b->sockaddr, a->socklen) == 0;
}

static wd_listening_t *
wd_listening_twin(wd_listening_t *ls, wd_cycle_t *old)
{
    wd_listening_t *o;
    wd_uint_t i;

    if (old == NULL) {
        return NULL;
    }
    o = old->listening.elts;
    for (i = 0; i < old->listening.nelts; i++) {
        if (o[i].fd != -1 && wd_listening_same(ls, &o[i])) {
            return &o[i];
        }
    }
    return NULL;
}

static int
wd_listening_open_one(wd_cycle_t *cycle, wd_listening_t *ls)
{
    int fd, on = 1;

    fd = socket(ls->sockaddr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        wd_cycle_error(cycle, errno, "socket() %.*s failed", wd_str_pf(&ls->addr_text));
        return WD_ERROR;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
        wd_cycle_error(cycle, errno, "setsockopt(SO_REUSEADDR) %.*s failed",
                       wd_str_pf(&ls->addr_text));
        close(fd);
        return WD_ERROR;
    }
    if (ls->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) {
        wd_cycle_error(cycle, errno, "setsockopt(SO_REUSEPORT) %.*s failed",
                       wd_str_pf(&ls->addr_text));
        close(fd);
        return WD_ERROR;
    }
    if (ls->sockaddr.ss_family == AF_INET6) {
        int v6only = 1;
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (bind(fd, (struct sockaddr *) &ls->sockaddr, ls->socklen) < 0) {
        wd_cycle_error(cycle, errno, "bind() to %.*s failed", wd_str_pf(&ls->addr_text));
        close(fd);
        return WD_ERROR;
    }
    if (listen(fd, ls->backlog) < 0) {
        wd_cycle_error(cycle, errno, "listen() to %.*s, backlog %d failed",
                       wd_str_pf(&ls->addr_text), ls->backlog);
        close(fd);
        return WD_ERROR;
    }
    ls->fd = fd;
    ls->inherited = 0;
    return WD_OK;
}

int
wd_cycle_open_listening(wd_cycle_t *cycle, wd_cycle_t *old_cycle)
{
    wd_listening_t *ls = cycle->listening.elts, *twin;
    wd_uint_t i, j;

    /* phase 1: new sockets */
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != -1 || wd_listening_twin(&ls[i], old_cycle)) {
            continue;
        }
        if (wd_listening_open_one(cycle, &ls[i]) != WD_OK) {
            for (j = 0; j < i; j++) {
                if (ls[j].fd != -1 && !ls[j].inherited) {
                    close(ls[j].fd);
                    ls[j].fd = -1;
                }
            }
            return WD_ERROR;
        }
    }
    /* phase 2: take over identical sockets */
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != -1) {
            continue;
        }
        twin = wd_listening_twin(&ls[i], old_cycle);
        if (twin) {
            ls[i].fd = twin->fd;
            ls[i].inherited = 1;
            twin->fd = -1;
        }
    }
    return WD_OK;
}

int
wd_cycle_open_listening_inherited(wd_cycle_t *cycle, const char *spec)
{
    wd_cycle_t prev;
    wd_listening_t *ls, *l;
    const char *p = spec;
    char *end;
    wd_uint_t i;
    int rc, v;
    socklen_t vl;

    memset(&prev, 0, sizeof(prev));
    prev.pool = wd_pool_create(4096);
    if (prev.pool == NULL
        || wd_array_init(&prev.listening, prev.pool, 4, sizeof(wd_listening_t)) != WD_OK)
    {
        wd_pool_destroy(prev.pool);
        return WD_ERROR;
    }
    while (*p) {
        long fd = strtol(p, &end, 10), worker;
        if (end == p || *end != ':') {
            break;
        }
        p = end + 1;
        worker = strtol(p, &end, 10);
        if (end == p || *end != ';') {
            break;
        }
        p = end + 1;
        l = wd_array_push(&prev.listening);
        if (l == NULL) {
            break;
        }
        memset(l, 0, sizeof(*l));
        l->fd = (int) fd;
        l->worker = (int) worker;
        l->socklen = sizeof(l->sockaddr);
        if (getsockname(l->fd, (struct sockaddr *) &l->sockaddr, &l->socklen) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "inherited fd %ld is not a socket", fd);
            prev.listening.nelts--;
            continue;
        }
        v = 0;
        vl = sizeof(v);
        (void) getsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT, &v, &vl);
        l->reuseport = v != 0;
        (void) fcntl(l->fd, F_SETFD, FD_CLOEXEC);
    }
    if (*p) {
        wd_log_error(WD_LOG_ALERT, cycle->log, 0, "invalid WASMD_LISTEN value \"%s\"", spec);
    }
    wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "using %lu inherited sockets",
                 (unsigned long) prev.listening.nelts);

    rc = wd_cycle_open_listening(cycle, &prev);

    ls = prev.listening.elts;
    for (i = 0; i < prev.listening.nelts; i++) {
        if (ls[i].fd != -1) {
            close(ls[i].fd);
        }
    }
    wd_pool_destroy(prev.pool);
    return rc;
}

void
wd_cycle_close_listening(wd_cycle_t *cycle)
{
    wd_listening_t *ls = cycle->listening.elts;
    wd_uint_t i;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != -1) {
            close(ls[i].fd);
            ls[i].fd = -1;
        }
    }
}

/* ---- module hooks ---- */

int
wd_cycle_init_master(wd_cycle_t *cycle)
{
    wd_uint_t i;

    for (i = 0; wd_modules[i]; i++) {
        if (wd_modules[i]->init_master && wd_modules[i]->init_master(cycle) != WD_OK) {
            wd_cycle_error(cycle, 0, "module \"%s\" failed to initialize",
                           wd_modules[i]->name);
            return WD_ERROR;
        }
    }
    return WD_OK;
}

int
wd_cycle_init_worker(wd_cycle_t *cycle)
{
    wd_uint_t i;

    for (i = 0; wd_modules[i]; i++) {
        if (wd_modules[i]->init_worker && wd_modules[i]->init_worker(cycle) != WD_OK) {
            wd_log_error(WD_LOG_EMERG, cycle->log, 0, "module \"%s\" worker init failed",
                         wd_modules[i]->name);
            return WD_ERROR;
        }
    }
    return WD_OK;
}

void
wd_cycle_exit_worker(wd_cycle_t *cycle)
{
    wd_uint_t i;

    for (i = 0; wd_modules[i]; i++) {
        if (wd_modules[i]->exit_worker) {
            wd_modules[i]->exit_worker(cycle);
        }
    }
}

void
wd_cycle_free(wd_cycle_t *cycle)
{
    wd_uint_t i;

    if (cycle == NULL) {
        return;
    }
    for (i = 0; wd_modules[i]; i++) {
        if (wd_modules[i]->exit_cycle) {
            wd_modules[i]->exit_cycle(cycle);
        }
    }
    wd_cycle_close_listening(cycle);
    if (wd_cycle == cycle) {
        wd_cycle = NULL;
    }
    wd_cycle_close_files(cycle);
    wd_pool_destroy(cycle->pool);
}

/* ---- pid file ---- */

int
wd_cycle_create_pidfile(wd_cycle_t *cycle)
{
    char buf[32];
    int fd, n;

    fd = open((const char *) cycle->pid.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        wd_cycle_maybe_create_logs_dir(cycle, (const char *) cycle->pid.data);
        fd = open((const char *) cycle->pid.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        wd_cycle_error(cycle, errno, "open() \"%.*s\" failed", wd_str_pf(&cycle->pid));
        return WD_ERROR;
    }
    n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
    if (write(fd, buf, n) != n) {
        wd_cycle_error(cycle, errno, "write() to \"%.*s\" failed", wd_str_pf(&cycle->pid));
        close(fd);
        return WD_ERROR;
    }
    close(fd);
    return WD_OK;
}

void
wd_cycle_delete_pidfile(wd_cycle_t *cycle)
{
    if (unlink((const char *) cycle->pid.data) < 0 && errno != ENOENT) {
        wd_log_error(WD_LOG_ALERT, cycle->log, errno, "unlink() \"%.*s\" failed",
                     wd_str_pf(&cycle->pid));
    }
}

pid_t
wd_cycle_read_pidfile(wd_cycle_t *cycle)
{
    char buf[32];
    ssize_t n;
    wd_int_t pid;
    int fd;

    fd = open((const char *) cycle->pid.data, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wd_log_stderr(errno, "[error] open() \"%.*s\" failed", wd_str_pf(&cycle->pid));
        return WD_ERROR;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        n--;
    }
    pid = n > 0 ? wd_atoi((u_char *) buf, n) : WD_ERROR;
    if (pid <= 0) {
        wd_log_stderr(0, "[error] invalid PID number \"%.*s\" in \"%.*s\"",
                      (int) (n > 0 ? n : 0), buf, wd_str_pf(&cycle->pid));
        return WD_ERROR;
    }
    return (pid_t) pid;
}
