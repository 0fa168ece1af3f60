/*
 * test_cabi_calls.c -- the call entries and handle tables of the Canonical ABI layer
 * (wd_cabi.h) with a real guest (t/cabi/guest.wat run by the engine):
 *   - a guest export lifted and called from the host (args lowered through the guest's
 *     realloc, result lifted from its return pointer, post-return called), whose core code
 *     calls a host import lowered with wd_cabi_host_call: a string crosses four times, in
 *     each string encoding;
 *   - realloc results misaligned or out of bounds, a realloc calling a host import, guest pointers out of bounds or
 *     misaligned, invalid UTF-8 from the guest, a trapping host function: traps with reasons;
 *   - no allocation per call once warm (counting allocator);
 *   - own/borrow rules: resource.new/rep/drop, wrong type, lent own dropped, own passed while
 *     lent, borrow passed as own, a borrow outliving its call, reset.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wd_cabi.h"

/* ---- counting allocator ---- */
static size_t n_alloc;
static void *c_malloc(size_t n, void *ud) { (void)ud; n_alloc++; return malloc(n); }
static void *c_realloc(void *p, size_t n, void *ud) { (void)ud; n_alloc++; return realloc(p, n); }
static void c_free(void *p, void *ud) { (void)ud; free(p); }
static const wd_wasm_allocator_t counting = { c_malloc, c_realloc, c_free, NULL };

/* ---- types ---- */
static wd_comp_field_t p_str[] = { { "s", WD_CT_P(STRING) } };
static wd_comp_func_type_t ft_str = WD_CT_FUNC_OF(p_str, WD_CT_P(STRING));

/* ---- the guest ---- */
typedef struct {
    wd_wasm_store_t *store;
    wd_wasm_instance_t *inst;
    wd_cabi_cx_t cx;
    wd_cabi_arena_t arena;
    wd_cabi_table_t table;
    wd_wasm_func_t *run, *set_bad, *posted;
    int host_trap;              /* shout traps */
} guest_t;

static wd_cabi_rc_t
shout_fn(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *result, void *ud)
{
    guest_t *g = ud;
    if (g->host_trap) {
        wd_cabi_trap(cx, "shout refused");
        return WD_CABI_TRAP;
    }
    uint32_t n = args[0].n;
    char *o = wd_cabi_arena_alloc(cx->arena, n + 4, 1);
    for (uint32_t i = 0; i < n; i++) {
        char c = args[0].str[i];
        o[i] = c >= 'a' && c <= 'z' ? c - 32 : c;
    }
    memcpy(o + n, "\xe2\x82\xac!", 4);      /* "€!" */
    *result = wd_cabi_v_str(o, n + 4);
    return WD_CABI_OK;
}

static wd_wasm_host_rc_t
shout_tramp(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    guest_t *g = ud;
    wd_cabi_rc_t rc = wd_cabi_host_call(&g->cx, &ft_str, args, results, shout_fn, g);
    if (rc == WD_CABI_OK)
        return WD_WASM_HOST_OK;
    wd_wasm_host_trap(caller, g->cx.trap);
    return WD_WASM_HOST_TRAP;
}

static wd_wasm_func_t *
export_func(guest_t *g, const char *name)
{
    wd_wasm_extern_t e;
    ck_assert_int_eq(wd_wasm_instance_export(g->inst, name, strlen(name), &e), 0);
    return e.of.func;
}

static void
guest_open(guest_t *g, uint8_t enc)
{
    const char *b = getenv("B");
    char path[512];
    snprintf(path, sizeof path, "%s/t/cabi/guest.wasm", b ? b : "objs");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: not built", path);
    static uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(buf, n, NULL, &err);
    ck_assert_msg(m != NULL, "load: %s", err.msg);
    memset(g, 0, sizeof *g);
    g->store = wd_wasm_store_new();
    static const uint8_t p3[] = { WD_WASM_I32, WD_WASM_I32, WD_WASM_I32 };
    wd_wasm_functype_t ty = { 3, 0, p3, NULL };
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = wd_wasm_func_new_host(g->store, &ty, shout_tramp, g);
    g->inst = wd_wasm_instantiate(g->store, m, &imp, 1, NULL, &err);
    ck_assert_msg(g->inst != NULL, "instantiate: %s", err.msg);
    wd_wasm_module_free(m);
    wd_cabi_table_init(&g->table);
    g->cx.inst = g->inst;
    g->cx.mem = wd_wasm_instance_memory(g->inst);
    g->cx.realloc = export_func(g, "cabi_realloc");
    g->cx.post_return = export_func(g, "cabi_post_run");
    g->cx.enc = enc;
    g->cx.arena = &g->arena;
    g->cx.table = &g->table;
    g->run = export_func(g, "run");
    g->set_bad = export_func(g, "set_bad");
    g->posted = export_func(g, "posted");
    ck_assert_ptr_null(wd_comp_func_layout_deep(&ft_str));
}

static void
guest_close(guest_t *g)
{
    wd_cabi_arena_free(&g->arena);
    wd_cabi_table_free(&g->table);
    wd_wasm_store_free(g->store);
}

static uint32_t
guest_i32(guest_t *g, wd_wasm_func_t *f)
{
    wd_wasm_val_t r;
    ck_assert_int_eq(wd_wasm_call(g->inst, f, NULL, 0, &r, 1), WD_WASM_OK);
    return r.of.i32;
}

static void
guest_set_bad(guest_t *g, uint32_t v)
{
    wd_wasm_val_t a = { .type = WD_WASM_I32, .of.i32 = v };
    ck_assert_int_eq(wd_wasm_call(g->inst, g->set_bad, &a, 1, NULL, 0), WD_WASM_OK);
}

static int
call_run(guest_t *g, const char *s, wd_cabi_val_t *res)
{
    wd_cabi_val_t arg = wd_cabi_v_str(s, (uint32_t)strlen(s));
    return wd_cabi_call_export(&g->cx, &ft_str, g->run, &arg, res);
}

START_TEST(test_roundtrip)
{
    static const uint8_t encs[] = { WD_CABI_UTF8, WD_CABI_UTF16, WD_CABI_LATIN1_UTF16 };
    static const char *const in[] = { "hello", "h\xc3\xa9llo w\xc3\xb6rld", "",
                                      "\xf0\x9f\x98\x80 emoji" };
    for (unsigned e = 0; e < 3; e++) {
        guest_t g;
        guest_open(&g, encs[e]);
        for (unsigned i = 0; i < 4; i++) {
            wd_cabi_val_t r;
            ck_assert_msg(call_run(&g, in[i], &r) == 0, "enc %u: %s", e, g.cx.trap);
            char want[64];
            size_t n = strlen(in[i]);
            for (size_t k = 0; k < n; k++)
                want[k] = in[i][k] >= 'a' && in[i][k] <= 'z' ? in[i][k] - 32 : in[i][k];
            memcpy(want + n, "\xe2\x82\xac!", 5);
            ck_assert_uint_eq(r.n, strlen(want));
            ck_assert_msg(memcmp(r.str, want, r.n) == 0, "enc %u case %u: %.*s", e, i, (int)r.n,
                          r.str);
            ck_assert_uint_eq(guest_i32(&g, g.posted), i + 1);
        }
        guest_close(&g);
    }
}
END_TEST

START_TEST(test_realloc_checked)
{
    guest_t g;
    wd_cabi_val_t r;
    guest_open(&g, WD_CABI_UTF16);
    guest_set_bad(&g, 1);
    ck_assert_int_eq(call_run(&g, "x", &r), -1);
    ck_assert_str_eq(g.cx.trap, "misaligned realloc result");
    guest_set_bad(&g, 2);
    ck_assert_int_eq(call_run(&g, "xyz", &r), -1);
    ck_assert_str_eq(g.cx.trap, "realloc result out of bounds");
    /* a realloc calling a host import (the spec's may_leave): traps */
    guest_set_bad(&g, 3);
    ck_assert_int_eq(call_run(&g, "xyz", &r), -1);
    ck_assert_msg(strstr(g.cx.trap, "realloc trapped") != NULL, "%s", g.cx.trap);
    guest_set_bad(&g, 0);
    ck_assert_int_eq(call_run(&g, "ok", &r), 0);
    guest_close(&g);
}
END_TEST

START_TEST(test_host_import_checks)
{
    guest_t g;
    guest_open(&g, WD_CABI_UTF8);
    uint8_t *m = wd_wasm_memory_ptr(g.cx.mem, 0, 65536);
    uint64_t args[3];
    /* invalid UTF-8 from the guest */
    memcpy(m + 200, "ab\xc0\xaf", 4);       /* overlong '/' */
    args[0] = 200, args[1] = 4, args[2] = 64;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    ck_assert_str_eq(g.cx.trap, "invalid UTF-8 in a string");
    memcpy(m + 200, "\xed\xa0\x80", 3);     /* an encoded surrogate */
    args[1] = 3;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    /* out of bounds, and a length past 4 GiB when added */
    args[0] = 65530, args[1] = 100;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    ck_assert_str_eq(g.cx.trap, "string out of bounds");
    args[0] = 0xfffffff0u, args[1] = 0x20;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    args[0] = 0, args[1] = 1u << 28;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    ck_assert_str_eq(g.cx.trap, "string too long");
    /* a misaligned / out-of-bounds return pointer */
    memcpy(m + 200, "ok", 2);
    args[0] = 200, args[1] = 2, args[2] = 66;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    ck_assert_str_eq(g.cx.trap, "misaligned pointer");
    args[2] = 65532;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_TRAP);
    ck_assert_str_eq(g.cx.trap, "pointer out of bounds");
    args[2] = 64;
    ck_assert_int_eq(wd_cabi_host_call(&g.cx, &ft_str, args, NULL, shout_fn, &g), WD_CABI_OK);
    uint32_t rp, rl;
    memcpy(&rp, m + 64, 4);
    memcpy(&rl, m + 68, 4);
    ck_assert_uint_eq(rl, 6);
    ck_assert(memcmp(m + rp, "OK\xe2\x82\xac!", 6) == 0);
    /* a trapping host function traps the guest's call with its reason */
    g.host_trap = 1;
    wd_cabi_val_t r;
    ck_assert_int_eq(call_run(&g, "x", &r), -1);
    ck_assert_msg(strstr(g.cx.trap, "shout refused") != NULL, "%s", g.cx.trap);
    g.host_trap = 0;
    ck_assert_int_eq(call_run(&g, "x", &r), 0);
    guest_close(&g);
}
END_TEST

START_TEST(test_no_alloc_when_warm)
{
    guest_t g;
    wd_wasm_set_allocator(&counting);
    guest_open(&g, WD_CABI_LATIN1_UTF16);
    wd_cabi_val_t r;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(call_run(&g, "warm up \xc3\xa9", &r), 0);
        wd_cabi_arena_reset(&g.arena);
    }
    size_t before = n_alloc;
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(call_run(&g, "per request \xc3\xa9", &r), 0);
        wd_cabi_arena_reset(&g.arena);      /* per request */
    }
    ck_assert_uint_eq(n_alloc, before);
    guest_close(&g);
    wd_wasm_set_allocator(NULL);
}
END_TEST

/* ---- resources ---- */
static wd_comp_resource_t res_a = { .name = "a", .host = 1 }, res_b = { .name = "b", .host = 1 };
static wd_comp_type_t own_a = WD_CT_OWN_OF(&res_a), borrow_a = WD_CT_BORROW_OF(&res_a);
static uint32_t dropped_rep, ndropped;

static int
dtor(void *ud, const wd_comp_resource_t *rt, uint32_t rep, const char **msg)
{
    dropped_rep = rep;
    ndropped++;
    return 0;
}

typedef struct {
    wd_cabi_table_t *t;
    uint32_t idx;
    const char *drop_msg;
    uint32_t rep_seen;
} peek_t;

static wd_cabi_rc_t
peek_fn(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *result, void *ud)
{
    peek_t *p = ud;
    p->rep_seen = (uint32_t)args[0].u;
    /* the guest cannot drop what it lent while the call runs */
    p->drop_msg = NULL;
    if (wd_cabi_resource_drop(p->t, &res_a, p->idx, &p->drop_msg) == 0)
        p->drop_msg = "dropped";
    return WD_CABI_OK;
}

static wd_cabi_rc_t
nop_fn(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *result, void *ud)
{
    if (ud)
        *(uint32_t *)ud = (uint32_t)args[0].u;
    return WD_CABI_OK;
}

START_TEST(test_handles)
{
    static wd_comp_field_t p_own[] = { { "h", &own_a } }, p_bor[] = { { "h", &borrow_a } },
                           p_two[] = { { "b", &borrow_a }, { "o", &own_a } };
    static wd_comp_func_type_t f_own = WD_CT_FUNC_OF(p_own, NULL),
                               f_bor = WD_CT_FUNC_OF(p_bor, NULL),
                               f_two = WD_CT_FUNC_OF(p_two, NULL);
    ck_assert_ptr_null(wd_comp_func_layout_deep(&f_own));
    ck_assert_ptr_null(wd_comp_func_layout_deep(&f_bor));
    ck_assert_ptr_null(wd_comp_func_layout_deep(&f_two));
    wd_cabi_table_t t;
    wd_cabi_arena_t arena = { 0 };
    wd_cabi_table_init(&t);
    t.dtor = dtor;
    wd_cabi_cx_t cx = { .arena = &arena, .table = &t };
    const char *msg;
    uint32_t h1, h2, rep;

    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 111, &h1, &msg), 0);
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 222, &h2, &msg), 0);
    ck_assert_uint_eq(h1, 1);       /* handles start at 1 */
    ck_assert_uint_eq(h2, 2);
    ck_assert_int_eq(wd_cabi_resource_rep(&t, &res_a, h2, &rep, &msg), 0);
    ck_assert_uint_eq(rep, 222);
    ck_assert_int_eq(wd_cabi_resource_rep(&t, &res_b, h2, &rep, &msg), -1);
    ck_assert_str_eq(msg, "handle of the wrong resource type");
    ck_assert_int_eq(wd_cabi_resource_rep(&t, &res_a, 0, &rep, &msg), -1);
    ck_assert_int_eq(wd_cabi_resource_rep(&t, &res_a, 99, &rep, &msg), -1);
    ck_assert_str_eq(msg, "unknown handle");

    /* borrow: lent during the call, the lender cannot be dropped meanwhile */
    peek_t pk = { &t, h1, NULL, 0 };
    uint64_t a[2] = { h1, 0 };
    ck_assert_int_eq(wd_cabi_host_call(&cx, &f_bor, a, NULL, peek_fn, &pk), WD_CABI_OK);
    ck_assert_uint_eq(pk.rep_seen, 111);
    ck_assert_str_eq(pk.drop_msg, "own handle dropped while lent to a call");
    /* that failed drop removed the slot (the spec traps the instance after it); re-create */
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 111, &h1, &msg), 0);
    ck_assert_uint_eq(t.slots[h1].lends, 0);

    /* own passed while also lent in the same call traps */
    a[0] = h1, a[1] = h1;
    ck_assert_int_eq(wd_cabi_host_call(&cx, &f_two, a, NULL, nop_fn, NULL), WD_CABI_TRAP);
    ck_assert_str_eq(cx.trap, "own handle passed while lent to a call");
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 111, &h1, &msg), 0);

    /* own: the handle leaves the table, a second use traps */
    uint32_t got = 0;
    a[0] = h1;
    ck_assert_int_eq(wd_cabi_host_call(&cx, &f_own, a, NULL, nop_fn, &got), WD_CABI_OK);
    ck_assert_uint_eq(got, 111);
    ck_assert_int_eq(wd_cabi_host_call(&cx, &f_own, a, NULL, nop_fn, &got), WD_CABI_TRAP);
    ck_assert_str_eq(cx.trap, "unknown handle");

    /* wrong resource type */
    uint32_t hb;
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_b, 5, &hb, &msg), 0);
    a[0] = hb;
    ck_assert_int_eq(wd_cabi_host_call(&cx, &f_bor, a, NULL, nop_fn, NULL), WD_CABI_TRAP);
    ck_assert_str_eq(cx.trap, "handle of the wrong resource type");

    /* drop of an own runs the destructor */
    ndropped = 0;
    ck_assert_int_eq(wd_cabi_resource_drop(&t, &res_a, h2, &msg), 0);
    ck_assert_uint_eq(ndropped, 1);
    ck_assert_uint_eq(dropped_rep, 222);
    ck_assert_int_eq(wd_cabi_resource_drop(&t, &res_a, h2, &msg), -1);   /* already gone */

    /* host -> guest: a borrow lowered into the callee must be dropped before it returns */
    static wd_comp_func_type_t g_bor = WD_CT_FUNC_OF(p_bor, NULL);
    ck_assert_ptr_null(wd_comp_func_layout_deep(&g_bor));
    wd_cabi_val_t arg = wd_cabi_v_u(WD_CT_BORROW, 777);
    uint64_t core[2];
    uint32_t n;
    ck_assert_int_eq(wd_cabi_export_begin(&cx, &g_bor, &arg, core, &n), 0);
    ck_assert_uint_eq(n, 1);
    uint32_t bh = (uint32_t)core[0];
    /* ... the guest passes its borrow back to the host as own: traps */
    a[0] = bh;
    ck_assert_int_eq(wd_cabi_host_call(&cx, &f_own, a, NULL, nop_fn, NULL), WD_CABI_TRAP);
    ck_assert_str_eq(cx.trap, "borrowed handle passed as own");
    ck_assert_int_eq(wd_cabi_export_begin(&cx, &g_bor, &arg, core, &n), 0);
    ck_assert_int_eq(wd_cabi_export_finish(&cx, &g_bor, NULL, NULL), -1);
    ck_assert_str_eq(cx.trap, "a borrowed handle outlived the call it was lent to");
    ck_assert_int_eq(wd_cabi_export_begin(&cx, &g_bor, &arg, core, &n), 0);
    ndropped = 0;
    ck_assert_int_eq(wd_cabi_resource_drop(&t, &res_a, (uint32_t)core[0], &msg), 0);
    ck_assert_uint_eq(ndropped, 0);        /* a borrow's drop runs no destructor */
    ck_assert_int_eq(wd_cabi_export_finish(&cx, &g_bor, NULL, NULL), 0);

    /* reset: O(1), every handle gone, numbering starts again at 1 */
    wd_cabi_table_reset(&t);
    ck_assert_int_eq(wd_cabi_resource_rep(&t, &res_a, 1, &rep, &msg), -1);
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 9, &h1, &msg), 0);
    ck_assert_uint_eq(h1, 1);
    /* freed slots are reused, last freed first */
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 10, &h2, &msg), 0);
    ck_assert_int_eq(wd_cabi_resource_drop(&t, &res_a, h1, &msg), 0);
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 11, &h1, &msg), 0);
    ck_assert_uint_eq(h1, 1);
    /* a table limit */
    t.max = 3;
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 12, &h1, &msg), 0);
    ck_assert_int_eq(wd_cabi_resource_new(&t, &res_a, 13, &h1, &msg), -1);
    ck_assert_str_eq(msg, "too many handles");
    wd_cabi_table_free(&t);
    wd_cabi_arena_free(&arena);
}
END_TEST

START_TEST(test_transcoders)
{
    /* leaf transcoders stop when the destination is full, report invalid input */
    uint16_t u16[8];
    uint8_t u8[16];
    size_t r, w;
    const char *s = "a\xc3\xa9\xf0\x9f\x98\x80z";   /* a é 😀 z */
    ck_assert_int_eq(wd_cabi_utf8_to_utf16((const uint8_t *)s, strlen(s), u16, 8, &r, &w), 0);
    ck_assert_uint_eq(r, strlen(s));
    ck_assert_uint_eq(w, 5);
    ck_assert_uint_eq(u16[2], 0xd83d);
    ck_assert_uint_eq(u16[3], 0xde00);
    ck_assert_int_eq(wd_cabi_utf8_to_utf16((const uint8_t *)s, strlen(s), u16, 3, &r, &w), 0);
    ck_assert_uint_eq(r, 3);        /* stops before the pair that does not fit */
    ck_assert_uint_eq(w, 2);
    ck_assert_int_eq(wd_cabi_utf16_to_utf8(u16, 5, u8, 16, &r, &w), 0);
    ck_assert_uint_eq(w, strlen(s));
    ck_assert(memcmp(u8, s, w) == 0);
    uint16_t lone[2] = { 'a', 0xdc00 };
    ck_assert_int_eq(wd_cabi_utf16_to_utf8(lone, 2, u8, 16, &r, &w), -1);
    ck_assert_uint_eq(r, 1);
    ck_assert_int_eq(wd_cabi_utf8_to_latin1((const uint8_t *)s, strlen(s), u8, 16, &r, &w), 0);
    ck_assert_uint_eq(r, 3);        /* stops at U+1F600 */
    ck_assert_uint_eq(w, 2);
    ck_assert_uint_eq(u8[1], 0xe9);
    uint8_t l1[2] = { 'x', 0xff };
    ck_assert_int_eq(wd_cabi_latin1_to_utf8(l1, 2, u8, 16, &r, &w), 0);
    ck_assert_uint_eq(w, 3);
    static const char *const bad[] = { "\xc0\x80", "\xe0\x80\x80", "\xed\xbf\xbf",
                                       "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\x80",
                                       "\xe2\x82" };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(wd_cabi_utf8_validate((const uint8_t *)bad[i], strlen(bad[i]), NULL) < 0,
                      "bad[%u] accepted", i);
    size_t units;
    ck_assert_int_eq(wd_cabi_utf8_validate((const uint8_t *)s, strlen(s), &units), 0);
    ck_assert_uint_eq(units, 5);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cabi_calls");
    TCase *tc = tcase_create("calls");
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_realloc_checked);
    tcase_add_test(tc, test_host_import_checks);
    tcase_add_test(tc, test_no_alloc_when_warm);
    tcase_add_test(tc, test_handles);
    tcase_add_test(tc, test_transcoders);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
