/*
 * fuzz_http.c -- libFuzzer target: the HTTP request path, bytes in, responses out.
 *
 * The server runs in this process on the real code: a configuration parsed with
 * wd_cycle_init_buffer (the same parser as wasmd -c), a worker with its own libuv loop
 * (wd_worker), and, per input, one connection made exactly like wd_event.c makes an
 * accepted one, except that its fd is one end of a socketpair: wd_http_init_connection,
 * then llhttp, the request lifecycle, routing, the handlers (return, echo_body, echo_sleep,
 * add_header, the access log) and response writing all run unmodified.
 *
 * The input is what a client sends. A 3-byte marker (\xff\xfe\xfd, never valid in a
 * request head) splits it into segments: each segment is written, then the loop runs
 * until the server is quiet, so partial heads, pipelining and body pauses are explored.
 * \xff\xfe\xfc instead makes the client vanish there (close with a reset, nothing more
 * read or sent): the client-gone paths of every phase, Wasm handlers included.
 * After the last segment the client half-closes and reads until the server closes;
 * a connection still open after a short, bounded time is closed the way a worker
 * shutdown does (c->close_idle + wd_connection_close). Responses are drained and
 * sanity-checked (they must start with "HTTP/1.1 " and the server must never answer
 * with nothing when no byte was sent... only the first is enforced).
 *
 * Nothing outlives an input except recycled objects (connection and buffer free lists),
 * exactly as in a worker, so LeakSanitizer at exit sees no growth.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wd_core.h"
#include "wd_log.h"
#include "wd_cycle.h"
#include "wd_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* No name resolution in a fuzzer (nothing should resolve; make sure nothing does). */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    (void) node; (void) service; (void) hints;
    *res = NULL;
    return EAI_NONAME;
}

static const char conf_fmt[] =
    "worker_processes 1;\n"
    "master_process off;\n"
    "error_log /dev/null info;\n"
    "events { worker_connections 16; }\n"
    "http {\n"
    "    log_format all '$remote_addr $remote_user [$time_local] \"$request\" $status '\n"
    "        '$body_bytes_sent $bytes_sent $request_length $request_time $msec $host '\n"
    "        '$server_name $server_protocol $connection $connection_requests $uri $args '\n"
    "        '$sent_http_content_type $sent_http_location $http_user_agent $arg_a';\n"
    "    access_log /dev/null all;\n"
    "    keepalive_requests 20;\n"
    "    client_max_body_size 4k;\n"
    "    client_header_buffer_size 1k;\n"
    "    large_client_header_buffers 4 2k;\n"
    "    error_log /dev/null info;\n"
    "    server {\n"
    "        listen 127.0.0.1:8080 default_server;\n"
    "        server_name fuzz.test *.fuzz.test www.fuzz.* ~^re[0-9]+\\.test$;\n"
    "        add_header X-Server fuzz;\n"
    "        location = / { return 200 \"root $uri $args $http_host $request_method\\n\"; }\n"
    "        location /echo { echo_body; client_max_body_size 64k; }\n"
    "        location /buf { echo_body buffered; }\n"
    "        location /small { echo_body; client_max_body_size 16; keepalive_requests 2;\n"
    "                          add_header X-Small \"$http_content_length $remote_port\" always; }\n"
    "        location /redir { return 302 http://fuzz.test/to?$args; }\n"
    "        location /sleep { echo_sleep 1ms; }\n"
    "        location ^~ /static/ { return 204; }\n"
    "        location ~* \\.(txt|html)$ { return 200 \"file $request_uri\\n\"; }\n"
    "        location / { return 404 \"nf $arg_a\\n\"; keepalive_timeout 0; }\n"
    "%s"
    "    }\n"
    "    server {\n"
    "        listen 127.0.0.1:8080;\n"
    "        server_name other.test;\n"
    "        return 403;\n"
    "    }\n"
    "}\n";

/* Wasm handler routes, when `make handlers` built the examples (objs/handlers/):
 * the request body streamed into a pooled instance, its response streamed out. */
static const char wasm_fmt[] =
    "        location /wasm/ { wasm_fuel 50000000; wasm_timeout 300ms; wasm_pool 1 2;\n"
    "            location /wasm/echo { wasm_handler %s/echo.wasm; client_max_body_size 8k; }\n"
    "            location /wasm/headers { wasm_handler %s/headers.wasm; }\n"
    "            location /wasm/cgi { wasm_handler %s/cgi.wasm; wasm_env GREETING fuzz; }\n"
    "        }\n";

static wd_cycle_t *fz_cycle;
static int fz_wasm;                       /* the Wasm routes are configured */
static wd_worker_t *fz_w;
static char fz_prefix[64];

static void
fz_rmdir(void)
{
    rmdir(fz_prefix);                  /* the scratch directory (empty) */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *err = NULL;

    (void) argc; (void) argv;
    signal(SIGPIPE, SIG_IGN);
    wd_log_startup()->level = WD_LOG_CRIT;
    wd_log_use_stderr = 0;
    snprintf(fz_prefix, sizeof(fz_prefix), "/tmp/wd-fuzzhttp.XXXXXX");
    if (mkdtemp(fz_prefix) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    strcat(fz_prefix, "/");
    atexit(fz_rmdir);
    /* with the Wasm routes if the example handlers are built, else without them */
    {
        static char conf_text[8192], wasm[2048];
        const char *dir = getenv("FUZZ_HANDLERS") ? getenv("FUZZ_HANDLERS") : "objs/handlers";
        char abs[1024], probe[1100];
        if (realpath(dir, abs) != NULL) {
            snprintf(probe, sizeof(probe), "%s/echo.wasm", abs);
            if (access(probe, R_OK) == 0) {
                snprintf(wasm, sizeof(wasm), wasm_fmt, abs, abs, abs);
            }
        }
        snprintf(conf_text, sizeof(conf_text), conf_fmt, wasm);
        fz_cycle = wd_cycle_init_buffer(conf_text, "fuzz_http.conf", fz_prefix, &err);
        if (fz_cycle == NULL && wasm[0]) {
            fprintf(stderr, "fuzz_http: without the wasm routes (%s)\n", err ? err : "?");
            snprintf(conf_text, sizeof(conf_text), conf_fmt, "");
            fz_cycle = wd_cycle_init_buffer(conf_text, "fuzz_http.conf", fz_prefix, &err);
        } else if (wasm[0] != '\0') {
            fz_wasm = 1;
        } else {
            fprintf(stderr, "fuzz_http: %s/echo.wasm not built: no wasm routes (make handlers)\n", dir);
        }
        if (fz_cycle == NULL) {
            fprintf(stderr, "fuzz_http: configuration: %s\n", err ? err : "?");
            exit(1);
        }
    }
    wd_cycle = fz_cycle;
    if (fz_cycle->listening.nelts == 0 || wd_cycle_init_master(fz_cycle) != WD_OK
        || wd_cycle_init_worker(fz_cycle) != WD_OK)
    {
        fprintf(stderr, "fuzz_http: cycle initialisation failed\n");
        exit(1);
    }

    /* a worker without listeners (wd_worker_process_run, minus sockets and signals) */
    fz_w = calloc(1, sizeof(*fz_w));
    if (fz_w == NULL || uv_loop_init(&fz_w->loop) != 0) {
        exit(1);
    }
    wd_worker = fz_w;
    fz_w->cycle = fz_cycle;
    fz_w->max_connections = 16;
    fz_w->accepting = 1;
    wd_queue_init(&fz_w->connections);
    wd_queue_init(&fz_w->free);
    wd_queue_init(&fz_w->ssl_pending);
    uv_idle_init(&fz_w->loop, &fz_w->ssl_idle);
    fz_w->ssl_idle.data = fz_w;
    wd_event_time_update();
    return 0;
}

/* an input's segments get at most this long together (libFuzzer's -timeout is 10 s) */
#define FZ_INPUT_MS 2000
static uint64_t fz_deadline;

static uint64_t
fz_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the client side: what came back */
static size_t fz_got;
static char   fz_head[1024];     /* the first bytes of the output */
static int    fz_eof;

static int
fz_drain(int fd)
{
    char buf[16384];
    int progress = 0;

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            if (fz_got < sizeof(fz_head)) {
                size_t k = sizeof(fz_head) - fz_got < (size_t) n ? sizeof(fz_head) - fz_got : (size_t) n;
                memcpy(fz_head + fz_got, buf, k);
            }
            fz_got += n;
            progress = 1;
            continue;
        }
        if (n == 0) {
            fz_eof = 1;
        }
        return progress;
    }
}

/* Runs the loop and drains the client side until nothing happens for a few rounds and
 * no timer is due within 5 ms (echo_sleep, a yielded Wasm handler; connection timeouts are
 * far longer), or with `until_closed` until the connection is gone; at most budget_ms. */
static void
fz_pump(int fd, int until_closed, uint64_t budget_ms)
{
    uint64_t end = fz_now_ms() + budget_ms;

    if (!until_closed && end > fz_deadline) {
        end = fz_deadline;               /* the input's own budget is spent */
    }
    int quiet = 0;

    for (;;) {
        uv_run(&fz_w->loop, UV_RUN_NOWAIT);
        int progress = fz_drain(fd);
        if ((until_closed && fz_w->nconnections == 0) || fz_now_ms() >= end) {
            return;
        }
        quiet = progress ? 0 : quiet + 1;
        if (quiet >= 3) {
            int t = uv_backend_timeout(&fz_w->loop);
            if (t < 0 || t > 5) {
                return;                 /* waiting for the client (or a long timeout) */
            }
            if (t > 0) {
                struct pollfd p = { fd, POLLIN, 0 };
                poll(&p, 1, t);
            }
        }
    }
}

static wd_connection_t *
fz_connect(int fd)
{
    wd_connection_t *c;
    struct sockaddr_in *sin;

    if (!wd_queue_empty(&fz_w->free)) {
        wd_queue_t *q = fz_w->free.next;
        wd_queue_remove(q);
        c = wd_queue_data(q, wd_connection_t, link);
        void *data = c->data;
        memset(c, 0, sizeof(*c));
        c->data = data;
    } else {
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            return NULL;
        }
    }
    wd_queue_init(&c->link);
    c->worker = fz_w;
    c->listening = fz_cycle->listening.elts;
    sin = (struct sockaddr_in *) &c->sockaddr;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(40000);
    sin->sin_addr.s_addr = htonl(0x7f000001);
    c->socklen = sizeof(*sin);
    c->number = ++fz_w->connection_number;
    if (uv_tcp_init(&fz_w->loop, &c->tcp) != 0 || uv_tcp_open(&c->tcp, fd) != 0) {
        fprintf(stderr, "fuzz_http: uv_tcp_open failed\n");
        abort();
    }
    c->tcp.data = c;
    uv_timer_init(&fz_w->loop, &c->timer);
    c->timer.data = c;
    strcpy(c->addr_text, "127.0.0.1");
    c->addr_text_len = strlen(c->addr_text);
    wd_queue_insert_tail(&fz_w->connections, &c->link);
    fz_w->nconnections++;
    wd_http_init_connection(c);
    return c;
}

/* the next marker (\xff\xfe\xfd pause, \xff\xfe\xfc reset) at or after p, or NULL */
static const uint8_t *
fz_marker(const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 3) {
        const uint8_t *m = memmem(p, end - p, "\xff\xfe", 2);
        if (m == NULL || end - m < 3) {
            return NULL;
        }
        if (m[2] == 0xfd || m[2] == 0xfc) {
            return m;
        }
        p = m + 1;
    }
    return NULL;
}

static void fz_session(const uint8_t *data, size_t size);

/* Every 32nd input, a well-behaved client follows on a fresh connection and must get its
 * answers (a plain route and, when configured, a Wasm handler): whatever the previous
 * input did, nothing may be left stuck (a pooled instance never returned, a full cache). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned count;
    static const char canary[] =
        "GET /?canary=1 HTTP/1.1\r\nHost: fuzz.test\r\n\r\n"
        "POST /wasm/echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 4\r\n\r\nping";

    fz_session(data, size);
    if (++count % 32 == 0) {
        size_t n = fz_wasm ? sizeof(canary) - 1 : strstr(canary, "POST") - canary;
        fz_session((const uint8_t *) canary, n);
        const char *second = fz_got >= 9 ? memmem(fz_head + 9, fz_got - 9 < sizeof(fz_head) - 9
                                                  ? fz_got - 9 : sizeof(fz_head) - 9,
                                                  "HTTP/1.1 ", 9) : NULL;
        if (fz_got < 12 || memcmp(fz_head, "HTTP/1.1 200", 12) != 0
            || (fz_wasm && (second == NULL || memcmp(second, "HTTP/1.1 200", 12) != 0)))
        {
            fprintf(stderr, "fuzz_http: a well-behaved client after this input got: %.*s\n",
                    (int) (fz_got < sizeof(fz_head) ? fz_got : sizeof(fz_head)), fz_head);
            abort();
        }
    }
    return 0;
}

static void
fz_session(const uint8_t *data, size_t size)
{
    int sv[2];
    wd_connection_t *c;
    const uint8_t *p = data, *end = data + size;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("socketpair");
        abort();
    }
    fz_got = 0;
    fz_eof = 0;
    fz_deadline = fz_now_ms() + FZ_INPUT_MS;
    uv_update_time(&fz_w->loop);
    wd_event_time_update();
    c = fz_connect(sv[0]);
    if (c == NULL) {
        close(sv[1]);
        return;
    }

    int reset = 0;
    while (p < end) {
        const uint8_t *seg_end = fz_marker(p, end);
        const uint8_t *next = seg_end ? seg_end + 3 : end;
        if (seg_end == NULL) {
            seg_end = end;
        } else if (seg_end[2] == 0xfc) {
            reset = 1;
        }
        int stalled = 0;
        while (p < seg_end && !fz_eof) {
            ssize_t n = write(sv[1], p, seg_end - p);
            if (n > 0) {
                p += n;
                stalled = 0;
            } else if (n < 0 && errno == EAGAIN) {
                size_t got = fz_got;
                fz_pump(sv[1], 0, 50);
                if (fz_w->nconnections == 0 || fz_now_ms() >= fz_deadline) {
                    break;
                }
                /* the server reads nothing and says nothing: it will not take the rest */
                stalled = fz_got == got ? stalled + 1 : 0;
                if (stalled > 3) {
                    p = seg_end;
                    break;
                }
            } else {
                break;             /* EPIPE: the server closed */
            }
        }
        p = next;
        if (reset || fz_now_ms() >= fz_deadline) {
            break;
        }
        fz_pump(sv[1], 0, 50);
        if (fz_w->nconnections == 0 || fz_eof) {
            break;
        }
    }

    if (reset) {
        struct linger lg = { 1, 0 };
        int fd = sv[1];
        (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        sv[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* keeps fz_pump's reads harmless */
        close(fd);
    } else {
        shutdown(sv[1], SHUT_WR);
    }
    fz_pump(sv[1], 1, 100);
    if (fz_w->nconnections != 0) {
        /* still busy (a handler waiting, lingering close): what a worker shutdown does */
        wd_queue_t *q, *nq;
        for (q = fz_w->connections.next; q != &fz_w->connections; q = nq) {
            nq = q->next;
            wd_connection_t *cc = wd_queue_data(q, wd_connection_t, link);
            if (!cc->closed) {
                if (cc->close_idle) {
                    cc->close_idle(cc);
                }
                wd_connection_close(cc);
            }
        }
        fz_pump(sv[1], 1, 1000);
        if (fz_w->nconnections != 0) {
            fprintf(stderr, "fuzz_http: a connection survived its close\n");
            abort();
        }
    }
    close(sv[1]);
    if (getenv("FUZZ_HTTP_VERBOSE")) {
        fprintf(stderr, "fuzz_http: %zu bytes in, %zu bytes out: %.12s\n", size, fz_got, fz_head);
    }
    /* whatever the server sent is a response (or nothing) */
    if (fz_got >= 9 && memcmp(fz_head, "HTTP/1.1 ", 9) != 0 && memcmp(fz_head, "HTTP/1.0 ", 9) != 0) {
        fprintf(stderr, "fuzz_http: output does not start with a status line: %.16s\n", fz_head);
        abort();
    }
}
