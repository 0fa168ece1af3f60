/*
 * wd_host_wasi_proc.c -- process-level preview1 calls: args and environ,
 * clocks, random bytes, poll_oneoff, proc_exit and sched_yield.
 *
 * args_get/environ_get write a pointer array and the NUL-terminated strings;
 * both regions are bounds-checked as a whole before anything is written, so a
 * bad pointer leaves guest memory untouched. poll_oneoff waits with poll(2) on
 * the host descriptors behind fd subscriptions (files and callback streams are
 * always ready) with the nearest clock deadline as timeout; it blocks the
 * calling thread, which is right for `wasmd run`. An embedder that must not
 * block (the server) installs a sleep hook: for a pure clock wait the hook may
 * ask to suspend the call (WD_WASM_HOST_SUSPEND); the engine re-enters
 * poll_oneoff on wd_wasm_resume() and the deadlines stay anchored at the
 * first entry, so an early resume simply waits (or suspends) again.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "wd_host_wasi_int.h"

static uint32_t wd_host_wasi_strv_sizes(wd_host_wasi_call_t *c, const wd_host_wasi_strv_t *sv,
                                        const uint64_t *a)
{
    uint8_t *pn = wd_wasi_mem(c, (uint32_t)a[0], 4), *pb = wd_wasi_mem(c, (uint32_t)a[1], 4);
    if (pn == NULL || pb == NULL) return WD_WASI_EFAULT;
    wd_wasi_st32(pn, (uint32_t)sv->n);
    wd_wasi_st32(pb, (uint32_t)sv->bytes);
    return 0;
}

static uint32_t wd_host_wasi_strv_get(wd_host_wasi_call_t *c, const wd_host_wasi_strv_t *sv,
                                      const uint64_t *a)
{
    uint32_t vec = (uint32_t)a[0], buf = (uint32_t)a[1];
    uint8_t *pv = wd_wasi_mem(c, vec, (uint64_t)sv->n * 4);
    uint8_t *pb = wd_wasi_mem(c, buf, sv->bytes);
    if (pv == NULL || pb == NULL) return WD_WASI_EFAULT;
    uint32_t off = 0;
    for (int i = 0; i < sv->n; i++) {
        size_t l = strlen(sv->v[i]) + 1;
        wd_wasi_st32(pv + 4 * (size_t)i, buf + off);
        memcpy(pb + off, sv->v[i], l);
        off += (uint32_t)l;
    }
    return 0;
}

static uint32_t wd_host_wasi_args_sizes_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_strv_sizes(c, &c->w->args, a);
}

static uint32_t wd_host_wasi_args_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_strv_get(c, &c->w->args, a);
}

static uint32_t wd_host_wasi_environ_sizes_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_strv_sizes(c, &c->w->env, a);
}

static uint32_t wd_host_wasi_environ_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_strv_get(c, &c->w->env, a);
}

static int wd_host_wasi_clock_default(uint32_t id, int res, uint64_t *ns)
{
    static const clockid_t ids[4] = {
        CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID
    };
    struct timespec ts;
    if (id > 3) return WD_WASI_EINVAL;
    if ((res ? clock_getres(ids[id], &ts) : clock_gettime(ids[id], &ts)) != 0)
        return wd_host_wasi_errno(errno);
    *ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return 0;
}

static int wd_host_wasi_clock(wd_host_wasi_t *w, uint32_t id, int res, uint64_t *ns)
{
    if (w->clock_fn) return w->clock_fn(w->clock_ud, id, res, ns);
    return wd_host_wasi_clock_default(id, res, ns);
}

static uint32_t wd_host_wasi_clock_res_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    uint64_t ns = 0;
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[1], 8);
    if (p == NULL) return WD_WASI_EFAULT;
    int rc = wd_host_wasi_clock(c->w, (uint32_t)a[0], 1, &ns);
    if (rc) return (uint32_t)rc;
    wd_wasi_st64(p, ns);
    return 0;
}

static uint32_t wd_host_wasi_clock_time_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    uint64_t ns = 0;
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[2], 8);
    if (p == NULL) return WD_WASI_EFAULT;
    int rc = wd_host_wasi_clock(c->w, (uint32_t)a[0], 0, &ns);
    if (rc) return (uint32_t)rc;
    wd_wasi_st64(p, ns);
    return 0;
}

static uint32_t wd_host_wasi_random_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    uint32_t len = (uint32_t)a[1];
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[0], len);
    if (p == NULL) return WD_WASI_EFAULT;
    if (c->w->random_fn) return (uint32_t)c->w->random_fn(c->w->random_ud, p, len);
    size_t done = 0;
    while (done < len) {
        ssize_t r = getrandom(p + done, len - done, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return wd_host_wasi_errno(errno);
        }
        done += (size_t)r;
    }
    return 0;
}

static uint32_t wd_host_wasi_proc_exit(wd_host_wasi_call_t *c, const uint64_t *a)
{
    c->rc = wd_wasm_host_exit(c->caller, (int)(uint32_t)a[0]);
    return 0;
}

static uint32_t wd_host_wasi_sched_yield(wd_host_wasi_call_t *c, const uint64_t *a)
{
    sched_yield();
    return 0;
}

#define WD_WASI_EV_CLOCK 0
#define WD_WASI_EV_FD_READ 1
#define WD_WASI_EV_FD_WRITE 2
#define WD_WASI_POLL_MAX 4096

/* poll_oneoff(in, out, nsubscriptions, nevents_out) */
static uint32_t wd_host_wasi_poll_oneoff(wd_host_wasi_call_t *c, const uint64_t *a)
{
    uint32_t n = (uint32_t)a[2];
    uint8_t *in = wd_wasi_mem(c, (uint32_t)a[0], (uint64_t)n * 48);
    uint8_t *out = wd_wasi_mem(c, (uint32_t)a[1], (uint64_t)n * 32);
    uint8_t *pnev = wd_wasi_mem(c, (uint32_t)a[3], 4);
    int resumed = c->w->poll_pending;
    uint64_t resumed_start = c->w->poll_start;
    c->w->poll_pending = 0;
    if (in == NULL || out == NULL || pnev == NULL) return WD_WASI_EFAULT;
    if (n == 0) return WD_WASI_EINVAL;
    if (n > WD_WASI_POLL_MAX) return WD_WASI_ENOTSUP;

    struct pollfd *pfds = wd_wasm_calloc(n, sizeof(*pfds));
    int *pidx = wd_wasm_calloc(n, sizeof(int));           /* subscription -> pollfd index or -1 */
    uint64_t *deadline = wd_wasm_calloc(n, sizeof(uint64_t));
    if (pfds == NULL || pidx == NULL || deadline == NULL) {
        wd_wasm_free(pfds); wd_wasm_free(pidx); wd_wasm_free(deadline);
        return WD_WASI_ENOMEM;
    }
    int npfd = 0, immediate = 0;
    uint32_t nev = 0;
    uint64_t now_mono = 0, start_mono = 0, first = UINT64_MAX;
    int have_clock = 0;
    uint8_t scratch[32];

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = in + 48 * (size_t)i;
        uint8_t tag = s[8];
        pidx[i] = -1;
        if (tag == WD_WASI_EV_CLOCK) {
            uint32_t id = wd_wasi_ld32(s + 16);
            uint64_t timeout = wd_wasi_ld64(s + 24);
            uint16_t flags = wd_wasi_ld16(s + 40);
            uint64_t now;
            int rc = wd_host_wasi_clock(c->w, id, 0, &now);
            if (rc) {
                deadline[i] = 0;
                immediate = 1;
                continue;
            }
            /* Relative timeouts measured on that clock; convert to a monotonic deadline. */
            uint64_t rel = (flags & 1) ? (timeout > now ? timeout - now : 0) : timeout;
            if (!have_clock) {
                wd_host_wasi_clock(c->w, 1, 0, &now_mono);
                /* A call resumed after a suspended sleep measures relative
                 * timeouts from its first entry. */
                start_mono = resumed ? resumed_start : now_mono;
                have_clock = 1;
            }
            uint64_t base = (flags & 1) ? now_mono : start_mono;
            deadline[i] = rel > UINT64_MAX - base ? UINT64_MAX : base + rel;
            if (deadline[i] < first) first = deadline[i];
        } else if (tag == WD_WASI_EV_FD_READ || tag == WD_WASI_EV_FD_WRITE) {
            wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, wd_wasi_ld32(s + 16));
            int hfd = e ? wd_host_wasi_fd_hostfd(e) : -1;
            if (e && hfd >= 0 && e->kind == WD_WASI_FD_HOSTSTDIO) {
                pfds[npfd].fd = hfd;
                pfds[npfd].events = tag == WD_WASI_EV_FD_READ ? POLLIN : POLLOUT;
                pidx[i] = npfd++;
            } else {
                immediate = 1;        /* bad fd (error event), files and streams: ready */
            }
        } else {
            immediate = 1;
        }
    }

    for (;;) {
        int timeout_ms = -1;
        if (immediate) {
            timeout_ms = 0;
        } else if (first != UINT64_MAX) {
            uint64_t now;
            wd_host_wasi_clock(c->w, 1, 0, &now);
            uint64_t left = first > now ? first - now : 0;
            uint64_t ms = (left + 999999) / 1000000;
            timeout_ms = ms > 0x7fffffff ? 0x7fffffff : (int)ms;
        }
        int r;
        if (npfd == 0 && timeout_ms > 0) {
            if (c->w->sleep_fn) {
                /* The embedder decides how to wait: it may suspend the call and
                 * resume it later (the engine then calls poll_oneoff again with the
                 * same arguments; poll_start keeps the deadlines where they were). */
                int sr = c->w->sleep_fn(c->w->sleep_ud, first);
                if (sr == WD_HOST_WASI_SLEEP_SUSPEND) {
                    c->w->poll_pending = 1;
                    c->w->poll_start = start_mono;
                    c->rc = WD_WASM_HOST_SUSPEND;
                    wd_wasm_free(pfds); wd_wasm_free(pidx); wd_wasm_free(deadline);
                    return 0;
                }
            }
            /* pure sleep (what is left of it): nanosleep for sub-millisecond precision */
            uint64_t now;
            wd_host_wasi_clock(c->w, 1, 0, &now);
            uint64_t left = first > now ? first - now : 0;
            struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };
            /* a signal (the embedder's watchdog tick) cuts it short: sleep the rest */
            while (left && nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
            r = 0;
        } else {
            r = poll(pfds, (nfds_t)npfd, timeout_ms);
            if (r < 0 && errno != EINTR) {
                uint32_t e = wd_host_wasi_errno(errno);
                wd_wasm_free(pfds); wd_wasm_free(pidx); wd_wasm_free(deadline);
                return e;
            }
        }
        uint64_t now = 0;
        if (have_clock) wd_host_wasi_clock(c->w, 1, 0, &now);
        nev = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *s = in + 48 * (size_t)i;
            uint8_t tag = s[8];
            uint16_t error = 0;
            uint64_t nbytes = 0;
            int fire = 0;
            if (tag == WD_WASI_EV_CLOCK) {
                fire = deadline[i] <= now;
            } else if (tag == WD_WASI_EV_FD_READ || tag == WD_WASI_EV_FD_WRITE) {
                if (pidx[i] >= 0) {
                    short re = pfds[pidx[i]].revents;
                    fire = re != 0;
                    if (re & POLLNVAL) error = WD_WASI_EBADF;
                    nbytes = fire ? 1 : 0;
                } else {
                    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, wd_wasi_ld32(s + 16));
                    fire = 1;
                    if (e == NULL) error = WD_WASI_EBADF;
                    else nbytes = 1;
                }
            } else {
                fire = 1;
                error = WD_WASI_EINVAL;
            }
            if (!fire) continue;
            memset(scratch, 0, sizeof(scratch));
            memcpy(scratch, s, 8);                          /* userdata */
            wd_wasi_st16(scratch + 8, error);
            scratch[10] = tag;
            wd_wasi_st64(scratch + 16, nbytes);
            memcpy(out + 32 * (size_t)nev, scratch, 32);
            nev++;
        }
        if (nev > 0 || (r == 0 && first == UINT64_MAX && npfd == 0)) break;
        immediate = 0;
    }
    wd_wasm_free(pfds); wd_wasm_free(pidx); wd_wasm_free(deadline);
    wd_wasi_st32(pnev, nev);
    return 0;
}

const wd_host_wasi_func_t wd_host_wasi_proc_funcs[] = {
    { "args_get", "ii", 1, wd_host_wasi_args_get },
    { "args_sizes_get", "ii", 1, wd_host_wasi_args_sizes_get },
    { "environ_get", "ii", 1, wd_host_wasi_environ_get },
    { "environ_sizes_get", "ii", 1, wd_host_wasi_environ_sizes_get },
    { "clock_res_get", "ii", 1, wd_host_wasi_clock_res_get },
    { "clock_time_get", "iIi", 1, wd_host_wasi_clock_time_get },
    { "random_get", "ii", 1, wd_host_wasi_random_get },
    { "proc_exit", "i", 0, wd_host_wasi_proc_exit },
    { "sched_yield", "", 1, wd_host_wasi_sched_yield },
    { "poll_oneoff", "iiii", 1, wd_host_wasi_poll_oneoff },
    { NULL, NULL, 0, NULL }
};
