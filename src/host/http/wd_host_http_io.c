/*
 * wd_host_http_io.c -- wasi:io (streams, poll, error), wasi:cli (stdio,
 * environment, exit), wasi:clocks and wasi:random for wasi:http handlers.
 *
 * Streams: the request body is an input-stream over the backend's body
 * source; read() returns what is there now (possibly nothing), blocking-read
 * suspends the instance (WD_WASM_HOST_SUSPEND, wait BODY) until at least one
 * byte or the end arrives; the end of the body is err(closed). The response
 * body is an output-stream whose check-write budget is HIGH_WATER minus the
 * sink's pending bytes; writing more than the budget traps (as the WIT says);
 * blocking-write-and-flush and blocking-flush suspend (wait WRITE) until the
 * sink is back under LOW_WATER. A blocking call that has already written when
 * it suspends remembers it (h->pending_flush), so the engine's re-invocation
 * on resume only waits. stdout/stderr go to the error log, line by line;
 * stdin is always at its end (the proxy world's rule).
 *
 * Layouts (wasm32):
 *   result<list<u8>, stream-error>   tag @0; ok: ptr @4, len @8; err: case @4, error @8 (12 B)
 *   result<u64, stream-error>        tag @0; ok: u64 @8; err: case @8, error @12 (16 B, align 8)
 *   result<_, stream-error>          tag @0; err: case @4, error @8 (12 B)
 *   stream-error: case 0 last-operation-failed(own<error>), case 1 closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "wd_host_http_int.h"

int wd_hh_drain_body(wd_host_http_t *h);

#define WD_HH_READ_MAX 65536u

/* ---------------------------------------------------------------- result stores */

/* stream-error into p+off (case, handle). failed: create an error resource. */
int wd_hh_stream_err(wd_host_http_t *h, uint32_t g, uint32_t off, uint32_t size,
                            uint32_t align, int failed, const char *msg, int code)
{
    uint32_t eh = 0;
    if (failed && (eh = wd_hh_new_error(h, msg, code)) == 0)
        return -1;
    uint8_t *p = wd_hh_ret(h, g, size, align);
    if (p == NULL)
        return -1;
    memset(p, 0, size);
    p[0] = 1;
    p[off] = failed ? 0 : 1;
    memcpy(p + off + 4, &eh, 4);
    return 0;
}

#define WD_HH_RC(x) ((x) < 0 ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK)

static wd_hh_rc_t wd_hh_read_closed(wd_host_http_t *h, uint32_t g)
{
    return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 0, NULL, -1));
}

wd_hh_rc_t wd_hh_store_list(wd_host_http_t *h, uint32_t g, uint32_t ptr, uint32_t len)
{
    uint8_t *p = wd_hh_ret(h, g, 12, 4);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 12);
    memcpy(p + 4, &ptr, 4);
    memcpy(p + 8, &len, 4);
    return WD_WASM_HOST_OK;
}

wd_hh_rc_t wd_hh_store_u64_ok(wd_host_http_t *h, uint32_t g, uint64_t v)
{
    uint8_t *p = wd_hh_ret(h, g, 16, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 16);
    memcpy(p + 8, &v, 8);
    return WD_WASM_HOST_OK;
}

wd_hh_rc_t wd_hh_store_unit_ok(wd_host_http_t *h, uint32_t g)
{
    uint8_t *p = wd_hh_ret(h, g, 12, 4);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 12);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- input-stream */

/* Read up to len bytes of the request body into the scratch buffer.
 * Returns n > 0, 0 would block, -1 end, -2 error. */
static long wd_hh_body_read(wd_host_http_t *h, uint64_t len)
{
    if (h->body_eof)
        return -1;
    if (h->body_error)
        return -2;                /* stays an error: never reported as the end of the body */
    if (len > WD_HH_READ_MAX)
        len = WD_HH_READ_MAX;
    if (h->scratch_len < len) {
        uint8_t *s = wd_wasm_realloc(h->scratch, WD_HH_READ_MAX);
        if (s == NULL)
            return -2;
        h->scratch = s;
        h->scratch_len = WD_HH_READ_MAX;
    }
    size_t n = 0;
    int rc = h->be->read_body(h->be_data, h->scratch, (size_t)len, &n);
    if (rc == WD_HOST_HTTP_AGAIN)
        return 0;
    if (rc == WD_HOST_HTTP_DONE) {
        h->body_eof = 1;
        return -1;
    }
    if (rc != WD_HOST_HTTP_OK || n == 0 || n > len) {
        h->body_error = 1;
        return -2;
    }
    return (long)n;
}

static int wd_hh_body_readable(wd_host_http_t *h)
{
    return h->body_eof || h->body_error || h->be->body_ready(h->be_data);
}

/* wasmd run: stdin is the process's fd 0 (reads block; 0 bytes is the end) */
static wd_hh_rc_t wd_hh_stdin_read(wd_host_http_t *h, uint64_t want, uint32_t g, int skip)
{
    uint32_t size = skip ? 16 : 12, align = skip ? 8 : 4, off = skip ? 8 : 4;
    uint8_t buf[16384];
    ssize_t n;
    if (want > sizeof buf)
        want = sizeof buf;
    do
        n = read(0, buf, (size_t)want);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, n < 0, n < 0 ? "stdin: read "
                                         "failed" : NULL, -1));
    if (skip)
        return wd_hh_store_u64_ok(h, g, (uint64_t)n);
    uint32_t lp;
    if (wd_hh_lower_bytes(h, buf, (size_t)n, &lp) < 0)
        return WD_WASM_HOST_TRAP;
    return wd_hh_store_list(h, g, lp, (uint32_t)n);
}

/* wasi:filesystem: a file's input-stream reads through the component host (0 = the end) */
static wd_hh_rc_t wd_hh_file_read(wd_host_http_t *h, wd_hh_handle_t *e, uint64_t want, uint32_t g,
                                  int skip)
{
    uint32_t size = skip ? 16 : 12, align = skip ? 8 : 4, off = skip ? 8 : 4;
    uint8_t buf[16384];
    if (want > sizeof buf)
        want = sizeof buf;
    long n = want == 0 ? 0 : h->file_read ? h->file_read(h->file_ud, e->file, e->aux, buf,
                                                         (size_t)want) : -1;
    if (want == 0)
        return skip ? wd_hh_store_u64_ok(h, g, 0) : wd_hh_store_list(h, g, 0, 0);
    if (n <= 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, n < 0, n < 0 ? "file: read "
                                         "failed" : NULL, -1));
    e->aux += (uint64_t)n;
    if (skip)
        return wd_hh_store_u64_ok(h, g, (uint64_t)n);
    uint32_t lp;
    if (wd_hh_lower_bytes(h, buf, (size_t)n, &lp) < 0)
        return WD_WASM_HOST_TRAP;
    return wd_hh_store_list(h, g, lp, (uint32_t)n);
}

/* wasmd run: stdout/stderr are the process's fds 1 and 2 */
static void wd_hh_stdio_write(int fd, const uint8_t *p, size_t n)
{
    static const uint8_t zeros[256];
    while (n > 0) {
        size_t k = p ? n : (n < sizeof zeros ? n : sizeof zeros);
        ssize_t w = write(fd, p ? p : zeros, k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;               /* stdout closed: the output is lost, the program runs on */
        if (p)
            p += w;
        n -= (size_t)w;
    }
}

static wd_hh_rc_t wd_hh_in_read_common(WD_HH_ARGS, int blocking, int skip)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_INSTREAM);
    uint32_t g = (uint32_t)a[2];
    uint32_t size = skip ? 16 : 12, align = skip ? 8 : 4, off = skip ? 8 : 4;
    if (e == NULL || wd_hh_ret(h, g, size, align) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_RBODY)
        return wd_hh_ob_in_read(h, e, a[1], g, blocking, skip);
    if (e->kind == WD_HH_S_FILE)
        return wd_hh_file_read(h, e, a[1], g, skip);
    if (e->kind == WD_HH_S_STDIN && h->stdio && a[1] > 0)
        return wd_hh_stdin_read(h, a[1], g, skip);
    if (e->kind == WD_HH_S_STDIN || (!h->active && e->kind == WD_HH_S_BODY))
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 0, NULL, -1));
    uint64_t want = a[1];
    if (want == 0) {
        if (h->body_error)
            return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 1,
                                             "request body: connection closed or malformed", 7));
        if (h->body_eof)
            return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 0, NULL, -1));
        return skip ? wd_hh_store_u64_ok(h, g, 0) : wd_hh_store_list(h, g, 0, 0);
    }
    long n = wd_hh_body_read(h, want);
    if (n == 0) {
        if (blocking) {
            h->wait |= WD_HOST_HTTP_WAIT_BODY;
            return WD_WASM_HOST_SUSPEND;
        }
        return skip ? wd_hh_store_u64_ok(h, g, 0) : wd_hh_store_list(h, g, 0, 0);
    }
    if (n == -1)
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 0, NULL, -1));
    if (n < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 1,
                                         "request body: connection closed or malformed", 7));
    if (skip)
        return wd_hh_store_u64_ok(h, g, (uint64_t)n);
    uint32_t lp;
    if (wd_hh_lower_bytes(h, h->scratch, (size_t)n, &lp) < 0)
        return WD_WASM_HOST_TRAP;
    return wd_hh_store_list(h, g, lp, (uint32_t)n);
}

static WD_HH_FN(wd_hh_in_read) { return wd_hh_in_read_common(caller, a, r, ud, 0, 0); }
static WD_HH_FN(wd_hh_in_blocking_read) { return wd_hh_in_read_common(caller, a, r, ud, 1, 0); }
static WD_HH_FN(wd_hh_in_skip) { return wd_hh_in_read_common(caller, a, r, ud, 0, 1); }
static WD_HH_FN(wd_hh_in_blocking_skip) { return wd_hh_in_read_common(caller, a, r, ud, 1, 1); }

static WD_HH_FN(wd_hh_in_subscribe)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_INSTREAM);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_RBODY)
        return wd_hh_ob_in_subscribe(h, e, r);
    uint32_t idx = wd_hh_new(h, WD_HH_POLLABLE,
                             e->kind == WD_HH_S_BODY ? WD_HH_P_BODY : WD_HH_P_READY, NULL);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_in_drop)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    if (wd_hh_get(h, a[0], WD_HH_INSTREAM) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- output-stream */

static int wd_hh_out_closed(wd_host_http_t *h, wd_hh_handle_t *e)
{
    if (e->kind != WD_HH_S_BODY)
        return 0;
    wd_hh_resp_t *rs = (wd_hh_resp_t *)e->obj;
    return rs->broken || rs->finished || h->aborted || !h->active;
}

static WD_HH_FN(wd_hh_out_check_write)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    uint32_t g = (uint32_t)a[1];
    if (e == NULL || wd_hh_ret(h, g, 16, 8) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 0, NULL, 0, g, r);
    if (e->kind != WD_HH_S_BODY)
        return wd_hh_store_u64_ok(h, g, 4096);
    if (wd_hh_out_closed(h, e))
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
    return wd_hh_store_u64_ok(h, g, wd_hh_body_budget(h, (wd_hh_resp_t *)e->obj));
}

/* Write n bytes (p, or zeroes if p is NULL) to the stream; stores result<_, stream-error>.
 * check_budget: trap if n exceeds the check-write budget. */
static wd_hh_rc_t wd_hh_out_put(wd_host_http_t *h, wd_hh_handle_t *e, const uint8_t *p,
                                uint64_t n, uint32_t g, int check_budget)
{
    if (e->kind != WD_HH_S_BODY) {
        static const uint8_t zeros[256];
        if (check_budget && n > 4096)           /* stdio's check-write permit is 4096 */
            return wd_hh_trap(h, "wasi:io: output-stream.write of %llu bytes exceeds the "
                              "check-write permit", (unsigned long long)n);
        if (h->stdio)
            wd_hh_stdio_write(e->kind == WD_HH_S_STDERR ? 2 : 1, p, (size_t)n);
        else if (p)
            wd_hh_guest_output(h, e->kind == WD_HH_S_STDERR, p, n);
        else
            for (uint64_t k = 0; k < n; k += sizeof zeros)
                wd_hh_guest_output(h, e->kind == WD_HH_S_STDERR, zeros,
                                   n - k < sizeof zeros ? n - k : sizeof zeros);
        return wd_hh_store_unit_ok(h, g);
    }
    wd_hh_resp_t *rs = (wd_hh_resp_t *)e->obj;
    if (wd_hh_out_closed(h, e))
        return wd_hh_read_closed(h, g);
    if (check_budget && n > wd_hh_body_budget(h, rs))
        return wd_hh_trap(h, "wasi:io: output-stream.write of %llu bytes exceeds the "
                          "check-write permit", (unsigned long long)n);
    int rc = 0;
    if (p) {
        rc = wd_hh_body_write(h, rs, p, n);
    } else {
        uint8_t z[4096];
        memset(z, 0, sizeof z);
        for (uint64_t k = 0; k < n && rc == 0; k += sizeof z)
            rc = wd_hh_body_write(h, rs, z, n - k < sizeof z ? n - k : sizeof z);
    }
    if (rc == -2)
        return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1,
                                         "response body longer than its Content-Length", 28));
    if (rc < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1, "client connection closed", 7));
    return wd_hh_store_unit_ok(h, g);
}

static WD_HH_FN(wd_hh_out_write)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    const uint8_t *p = e ? wd_hh_bytes(h, (uint32_t)a[1], (uint32_t)a[2], 1, 1) : NULL;
    if (p == NULL || wd_hh_ret(h, (uint32_t)a[3], 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 1, p, (uint32_t)a[2], (uint32_t)a[3], r);
    return wd_hh_out_put(h, e, p, (uint32_t)a[2], (uint32_t)a[3], 1);
}

static WD_HH_FN(wd_hh_out_write_zeroes)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    if (e == NULL || wd_hh_ret(h, (uint32_t)a[2], 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 6, NULL, a[1], (uint32_t)a[2], r);
    return wd_hh_out_put(h, e, NULL, a[1], (uint32_t)a[2], 1);
}

/* Wait until the body sink is drained (after an optional write + flush). The write happens
 * on the first invocation only; h->pending_flush marks "written, now waiting". */
static wd_hh_rc_t wd_hh_out_blocking(wd_host_http_t *h, wd_hh_handle_t *e, uint32_t idx,
                                     const uint8_t *p, uint64_t n, int do_write, uint32_t g)
{
    if (e->kind != WD_HH_S_BODY)
        return do_write ? wd_hh_out_put(h, e, p, n, g, 0) : wd_hh_store_unit_ok(h, g);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)e->obj;
    if (h->pending_flush != idx) {
        if (wd_hh_out_closed(h, e))
            return wd_hh_read_closed(h, g);
        if (do_write) {
            if (!wd_hh_body_drained(h, rs)) {       /* nothing written yet: plain retry */
                h->wait |= WD_HOST_HTTP_WAIT_WRITE;
                return WD_WASM_HOST_SUSPEND;
            }
            wd_hh_rc_t rc = wd_hh_out_put(h, e, p, n, g, 0);
            uint8_t *res = wd_hh_mem(h, g, 12);
            if (rc != WD_WASM_HOST_OK || res == NULL || res[0] != 0)
                return rc;
        }
        if (wd_hh_body_flush(h, rs) < 0)
            return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1, "client connection closed", 7));
    }
    if (!wd_hh_body_drained(h, rs)) {
        h->pending_flush = idx;
        h->wait |= WD_HOST_HTTP_WAIT_WRITE;
        return WD_WASM_HOST_SUSPEND;
    }
    h->pending_flush = 0;
    if (rs->broken || h->aborted)
        return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1, "client connection closed", 7));
    return wd_hh_store_unit_ok(h, g);
}

static WD_HH_FN(wd_hh_out_blocking_write_flush)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    const uint8_t *p = e ? wd_hh_bytes(h, (uint32_t)a[1], (uint32_t)a[2], 1, 1) : NULL;
    if (p == NULL || wd_hh_ret(h, (uint32_t)a[3], 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    /* The WIT allows 4096 bytes; the response body accepts up to HIGH_WATER (so the
     * server never buffers more than that per request), stdout/stderr 4096. */
    if (e->kind == WD_HH_S_QBODY) {
        if ((uint32_t)a[2] > WD_HOST_HTTP_HIGH_WATER)
            return wd_hh_trap(h, "wasi:io: blocking-write-and-flush of %u bytes (at most %u)",
                              (uint32_t)a[2], WD_HOST_HTTP_HIGH_WATER);
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 2, p, (uint32_t)a[2], (uint32_t)a[3], r);
    }
    if ((uint32_t)a[2] > (e->kind == WD_HH_S_BODY ? WD_HOST_HTTP_HIGH_WATER : 4096))
        return wd_hh_trap(h, "wasi:io: blocking-write-and-flush of %u bytes (at most %u)",
                          (uint32_t)a[2], e->kind == WD_HH_S_BODY ? WD_HOST_HTTP_HIGH_WATER : 4096);
    return wd_hh_out_blocking(h, e, (uint32_t)a[0], p, (uint32_t)a[2], 1, (uint32_t)a[3]);
}

static WD_HH_FN(wd_hh_out_blocking_zeroes_flush)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    if (e == NULL || wd_hh_ret(h, (uint32_t)a[2], 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (a[1] > 4096)              /* the WIT: "a write of up to 4096 zeroes" */
        return wd_hh_trap(h, "wasi:io: blocking-write-zeroes-and-flush of %llu bytes "
                          "(at most 4096)", (unsigned long long)a[1]);
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 7, NULL, a[1], (uint32_t)a[2], r);
    return wd_hh_out_blocking(h, e, (uint32_t)a[0], NULL, a[1], 1, (uint32_t)a[2]);
}

static WD_HH_FN(wd_hh_out_flush)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    uint32_t g = (uint32_t)a[1];
    if (e == NULL || wd_hh_ret(h, g, 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 3, NULL, 0, g, r);
    if (e->kind != WD_HH_S_BODY)
        return wd_hh_store_unit_ok(h, g);
    if (wd_hh_out_closed(h, e))
        return wd_hh_read_closed(h, g);
    if (wd_hh_body_flush(h, (wd_hh_resp_t *)e->obj) < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1, "client connection closed", 7));
    return wd_hh_store_unit_ok(h, g);
}

static WD_HH_FN(wd_hh_out_blocking_flush)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    if (e == NULL || wd_hh_ret(h, (uint32_t)a[1], 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 4, NULL, 0, (uint32_t)a[1], r);
    return wd_hh_out_blocking(h, e, (uint32_t)a[0], NULL, 0, 0, (uint32_t)a[1]);
}

static WD_HH_FN(wd_hh_out_subscribe)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY)
        return wd_hh_ob_out(h, (uint32_t)a[0], e, 5, NULL, 0, 0, r);
    wd_hh_obj_t *o = e->kind == WD_HH_S_BODY ? e->obj : NULL;
    wd_hh_obj_ref(o);
    uint32_t idx = wd_hh_new(h, WD_HH_POLLABLE, o ? WD_HH_P_OUTPUT : WD_HH_P_READY, o);
    if (idx == 0) {
        wd_hh_obj_release(h, o);
        return WD_WASM_HOST_TRAP;
    }
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

/* splice(src, len) -> result<u64, stream-error> */
static wd_hh_rc_t wd_hh_out_splice_common(WD_HH_ARGS, int blocking)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_OUTSTREAM);
    wd_hh_handle_t *src = e ? wd_hh_get(h, a[1], WD_HH_INSTREAM) : NULL;
    uint32_t g = (uint32_t)a[3];
    if (src == NULL || wd_hh_ret(h, g, 16, 8) == NULL)
        return WD_WASM_HOST_TRAP;
    if (e->kind == WD_HH_S_QBODY || src->kind == WD_HH_S_RBODY)
        return wd_hh_ob_splice(h, e, src, a[2], g, blocking);
    if (wd_hh_out_closed(h, e))
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
    if (src->kind == WD_HH_S_BODY && h->active && h->body_error)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1,
                                         "request body: connection closed or malformed", 7));
    if (src->kind != WD_HH_S_BODY || !h->active || h->body_eof)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
    uint64_t budget = e->kind == WD_HH_S_BODY ? wd_hh_body_budget(h, (wd_hh_resp_t *)e->obj)
                                              : 4096;
    if (blocking) {
        if (e->kind == WD_HH_S_BODY && (budget == 0 || !wd_hh_body_drained(h, (wd_hh_resp_t *)e->obj))) {
            wd_hh_body_flush(h, (wd_hh_resp_t *)e->obj);
            h->wait |= WD_HOST_HTTP_WAIT_WRITE;
            return WD_WASM_HOST_SUSPEND;
        }
        if (!wd_hh_body_readable(h)) {
            h->wait |= WD_HOST_HTTP_WAIT_BODY;
            return WD_WASM_HOST_SUSPEND;
        }
    }
    uint64_t want = a[2] < budget ? a[2] : budget;
    if (want == 0)
        return wd_hh_store_u64_ok(h, g, 0);
    long n = wd_hh_body_read(h, want);
    if (n == 0)
        return wd_hh_store_u64_ok(h, g, 0);
    if (n == -1)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
    if (n < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1,
                                         "request body: connection closed or malformed", 7));
    if (e->kind != WD_HH_S_BODY) {
        wd_hh_guest_output(h, e->kind == WD_HH_S_STDERR, h->scratch, (size_t)n);
        return wd_hh_store_u64_ok(h, g, (uint64_t)n);
    }
    int rc = wd_hh_body_write(h, (wd_hh_resp_t *)e->obj, h->scratch, (size_t)n);
    if (rc == -2)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1,
                                         "response body longer than its Content-Length", 28));
    if (rc < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1, "client connection closed", 7));
    return wd_hh_store_u64_ok(h, g, (uint64_t)n);
}

static WD_HH_FN(wd_hh_out_splice) { return wd_hh_out_splice_common(caller, a, r, ud, 0); }
static WD_HH_FN(wd_hh_out_blocking_splice) { return wd_hh_out_splice_common(caller, a, r, ud, 1); }

static WD_HH_FN(wd_hh_out_drop)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    if (wd_hh_get(h, a[0], WD_HH_OUTSTREAM) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- poll */

/* 1 ready; else 0 and the wait flags/deadline to add. */
static int wd_hh_pollable_ready(wd_host_http_t *h, wd_hh_handle_t *e, unsigned *wait,
                                uint64_t *deadline)
{
    switch (e->kind) {
    case WD_HH_P_BODY:
        if (!h->active || wd_hh_body_readable(h))
            return 1;
        *wait |= WD_HOST_HTTP_WAIT_BODY;
        return 0;
    case WD_HH_P_TRAILERS:
        if (!h->active || wd_hh_drain_body(h))
            return 1;
        *wait |= WD_HOST_HTTP_WAIT_BODY;
        return 0;
    case WD_HH_P_OUTPUT:
        if (!h->active || wd_hh_body_drained(h, (wd_hh_resp_t *)e->obj))
            return 1;
        *wait |= WD_HOST_HTTP_WAIT_WRITE;
        return 0;
    case WD_HH_P_TIMER:
        if (wd_hh_now_ns(0) >= e->aux)
            return 1;
        if (!(*wait & WD_HOST_HTTP_WAIT_TIMER) || e->aux < *deadline)
            *deadline = e->aux;
        *wait |= WD_HOST_HTTP_WAIT_TIMER;
        return 0;
    case WD_HH_P_FUTRESP:
    case WD_HH_P_RBODY:
    case WD_HH_P_QBODY:
    case WD_HH_P_RTRAIL:
        return wd_hh_ob_pollable_ready(h, e, wait);
    default:
        return 1;
    }
}

static WD_HH_FN(wd_hh_pollable_ready_fn)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_POLLABLE);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    unsigned w = 0;
    uint64_t d = 0;
    r[0] = (uint64_t)wd_hh_pollable_ready(h, e, &w, &d);
    return WD_WASM_HOST_OK;
}

static void wd_hh_set_wait(wd_host_http_t *h, unsigned w, uint64_t d)
{
    if (w & WD_HOST_HTTP_WAIT_TIMER) {
        if (!(h->wait & WD_HOST_HTTP_WAIT_TIMER) || d < h->wait_deadline)
            h->wait_deadline = d;
    }
    h->wait |= w;
}

static WD_HH_FN(wd_hh_pollable_block)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_POLLABLE);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    unsigned w = 0;
    uint64_t d = 0;
    if (wd_hh_pollable_ready(h, e, &w, &d))
        return WD_WASM_HOST_OK;
    if (!h->active)
        return wd_hh_trap(h, "wasi:io: blocking outside a request");
    wd_hh_set_wait(h, w, d);
    return WD_WASM_HOST_SUSPEND;
}

/* poll(list<borrow<pollable>>) -> list<u32> (return pointer: ptr, len) */
static WD_HH_FN(wd_hh_poll)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    uint32_t n = (uint32_t)a[1];
    const uint8_t *l = wd_hh_bytes(h, (uint32_t)a[0], n, 4, 4);
    if (l == NULL || wd_hh_ret(h, (uint32_t)a[2], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (n == 0)
        return wd_hh_trap(h, "wasi:io: poll on an empty list");
    if (n > WD_HH_MAX_HANDLES)
        return wd_hh_trap(h, "wasi:io: poll on %u pollables (at most %u)", n, WD_HH_MAX_HANDLES);
    uint32_t *ready = wd_wasm_malloc((size_t)n * 4);
    if (ready == NULL)
        return wd_hh_trap(h, "wasi:io: out of memory");
    uint32_t k = 0;
    unsigned w = 0;
    uint64_t d = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t hi;
        memcpy(&hi, l + 4 * i, 4);
        wd_hh_handle_t *e = wd_hh_get(h, hi, WD_HH_POLLABLE);
        if (e == NULL) {
            wd_wasm_free(ready);
            return WD_WASM_HOST_TRAP;
        }
        if (wd_hh_pollable_ready(h, e, &w, &d))
            ready[k++] = i;
    }
    if (k == 0) {
        wd_wasm_free(ready);
        if (!h->active)
            return wd_hh_trap(h, "wasi:io: blocking outside a request");
        wd_hh_set_wait(h, w, d);
        return WD_WASM_HOST_SUSPEND;
    }
    uint32_t lp;
    int rc = wd_hh_lower_bytes(h, ready, (size_t)k * 4, &lp);   /* u32 little-endian */
    wd_wasm_free(ready);
    if (rc < 0)
        return WD_WASM_HOST_TRAP;
    if (lp & 3)
        return wd_hh_trap(h, "cabi_realloc returned a misaligned pointer");
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[2], 8, 4);
    if (ret == NULL)
        return WD_WASM_HOST_TRAP;
    memcpy(ret, &lp, 4);
    memcpy(ret + 4, &k, 4);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_pollable_drop)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    if (wd_hh_get(h, a[0], WD_HH_POLLABLE) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- error */

static WD_HH_FN(wd_hh_error_debug)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_ERROR);
    if (e == NULL || wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    const char *m = ((wd_hh_error_t *)e->obj)->msg;
    uint32_t sp, sl = (uint32_t)strlen(m);
    if (wd_hh_lower_bytes(h, m, sl, &sp) < 0)
        return WD_WASM_HOST_TRAP;
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[1], 8, 4);
    memcpy(ret, &sp, 4);
    memcpy(ret + 4, &sl, 4);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_error_drop)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    if (wd_hh_get(h, a[0], WD_HH_ERROR) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- cli */

static wd_hh_rc_t wd_hh_std_stream(wd_host_http_t *h, uint64_t *r, uint8_t type, uint8_t kind)
{
    uint32_t idx = wd_hh_new(h, type, kind, NULL);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_get_stdin)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    return wd_hh_std_stream(h, r, WD_HH_INSTREAM, WD_HH_S_STDIN);
}

static WD_HH_FN(wd_hh_get_stdout)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    return wd_hh_std_stream(h, r, WD_HH_OUTSTREAM, WD_HH_S_STDOUT);
}

static WD_HH_FN(wd_hh_get_stderr)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    return wd_hh_std_stream(h, r, WD_HH_OUTSTREAM, WD_HH_S_STDERR);
}

/* get-environment() -> list<tuple<string, string>> (elements 16 bytes) */
static WD_HH_FN(wd_hh_get_environment)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    uint32_t g = (uint32_t)a[0], lp, n = (uint32_t)h->nenv;
    if (wd_hh_ret(h, g, 8, 4) == NULL || wd_hh_alloc(h, 4, (uint64_t)n * 16, &lp) < 0)
        return WD_WASM_HOST_TRAP;
    for (uint32_t i = 0; i < n; i++) {
        const char *kv = h->env[i], *eq = strchr(kv, '=');
        uint32_t kl = eq ? (uint32_t)(eq - kv) : (uint32_t)strlen(kv);
        const char *v = eq ? eq + 1 : "";
        uint32_t vl = (uint32_t)strlen(v), kp, vp;
        if (wd_hh_lower_bytes(h, kv, kl, &kp) < 0 || wd_hh_lower_bytes(h, v, vl, &vp) < 0)
            return WD_WASM_HOST_TRAP;
        uint8_t *s = wd_hh_mem(h, lp + 16 * i, 16);
        memcpy(s, &kp, 4); memcpy(s + 4, &kl, 4); memcpy(s + 8, &vp, 4); memcpy(s + 12, &vl, 4);
    }
    uint8_t *ret = wd_hh_ret(h, g, 8, 4);
    memcpy(ret, &lp, 4);
    memcpy(ret + 4, &n, 4);
    return WD_WASM_HOST_OK;
}

/* get-arguments() -> list<string>: a handler has none; wasmd run's command its argv */
static WD_HH_FN(wd_hh_get_arguments)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    uint32_t lp, n = (uint32_t)h->nargs;
    if (wd_hh_ret(h, (uint32_t)a[0], 8, 4) == NULL || wd_hh_alloc(h, 4, (uint64_t)n * 8, &lp) < 0)
        return WD_WASM_HOST_TRAP;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sl = (uint32_t)strlen(h->args[i]), sp;
        if (wd_hh_lower_bytes(h, h->args[i], sl, &sp) < 0)
            return WD_WASM_HOST_TRAP;
        uint8_t *s = wd_hh_mem(h, lp + 8 * i, 8);
        memcpy(s, &sp, 4);
        memcpy(s + 4, &sl, 4);
    }
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[0], 8, 4);
    memcpy(ret, &lp, 4);
    memcpy(ret + 4, &n, 4);
    return WD_WASM_HOST_OK;
}

/* initial-cwd() -> option<string>: none */
static WD_HH_FN(wd_hh_initial_cwd)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[0], 12, 4);
    if (ret == NULL)
        return WD_WASM_HOST_TRAP;
    memset(ret, 0, 12);
    return WD_WASM_HOST_OK;
}

/* exit(status: result) -> flattened to one i32 (0 ok, 1 err) */
static WD_HH_FN(wd_hh_exit)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    if ((uint32_t)a[0] > 1)
        return wd_hh_trap(h, "wasi:cli/exit: invalid result tag");
    return wd_wasm_host_exit(caller, (uint32_t)a[0] ? 1 : 0);
}

static WD_HH_FN(wd_hh_exit_with_code)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    return wd_wasm_host_exit(caller, (int)((uint32_t)a[0] & 0xff));
}

/* ---------------------------------------------------------------- clocks */

static WD_HH_FN(wd_hh_mono_now)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    r[0] = wd_hh_now_ns(0);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_mono_resolution)
{
    wd_host_http_t *h = WD_HH_H;
    struct timespec ts;
    WD_HH_ENTER(h, 0);
    clock_getres(CLOCK_MONOTONIC, &ts);
    r[0] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return WD_WASM_HOST_OK;
}

static wd_hh_rc_t wd_hh_timer(wd_host_http_t *h, uint64_t *r, uint64_t when)
{
    uint32_t idx = wd_hh_new(h, WD_HH_POLLABLE, WD_HH_P_TIMER, NULL);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    h->tab[idx].aux = when;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_mono_subscribe_instant)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    return wd_hh_timer(h, r, a[0]);
}

static WD_HH_FN(wd_hh_mono_subscribe_duration)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    uint64_t now = wd_hh_now_ns(0);
    return wd_hh_timer(h, r, a[0] > UINT64_MAX - now ? UINT64_MAX : now + a[0]);
}

/* datetime { seconds: u64 @0, nanoseconds: u32 @8 } (16 bytes, align 8) */
static wd_hh_rc_t wd_hh_store_datetime(wd_host_http_t *h, uint32_t g, struct timespec ts)
{
    uint8_t *p = wd_hh_ret(h, g, 16, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    uint64_t s = ts.tv_sec < 0 ? 0 : (uint64_t)ts.tv_sec;
    uint32_t ns = (uint32_t)ts.tv_nsec;
    memset(p, 0, 16);
    memcpy(p, &s, 8);
    memcpy(p + 8, &ns, 4);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_wall_now)
{
    wd_host_http_t *h = WD_HH_H;
    struct timespec ts;
    WD_HH_ENTER(h, 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    return wd_hh_store_datetime(h, (uint32_t)a[0], ts);
}

static WD_HH_FN(wd_hh_wall_resolution)
{
    wd_host_http_t *h = WD_HH_H;
    struct timespec ts;
    WD_HH_ENTER(h, 0);
    clock_getres(CLOCK_REALTIME, &ts);
    return wd_hh_store_datetime(h, (uint32_t)a[0], ts);
}

/* ---------------------------------------------------------------- random */

static int wd_hh_fill_random(uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = getrandom(p, n, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static WD_HH_FN(wd_hh_random_bytes)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    uint32_t g = (uint32_t)a[1], lp;
    if (a[0] > (1u << 20))        /* host work is not metered by fuel: bound it */
        return wd_hh_trap(h, "wasi:random: request of %llu bytes is too large",
                          (unsigned long long)a[0]);
    if (wd_hh_ret(h, g, 8, 4) == NULL || wd_hh_alloc(h, 1, a[0], &lp) < 0)
        return WD_WASM_HOST_TRAP;
    if (wd_hh_fill_random(wd_hh_mem(h, lp, a[0]), (size_t)a[0]) < 0)
        return wd_hh_trap(h, "wasi:random: getrandom failed");
    uint8_t *ret = wd_hh_ret(h, g, 8, 4);
    uint32_t n = (uint32_t)a[0];
    memcpy(ret, &lp, 4);
    memcpy(ret + 4, &n, 4);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_random_u64)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    uint64_t v;
    if (wd_hh_fill_random((uint8_t *)&v, 8) < 0)
        return wd_hh_trap(h, "wasi:random: getrandom failed");
    r[0] = v;
    return WD_WASM_HOST_OK;
}

/* insecure-seed() -> tuple<u64, u64> (16 bytes, align 8) */
static WD_HH_FN(wd_hh_insecure_seed)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 0);
    uint8_t *p = wd_hh_ret(h, (uint32_t)a[0], 16, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    if (wd_hh_fill_random(p, 16) < 0)
        return wd_hh_trap(h, "wasi:random: getrandom failed");
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- tables */

const wd_hh_import_t wd_hh_streams_imports[] = {
    { "[method]input-stream.read", "iIi:", wd_hh_in_read },
    { "[method]input-stream.blocking-read", "iIi:", wd_hh_in_blocking_read },
    { "[method]input-stream.skip", "iIi:", wd_hh_in_skip },
    { "[method]input-stream.blocking-skip", "iIi:", wd_hh_in_blocking_skip },
    { "[method]input-stream.subscribe", "i:i", wd_hh_in_subscribe },
    { "[resource-drop]input-stream", "i:", wd_hh_in_drop },
    { "[method]output-stream.check-write", "ii:", wd_hh_out_check_write },
    { "[method]output-stream.write", "iiii:", wd_hh_out_write },
    { "[method]output-stream.blocking-write-and-flush", "iiii:", wd_hh_out_blocking_write_flush },
    { "[method]output-stream.flush", "ii:", wd_hh_out_flush },
    { "[method]output-stream.blocking-flush", "ii:", wd_hh_out_blocking_flush },
    { "[method]output-stream.subscribe", "i:i", wd_hh_out_subscribe },
    { "[method]output-stream.write-zeroes", "iIi:", wd_hh_out_write_zeroes },
    { "[method]output-stream.blocking-write-zeroes-and-flush", "iIi:",
      wd_hh_out_blocking_zeroes_flush },
    { "[method]output-stream.splice", "iiIi:", wd_hh_out_splice },
    { "[method]output-stream.blocking-splice", "iiIi:", wd_hh_out_blocking_splice },
    { "[resource-drop]output-stream", "i:", wd_hh_out_drop },
    { NULL, NULL, NULL }
};

const wd_hh_import_t wd_hh_poll_imports[] = {
    { "[method]pollable.ready", "i:i", wd_hh_pollable_ready_fn },
    { "[method]pollable.block", "i:", wd_hh_pollable_block },
    { "poll", "iii:", wd_hh_poll },
    { "[resource-drop]pollable", "i:", wd_hh_pollable_drop },
    { NULL, NULL, NULL }
};

const wd_hh_import_t wd_hh_error_imports[] = {
    { "[method]error.to-debug-string", "ii:", wd_hh_error_debug },
    { "[resource-drop]error", "i:", wd_hh_error_drop },
    { NULL, NULL, NULL }
};

const wd_hh_import_t wd_hh_stdin_imports[] = { { "get-stdin", ":i", wd_hh_get_stdin }, { NULL, NULL, NULL } };
const wd_hh_import_t wd_hh_stdout_imports[] = { { "get-stdout", ":i", wd_hh_get_stdout }, { NULL, NULL, NULL } };
const wd_hh_import_t wd_hh_stderr_imports[] = { { "get-stderr", ":i", wd_hh_get_stderr }, { NULL, NULL, NULL } };
const wd_hh_import_t wd_hh_env_imports[] = {
    { "get-environment", "i:", wd_hh_get_environment },
    { "get-arguments", "i:", wd_hh_get_arguments },
    { "initial-cwd", "i:", wd_hh_initial_cwd },
    { NULL, NULL, NULL }
};
const wd_hh_import_t wd_hh_exit_imports[] = {
    { "exit", "i:", wd_hh_exit },
    { "exit-with-code", "i:", wd_hh_exit_with_code },
    { NULL, NULL, NULL }
};
const wd_hh_import_t wd_hh_monotonic_imports[] = {
    { "now", ":I", wd_hh_mono_now },
    { "resolution", ":I", wd_hh_mono_resolution },
    { "subscribe-instant", "I:i", wd_hh_mono_subscribe_instant },
    { "subscribe-duration", "I:i", wd_hh_mono_subscribe_duration },
    { NULL, NULL, NULL }
};
const wd_hh_import_t wd_hh_wall_imports[] = {
    { "now", "i:", wd_hh_wall_now },
    { "resolution", "i:", wd_hh_wall_resolution },
    { NULL, NULL, NULL }
};
const wd_hh_import_t wd_hh_random_imports[] = {
    { "get-random-bytes", "Ii:", wd_hh_random_bytes },
    { "get-random-u64", ":I", wd_hh_random_u64 },
    { NULL, NULL, NULL }
};
const wd_hh_import_t wd_hh_insecure_imports[] = {
    { "get-insecure-random-bytes", "Ii:", wd_hh_random_bytes },
    { "get-insecure-random-u64", ":I", wd_hh_random_u64 },
    { NULL, NULL, NULL }
};
const wd_hh_import_t wd_hh_seed_imports[] = {
    { "insecure-seed", "i:", wd_hh_insecure_seed },
    { NULL, NULL, NULL }
};
