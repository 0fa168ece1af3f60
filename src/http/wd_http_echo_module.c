/*
 * wd_http_echo_module.c -- diagnostic content handlers built on the streaming API.
 *
 *   echo_body [buffered];   answer with the request body.  Streaming (default): read with
 *                           wd_http_body_read() and write each piece at once (chunked
 *                           response), honouring back-pressure on both sides (WD_AGAIN from
 *                           the read -> wait for r->read_event_handler; WD_AGAIN from the
 *                           write -> stop reading until r->write_event_handler).
 *                           buffered: wd_http_read_body() first, then one response with a
 *                           Content-Length (so body errors such as 413 become the status).
 *   echo_sleep time;        asynchronous handler: returns WD_DONE, answers "slept\n" after
 *                           `time` from a uv timer; a client that goes away first triggers
 *                           r->cleanup, which closes the timer.
 *
 * They exist for the HTTP tests (and as the smallest example of the handler contract in
 * wd_http_request.h); they are ordinary modules, not test stubs.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

typedef struct {
    wd_msec_t   sleep;
} wd_http_echo_loc_conf_t;

typedef struct {
    uv_timer_t  timer;
    wd_http_request_t *r;
} wd_http_echo_sleep_t;

static char *wd_http_echo_body(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_echo_sleep(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_echo_create_loc_conf(wd_conf_t *cf);

static const wd_command_t wd_http_echo_commands[] = {
    { "echo_body", WD_HTTP_LOC_CONF | WD_CONF_NOARGS | WD_CONF_TAKE1, wd_http_echo_body,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "echo_sleep", WD_HTTP_LOC_CONF | WD_CONF_TAKE1, wd_http_echo_sleep,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_echo_module_ctx = {
    .create_loc_conf = wd_http_echo_create_loc_conf,
};

wd_module_t wd_http_echo_module = {
    .name = "wd_http_echo_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_echo_commands,
    .ctx = &wd_http_echo_module_ctx,
};

static void *
wd_http_echo_create_loc_conf(wd_conf_t *cf)
{
    return wd_pcalloc(cf->pool, sizeof(wd_http_echo_loc_conf_t));
}

/* ---- streaming echo ---- */

static void
wd_http_echo_pump(wd_http_request_t *r)
{
    u_char buf[16384];

    for (;;) {
        ssize_t n = wd_http_body_read(r, buf, sizeof(buf));
        if (n > 0) {
            int rc = wd_http_write(r, buf, n);
            if (rc == WD_ERROR) {
                /* aborted (r is being released: finalizing does nothing), or refused
                 * because the body buffered behind is bad: finalizing answers 400 */
                wd_http_finalize_request(r, WD_ERROR);
                return;
            }
            if (rc == WD_AGAIN) {
                r->read_event_handler = NULL;   /* resume from write_event_handler */
                return;
            }
            continue;
        }
        if (n == WD_AGAIN) {
            r->read_event_handler = wd_http_echo_pump;
            return;
        }
        if (n == 0) {
            wd_http_finalize_request(r, WD_OK);
            return;
        }
        /* WD_ERROR: a bad or too large body, or a timeout */
        wd_http_finalize_request(r, r->header_sent ? WD_ERROR : (int) r->body_status);
        return;
    }
}

static int
wd_http_echo_stream_handler(wd_http_request_t *r)
{
    static const char ct[] = "application/octet-stream";

    wd_http_add_header(r, "Content-Type", 12, ct, sizeof(ct) - 1);
    if (r->body_state == WD_HTTP_BODY_NONE) {
        wd_http_set_status(r, 200);
        return WD_OK;
    }
    r->write_event_handler = wd_http_echo_pump;
    r->read_event_handler = wd_http_echo_pump;
    wd_http_echo_pump(r);
    return WD_DONE;
}

/* ---- buffered echo ---- */

static void
wd_http_echo_buffered_done(wd_http_request_t *r)
{
    if (r->body_status) {
        wd_http_finalize_request(r, r->body_status);
        return;
    }
    wd_http_finalize_request(r, wd_http_send_simple(r, 200, "application/octet-stream",
                                                    r->body.data, r->body.len) == WD_OK
                                ? WD_OK : WD_ERROR);
}

static int
wd_http_echo_buffered_handler(wd_http_request_t *r)
{
    wd_http_read_body(r, wd_http_echo_buffered_done);
    return WD_DONE;
}

static char *
wd_http_echo_body(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf, wd_http_core_module);
    wd_str_t *args = cf->args->elts;

    if (clcf->handler) {
        return "is duplicate";
    }
    if (cf->args->nelts == 2) {
        if (!wd_str_eq(&args[1], "buffered")) {
            return wd_conf_invalid_value(cf, &args[1]);
        }
        clcf->handler = wd_http_echo_buffered_handler;
    } else {
        clcf->handler = wd_http_echo_stream_handler;
    }
    return WD_CONF_OK;
}

/* ---- asynchronous sleep ---- */

static void
wd_http_echo_timer_free(uv_handle_t *h)
{
    free(h->data);
}

static void
wd_http_echo_sleep_cleanup(wd_http_request_t *r)
{
    wd_http_echo_sleep_t *s = r->ctx;

    if (s) {
        r->ctx = NULL;
        uv_close((uv_handle_t *) &s->timer, wd_http_echo_timer_free);
    }
}

static void
wd_http_echo_sleep_timer(uv_timer_t *t)
{
    wd_http_echo_sleep_t *s = t->data;
    wd_http_request_t *r = s->r;
    static const u_char msg[] = "slept\n";

    r->ctx = NULL;
    r->cleanup = NULL;
    uv_close((uv_handle_t *) t, wd_http_echo_timer_free);
    wd_event_time_update();
    wd_http_finalize_request(r, wd_http_send_simple(r, 200, "text/plain", msg, sizeof(msg) - 1)
                                == WD_OK ? WD_OK : WD_ERROR);
}

static int
wd_http_echo_sleep_handler(wd_http_request_t *r)
{
    wd_http_echo_loc_conf_t *elcf = wd_http_loc_get_module_conf(
        (wd_http_core_loc_conf_t *) r->loc_conf, wd_http_echo_module);
    wd_http_echo_sleep_t *s = malloc(sizeof(*s));

    if (s == NULL) {
        return WD_ERROR;
    }
    s->r = r;
    uv_timer_init(&wd_worker->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, wd_http_echo_sleep_timer, elcf->sleep, 0);
    r->ctx = s;
    r->cleanup = wd_http_echo_sleep_cleanup;
    return WD_DONE;
}

static char *
wd_http_echo_sleep(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_echo_loc_conf_t *elcf = conf;
    wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf, wd_http_core_module);
    wd_str_t *args = cf->args->elts;
    wd_int_t ms = wd_parse_time(&args[1], 0);

    if (ms == WD_ERROR) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (clcf->handler) {
        return "is duplicate";
    }
    elcf->sleep = ms;
    clcf->handler = wd_http_echo_sleep_handler;
    return WD_CONF_OK;
}
