/*
 * test_location.c -- location selection and server_name matching, as tables of
 * (config, input) -> expected block. Each block in the configs carries a
 * unique `return` code, which is what the tables expect (0 = the server level,
 * i.e. no location matched).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wd_http_conf.h"

static wd_cycle_t *
build(const char *text)
{
    char prefix[64], logs[80];
    char *err = NULL;
    wd_cycle_t *c;

    /* a prefix of this user's own: logs/ under a shared /tmp may belong to another user */
    snprintf(prefix, sizeof(prefix), "/tmp/wdloc-%u/", (unsigned) getuid());
    snprintf(logs, sizeof(logs), "%slogs", prefix);
    ck_assert(mkdir(prefix, 0700) == 0 || errno == EEXIST);
    ck_assert(mkdir(logs, 0700) == 0 || errno == EEXIST);
    c = wd_cycle_init_buffer(text, "/tmp/loc.conf", prefix, &err);
    ck_assert_msg(c != NULL, "config failed: %s", err ? err : "?");
    return c;
}

static wd_http_core_srv_conf_t *
server_n(wd_cycle_t *c, wd_uint_t n)
{
    wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    ck_assert(cmcf != NULL && n < cmcf->servers.nelts);
    return ((wd_http_core_srv_conf_t **) cmcf->servers.elts)[n];
}

/* ---- locations ---- */

static const char *loc_conf_docs =
    "http { server { listen 127.0.0.1:18150;\n"
    "  location = / { return 201; }\n"
    "  location / { return 202; }\n"
    "  location /documents/ { return 203; }\n"
    "  location ^~ /images/ { return 204; }\n"
    "  location ~* \\.(gif|jpg|jpeg)$ { return 205; }\n"
    "} }\n";

static const char *loc_conf_nested =
    "http { server { listen 127.0.0.1:18150;\n"
    "  location /a/ { return 201;\n"
    "    location ~ \\.php$ { return 202; }\n"
    "    location /a/b/ { return 203;\n"
    "      location ~ \\.txt$ { return 204; }\n"
    "    }\n"
    "    location ^~ /a/c/ { return 205; }\n"
    "  }\n"
    "  location ~ \\.php$ { return 206; }\n"
    "  location ~ ^/a/ { return 207; }\n"
    "  location ~ \\.txt$ { return 208; }\n"
    "  location ^~ /n/ { return 209; location ~ \\.php$ { return 210; } }\n"
    "  location = /exact { return 211; }\n"
    "  location /exact { return 212; }\n"
    "  location ~ ^/first { return 213; }\n"
    "  location ~ ^/firs { return 214; }\n"
    "  location ~* ^/CaSe { return 215; }\n"
    "  location @named { return 216; }\n"
    "  location /ab { return 217; }\n"
    "  location /abc { return 218; }\n"
    "  location =/noSpace { return 219; }\n"
    "} }\n";

static const char *loc_conf_regex_nested =
    "http { server { listen 127.0.0.1:18150;\n"
    "  location ~ ^/r/ { return 220; location ~ \\.php$ { return 221; } }\n"
    "  location ~ \\.php$ { return 222; }\n"
    "  location / { return 223; }\n"
    "} }\n";

static const char *loc_conf_none =
    "http { server { listen 127.0.0.1:18150; location /only/ { return 230; } } }\n";

typedef struct {
    const char **conf;
    const char  *path;
    int          code;
} loc_case_t;

static const loc_case_t loc_cases[] = {
    /* the nginx documentation example */
    { &loc_conf_docs, "/", 201 },
    { &loc_conf_docs, "/index.html", 202 },
    { &loc_conf_docs, "/documents/document.html", 203 },
    { &loc_conf_docs, "/documents", 202 },
    { &loc_conf_docs, "/images/1.gif", 204 },
    { &loc_conf_docs, "/documents/1.jpg", 205 },
    { &loc_conf_docs, "/x/1.JPG", 205 },
    { &loc_conf_docs, "/x/1.jpgx", 202 },
    /* nested prefix + regex */
    { &loc_conf_nested, "/a/x.php", 202 },      /* nested regex before server regexes */
    { &loc_conf_nested, "/a/x.html", 207 },     /* no nested match: server regexes */
    { &loc_conf_nested, "/a/", 207 },
    { &loc_conf_nested, "/a/b/x.txt", 204 },    /* two levels deep */
    { &loc_conf_nested, "/a/b/x.php", 202 },    /* parent's nested regex */
    { &loc_conf_nested, "/a/b/x.html", 207 },
    { &loc_conf_nested, "/a/c/x.html", 207 },   /* nginx: a nested ^~ only stops its own level's regexes */
    { &loc_conf_nested, "/a/c/x.php", 206 },
    { &loc_conf_nested, "/n/x.php", 210 },      /* ^~ stops server regexes, not its nested ones */
    { &loc_conf_nested, "/n/x.txt", 209 },
    { &loc_conf_nested, "/n/", 209 },
    { &loc_conf_nested, "/exact", 211 },        /* = beats the same prefix */
    { &loc_conf_nested, "/exact/", 212 },
    { &loc_conf_nested, "/exactly", 212 },
    { &loc_conf_nested, "/first", 213 },        /* first regex in config order wins */
    { &loc_conf_nested, "/firs", 214 },
    { &loc_conf_nested, "/case", 215 },
    { &loc_conf_nested, "/CASE/x", 215 },
    { &loc_conf_nested, "/named", 0 },          /* named locations never match a URI */
    { &loc_conf_nested, "/@named", 0 },
    { &loc_conf_nested, "/ab", 217 },
    { &loc_conf_nested, "/abc", 218 },          /* longest prefix */
    { &loc_conf_nested, "/abcd", 218 },
    { &loc_conf_nested, "/a", 0 },
    { &loc_conf_nested, "/zzz", 0 },
    { &loc_conf_nested, "/x.txt", 208 },
    { &loc_conf_nested, "/noSpace", 219 },
    { &loc_conf_nested, "/nospace", 0 },        /* prefixes are case-sensitive */
    /* regex location with nested locations */
    { &loc_conf_regex_nested, "/r/x.php", 221 },
    { &loc_conf_regex_nested, "/r/x.html", 220 },
    { &loc_conf_regex_nested, "/r/p/x", 220 },
    { &loc_conf_regex_nested, "/y.php", 222 },
    { &loc_conf_regex_nested, "/y", 223 },
    { &loc_conf_none, "/", 0 },
    { &loc_conf_none, "/only/x", 230 },
    { &loc_conf_none, "/only", 0 },
};

START_TEST(test_location_table)
{
    const loc_case_t *c = &loc_cases[_i];
    wd_cycle_t *cycle = build(*c->conf);
    wd_http_core_srv_conf_t *srv = server_n(cycle, 0);
    wd_http_core_loc_conf_t *clcf;

    clcf = wd_http_find_location(srv, (const u_char *) c->path, strlen(c->path));
    ck_assert_msg(clcf != NULL, "%s: NULL", c->path);
    ck_assert_msg((int) clcf->return_code == c->code, "%s: expected %d, got %d (location \"%.*s\")",
                  c->path, c->code, (int) clcf->return_code, wd_str_pf(&clcf->name));
    if (c->code == 0) {
        ck_assert_int_eq(clcf->kind, WD_HTTP_LOC_SERVER);
        ck_assert_ptr_eq(clcf, srv->loc_conf);
    }
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_named_location)
{
    wd_cycle_t *cycle = build(loc_conf_nested);
    wd_http_core_srv_conf_t *srv = server_n(cycle, 0);
    wd_http_core_loc_conf_t *clcf;

    clcf = wd_http_find_named_location(srv, (const u_char *) "@named", 6);
    ck_assert(clcf != NULL);
    ck_assert_int_eq(clcf->return_code, 216);
    ck_assert_int_eq(clcf->kind, WD_HTTP_LOC_NAMED);
    ck_assert(wd_http_find_named_location(srv, (const u_char *) "@nope", 5) == NULL);
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_location_tree_links)
{
    wd_cycle_t *cycle = build(loc_conf_nested);
    wd_http_core_srv_conf_t *srv = server_n(cycle, 0);
    wd_http_core_loc_conf_t *clcf;

    clcf = wd_http_find_location(srv, (const u_char *) "/a/b/x.txt", 10);
    ck_assert_int_eq(clcf->kind, WD_HTTP_LOC_REGEX);
    ck_assert(clcf->parent != NULL && clcf->parent->return_code == 203);
    ck_assert(clcf->parent->parent != NULL && clcf->parent->parent->return_code == 201);
    ck_assert(clcf->parent->parent->parent == NULL);
    ck_assert_ptr_eq(clcf->server, srv);
    ck_assert(clcf->loc_conf[wd_http_core_module.ctx_index] == clcf);
    wd_cycle_free(cycle);
}
END_TEST

/* ---- server names ---- */

static const char *srv_conf_names =
    "http {\n"
    "  server { listen 127.0.0.1:18151; server_name example.com www.example.com; return 301; }\n"
    "  server { listen 127.0.0.1:18151; server_name *.example.com; return 302; }\n"
    "  server { listen 127.0.0.1:18151; server_name .example.org; return 303; }\n"
    "  server { listen 127.0.0.1:18151; server_name www.example.*; return 304; }\n"
    "  server { listen 127.0.0.1:18151; server_name ~^api[0-9]*\\.test$; return 305; }\n"
    "  server { listen 127.0.0.1:18151 default_server; server_name _; return 306; }\n"
    "  server { listen 127.0.0.1:18151; server_name *.a.example.com; return 307; }\n"
    "  server { listen 127.0.0.1:18151; server_name \"\" Mixed.Case.Net; return 308; }\n"
    "  server { listen 127.0.0.1:18151; server_name www.example.co.*; return 309; }\n"
    "  server { listen 127.0.0.1:18151; server_name ~^api; return 310; }\n"
    "  server { listen 127.0.0.1:18152; server_name first; return 311; }\n"
    "  server { listen 127.0.0.1:18152; server_name second; return 312; }\n"
    "}\n";

typedef struct {
    const char *addr;
    const char *host;
    int         code;
} srv_case_t;

static const srv_case_t srv_cases[] = {
    { "127.0.0.1:18151", "example.com", 301 },
    { "127.0.0.1:18151", "www.example.com", 301 },     /* exact beats *.example.com */
    { "127.0.0.1:18151", "foo.example.com", 302 },
    { "127.0.0.1:18151", "a.b.example.com", 302 },
    { "127.0.0.1:18151", "x.a.example.com", 307 },     /* longest leading wildcard */
    { "127.0.0.1:18151", "a.example.com", 302 },
    { "127.0.0.1:18151", "example.org", 303 },         /* .example.org covers the bare name */
    { "127.0.0.1:18151", "foo.example.org", 303 },
    { "127.0.0.1:18151", "xexample.org", 306 },
    { "127.0.0.1:18151", "www.example.net", 304 },     /* trailing wildcard */
    { "127.0.0.1:18151", "www.example.co.uk", 309 },   /* longest trailing wildcard */
    { "127.0.0.1:18151", "api12.test", 305 },          /* first regex in order */
    { "127.0.0.1:18151", "api.test", 305 },
    { "127.0.0.1:18151", "apix.test", 310 },
    { "127.0.0.1:18151", "unknown.host", 306 },        /* default_server */
    { "127.0.0.1:18151", "", 308 },                    /* server_name "" */
    { "127.0.0.1:18151", "mixed.case.net", 308 },      /* names are lowercased */
    { "127.0.0.1:18151", "_", 306 },
    { "127.0.0.1:18152", "second", 312 },
    { "127.0.0.1:18152", "nope", 311 },                /* no default_server: the first */
    { "127.0.0.1:18152", "", 311 },
};

static const wd_http_addr_conf_t *
find_addr(wd_cycle_t *c, const char *text)
{
    wd_listening_t *ls = c->listening.elts;
    wd_uint_t i;
    for (i = 0; i < c->listening.nelts; i++) {
        if (wd_str_eq(&ls[i].addr_text, text)) {
            return wd_http_addr_conf(&ls[i], NULL);
        }
    }
    ck_abort_msg("no listening %s", text);
    return NULL;
}

START_TEST(test_server_table)
{
    const srv_case_t *c = &srv_cases[_i];
    wd_cycle_t *cycle = build(srv_conf_names);
    const wd_http_addr_conf_t *ac = find_addr(cycle, c->addr);
    wd_http_core_srv_conf_t *srv;

    srv = wd_http_find_server(ac, (const u_char *) c->host, strlen(c->host));
    ck_assert_msg(srv != NULL, "%s: NULL", c->host);
    ck_assert_msg((int) srv->return_code == c->code, "%s: expected %d, got %d", c->host, c->code,
                  (int) srv->return_code);
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_server_listen_sets)
{
    /* a wildcard socket serves the specific addresses of the same port */
    const char *conf =
        "http {\n"
        "  server { listen 18153; server_name w; return 401; }\n"
        "  server { listen 127.0.0.1:18153; server_name s; return 402; }\n"
        "  server { listen 127.0.0.2:18153; listen 127.0.0.1:18154; return 403; }\n"
        "}\n";
    wd_cycle_t *cycle = build(conf);
    wd_listening_t *ls = cycle->listening.elts;
    const wd_http_addr_conf_t *ac;
    struct sockaddr_in sin;

    ck_assert_int_eq(cycle->listening.nelts, 2);
    ck_assert(wd_str_eq(&ls[0].addr_text, "0.0.0.0:18153"));
    ck_assert(wd_str_eq(&ls[1].addr_text, "127.0.0.1:18154"));
    ck_assert_int_eq(ls[0].fd, -1);
    ck_assert_int_eq(ls[0].worker, -1);
    ck_assert_int_eq(ls[0].backlog, 511);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(18153);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    ac = wd_http_addr_conf(&ls[0], (struct sockaddr *) &sin);
    ck_assert(wd_str_eq(&ac->addr_text, "127.0.0.1:18153"));
    ck_assert_int_eq(wd_http_find_server(ac, (u_char *) "w", 1)->return_code, 402);
    inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
    ac = wd_http_addr_conf(&ls[0], (struct sockaddr *) &sin);
    ck_assert_int_eq(wd_http_find_server(ac, (u_char *) "s", 1)->return_code, 403);
    inet_pton(AF_INET, "10.1.1.1", &sin.sin_addr);
    ac = wd_http_addr_conf(&ls[0], (struct sockaddr *) &sin);
    ck_assert_int_eq(wd_http_find_server(ac, (u_char *) "s", 1)->return_code, 401);
    ck_assert_int_eq(wd_http_find_server(wd_http_addr_conf(&ls[0], NULL),
                                         (u_char *) "w", 1)->return_code, 401);
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_server_listen_options)
{
    const char *conf =
        "worker_processes 3;\n"
        "http {\n"
        "  server { listen 127.0.0.1:18155 reuseport backlog=64 default_server; return 501; }\n"
        "  server { listen 127.0.0.1:18155; return 502; }\n"
        "  server { listen [::1]:18156 ssl; return 503; }\n"
        "}\n";
    wd_cycle_t *cycle;
    wd_listening_t *ls;
    wd_uint_t i, n155 = 0;
    int seen[3] = { 0, 0, 0 };

    wd_http_ssl_available = 1;          /* as if a TLS module were built in */
    cycle = build(conf);
    ls = cycle->listening.elts;
    /* reuseport: one socket per worker */
    ck_assert_int_eq(cycle->listening.nelts, 4);
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (wd_str_eq(&ls[i].addr_text, "127.0.0.1:18155")) {
            n155++;
            ck_assert(ls[i].reuseport);
            ck_assert_int_eq(ls[i].backlog, 64);
            ck_assert(ls[i].worker >= 0 && ls[i].worker < 3);
            seen[ls[i].worker] = 1;
            ck_assert_int_eq(((wd_http_addr_conf_t *) ls[i].servers)->default_server->return_code,
                             501);
        } else {
            ck_assert(wd_str_eq(&ls[i].addr_text, "[::1]:18156"));
            ck_assert(ls[i].ssl);
            ck_assert_int_eq(ls[i].worker, -1);
            ck_assert_int_eq(ls[i].sockaddr.ss_family, AF_INET6);
        }
    }
    ck_assert_int_eq(n155, 3);
    ck_assert(seen[0] && seen[1] && seen[2]);
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_server_reuseport_single_process)
{
    const char *conf = "worker_processes 4; master_process off;\n"
                       "http { server { listen 127.0.0.1:18157 reuseport; } }\n";
    wd_cycle_t *cycle = build(conf);
    ck_assert_int_eq(cycle->listening.nelts, 1);
    ck_assert_int_eq(((wd_listening_t *) cycle->listening.elts)[0].worker, 0);
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_server_name_conflict)
{
    const char *conf =
        "http {\n"
        "  server { listen 127.0.0.1:18159; server_name dup.test; return 601; }\n"
        "  server { listen 127.0.0.1:18159; server_name dup.test other.test; return 602; }\n"
        "}\n";
    char path[] = "/tmp/wdloc.XXXXXX", buf[1024] = "";
    int fd = mkstemp(path), saved = dup(2);
    wd_cycle_t *cycle;
    const wd_http_addr_conf_t *ac;
    ssize_t n;

    /* the first server keeps the name; the conflict is a warning, like nginx */
    dup2(fd, 2);
    cycle = build(conf);
    dup2(saved, 2);
    close(saved);
    ac = find_addr(cycle, "127.0.0.1:18159");
    ck_assert_int_eq(wd_http_find_server(ac, (u_char *) "dup.test", 8)->return_code, 601);
    ck_assert_int_eq(wd_http_find_server(ac, (u_char *) "other.test", 10)->return_code, 602);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    ck_assert_msg(strstr(buf, "[warn] conflicting server name \"dup.test\" on 127.0.0.1:18159, "
                              "ignored") != NULL, "%s", buf);
    wd_cycle_free(cycle);
}
END_TEST

START_TEST(test_server_return_level)
{
    const char *conf =
        "http { server { listen 127.0.0.1:18158; return 302 http://x/;\n"
        "  location /a { return 200 \"body text\"; } location /b { } } }\n";
    wd_cycle_t *cycle = build(conf);
    wd_http_core_srv_conf_t *srv = server_n(cycle, 0);
    wd_http_core_loc_conf_t *clcf;

    ck_assert_int_eq(srv->return_code, 302);
    ck_assert(wd_str_eq(&srv->return_text, "http://x/"));
    clcf = wd_http_find_location(srv, (u_char *) "/a", 2);
    ck_assert_int_eq(clcf->return_code, 200);
    ck_assert(wd_str_eq(&clcf->return_text, "body text"));
    clcf = wd_http_find_location(srv, (u_char *) "/b", 2);
    ck_assert_int_eq(clcf->return_code, 0);       /* return is not inherited */
    ck_assert_int_eq(srv->loc_conf->return_code, 0);
    wd_cycle_free(cycle);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("location");
    TCase *tl = tcase_create("location");
    TCase *ts = tcase_create("server_name");
    SRunner *sr;
    int nf;

    tcase_add_loop_test(tl, test_location_table, 0, sizeof(loc_cases) / sizeof(loc_cases[0]));
    tcase_add_test(tl, test_named_location);
    tcase_add_test(tl, test_location_tree_links);
    tcase_add_test(tl, test_server_return_level);
    suite_add_tcase(s, tl);
    tcase_add_loop_test(ts, test_server_table, 0, sizeof(srv_cases) / sizeof(srv_cases[0]));
    tcase_add_test(ts, test_server_listen_sets);
    tcase_add_test(ts, test_server_listen_options);
    tcase_add_test(ts, test_server_reuseport_single_process);
    tcase_add_test(ts, test_server_name_conflict);
    suite_add_tcase(s, ts);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
