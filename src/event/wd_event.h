/*
 * wd_event.h -- the per-worker event loop and its connections.
 *
 * Each worker process runs one libuv loop (wd_worker_process_run).  The loop polls the
 * cycle's listening sockets with uv_poll_t and accepts with accept4() itself, so that
 * accepting can be paused (worker_connections reached, EMFILE/ENFILE) without closing a
 * listener and without spinning.  Every accepted socket becomes a wd_connection_t that
 * embeds its uv_tcp_t and ONE uv_timer_t; protocol code (src/http) re-arms that timer for
 * whichever timeout currently applies instead of creating timers per request.
 *
 * Ownership: connections are owned by the worker; protocol code closes them with
 * wd_connection_close(), and the memory is recycled only after both libuv close callbacks
 * ran (libuv rule: handle memory is freed only in the close callback).  Closed connection
 * objects go to a free list and are reused by later accepts.
 *
 * Signals handled in the worker (uv_signal_t): QUIT = graceful shutdown (stop accepting,
 * close idle keep-alive connections, let in-flight requests finish, exit when none are left
 * or after worker_shutdown_timeout), TERM/INT = exit now, USR1 = reopen log files.
 */
#ifndef WD_EVENT_H
#define WD_EVENT_H

#include <uv.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "wd_core.h"
#include "wd_cycle.h"

typedef struct wd_connection_s wd_connection_t;
typedef struct wd_worker_s wd_worker_t;

/* Doubly linked list node (intrusive). */
typedef struct wd_queue_s {
    struct wd_queue_s *prev, *next;
} wd_queue_t;

#define wd_queue_init(q)      ((q)->prev = (q), (q)->next = (q))
#define wd_queue_empty(q)     ((q)->next == (q))
#define wd_queue_insert_tail(h, x) \
    ((x)->prev = (h)->prev, (x)->prev->next = (x), (x)->next = (h), (h)->prev = (x))
#define wd_queue_insert_head(h, x) \
    ((x)->next = (h)->next, (x)->next->prev = (x), (x)->prev = (h), (h)->next = (x))
#define wd_queue_remove(x) \
    ((x)->next->prev = (x)->prev, (x)->prev->next = (x)->next, (x)->prev = (x), (x)->next = (x))
#define wd_queue_data(q, type, link) ((type *) ((char *) (q) - offsetof(type, link)))

typedef void (*wd_connection_handler_pt)(wd_connection_t *c);

struct wd_connection_s {
    uv_tcp_t            tcp;        /* tcp.data == this connection */
    uv_timer_t          timer;      /* the one timer of the connection; timer.data == this */
    wd_queue_t          link;       /* worker->connections or worker->free */
    wd_worker_t        *worker;
    void               *data;       /* protocol state (wd_http_connection_t) */
    struct wd_ssl_conn_s *ssl;      /* TLS state (wd_event_ssl.c); NULL: plain TCP */
    unsigned            requests;   /* $connection_requests */
    int                 closing;    /* close callbacks pending: 0..2 */
    unsigned            closed:1;
    unsigned            idle:1;

    /* called by the worker on graceful shutdown for an idle connection (closes it) */
    wd_connection_handler_pt close_idle;
    wd_listening_t     *listening;
    uint64_t            number;     /* $connection: per-worker serial number */

    struct sockaddr_storage sockaddr;
    socklen_t           socklen;
    char                addr_text[64];
    size_t              addr_text_len;
};

struct wd_worker_s {
    uv_loop_t           loop;
    wd_cycle_t         *cycle;
    int                 index;
    int                 nlisteners;
    struct wd_listener_s *listeners;

    uv_signal_t         sig_quit, sig_term, sig_int, sig_usr1;
    uv_timer_t          shutdown_timer;
    uv_timer_t          idle_grace_timer; /* graceful shutdown: closes idle keep-alive connections */
    uv_timer_t          accept_timer;  /* resumes accepting after EMFILE/ENFILE */
    uv_check_t          check;         /* end of each loop iteration: flush buffered logs */
    uv_idle_t           ssl_idle;      /* delivers plaintext already decrypted/buffered */
    wd_queue_t          ssl_pending;   /* TLS connections with buffered input to deliver */

    wd_queue_t          connections;   /* all open connections */
    wd_queue_t          free;          /* closed connection objects for reuse */
    unsigned            nconnections;
    unsigned            max_connections;
    uint64_t            connection_number;

    unsigned            accepting:1;   /* listeners polled */
    unsigned            accept_paused:1; /* paused by EMFILE: accept_timer resumes */
    unsigned            quitting:1;    /* graceful shutdown in progress */
    unsigned            terminating:1;
    uint64_t            last_emfile_log;
    uint64_t            last_limit_log;
};

/* The worker of this process (NULL outside wd_worker_process_run). */
extern wd_worker_t *wd_worker;

/* Runs the event loop of worker `worker_index` on `cycle` until it exits (returns then;
 * the caller exits the process). Called by the master in each worker process, or directly
 * in single-process mode (master_process off). */
void wd_worker_process_run(wd_cycle_t *cycle, int worker_index);

/* Closes a connection: both handles; the object is recycled after their callbacks. */
void wd_connection_close(wd_connection_t *c);

/* Marks a connection idle (waiting for a keep-alive request: closed first on graceful
 * shutdown) or busy again. */
void wd_connection_set_idle(wd_connection_t *c, int idle);

/* Hook registry: functions called at the end of every loop iteration (flush buffered
 * access logs), on USR1 (reopen files) and when the worker's loop ends (close the
 * module's own handles: the loop is closed right after). Register before
 * wd_worker_process_run. */
typedef void (*wd_event_hook_pt)(void *data);
int wd_event_add_flush_hook(wd_event_hook_pt fn, void *data);
int wd_event_add_reopen_hook(wd_event_hook_pt fn, void *data);
int wd_event_add_close_hook(wd_event_hook_pt fn, void *data);

/* Entry from the worker into the protocol: a new accepted connection (src/http), and the
 * end of a connection (its handles are closed; protocol state may release its memory). */
void wd_http_init_connection(wd_connection_t *c);
/* the same for a connection accepted on a `listen ... ssl` socket: handshake first */
void wd_http_ssl_init_connection(wd_connection_t *c);
void wd_http_connection_freed(wd_connection_t *c);

/* Milliseconds of the loop's cached clock (uv_now). */
uint64_t wd_event_now(void);

/* Refreshes the cached wall-clock time (wd_log.h) at most once per loop iteration:
 * libuv updates its own clock after every poll, so a changed uv_now() means new events. */
void wd_event_time_update(void);

/*
 * Stream I/O of a connection (src/http uses only these): plain TCP goes straight to
 * libuv; a TLS connection (c->ssl != NULL, wd_event_ssl.c) runs the same calls through
 * OpenSSL memory BIOs: read_cb receives plaintext, writes are encrypted and the write
 * callback runs when the ciphertext left, try_write always answers UV_EAGAIN (the caller
 * then queues and uses wd_conn_write), shutdown sends close_notify before the FIN.
 */
typedef struct wd_ssl_conn_s wd_ssl_conn_t;

int  wd_ssl_read_start(wd_connection_t *c, uv_alloc_cb alloc_cb, uv_read_cb read_cb);
void wd_ssl_read_stop(wd_connection_t *c);
int  wd_ssl_write(wd_connection_t *c, uv_write_t *req, const uv_buf_t *bufs, unsigned n,
                  uv_write_cb cb);
int  wd_ssl_shutdown(wd_connection_t *c, uv_shutdown_t *req, uv_shutdown_cb cb);
/* close_notify (best effort) before the handles close; SSL freed with the connection */
void wd_ssl_close(wd_connection_t *c);
void wd_ssl_free(wd_connection_t *c);
/* Starts the server side of a handshake on c with ssl (ownership passes to c); arms c's
 * timer for timeout ms; on success calls done(c) (the timer is stopped; c reads nothing
 * until wd_conn_read_start); on failure/timeout logs at info on log and closes c. */
typedef struct ssl_st wd_ssl_t;
int  wd_ssl_handshake(wd_connection_t *c, wd_ssl_t *ssl, wd_msec_t timeout, wd_log_t *log,
                      wd_connection_handler_pt done);
/* "TLSv1.3" / cipher name / SNI name of an established TLS connection (NULL if none) */
const char *wd_ssl_protocol(wd_connection_t *c);
const char *wd_ssl_cipher(wd_connection_t *c);
const char *wd_ssl_server_name(wd_connection_t *c);
/* 1 if the TLS session was resumed, 0 if not, -1 without an established TLS connection */
int wd_ssl_session_reused(wd_connection_t *c);
void wd_ssl_worker_close(wd_worker_t *w);

static inline int
wd_conn_read_start(wd_connection_t *c, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
    return c->ssl ? wd_ssl_read_start(c, alloc_cb, read_cb)
                  : uv_read_start((uv_stream_t *) &c->tcp, alloc_cb, read_cb);
}

static inline void
wd_conn_read_stop(wd_connection_t *c)
{
    if (c->ssl) {
        wd_ssl_read_stop(c);
    } else {
        uv_read_stop((uv_stream_t *) &c->tcp);
    }
}

static inline int
wd_conn_try_write(wd_connection_t *c, const uv_buf_t *bufs, unsigned n)
{
    return c->ssl ? UV_EAGAIN : uv_try_write((uv_stream_t *) &c->tcp, bufs, n);
}

static inline int
wd_conn_write(wd_connection_t *c, uv_write_t *req, const uv_buf_t *bufs, unsigned n,
              uv_write_cb cb)
{
    return c->ssl ? wd_ssl_write(c, req, bufs, n, cb)
                  : uv_write(req, (uv_stream_t *) &c->tcp, bufs, n, cb);
}

static inline int
wd_conn_shutdown(wd_connection_t *c, uv_shutdown_t *req, uv_shutdown_cb cb)
{
    return c->ssl ? wd_ssl_shutdown(c, req, cb)
                  : uv_shutdown(req, (uv_stream_t *) &c->tcp, cb);
}

/* Opens libuv's spare descriptor for the worker's loop while opening is still allowed
 * (called from the events module's worker init, before the sandbox confines it). */
void wd_event_reserve_fd(void);

#endif /* WD_EVENT_H */
