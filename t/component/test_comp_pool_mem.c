/*
 * test_comp_pool_mem.c -- what an idle pooled componentize-js instance costs
 * (issue 13: <= 1 MiB RSS beyond the shared image). Four instances of
 * objs/component/hello.js.wasm (t/component/js/hello.js, 14 MB, 12,705
 * functions, a 10 MiB memory of which 5.5 MB non-zero) are made like the
 * pool makes them: instantiated with the real host, every core instance
 * snapshotted, restored, trimmed. They must map one snapshot image (not
 * write one memfd each) and grow the RSS by at most 1 MiB each (not under
 * ASan, whose allocator pads every block).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wd_wasm.h"
#include "wd_wasm_rt.h"      /* white box: memory images */
#include "component/wd_comp.h"
#include "wd_host_comp.h"

#define N 4

typedef struct { wd_wasm_store_t *s; wd_host_comp_t *hc; wd_comp_instance_t *ci; } inst_t;

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = atol(line + 6);
    if (f)
        fclose(f);
    return v;
}

static wd_comp_t *load(const char *path)
{
    wd_comp_error_t err;
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s missing: run make components", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert(fread(b, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    wd_comp_t *c = wd_comp_load(b, (size_t)n, NULL, &err);
    free(b);
    ck_assert_msg(c != NULL, "load %s: %s", path, err.msg);
    return c;
}

static void pooled(inst_t *t, const wd_comp_t *c)
{
    wd_comp_error_t err;
    wd_wasm_limits_t lim;
    memset(&lim, 0, sizeof lim);
    t->s = wd_wasm_store_new();
    t->hc = wd_host_comp_new(NULL);
    t->ci = wd_comp_instantiate(c, t->s, wd_host_comp_host(t->hc), &lim, &err);
    ck_assert_msg(t->ci != NULL, "instantiate: %s", err.msg);
    ck_assert_msg(wd_host_comp_attach(t->hc, c, t->ci, &err) == 0, "attach: %s", err.msg);
    for (uint32_t i = 0; i < wd_comp_instance_core_count(t->ci); i++)
        ck_assert_int_eq(wd_wasm_snapshot(wd_comp_instance_core(t->ci, i)), 0);
    for (uint32_t i = 0; i < wd_comp_instance_core_count(t->ci); i++) {
        ck_assert_int_eq(wd_wasm_restore(wd_comp_instance_core(t->ci, i)), 0);
        wd_wasm_trim(wd_comp_instance_core(t->ci, i));
    }
}

START_TEST(test_idle_js_instances)
{
    wd_comp_t *c = load("objs/component/hello.js.wasm");
    inst_t v[N + 1];
    pooled(&v[0], c);               /* the first: one-time allocations of the process */
    long r0 = rss_kib();
    for (int i = 1; i <= N; i++)
        pooled(&v[i], c);
    long per = (rss_kib() - r0) / N;
    fprintf(stderr, "idle pooled hello.js instance: %ld KiB RSS each\n", per);
    /* one image: the memory every core instance uses is mapped from the same memfd */
    for (uint32_t k = 0; k < wd_comp_instance_core_count(v[0].ci); k++) {
        const wd_wasm_memory_t *m0 = wd_comp_instance_core(v[0].ci, k)->mem;
        if (m0 == NULL)
            continue;
        ck_assert(m0->image != NULL && m0->snap_size >= (10u << 20));
        for (int i = 1; i <= N; i++)
            ck_assert_ptr_eq(wd_comp_instance_core(v[i].ci, k)->mem->image, m0->image);
    }
#if !defined(__SANITIZE_ADDRESS__)
    ck_assert_msg(per <= 1024, "an idle pooled JS instance costs %ld KiB RSS (goal <= 1024)", per);
#endif
    for (int i = 0; i <= N; i++) {
        wd_comp_instance_free(v[i].ci);
        wd_wasm_store_free(v[i].s);
        wd_host_comp_free(v[i].hc);
    }
    wd_comp_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("comp-pool-mem");
    TCase *tc = tcase_create("pool-mem");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_idle_js_instances);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
