/*
 * The worker's run queue for guest code that paused without waiting on anything, and the
 * share of guest work one loop pass may do.
 *
 * A pass's share is spent after 5 million units of fuel (5-10 ms of a tight loop here) or
 * once a watchdog tick (every 5 ms) found guest code running in it. Fuel counts the guest's
 * own instructions only, not its host calls (the socket writes of the responses); the tick
 * bounds the wall time when fuel is slow (a sanitizer build runs ~10x fewer units a ms).
 *
 * A handler pauses at a fuel check point for two reasons: the watchdog saw it run a whole
 * 5 ms slice (it is CPU-bound: "yielded"), or it was a new request started after the pass's
 * share was spent, given a short first slice (WD_HTTP_WASM_FIRST_SLICE_FUEL, enough for
 * most requests to finish at once), and it needed more ("fresh"). Both wait here, in two
 * FIFO queues, for one uv_idle handle that resumes them at the start of later loop passes
 * (an active idle handle also makes libuv poll the network without sleeping).
 *
 * Each pass ("round") resumes the entries queued when it began, each at most once, from the
 * heads of the queues, fresh ones first, until the share is spent (at least one entry runs);
 * an entry that pauses again goes to the tail of the yielded queue. So:
 *  - a new request runs at once (short slice) or within one round, however many CPU-bound
 *    handlers are in the yielded queue;
 *  - the yielded handlers share the worker round-robin, in arrival order, and one of them
 *    runs at least every other round, so a stream of new requests cannot starve them;
 *  - the loop polls the network every 5-10 ms however many handlers are runnable.
 *
 * (Before this queue, every paused handler was resumed by its own 1 ms timer, re-armed when
 * the pass's share was spent. Timers fire in the order they were armed, and the handlers
 * that ran re-armed before the ones skipped, so the same few ran pass after pass, and a new
 * request paused at its start could wait seconds behind them.)
 */
#include "wd_http_wasm.h"

/* Guest work one loop pass may do: 5 million units of fuel, 5-10 ms of a tight loop here. */
#define WD_HTTP_WASM_PASS_BUDGET_FUEL  5000000

static uint64_t wd_http_wasm_pass_ms, wd_http_wasm_pass_fuel;
static uint32_t wd_http_wasm_pass_ticks;

static uv_idle_t wd_http_wasm_runner;
static int wd_http_wasm_runner_init, wd_http_wasm_runner_on, wd_http_wasm_hook_added;
static wd_queue_t wd_http_wasm_runq[2];          /* WD_HTTP_WASM_FRESH, WD_HTTP_WASM_YIELDED */
static wd_uint_t wd_http_wasm_runq_n[2];
static int wd_http_wasm_yielded_owed;            /* the last round ran no yielded entry */

static void
wd_http_wasm_pass_sync(void)
{
    /* a new loop pass when the loop's clock moved; the runner also starts one explicitly */
    if (uv_now(&wd_worker->loop) != wd_http_wasm_pass_ms) {
        wd_http_wasm_pass_ms = uv_now(&wd_worker->loop);
        wd_http_wasm_pass_fuel = 0;
        wd_http_wasm_pass_ticks = wd_http_wasm_watchdog_guest_ticks();
    }
}

int
wd_http_wasm_pass_spent(void)
{
    wd_http_wasm_pass_sync();
    return wd_http_wasm_pass_fuel >= WD_HTTP_WASM_PASS_BUDGET_FUEL
           || wd_http_wasm_watchdog_guest_ticks() != wd_http_wasm_pass_ticks;
}

void
wd_http_wasm_pass_charge(uint64_t fuel)
{
    wd_http_wasm_pass_sync();
    wd_http_wasm_pass_fuel += fuel;
}

/* Runs the head of queue q: out of the queue first, since running may queue it again. */
static void
wd_http_wasm_sched_run_head(int q)
{
    wd_queue_t *l = wd_http_wasm_runq[q].next;
    wd_http_wasm_ctx_t *ctx = wd_queue_data(l, wd_http_wasm_ctx_t, link);

    wd_http_wasm_sched_remove(ctx);
    wd_http_wasm_resume(ctx);
}

static void
wd_http_wasm_runner_cb(uv_idle_t *h)
{
    wd_uint_t nfresh = wd_http_wasm_runq_n[WD_HTTP_WASM_FRESH];
    wd_uint_t nyield = wd_http_wasm_runq_n[WD_HTTP_WASM_YIELDED];
    wd_uint_t ran = 0;
    int ran_yielded = 0;

    (void) h;
    wd_time_update();
    wd_http_wasm_pass_ms = uv_now(&wd_worker->loop);
    wd_http_wasm_pass_fuel = 0;
    wd_http_wasm_pass_ticks = wd_http_wasm_watchdog_guest_ticks();

    /* the entries queued when the round began, each at most once: fresh ones first,
     * unless the last round ran no yielded one (then the yielded queue's head goes first) */
    if (wd_http_wasm_yielded_owed && nyield) {
        wd_http_wasm_sched_run_head(WD_HTTP_WASM_YIELDED);
        nyield--;
        ran++;
        ran_yielded = 1;
    }
    while (nfresh-- && wd_http_wasm_runq_n[WD_HTTP_WASM_FRESH]
           && (ran == 0 || !wd_http_wasm_pass_spent())) {
        wd_http_wasm_sched_run_head(WD_HTTP_WASM_FRESH);
        ran++;
    }
    while (nyield-- && wd_http_wasm_runq_n[WD_HTTP_WASM_YIELDED]
           && (ran == 0 || !wd_http_wasm_pass_spent())) {
        wd_http_wasm_sched_run_head(WD_HTTP_WASM_YIELDED);
        ran++;
        ran_yielded = 1;
    }
    wd_http_wasm_yielded_owed = !ran_yielded && wd_http_wasm_runq_n[WD_HTTP_WASM_YIELDED];
    if (wd_http_wasm_runq_n[0] + wd_http_wasm_runq_n[1] == 0 && wd_http_wasm_runner_on) {
        uv_idle_stop(&wd_http_wasm_runner);
        wd_http_wasm_runner_on = 0;
    }
}

static void
wd_http_wasm_runner_close(void *data)
{
    (void) data;
    if (wd_http_wasm_runner_init) {
        uv_close((uv_handle_t *) &wd_http_wasm_runner, NULL);
        wd_http_wasm_runner_init = 0;
        wd_http_wasm_runner_on = 0;
    }
}

void
wd_http_wasm_sched_add(wd_http_wasm_ctx_t *ctx, int q)
{
    if (!wd_http_wasm_runner_init) {
        if (!wd_http_wasm_hook_added) {
            wd_queue_init(&wd_http_wasm_runq[0]);
            wd_queue_init(&wd_http_wasm_runq[1]);
            if (wd_event_add_close_hook(wd_http_wasm_runner_close, NULL) == WD_OK) {
                wd_http_wasm_hook_added = 1;
            }
        }
        uv_idle_init(&wd_worker->loop, &wd_http_wasm_runner);
        wd_http_wasm_runner_init = 1;
    }
    ctx->state = WD_HTTP_WASM_RUNNABLE;
    ctx->runq = (unsigned) q + 1;
    wd_queue_insert_tail(&wd_http_wasm_runq[q], &ctx->link);
    wd_http_wasm_runq_n[q]++;
    if (!wd_http_wasm_runner_on) {
        uv_idle_start(&wd_http_wasm_runner, wd_http_wasm_runner_cb);
        wd_http_wasm_runner_on = 1;
    }
}

void
wd_http_wasm_sched_remove(wd_http_wasm_ctx_t *ctx)
{
    if (ctx->runq) {
        wd_queue_remove(&ctx->link);
        wd_queue_init(&ctx->link);
        wd_http_wasm_runq_n[ctx->runq - 1]--;
        ctx->runq = 0;
    }
}
