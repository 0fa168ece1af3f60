/*
 * wd_event_sendfile.c -- sendfile(2) off the loop (see wd_event_sendfile.h).
 */
#include "wd_event_sendfile.h"
#include "wd_log.h"

#include <sys/sendfile.h>
#include <unistd.h>

/* one sendfile call at most (the socket takes less anyway: it returns a short count) */
#define WD_SENDFILE_MAX  (8u * 1024 * 1024)

static void wd_sendfile_go(wd_sendfile_t *sf);

static void
wd_sendfile_poll_closed(uv_handle_t *h)
{
    wd_sendfile_t *sf = h->data;

    if (sf->out_fd >= 0) {
        close(sf->out_fd);
        sf->out_fd = -1;
    }
    if (sf->free_cb) {
        sf->free_cb(sf);
    }
}

static void
wd_sendfile_release(wd_sendfile_t *sf)
{
    if (sf->polling) {
        sf->polling = 0;
        uv_close((uv_handle_t *) &sf->poll, wd_sendfile_poll_closed);
        return;
    }
    if (sf->out_fd >= 0) {
        close(sf->out_fd);
        sf->out_fd = -1;
    }
    if (sf->free_cb) {
        sf->free_cb(sf);
    }
}

static void
wd_sendfile_finish(wd_sendfile_t *sf, int status)
{
    if (sf->waiting) {
        sf->waiting = 0;
        uv_poll_stop(&sf->poll);
    }
    sf->done(sf, status);
}

static void
wd_sendfile_writable(uv_poll_t *p, int status, int events)
{
    wd_sendfile_t *sf = p->data;

    sf->waiting = 0;
    uv_poll_stop(p);
    if (sf->closing) {
        return;
    }
    if (status < 0) {
        sf->done(sf, status);
        return;
    }
    wd_sendfile_go(sf);
}

/* on the thread pool */
static void
wd_sendfile_work(uv_work_t *req)
{
    wd_sendfile_t *sf = req->data;
    size_t n = sf->left < WD_SENDFILE_MAX ? sf->left : WD_SENDFILE_MAX;
    off_t off = (off_t) sf->off;
    ssize_t r;

    do {
        r = sendfile(sf->out_fd, sf->in_fd, &off, n);
    } while (r < 0 && errno == EINTR);
    sf->result = r >= 0 ? r : (errno == EAGAIN ? UV_EAGAIN : -errno);
}

static void
wd_sendfile_cb(uv_work_t *req, int status)
{
    wd_sendfile_t *sf = req->data;
    ssize_t n = status < 0 ? status : sf->result;

    sf->busy = 0;
    if (sf->closing) {
        wd_sendfile_release(sf);
        return;
    }
    if (n > 0) {
        sf->off += n;
        sf->left -= (size_t) n;
        sf->sent += (uint64_t) n;
        if (sf->left == 0) {
            wd_sendfile_finish(sf, 0);
            return;
        }
        if (sf->progress) {
            sf->progress(sf, 0);
            if (sf->closing) {
                wd_sendfile_release(sf);
                return;
            }
        }
    } else if (n == 0) {
        sf->done(sf, UV_EOF);           /* the file is shorter than it was */
        return;
    } else if (n != UV_EAGAIN) {
        sf->done(sf, (int) n);
        return;
    }
    /* the socket is full: go on when it is writable */
    if (!sf->polling) {
        if (uv_poll_init_socket(&sf->c->worker->loop, &sf->poll, sf->out_fd) != 0) {
            sf->done(sf, UV_EIO);
            return;
        }
        sf->poll.data = sf;
        sf->polling = 1;
    }
    sf->waiting = 1;
    if (uv_poll_start(&sf->poll, UV_WRITABLE, wd_sendfile_writable) != 0) {
        sf->waiting = 0;
        sf->done(sf, UV_EIO);
    }
}

static void
wd_sendfile_go(wd_sendfile_t *sf)
{
    sf->req.data = sf;
    sf->busy = 1;
    if (uv_queue_work(&sf->c->worker->loop, &sf->req, wd_sendfile_work, wd_sendfile_cb) != 0) {
        sf->busy = 0;
        sf->done(sf, UV_EIO);
    }
}

int
wd_sendfile_init(wd_sendfile_t *sf, wd_connection_t *c)
{
    uv_os_fd_t fd;

    memset(sf, 0, sizeof(*sf));
    sf->out_fd = -1;
    sf->c = c;
    if (c->ssl || uv_fileno((uv_handle_t *) &c->tcp, &fd) != 0) {
        return WD_ERROR;
    }
    sf->out_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return sf->out_fd >= 0 ? WD_OK : WD_ERROR;
}

int
wd_sendfile_start(wd_sendfile_t *sf, int in_fd, int64_t off, size_t len, wd_sendfile_pt done)
{
    sf->in_fd = in_fd;
    sf->off = off;
    sf->left = len;
    sf->done = done;
    if (len == 0) {
        done(sf, 0);
        return WD_OK;
    }
    wd_sendfile_go(sf);
    return WD_OK;
}

void
wd_sendfile_close(wd_sendfile_t *sf, void (*free_cb)(wd_sendfile_t *sf))
{
    sf->closing = 1;
    sf->free_cb = free_cb;
    if (sf->waiting) {
        sf->waiting = 0;
        uv_poll_stop(&sf->poll);
    }
    if (sf->busy) {
        return;                         /* released in wd_sendfile_cb */
    }
    wd_sendfile_release(sf);
}
