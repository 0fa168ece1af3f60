/*
 * wd_event.c -- the worker's libuv loop: listeners, accepting, connections, signals.
 *
 * Listening sockets are watched with uv_poll_t (not uv_listen) and accepted with accept4()
 * in a bounded loop, so that accepting can be stopped and resumed at will:
 *   - worker_connections reached: polling stops until a connection closes (never spins,
 *     the kernel keeps the waiting clients in the backlog);
 *   - EMFILE/ENFILE: polling stops for 100 ms (logged at most once a second).
 * Each accepted fd becomes a uv_tcp_t (uv_tcp_open) inside a wd_connection_t, which is
 * then handed to the HTTP layer (wd_http_init_connection).  Connection objects are
 * recycled through a free list once both their handles are closed.
 *
 * Shutdown: QUIT stops the listeners, closes idle keep-alive connections (through
 * c->close_idle) and lets the loop end when the last connection is gone, or closes
 * everything after worker_shutdown_timeout.  TERM/INT close everything at once.
 */
#include <sys/socket.h>
#include <netinet/tcp.h>

#include "wd_core.h"
#include "wd_log.h"
#include "wd_cycle.h"
#include "wd_process.h"
#include "wd_event.h"

typedef struct wd_listener_s {
    uv_poll_t        poll;
    wd_listening_t  *ls;
    wd_worker_t     *worker;
    unsigned         active:1;
    unsigned         closed:1;
} wd_listener_t;

#define WD_MAX_HOOKS 16

typedef struct {
    wd_event_hook_pt fn;
    void            *data;
} wd_event_hook_t;

static wd_event_hook_t wd_flush_hooks[WD_MAX_HOOKS];
static int             wd_nflush_hooks;
static wd_event_hook_t wd_reopen_hooks[WD_MAX_HOOKS];
static int             wd_nreopen_hooks;
static wd_event_hook_t wd_close_hooks[WD_MAX_HOOKS];
static int             wd_nclose_hooks;

wd_worker_t *wd_worker;

static void wd_event_accept(uv_poll_t *h, int status, int events);
static void wd_event_stop_accepting(wd_worker_t *w);
static void wd_event_start_accepting(wd_worker_t *w);
static void wd_event_quit(wd_worker_t *w);
static void wd_event_terminate(wd_worker_t *w);
static void wd_event_check_exit(wd_worker_t *w);

static int
wd_event_add_hook(wd_event_hook_t *hooks, int *n, wd_event_hook_pt fn, void *data)
{
    for (int i = 0; i < *n; i++) {
        if (hooks[i].fn == fn && hooks[i].data == data) {
            return WD_OK;
        }
    }
    if (*n == WD_MAX_HOOKS) {
        return WD_ERROR;
    }
    hooks[*n].fn = fn;
    hooks[(*n)++].data = data;
    return WD_OK;
}

int
wd_event_add_flush_hook(wd_event_hook_pt fn, void *data)
{
    return wd_event_add_hook(wd_flush_hooks, &wd_nflush_hooks, fn, data);
}

int
wd_event_add_reopen_hook(wd_event_hook_pt fn, void *data)
{
    return wd_event_add_hook(wd_reopen_hooks, &wd_nreopen_hooks, fn, data);
}

int
wd_event_add_close_hook(wd_event_hook_pt fn, void *data)
{
    return wd_event_add_hook(wd_close_hooks, &wd_nclose_hooks, fn, data);
}

uint64_t
wd_event_now(void)
{
    return wd_worker ? uv_now(&wd_worker->loop) : 0;
}

void
wd_event_time_update(void)
{
    static uint64_t last;
    uint64_t now = wd_worker ? uv_now(&wd_worker->loop) : 0;

    if (now != last || now == 0) {
        last = now;
        wd_time_update();
    }
}

static void
wd_event_flush(void)
{
    for (int i = 0; i < wd_nflush_hooks; i++) {
        wd_flush_hooks[i].fn(wd_flush_hooks[i].data);
    }
}

static void
wd_event_check_cb(uv_check_t *h)
{
    wd_event_flush();
}

static void
wd_event_reopen(wd_worker_t *w)
{
    wd_event_flush();
    wd_cycle_reopen_files(w->cycle);
    wd_log_error(WD_LOG_NOTICE, w->cycle->log, 0, "reopening logs");
    for (int i = 0; i < wd_nreopen_hooks; i++) {
        wd_reopen_hooks[i].fn(wd_reopen_hooks[i].data);
    }
}

static void
wd_event_signal_cb(uv_signal_t *h, int signum)
{
    wd_worker_t *w = h->data;

    wd_event_time_update();
    switch (signum) {
    case SIGQUIT:
        wd_sig_quit = 0;
        wd_event_quit(w);
        break;
    case SIGTERM:
    case SIGINT:
        wd_sig_terminate = 0;
        wd_event_terminate(w);
        break;
    case SIGUSR1:
        wd_sig_reopen = 0;
        wd_event_reopen(w);
        break;
    }
}

/* ---- connections ---- */

static void
wd_connection_free(wd_connection_t *c)
{
    wd_worker_t *w = c->worker;

    wd_queue_remove(&c->link);
    c->idle = 0;
    w->nconnections--;
    wd_http_connection_freed(c);
    if (c->ssl) {
        wd_ssl_free(c);
    }
    wd_queue_insert_tail(&w->free, &c->link);

    if (!w->quitting && !w->terminating && !w->accepting && !w->accept_paused
        && w->nconnections < w->max_connections)
    {
        wd_event_start_accepting(w);
    }
    wd_event_check_exit(w);
}

static void
wd_connection_close_cb(uv_handle_t *h)
{
    wd_connection_t *c = h->data;

    if (--c->closing == 0) {
        wd_connection_free(c);
    }
}

void
wd_connection_close(wd_connection_t *c)
{
    if (c->closed) {
        return;
    }
    if (c->ssl) {
        wd_ssl_close(c);
    }
    c->closed = 1;
    c->closing = 2;
    c->idle = 0;
    uv_close((uv_handle_t *) &c->tcp, wd_connection_close_cb);
    uv_close((uv_handle_t *) &c->timer, wd_connection_close_cb);
}

void
wd_connection_set_idle(wd_connection_t *c, int idle)
{
    /* a flag only (no list): graceful shutdown scans all connections once, while the
     * hot path flips this twice per keep-alive request */
    c->idle = idle ? 1 : 0;
    /* while quitting, a connection that becomes idle after a request is closed; a fresh
     * one (accepted just before QUIT, or a TLS connection whose handshake completed
     * since) may still send its first request: it is served, then closed, or it expires
     * after client_header_timeout */
    if (idle && c->worker->quitting && c->close_idle && c->requests > 0) {
        c->close_idle(c);
    }
}

static wd_connection_t *
wd_connection_get(wd_worker_t *w)
{
    wd_connection_t *c;

    if (!wd_queue_empty(&w->free)) {
        wd_queue_t *q = w->free.next;
        wd_queue_remove(q);
        c = wd_queue_data(q, wd_connection_t, link);
        void *data = c->data;           /* protocol state is recycled with the object */
        memset(c, 0, sizeof(*c));
        c->data = data;
    } else {
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            return NULL;
        }
    }
    wd_queue_init(&c->link);
    return c;
}

static void
wd_event_new_connection(wd_listener_t *l, int fd, struct sockaddr_storage *sa, socklen_t salen)
{
    wd_worker_t *w = l->worker;
    wd_connection_t *c;
    int rc, one = 1;

    c = wd_connection_get(w);
    if (c == NULL) {
        wd_log_error(WD_LOG_CRIT, w->cycle->log, errno, "connection allocation failed");
        close(fd);
        return;
    }
    c->worker = w;
    c->listening = l->ls;
    memcpy(&c->sockaddr, sa, salen);
    c->socklen = salen;
    c->number = ++w->connection_number;

    rc = uv_tcp_init(&w->loop, &c->tcp);
    if (rc == 0) {
        rc = uv_tcp_open(&c->tcp, fd);
        if (rc < 0) {
            wd_log_error(WD_LOG_ERR, w->cycle->log, 0, "uv_tcp_open() failed: %s", uv_strerror(rc));
            close(fd);
            c->tcp.data = c;
            uv_timer_init(&w->loop, &c->timer);
            c->timer.data = c;
            wd_queue_insert_tail(&w->connections, &c->link);
            w->nconnections++;
            wd_connection_close(c);
            return;
        }
    } else {
        close(fd);
        wd_queue_insert_tail(&w->free, &c->link);
        return;
    }
    c->tcp.data = c;
    uv_timer_init(&w->loop, &c->timer);
    c->timer.data = c;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (sa->ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) sa;
        inet_ntop(AF_INET, &sin->sin_addr, c->addr_text, sizeof(c->addr_text));
    } else if (sa->ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, c->addr_text, sizeof(c->addr_text));
    } else {
        strcpy(c->addr_text, "unix:");
    }
    c->addr_text_len = strlen(c->addr_text);

    wd_queue_insert_tail(&w->connections, &c->link);
    w->nconnections++;

    if (l->ls->ssl) {
        wd_http_ssl_init_connection(c);
    } else {
        wd_http_init_connection(c);
    }
}

/* ---- accepting ---- */

static void
wd_event_accept_timer_cb(uv_timer_t *t)
{
    wd_worker_t *w = t->data;

    w->accept_paused = 0;
    if (!w->quitting && !w->terminating && w->nconnections < w->max_connections) {
        wd_event_start_accepting(w);
    }
}

static void
wd_event_accept(uv_poll_t *h, int status, int events)
{
    wd_listener_t *l = h->data;
    wd_worker_t *w = l->worker;
    struct sockaddr_storage sa;
    socklen_t salen;
    int fd, i;

    wd_event_time_update();
    if (status < 0) {
        wd_log_error(WD_LOG_ERR, w->cycle->log, 0, "poll on %.*s failed: %s",
                     wd_str_pf(&l->ls->addr_text), uv_strerror(status));
        return;
    }

    for (i = 0; i < 64; i++) {
        if (w->nconnections >= w->max_connections) {
            /* stop until a connection closes (wd_connection_free resumes) */
            if (w->last_limit_log + 1000 <= (uint64_t) wd_current_msec) {
                w->last_limit_log = wd_current_msec;
                wd_log_error(WD_LOG_WARN, w->cycle->log, 0,
                             "%u worker_connections are not enough", w->max_connections);
            }
            wd_event_stop_accepting(w);
            return;
        }
        salen = sizeof(sa);
        fd = accept4(l->ls->fd, (struct sockaddr *) &sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                return;
            }
            if (err == EINTR || err == ECONNABORTED || err == EPROTO) {
                continue;
            }
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                if (w->last_emfile_log + 1000 <= (uint64_t) wd_current_msec) {
                    w->last_emfile_log = wd_current_msec;
                    wd_log_error(WD_LOG_CRIT, w->cycle->log, err,
                                 "accept4() failed: accepting paused for 100ms");
                }
                wd_event_stop_accepting(w);
                w->accept_paused = 1;
                uv_timer_start(&w->accept_timer, wd_event_accept_timer_cb, 100, 0);
                return;
            }
            wd_log_error(WD_LOG_ERR, w->cycle->log, err, "accept4() failed");
            return;
        }
        wd_event_new_connection(l, fd, &sa, salen);
        if (w->quitting || w->terminating) {
            return;
        }
    }
}

static void
wd_event_stop_accepting(wd_worker_t *w)
{
    for (int i = 0; i < w->nlisteners; i++) {
        wd_listener_t *l = &w->listeners[i];
        if (l->active) {
            uv_poll_stop(&l->poll);
            l->active = 0;
        }
    }
    w->accepting = 0;
}

static void
wd_event_start_accepting(wd_worker_t *w)
{
    for (int i = 0; i < w->nlisteners; i++) {
        wd_listener_t *l = &w->listeners[i];
        if (!l->active && !l->closed) {
            int rc = uv_poll_start(&l->poll, UV_READABLE, wd_event_accept);
            if (rc < 0) {
                wd_log_error(WD_LOG_ALERT, w->cycle->log, 0, "uv_poll_start(%.*s) failed: %s",
                             wd_str_pf(&l->ls->addr_text), uv_strerror(rc));
                continue;
            }
            l->active = 1;
        }
    }
    w->accepting = 1;
}

static void
wd_event_close_listeners(wd_worker_t *w)
{
    wd_event_stop_accepting(w);
    for (int i = 0; i < w->nlisteners; i++) {
        wd_listener_t *l = &w->listeners[i];
        if (!l->closed) {
            l->closed = 1;
            uv_close((uv_handle_t *) &l->poll, NULL);
        }
    }
}

/* ---- shutdown ---- */

static void
wd_event_close_all_handles(wd_worker_t *w)
{
    for (int i = 0; i < wd_nclose_hooks; i++) {
        wd_close_hooks[i].fn(wd_close_hooks[i].data);
    }
    uv_timer_stop(&w->shutdown_timer);
    uv_timer_stop(&w->idle_grace_timer);
    uv_timer_stop(&w->accept_timer);
    if (!uv_is_closing((uv_handle_t *) &w->sig_quit)) {
        uv_close((uv_handle_t *) &w->sig_quit, NULL);
        uv_close((uv_handle_t *) &w->sig_term, NULL);
        uv_close((uv_handle_t *) &w->sig_int, NULL);
        uv_close((uv_handle_t *) &w->sig_usr1, NULL);
        uv_close((uv_handle_t *) &w->shutdown_timer, NULL);
        uv_close((uv_handle_t *) &w->idle_grace_timer, NULL);
        uv_close((uv_handle_t *) &w->accept_timer, NULL);
        uv_close((uv_handle_t *) &w->check, NULL);
        wd_ssl_worker_close(w);
    }
}

static void
wd_event_check_exit(wd_worker_t *w)
{
    if ((w->quitting || w->terminating) && w->nconnections == 0) {
        wd_event_close_all_handles(w);
    }
}

static void
wd_event_close_connections(wd_worker_t *w, int idle_only)
{
    wd_queue_t *q, *next;

    for (q = w->connections.next; q != &w->connections; q = next) {
        next = q->next;
        wd_connection_t *c = wd_queue_data(q, wd_connection_t, link);
        if (c->closed || (idle_only && !c->idle)) {
            continue;
        }
        if (c->close_idle) {
            c->close_idle(c);       /* releases protocol state, then closes */
        }
        wd_connection_close(c);
    }
}

static void
wd_event_shutdown_timer_cb(uv_timer_t *t)
{
    wd_worker_t *w = t->data;

    wd_event_time_update();
    wd_log_error(WD_LOG_NOTICE, w->cycle->log, 0,
                 "worker_shutdown_timeout: closing %u connections", w->nconnections);
    wd_event_close_connections(w, 0);
    wd_event_check_exit(w);
}

/* Idle keep-alive connections are closed WD_EVENT_IDLE_GRACE_MS after QUIT, not at once:
 * a client (wrk under a reload) may have its next request on the wire already; one that
 * arrives in the meantime is served with "Connection: close" and the connection closed
 * after the response, so the client never sees a connection dropped under a request. */
#define WD_EVENT_IDLE_GRACE_MS 500

static void
wd_event_idle_grace_cb(uv_timer_t *t)
{
    wd_worker_t *w = t->data;

    wd_event_time_update();
    wd_event_close_connections(w, 1);
    wd_event_check_exit(w);
}

static void
wd_event_quit(wd_worker_t *w)
{
    if (w->quitting || w->terminating) {
        return;
    }
    w->quitting = 1;
    wd_log_error(WD_LOG_NOTICE, w->cycle->log, 0, "gracefully shutting down");
    wd_event_close_listeners(w);
    if (w->nconnections > 0) {
        uv_timer_start(&w->idle_grace_timer, wd_event_idle_grace_cb, WD_EVENT_IDLE_GRACE_MS, 0);
    }
    if (w->cycle->worker_shutdown_timeout > 0 && w->nconnections > 0) {
        uv_timer_start(&w->shutdown_timer, wd_event_shutdown_timer_cb,
                       w->cycle->worker_shutdown_timeout, 0);
    }
    wd_event_check_exit(w);
}

static void
wd_event_terminate(wd_worker_t *w)
{
    if (w->terminating) {
        return;
    }
    w->terminating = 1;
    wd_log_error(WD_LOG_NOTICE, w->cycle->log, 0, "exiting");
    wd_event_close_listeners(w);
    wd_event_close_connections(w, 0);
    wd_event_check_exit(w);
}

/* ---- the worker ---- */

/*
 * libuv keeps one spare descriptor per loop (uv_loop_t.emfile_fd, opened on /dev/null,
 * or "/", by the first stream handle it initialises) so that it can shed connections
 * when the process runs out of descriptors. A worker's loop is made after the sandbox
 * confined it, where neither open is allowed: libuv then tried both again for every
 * stream it initialised -- two failing openat(2) per accepted client and per upstream
 * connection. The descriptor is opened here, before confinement (the events module's
 * worker init), and given to the loop when it is made.
 */
static int wd_event_spare_fd = -1;

void
wd_event_reserve_fd(void)
{
    if (wd_event_spare_fd < 0) {
        wd_event_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
}

void
wd_worker_process_run(wd_cycle_t *cycle, int worker_index)
{
    wd_worker_t *w;
    wd_listening_t *ls = cycle->listening.elts;
    wd_uint_t i;
    int rc, n = 0;

    signal(SIGPIPE, SIG_IGN);

    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        wd_log_error(WD_LOG_EMERG, cycle->log, errno, "worker allocation failed");
        return;
    }
    wd_worker = w;
    w->cycle = cycle;
    w->index = worker_index;
    w->max_connections = cycle->worker_connections > 0 && cycle->worker_connections != WD_CONF_UNSET_UINT
                         ? cycle->worker_connections : 512;
    wd_queue_init(&w->connections);
    wd_queue_init(&w->free);

    rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        wd_log_error(WD_LOG_EMERG, cycle->log, 0, "uv_loop_init() failed: %s", uv_strerror(rc));
        free(w);
        wd_worker = NULL;
        return;
    }
    if (w->loop.emfile_fd == -1 && wd_event_spare_fd >= 0) {
        w->loop.emfile_fd = wd_event_spare_fd;     /* uv_loop_close closes it */
        wd_event_spare_fd = -1;
    }
    wd_event_time_update();

    w->listeners = calloc(cycle->listening.nelts + 1, sizeof(wd_listener_t));
    if (w->listeners == NULL) {
        wd_log_error(WD_LOG_EMERG, cycle->log, errno, "listener allocation failed");
        goto done;
    }
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd < 0 || (ls[i].worker != -1 && ls[i].worker != worker_index)) {
            continue;
        }
        wd_listener_t *l = &w->listeners[n];
        l->ls = &ls[i];
        l->worker = w;
        rc = uv_poll_init_socket(&w->loop, &l->poll, ls[i].fd);
        if (rc < 0) {
            wd_log_error(WD_LOG_EMERG, cycle->log, 0, "uv_poll_init(%.*s) failed: %s",
                         wd_str_pf(&ls[i].addr_text), uv_strerror(rc));
            continue;
        }
        l->poll.data = l;
        n++;
    }
    w->nlisteners = n;

    uv_signal_init(&w->loop, &w->sig_quit);
    uv_signal_init(&w->loop, &w->sig_term);
    uv_signal_init(&w->loop, &w->sig_int);
    uv_signal_init(&w->loop, &w->sig_usr1);
    w->sig_quit.data = w->sig_term.data = w->sig_int.data = w->sig_usr1.data = w;
    uv_signal_start(&w->sig_quit, wd_event_signal_cb, SIGQUIT);
    uv_signal_start(&w->sig_term, wd_event_signal_cb, SIGTERM);
    uv_signal_start(&w->sig_int, wd_event_signal_cb, SIGINT);
    uv_signal_start(&w->sig_usr1, wd_event_signal_cb, SIGUSR1);
    uv_timer_init(&w->loop, &w->shutdown_timer);
    uv_timer_init(&w->loop, &w->idle_grace_timer);
    w->idle_grace_timer.data = w;
    uv_timer_init(&w->loop, &w->accept_timer);
    w->shutdown_timer.data = w->accept_timer.data = w;
    uv_idle_init(&w->loop, &w->ssl_idle);
    w->ssl_idle.data = w;
    wd_queue_init(&w->ssl_pending);
    uv_check_init(&w->loop, &w->check);
    uv_check_start(&w->check, wd_event_check_cb);
    uv_unref((uv_handle_t *) &w->check);

    wd_event_start_accepting(w);

    /* signals that arrived between fork and uv_signal_start (wd_process.h) */
    if (wd_sig_terminate) {
        wd_sig_terminate = 0;
        wd_event_terminate(w);
    } else if (wd_sig_quit) {
        wd_sig_quit = 0;
        wd_event_quit(w);
    }
    if (wd_sig_reopen) {
        wd_sig_reopen = 0;
        wd_event_reopen(w);
    }

    uv_run(&w->loop, UV_RUN_DEFAULT);
    wd_event_flush();

done:
    /* close whatever is left (e.g. listeners when the loop ended early) */
    wd_event_close_listeners(w);
    wd_event_close_all_handles(w);
    uv_run(&w->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&w->loop) != 0) {
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
    }
    while (!wd_queue_empty(&w->free)) {
        wd_queue_t *q = w->free.next;
        wd_queue_remove(q);
        wd_connection_t *c = wd_queue_data(q, wd_connection_t, link);
        extern void wd_http_free_connection_data(wd_connection_t *c);
        wd_http_free_connection_data(c);
        free(c);
    }
    free(w->listeners);
    free(w);
    wd_worker = NULL;
}
