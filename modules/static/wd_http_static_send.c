/*
 * wd_http_static_send.c -- the response for an opened regular file, as nginx builds it:
 *
 *   Last-Modified (the file's mtime), ETag "<mtime hex>-<size hex>" (etag on),
 *   Accept-Ranges: bytes;
 *   If-Unmodified-Since / If-Match not satisfied -> 412;
 *   If-Modified-Since (if_modified_since exact: equal; before: not older) and
 *   If-None-Match (weak comparison, "*") -> 304 when every one present says "not modified";
 *   Range "bytes=..." on GET (not when If-Range names another ETag or date):
 *   one range -> 206 with Content-Range; several -> 206 multipart/byteranges with a
 *   10-digit boundary; none satisfiable -> 416 with "Content-Range: bytes * /size";
 *   a malformed header, more than max_ranges ranges or ranges adding up to more than the
 *   file -> the whole file (200), like nginx.
 *
 * The body: files up to 64 KiB are read at once (pread: the page cache, like nginx's
 * sendfile without aio) and sent with the header in one write.  Bigger ones, with
 * `sendfile on` on a plain TCP connection whose body no filter changes (no gzip, no
 * chunks), leave by sendfile(2) once the connection's output queue is empty
 * (src/event/wd_event_sendfile.c: on the loop for page-cached ranges, else on the thread
 * pool; a full socket is waited for on the loop; sendfile_max_chunk per call);
 * otherwise (TLS, gzip, `sendfile off`) they are read in 64 KiB pieces -- with
 * preadv2(RWF_NOWAIT) on the loop when the bytes are in the page cache, else uv_fs_read on
 * the thread pool -- each written when it arrives and the next read started when the
 * connection's output is below its high-water mark, so a slow disk never blocks the event
 * loop and a slow client never makes the server buffer more than one piece.  A file that
 * shrinks while being sent ends the connection (logged).
 */
#include "wd_http_static.h"
#include "wd_event_sendfile.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>

#define WD_STATIC_SYNC_MAX  (64 * 1024)
#define WD_STATIC_CHUNK     (64 * 1024)

typedef struct {
    off_t           start, end;     /* [start, end) */
} wd_http_range_t;

typedef struct {
    const u_char   *data;           /* literal bytes (r->pool), or NULL: file bytes */
    off_t           off;            /* file offset */
    size_t          len;
} wd_http_seg_t;

typedef struct {
    uv_fs_t              req;
    wd_http_request_t   *r;         /* NULL: the client went away */
    wd_http_open_file_t *of;
    wd_http_seg_t       *segs;
    wd_uint_t            nsegs, seg;
    off_t                done;      /* bytes of segs[seg] sent */
    unsigned             busy:1;    /* a read is in flight */
    unsigned             use_sf:1;  /* `sendfile on` and a plain, unfiltered, unchunked body */
    unsigned             sf_on:1;   /* sf is initialized (closed by wd_http_static_io_free) */
    unsigned             sf_whole:1;/* the sendfile running covers the whole cached file */
    wd_sendfile_t        sf;
    size_t               max_chunk; /* sendfile_max_chunk */
    unsigned             nopush:1;  /* tcp_nopush on */
    unsigned             corked:1;  /* TCP_CORK set for this response */
    u_char               buf[WD_STATIC_CHUNK];
} wd_http_static_io_t;

/* ---- HTTP dates ---- */

static int
wd_http_month(const char *m)
{
    static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p = strstr(months, m);
    return (p && strlen(m) == 3 && (p - months) % 3 == 0) ? (int) (p - months) / 3 : -1;
}

/* RFC 1123, RFC 850 and asctime() dates; -1 if none */
time_t
wd_http_parse_time(const u_char *s, size_t len)
{
    char buf[64], mon[8], wk[16];
    struct tm tm;
    int d, y, h, mi, sec, n = 0;

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(&tm, 0, sizeof(tm));
    if (sscanf(buf, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wk, &d, mon, &y, &h, &mi,
               &sec, &n) == 7 && n == (int) len) {
        /* RFC 1123 */
    } else if (n = 0, sscanf(buf, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wk, &d, mon,
                             &y, &h, &mi, &sec, &n) == 7 && n == (int) len) {
        y += y < 70 ? 2000 : 1900;
    } else if (n = 0, sscanf(buf, "%15[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", wk, mon, &d, &h,
                             &mi, &sec, &y, &n) == 7 && n == (int) len) {
        /* asctime */
    } else {
        return -1;
    }
    tm.tm_mon = wd_http_month(mon);
    if (tm.tm_mon < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970) {
        return -1;
    }
    tm.tm_mday = d;
    tm.tm_year = y - 1900;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return timegm(&tm);
}

/* ---- conditionals (nginx's not_modified filter) ---- */

static int
wd_http_etag_match(const wd_str_t *etag, const wd_str_t *list, int weak)
{
    const u_char *p = list->data, *end = list->data + list->len;
    const u_char *e = etag->data;
    size_t elen = etag->len;

    if (elen == 0) {
        return 0;
    }
    if (list->len == 1 && p[0] == '*') {
        return 1;
    }
    if (weak && elen > 2 && e[0] == 'W' && e[1] == '/') {
        e += 2;
        elen -= 2;
    }
    while (p < end) {
        const u_char *q;
        while (p < end && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }
        if (weak && end - p > 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        q = p;
        if (q < end && *q == '"') {
            q++;
            while (q < end && *q != '"') {
                q++;
            }
            if (q < end) {
                q++;
            }
        } else {
            while (q < end && *q != ',' && *q != ' ') {
                q++;
            }
        }
        if ((size_t) (q - p) == elen && memcmp(p, e, elen) == 0) {
            return 1;
        }
        p = q;
    }
    return 0;
}

static wd_str_t *
wd_http_hdr(wd_http_request_t *r, const char *name)
{
    wd_http_header_t *h = wd_http_find_header(&r->headers_in, name, strlen(name));
    return h ? &h->value : NULL;
}

/* 0: go on (200), 304, or 412 */
static int
wd_http_static_conditional(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                           wd_http_open_file_t *of, const wd_str_t *etag)
{
    wd_str_t *iums = wd_http_hdr(r, "If-Unmodified-Since");
    wd_str_t *im = wd_http_hdr(r, "If-Match");
    wd_str_t *ims = wd_http_hdr(r, "If-Modified-Since");
    wd_str_t *inm = wd_http_hdr(r, "If-None-Match");

    if (iums) {
        time_t t = wd_http_parse_time(iums->data, iums->len);
        if (t < of->mtime) {
            return 412;
        }
    }
    if (im && !wd_http_etag_match(etag, im, 0)) {
        return 412;
    }
    if (ims || inm) {
        if (ims) {
            time_t t;
            if (slcf->if_modified_since == WD_HTTP_IMS_OFF) {
                return 0;
            }
            t = wd_http_parse_time(ims->data, ims->len);
            if (t == -1) {
                return 0;
            }
            if (slcf->if_modified_since == WD_HTTP_IMS_EXACT ? t != of->mtime
                                                             : t < of->mtime) {
                return 0;
            }
        }
        if (inm && !wd_http_etag_match(etag, inm, 1)) {
            return 0;
        }
        return 304;
    }
    return 0;
}

/* ---- Range (nginx's range filter) ---- */

/* WD_OK with the ranges, WD_DECLINED (send the whole file), or 416 */
static int
wd_http_range_parse(wd_http_request_t *r, const wd_str_t *h, off_t size, wd_uint_t max,
                    wd_array_t *ranges)
{
    const u_char *p = h->data + 6, *end = h->data + h->len;
    off_t start, stop, total = 0, cutoff = INT64_MAX / 10, cutlim = INT64_MAX % 10;
    wd_http_range_t *rg;
    int suffix;

    for (;;) {
        start = 0;
        stop = 0;
        suffix = 0;
        while (p < end && *p == ' ') {
            p++;
        }
        if (p < end && *p != '-') {
            if (*p < '0' || *p > '9') {
                return 416;
            }
            while (p < end && *p >= '0' && *p <= '9') {
                if (start >= cutoff && (start > cutoff || *p - '0' > cutlim)) {
                    return 416;
                }
                start = start * 10 + (*p++ - '0');
            }
            while (p < end && *p == ' ') {
                p++;
            }
            if (p >= end || *p++ != '-') {
                return 416;
            }
            while (p < end && *p == ' ') {
                p++;
            }
            if (p == end || *p == ',') {
                stop = size;
                goto found;
            }
        } else {
            suffix = 1;
            p++;
        }
        if (p >= end || *p < '0' || *p > '9') {
            return 416;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            if (stop >= cutoff && (stop > cutoff || *p - '0' > cutlim)) {
                return 416;
            }
            stop = stop * 10 + (*p++ - '0');
        }
        while (p < end && *p == ' ') {
            p++;
        }
        if (p < end && *p != ',') {
            return 416;
        }
        if (suffix) {
            start = stop < size ? size - stop : 0;
            stop = size - 1;
        }
        if (stop >= size) {
            stop = size;
        } else {
            stop++;
        }
    found:
        if (start < stop) {
            rg = wd_array_push(ranges);
            if (rg == NULL) {
                return WD_ERROR;
            }
            rg->start = start;
            rg->end = stop;
            total += stop - start;
            if (ranges->nelts > max) {
                return WD_DECLINED;
            }
        } else if (start == 0) {
            return WD_DECLINED;
        }
        if (p >= end) {
            break;
        }
        p++;        /* ',' */
    }
    if (ranges->nelts == 0) {
        return 416;
    }
    if (total > size) {
        return WD_DECLINED;
    }
    return WD_OK;
}

/* If-Range: the ranges apply only when it names the current ETag or Last-Modified */
static int
wd_http_if_range_ok(wd_http_request_t *r, wd_http_open_file_t *of, const wd_str_t *etag)
{
    wd_str_t *ir = wd_http_hdr(r, "If-Range");

    if (ir == NULL) {
        return 1;
    }
    if (ir->len >= 2 && ir->data[0] == '"') {
        return etag->len == ir->len && memcmp(etag->data, ir->data, ir->len) == 0;
    }
    return wd_http_parse_time(ir->data, ir->len) == of->mtime;
}

/* ---- body ---- */

static void wd_http_static_io_next(wd_http_request_t *r);

static void
wd_http_static_sf_freed(wd_sendfile_t *sf)
{
    wd_http_static_io_t *io = sf->data;

    wd_http_open_file_release(io->of);
    free(io);
}

/* the file stays open until a sendfile in flight is over */
static void
wd_http_static_io_free(wd_http_static_io_t *io)
{
    if (io->sf_on) {
        io->sf_on = 0;
        wd_sendfile_close(&io->sf, wd_http_static_sf_freed);
        return;
    }
    wd_http_open_file_release(io->of);
    free(io);
}

static void
wd_http_static_sf_progress(wd_sendfile_t *sf, int status)
{
    wd_http_static_io_t *io = sf->data;

    if (io->r) {
        wd_event_time_update();
        wd_http_set_timer(io->r->hc, wd_http_filter_clcf(io->r)->send_timeout);
    }
}

static void
wd_http_static_sf_done(wd_sendfile_t *sf, int status)
{
    wd_http_static_io_t *io = sf->data;
    wd_http_request_t *r = io->r;
    size_t len = io->segs[io->seg].len - io->done;

    if (io->sf_whole && sf->found_resident && status == 0) {
        uint64_t now = uv_now(&wd_worker->loop);
        io->of->resident_ms = now ? now : 1;
    }
    io->sf_whole = 0;
    if (r == NULL) {
        return;
    }
    wd_event_time_update();
    if (status != 0) {
        if (status == UV_EOF) {
            wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), 0, "file was truncated");
        } else if (status != UV_EPIPE && status != UV_ECONNRESET) {
            wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), -status, "sendfile() failed");
        }
        r->ctx = NULL;
        r->cleanup = NULL;
        wd_http_static_io_free(io);
        wd_http_finalize_request(r, WD_ERROR);
        return;
    }
    r->body_bytes_sent += len;
    r->bytes_sent += len;
    io->done += len;
    wd_http_set_timer(r->hc, 0);
    wd_http_static_io_next(r);
}

/* tcp_nopush: TCP_CORK while the header and the file go out, so that the header and the
 * file's first bytes share full packets (nginx does this only with sendfile too) */
static void
wd_http_static_cork(wd_http_request_t *r, int on)
{
    uv_os_fd_t fd;

    if (uv_fileno((uv_handle_t *) &r->hc->c->tcp, &fd) == 0) {
        (void) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
    }
}

/* The rest of file segment s with sendfile, when the connection's output queue is empty
 * (the bytes must follow what is queued). 1: started; 0: not now (read and write). */
static int
wd_http_static_sendfile(wd_http_request_t *r, wd_http_static_io_t *io, wd_http_seg_t *s)
{
    wd_http_connection_t *hc = r->hc;

    if (io->nopush && !io->corked && !r->header_written) {
        wd_http_static_cork(r, 1);
        io->corked = 1;
    }
    if (!r->header_written && wd_http_output_header(r) != WD_OK) {
        return -1;
    }
    if (hc->writing || hc->out[0].len || hc->out[1].len) {
        return 0;
    }
    if (!io->sf_on) {
        if (wd_sendfile_init(&io->sf, hc->c) != WD_OK) {
            io->use_sf = 0;
            return 0;
        }
        io->sf.data = io;
        io->sf.progress = wd_http_static_sf_progress;
        io->sf.max_chunk = io->max_chunk;
        io->sf_on = 1;
    }
    wd_http_set_timer(hc, wd_http_filter_clcf(r)->send_timeout);
    {
        /* a cached file found resident less than a second ago is trusted to still be */
        wd_http_open_file_t *of = io->of;
        uint64_t now = uv_now(&hc->c->worker->loop);
        int whole = s->off + io->done == 0 && (off_t) (s->len - io->done) == of->size;
        io->sf.assume_resident = of->cached && of->resident_ms && now - of->resident_ms < 1000;
        io->sf.found_resident = 0;
        io->sf_whole = whole && of->cached;     /* sf_done records a residency found */
        /* io may be gone when this returns (done runs at once for a resident file) */
        wd_sendfile_start(&io->sf, of->fd, s->off + io->done, s->len - io->done,
                          wd_http_static_sf_done);
    }
    return 1;
}

static void
wd_http_static_io_cleanup(wd_http_request_t *r)
{
    wd_http_static_io_t *io = r->ctx;

    r->ctx = NULL;
    r->cleanup = NULL;
    if (io == NULL) {
        return;
    }
    io->r = NULL;
    if (!io->busy) {
        wd_http_static_io_free(io);
    }
}

static void
wd_http_static_io_read_cb(uv_fs_t *req)
{
    wd_http_static_io_t *io = req->data;
    wd_http_request_t *r = io->r;
    ssize_t n = req->result;
    int rc;

    uv_fs_req_cleanup(req);
    if (r == NULL) {
        io->busy = 0;
        wd_http_static_io_free(io);
        return;
    }
    wd_event_time_update();
    if (n <= 0) {
        io->busy = 0;
        wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), n < 0 ? (int) -n : 0,
                     n < 0 ? "read() of a static file failed" : "file was truncated");
        r->ctx = NULL;
        r->cleanup = NULL;
        wd_http_static_io_free(io);
        wd_http_finalize_request(r, WD_ERROR);
        return;
    }
    io->done += n;
    rc = wd_http_write(r, io->buf, n);
    io->busy = 0;
    if (io->r == NULL) {                /* the write failed and the cleanup ran */
        wd_http_static_io_free(io);
        return;
    }
    if (rc == WD_ERROR) {
        return;
    }
    if (rc == WD_AGAIN) {
        r->write_event_handler = wd_http_static_io_next;
        return;
    }
    wd_http_static_io_next(r);
}

/* Writes literal segments and starts the read of the next file bytes; finishes at the end. */
static void
wd_http_static_io_next(wd_http_request_t *r)
{
    wd_http_static_io_t *io = r->ctx;
    uv_buf_t b;

    r->write_event_handler = NULL;
    while (io->seg < io->nsegs) {
        wd_http_seg_t *s = &io->segs[io->seg];
        if ((size_t) io->done == s->len) {
            io->seg++;
            io->done = 0;
            continue;
        }
        if (s->data) {
            int rc;
            io->done = s->len;
            io->busy = 1;
            rc = wd_http_write(r, s->data, s->len);
            io->busy = 0;
            if (io->r == NULL) {
                wd_http_static_io_free(io);
                return;
            }
            if (rc == WD_ERROR) {
                return;
            }
            if (rc == WD_AGAIN) {
                r->write_event_handler = wd_http_static_io_next;
                return;
            }
            continue;
        }
        if (io->use_sf) {
            int rc = wd_http_static_sendfile(r, io, s);
            if (rc == 1) {
                return;
            }
            if (rc < 0) {
                r->ctx = NULL;
                r->cleanup = NULL;
                wd_http_static_io_free(io);
                wd_http_finalize_request(r, WD_ERROR);
                return;
            }
        }
        b = uv_buf_init((char *) io->buf, (unsigned) wd_min(s->len - io->done, WD_STATIC_CHUNK));
#ifdef RWF_NOWAIT
        {
            /* bytes in the page cache are read here (no wait for the thread pool): only
             * a read that would wait for the disk goes to the pool */
            struct iovec iov = { b.base, b.len };
            ssize_t n = preadv2(io->of->fd, &iov, 1, s->off + io->done, RWF_NOWAIT);
            if (n > 0) {
                int rc;
                io->done += n;
                io->busy = 1;
                rc = wd_http_write(r, io->buf, (size_t) n);
                io->busy = 0;
                if (io->r == NULL) {    /* the write failed and the cleanup ran */
                    wd_http_static_io_free(io);
                    return;
                }
                if (rc == WD_ERROR) {
                    return;
                }
                if (rc == WD_AGAIN) {
                    r->write_event_handler = wd_http_static_io_next;
                    return;
                }
                continue;
            }
        }
#endif
        io->req.data = io;
        io->busy = 1;
        if (uv_fs_read(&wd_worker->loop, &io->req, io->of->fd, &b, 1, s->off + io->done,
                       wd_http_static_io_read_cb) != 0) {
            io->busy = 0;
            r->ctx = NULL;
            r->cleanup = NULL;
            wd_http_static_io_free(io);
            wd_http_finalize_request(r, WD_ERROR);
        }
        return;
    }
    if (io->corked) {
        wd_http_static_cork(r, 0);      /* the rest (if any) goes out now */
    }
    r->ctx = NULL;
    r->cleanup = NULL;
    wd_http_static_io_free(io);
    wd_http_finalize_request(r, WD_OK);
}

static int
wd_http_static_body(wd_http_request_t *r, wd_http_open_file_t *of, wd_http_seg_t *segs,
                    wd_uint_t nsegs, off_t file_bytes, wd_http_static_loc_conf_t *slcf)
{
    wd_uint_t i;

    if (r->header_only || r->method == HTTP_HEAD) {
        return wd_http_send_header(r) == WD_OK ? WD_OK : WD_ERROR;
    }
    if (file_bytes <= WD_STATIC_SYNC_MAX) {
        size_t total = 0;
        u_char *buf, *p;
        for (i = 0; i < nsegs; i++) {
            total += segs[i].len;
        }
        buf = wd_pnalloc(r->pool, total ? total : 1);
        if (buf == NULL) {
            return WD_ERROR;
        }
        p = buf;
        for (i = 0; i < nsegs; i++) {
            if (segs[i].data) {
                memcpy(p, segs[i].data, segs[i].len);
            } else {
                ssize_t n = pread(of->fd, p, segs[i].len, segs[i].off);
                if (n != (ssize_t) segs[i].len) {
                    wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), n < 0 ? errno : 0,
                                 n < 0 ? "pread() of a static file failed"
                                       : "file was truncated");
                    return WD_ERROR;
                }
            }
            p += segs[i].len;
        }
        if (wd_http_write(r, buf, total) == WD_ERROR) {
            return WD_ERROR;
        }
        return WD_OK;
    }

    wd_http_static_io_t *io = malloc(sizeof(*io));
    if (io == NULL) {
        return WD_ERROR;
    }
    memset(io, 0, offsetof(wd_http_static_io_t, buf));
    io->r = r;
    io->of = of;
    wd_http_open_file_hold(of);
    io->segs = segs;
    io->nsegs = nsegs;
    r->ctx = io;
    r->cleanup = wd_http_static_io_cleanup;
    if (wd_http_send_header(r) != WD_OK) {
        r->ctx = NULL;
        r->cleanup = NULL;
        wd_http_static_io_free(io);
        return WD_ERROR;
    }
    /* sendfile: plain TCP, and the body goes to the socket as it is (no gzip, no chunks) */
    io->max_chunk = slcf->sendfile_max_chunk;
    io->nopush = slcf->tcp_nopush == 1;
    io->use_sf = slcf->sendfile && r->hc->c->ssl == NULL && !r->filter_body && !r->chunked_out
                 && !r->header_only;
    wd_http_static_io_next(r);
    return WD_DONE;
}

static unsigned wd_http_boundary;

int
wd_http_static_send(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                    wd_http_open_file_t *of)
{
    u_char *p;
    wd_str_t etag = { 0, NULL }, lm, *range;
    wd_http_seg_t *segs;
    int rc;

    /* Last-Modified, ETag */
    p = wd_pnalloc(r->pool, 64);
    if (p == NULL) {
        return WD_ERROR;
    }
    lm.data = p;
    lm.len = wd_http_time(p, of->mtime) - p;
    if (wd_http_add_header(r, "Last-Modified", 13, (char *) lm.data, lm.len) != WD_OK) {
        return WD_ERROR;
    }
    if (slcf->etag) {
        p = wd_pnalloc(r->pool, 48);
        if (p == NULL) {
            return WD_ERROR;
        }
        etag.data = p;
        etag.len = sprintf((char *) p, "\"%llx-%llx\"", (unsigned long long) of->mtime,
                           (unsigned long long) of->size);
        if (wd_http_add_header(r, "ETag", 4, (char *) etag.data, etag.len) != WD_OK) {
            return WD_ERROR;
        }
    }

    rc = wd_http_static_conditional(r, slcf, of, &etag);
    if (rc == 412) {
        return 412;
    }
    if (rc == 304) {
        wd_http_set_status(r, 304);
        r->content_type.len = 0;
        r->content_length_out = -1;
        return wd_http_send_header(r) == WD_OK ? WD_OK : WD_ERROR;
    }

    wd_http_set_status(r, 200);
    r->content_length_out = of->size;
    range = wd_http_hdr(r, "Range");
    if (range && wd_http_gzip_applies(r)) {
        range = NULL;       /* nginx: a compressed response has no ranges */
    }
    if (range && range->len > 6 && strncasecmp((char *) range->data, "bytes=", 6) == 0
        && wd_http_if_range_ok(r, of, &etag))
    {
        wd_array_t *ranges = wd_array_create(r->pool, 4, sizeof(wd_http_range_t));
        if (ranges == NULL) {
            return WD_ERROR;
        }
        rc = wd_http_range_parse(r, range, of->size, slcf->max_ranges, ranges);
        if (rc == WD_ERROR) {
            return WD_ERROR;
        }
        if (rc == 416) {
            char cr[48];
            int n = snprintf(cr, sizeof(cr), "bytes */%lld", (long long) of->size);
            r->headers_out.nelts = 0;
            if (wd_http_add_header(r, "Content-Range", 13, cr, n) != WD_OK) {
                return WD_ERROR;
            }
            return wd_http_special_response(r, 416) == WD_OK ? WD_OK : WD_ERROR;
        }
        if (rc == WD_OK) {
            wd_http_range_t *rg = ranges->elts;
            char cr[96];
            int n;

            wd_http_set_status(r, 206);
            if (ranges->nelts == 1) {
                n = snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long) rg[0].start,
                             (long long) rg[0].end - 1, (long long) of->size);
                if (wd_http_add_header(r, "Content-Range", 13, cr, n) != WD_OK) {
                    return WD_ERROR;
                }
                segs = wd_palloc(r->pool, sizeof(*segs));
                if (segs == NULL) {
                    return WD_ERROR;
                }
                segs[0].data = NULL;
                segs[0].off = rg[0].start;
                segs[0].len = rg[0].end - rg[0].start;
                r->content_length_out = segs[0].len;
                return wd_http_static_body(r, of, segs, 1, segs[0].len, slcf);
            }

            /* multipart/byteranges */
            wd_uint_t i, ns = 0;
            off_t len = 0, file_bytes = 0;
            char boundary[16];
            u_char *ct;
            snprintf(boundary, sizeof(boundary), "%010u", ++wd_http_boundary);
            segs = wd_palloc(r->pool, (2 * ranges->nelts + 1) * sizeof(*segs));
            if (segs == NULL) {
                return WD_ERROR;
            }
            for (i = 0; i < ranges->nelts; i++) {
                size_t hl = 128 + r->content_type.len;
                u_char *h = wd_pnalloc(r->pool, hl);
                if (h == NULL) {
                    return WD_ERROR;
                }
                if (r->content_type.len) {
                    n = snprintf((char *) h, hl, "\r\n--%s\r\nContent-Type: %.*s\r\n"
                                 "Content-Range: bytes %lld-%lld/%lld\r\n\r\n", boundary,
                                 wd_str_pf(&r->content_type), (long long) rg[i].start,
                                 (long long) rg[i].end - 1, (long long) of->size);
                } else {
                    n = snprintf((char *) h, hl, "\r\n--%s\r\nContent-Range: bytes "
                                 "%lld-%lld/%lld\r\n\r\n", boundary, (long long) rg[i].start,
                                 (long long) rg[i].end - 1, (long long) of->size);
                }
                segs[ns].data = h;
                segs[ns].off = 0;
                segs[ns++].len = n;
                segs[ns].data = NULL;
                segs[ns].off = rg[i].start;
                segs[ns++].len = rg[i].end - rg[i].start;
                len += n + (rg[i].end - rg[i].start);
                file_bytes += rg[i].end - rg[i].start;
            }
            p = wd_pnalloc(r->pool, 32);
            if (p == NULL) {
                return WD_ERROR;
            }
            n = snprintf((char *) p, 32, "\r\n--%s--\r\n", boundary);
            segs[ns].data = p;
            segs[ns].off = 0;
            segs[ns++].len = n;
            len += n;
            ct = wd_pnalloc(r->pool, 64);
            if (ct == NULL) {
                return WD_ERROR;
            }
            r->content_type.len = snprintf((char *) ct, 64,
                                           "multipart/byteranges; boundary=%s", boundary);
            r->content_type.data = ct;
            r->content_length_out = len;
            return wd_http_static_body(r, of, segs, ns, file_bytes, slcf);
        }
    }

    if (wd_http_add_header(r, "Accept-Ranges", 13, "bytes", 5) != WD_OK) {
        return WD_ERROR;
    }
    segs = wd_palloc(r->pool, sizeof(*segs));
    if (segs == NULL) {
        return WD_ERROR;
    }
    segs[0].data = NULL;
    segs[0].off = 0;
    segs[0].len = of->size;
    r->content_length_out = of->size;
    return wd_http_static_body(r, of, segs, 1, of->size, slcf);
}
