/*
 * wd_event_sendfile.c -- sendfile(2) off the loop (see wd_event_sendfile.h).
 */
#include "wd_event_sendfile.h"
#include "wd_log.h"

#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

/* one sendfile call at most (the socket takes less anyway: it returns a short count) */
#define WD_SENDFILE_MAX  (8u * 1024 * 1024)

static void wd_sendfile_go(wd_sendfile_t *sf);
static int  wd_sendfile_dup(wd_sendfile_t *sf);

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
    size_t n = sf->chunk;
    off_t off = (off_t) sf->off;
    ssize_t r;

    do {
        r = sendfile(sf->use_fd, sf->in_fd, &off, n);
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
    /* the socket is full (or a sendfile_max_chunk was sent): go on when it is writable,
     * after the loop's other events */
    if (sf->out_fd < 0 && wd_sendfile_dup(sf) != WD_OK) {
        sf->done(sf, UV_EMFILE);
        return;
    }
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

/* Are the file's pages [off, off + len) all in the page cache? Then sendfile cannot wait
 * for the disk and runs on the loop (as nginx's does), saving the thread pool round trip;
 * a page evicted between this check and the call costs one short wait, as in nginx. */
static int
wd_sendfile_cached(int fd, int64_t off, size_t len)
{
    static long page;
    unsigned char vec[256];
    int64_t start;
    size_t span, npages, i;
    void *m;
    int ok = 1;

    if (page == 0) {
        page = sysconf(_SC_PAGESIZE);
    }
    start = off & ~(int64_t) (page - 1);
    span = (size_t) (off - start) + len;
    npages = (span + page - 1) / page;
    m = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, start);
    if (m == MAP_FAILED) {
        return 0;
    }
    for (size_t at = 0; ok && at < npages; at += sizeof(vec)) {
        size_t k = npages - at < sizeof(vec) ? npages - at : sizeof(vec);
        size_t bytes = at + k == npages ? span - at * page : k * page;
        if (mincore((u_char *) m + at * page, bytes, vec) != 0) {
            ok = 0;
        }
        for (i = 0; ok && i < k; i++) {
            ok = vec[i] & 1;
        }
    }
    munmap(m, span);
    return ok;
}

static int
wd_sendfile_dup(wd_sendfile_t *sf)
{
    sf->out_fd = fcntl(sf->sock_fd, F_DUPFD_CLOEXEC, 0);
    return sf->out_fd >= 0 ? WD_OK : WD_ERROR;
}

static void
wd_sendfile_go(wd_sendfile_t *sf)
{
    static unsigned depth;             /* done -> the caller's next wd_sendfile_start */
    size_t max = sf->max_chunk && sf->max_chunk < WD_SENDFILE_MAX ? sf->max_chunk
                                                                  : WD_SENDFILE_MAX;
    size_t n = sf->left < max ? sf->left : max;

    sf->chunk = n;
    sf->req.data = sf;
    if (depth < 8 && (sf->assume_resident || (sf->found_resident =
                                                  wd_sendfile_cached(sf->in_fd, sf->off, n)))) {
        sf->use_fd = sf->sock_fd;       /* on the loop: the connection is open */
        depth++;
        sf->busy = 1;
        wd_sendfile_work(&sf->req);
        wd_sendfile_cb(&sf->req, 0);
        depth--;
        return;
    }
    if (sf->out_fd < 0 && wd_sendfile_dup(sf) != WD_OK) {
        sf->done(sf, UV_EMFILE);
        return;
    }
    sf->use_fd = sf->out_fd;            /* the duplicate outlives a close meanwhile */
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
    sf->sock_fd = fd;
    return WD_OK;
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
