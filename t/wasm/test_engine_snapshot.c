/*
 * test_engine_snapshot.c -- snapshot/restore.
 *
 * At scale: a 64 MiB memory of which one request touches 64 KiB; restore must
 * bring back every byte, and its cost must track the touched pages, not the
 * memory size. Prints the measured per-cycle time of acquire (nothing to do) +
 * run an empty export + restore, and of restore after touching 64 KiB; asserts
 * only correctness and a very generous bound (the CI machine is shared).
 *
 * Dirty-page tracking (restore copies back only the pages written since the
 * snapshot): one test per write path -- every store op in its plain and fused
 * (LA_/LI_) forms, in a page and straddling a 4 KiB boundary, memory.fill,
 * memory.copy, memory.init, host writes through wd_wasm_memory_ptr, writes to
 * grown memory, a trap or a suspension mid-request, and the fallback that drops
 * the whole memory. Each compares the whole memory with the snapshot after
 * restore, reading it through the memory object (white box: the public
 * accessors count as writes) so the check itself marks nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define WD_TEST_WAT_FLAGS ""
#include "wd_test_wat.h"
#include "wd_wasm_rt.h"      /* white box: memory base, restore statistics, translated code */

static const char *WAT =
    "(module (memory (export \"mem\") 1024)"
    " (func (export \"empty\"))"
    " (func (export \"touch\") (param i32)"
    "   (memory.fill (local.get 0) (i32.const 0x5a) (i32.const 65536))))";

static wd_wasm_module_t *load_mod(void) { return wd_test_load(WAT); }

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static wd_wasm_func_t *fn(wd_wasm_instance_t *inst, const char *name)
{
    wd_wasm_extern_t x;
    ck_assert_int_eq(wd_wasm_instance_export(inst, name, strlen(name), &x), 0);
    return x.of.func;
}

START_TEST(test_restore_64k_of_64m)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = load_mod();
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_memory_t *mem = wd_wasm_instance_memory(inst);
    ck_assert_uint_eq(wd_wasm_memory_size(mem), 64u << 20);
    /* a recognizable pristine image, spread over the whole memory */
    uint8_t *base = wd_wasm_memory_data(mem);     /* before the snapshot: untracked is fine */
    for (size_t off = 0; off < (64u << 20); off += 4096) base[off] = (uint8_t)(off >> 12);
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);

    wd_wasm_func_t *empty = fn(inst, "empty"), *touch = fn(inst, "touch");
    wd_wasm_val_t r[1], a = { .type = WD_WASM_I32 };
    int N = 2000;
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(wd_wasm_call(inst, empty, NULL, 0, r, 0), WD_WASM_OK);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
    }
    double empty_us = (now_us() - t0) / N;
    double touch_us = 0;
    N = 500;
    for (int i = 0; i < N; i++) {
        a.of.i32 = (uint32_t)((i * 7919u) % 1000u) * 65536u;
        ck_assert_int_eq(wd_wasm_call(inst, touch, &a, 1, r, 0), WD_WASM_OK);
        ck_assert_uint_eq(base[a.of.i32 + 100], 0x5a);
        double t1 = now_us();
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
        touch_us += now_us() - t1;
        base = mem->base;     /* wd_wasm_memory_data() would make every restore a full one */
        ck_assert_uint_eq(base[a.of.i32 + 100], 0);
        ck_assert_uint_eq(base[a.of.i32], (uint8_t)(a.of.i32 >> 12));
    }
    touch_us /= N;
    printf("snapshot: call(empty)+restore of a 64 MiB memory: %.2f us; restore after touching 64 KiB: %.2f us"
           " (%llu by copy, %llu by madvise)\n", empty_us, touch_us,
           (unsigned long long)mem->restores_fast, (unsigned long long)mem->restores_full);
    for (size_t off = 0; off < (64u << 20); off += 4096)
        ck_assert_uint_eq(base[off], (uint8_t)(off >> 12));
    ck_assert(empty_us < 200.0);     /* O(size) would be ~ms; generous for a loaded machine */
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_instantiate_cost)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = load_mod();
    int N = 300;
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        wd_wasm_store_t *s = wd_wasm_store_new();
        ck_assert_ptr_nonnull(wd_wasm_instantiate(s, m, NULL, 0, NULL, &err));
        wd_wasm_store_free(s);
    }
    printf("instantiate+free (64 MiB memory module): %.2f us\n", (now_us() - t0) / N);
    wd_wasm_module_free(m);
}
END_TEST

/* ---- dirty-page tracking: every write path ---- */

#define G 4096u                   /* a page (KEPT accounting); dirty granules are WD_WASM_DIRTY_GRANULE */
#define GR ((uint32_t)WD_WASM_DIRTY_GRANULE)
#define MEMP 4u                   /* memory pages at the snapshot (256 KiB) */
#define OVER ((WD_WASM_DIRTY_MAX / (G / GR) + 4) * G)   /* a fill the dirty list cannot hold */

/* An instance whose memory holds a pattern no write below repeats, snapshotted;
 * `pristine` keeps a copy of the snapshot's memory. */
typedef struct {
    wd_wasm_module_t *m;
    wd_wasm_store_t *s;
    wd_wasm_instance_t *inst;
    wd_wasm_memory_t *mem;
    uint8_t *pristine;
    uint64_t snap_size, fast, full;
} snapt_t;

static wd_wasm_host_rc_t host_poke(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *res, void *ud);
static wd_wasm_host_rc_t host_poke_suspend(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *res,
                                           void *ud);

static void snapt_init(snapt_t *t, const char *text)
{
    t->m = wd_test_load(text);
    t->s = wd_wasm_store_new();
    wd_wasm_extern_t imp[2] = { { .kind = WD_WASM_EXTERN_FUNC }, { .kind = WD_WASM_EXTERN_FUNC } };
    uint8_t p[2] = { WD_WASM_I32, WD_WASM_I32 };
    wd_wasm_functype_t ft = { 2, 0, p, NULL };
    imp[0].of.func = wd_wasm_func_new_host(t->s, &ft, host_poke, NULL);
    imp[1].of.func = wd_wasm_func_new_host(t->s, &ft, host_poke_suspend, NULL);
    wd_wasm_error_t err;
    t->inst = wd_wasm_instantiate(t->s, t->m, imp, wd_wasm_module_import_count(t->m), NULL, &err);
    if (t->inst == NULL) fprintf(stderr, "instantiate: %s\n", err.msg);
    ck_assert_ptr_nonnull(t->inst);
    t->mem = wd_wasm_instance_memory(t->inst);
    t->snap_size = t->mem->size;
    for (uint64_t i = 0; i < t->snap_size; i++) t->mem->base[i] = (uint8_t)(i * 7 + (i >> 12) + 1);
    ck_assert_int_eq(wd_wasm_snapshot(t->inst), 0);
    t->pristine = malloc(t->snap_size);
    memcpy(t->pristine, t->mem->base, t->snap_size);
    t->fast = t->mem->restores_fast;
    t->full = t->mem->restores_full;
}

static void snapt_free(snapt_t *t)
{
    free(t->pristine);
    wd_wasm_store_free(t->s);
    wd_wasm_module_free(t->m);
}

/* The request left its mark; restore; the whole memory is the snapshot again,
 * restored by copying dirty pages (full = 0) or by dropping everything (full = 1). */
static void snapt_restore(snapt_t *t, int full, const char *what)
{
    ck_assert_msg(t->mem->size != t->snap_size || memcmp(t->mem->base, t->pristine, t->snap_size) != 0,
                  "%s: wrote nothing", what);
    ck_assert_int_eq(wd_wasm_restore(t->inst), 0);
    ck_assert_uint_eq(t->mem->size, t->snap_size);
    for (uint64_t i = 0; i < t->snap_size; i++)
        if (t->mem->base[i] != t->pristine[i])
            ck_abort_msg("%s: byte %llu (page %llu) is %#x after restore, snapshot has %#x", what,
                         (unsigned long long)i, (unsigned long long)(i / G), t->mem->base[i], t->pristine[i]);
    ck_assert_msg(t->mem->restores_fast == t->fast + !full && t->mem->restores_full == t->full + !!full,
                  "%s: expected a %s restore", what, full ? "full" : "copying");
    t->fast = t->mem->restores_fast;
    t->full = t->mem->restores_full;
}

/* restore without the "wrote something" check, statistics resynchronized */
static void snapt_restore_any(snapt_t *t)
{
    ck_assert_int_eq(wd_wasm_restore(t->inst), 0);
    ck_assert_uint_eq(t->mem->size, t->snap_size);
    ck_assert_int_eq(memcmp(t->mem->base, t->pristine, t->snap_size), 0);
    t->fast = t->mem->restores_fast;
    t->full = t->mem->restores_full;
}

static wd_wasm_val_t v32(uint32_t x) { wd_wasm_val_t v = { .type = WD_WASM_I32 }; v.of.i32 = x; return v; }

static wd_wasm_status_t callf(snapt_t *t, const char *name, const wd_wasm_val_t *a, uint32_t n)
{
    wd_wasm_val_t r[1];
    return wd_wasm_call(t->inst, fn(t->inst, name), a, n, r, 0);
}

static void call_ok(snapt_t *t, const char *name, const wd_wasm_val_t *a, uint32_t n)
{
    wd_wasm_status_t st = callf(t, name, a, n);
    if (st != WD_WASM_OK) ck_abort_msg("%s: %s", name, wd_wasm_last_trap(t->inst)->msg);
}

/* Does f's translated code contain internal opcode xop? (the fused forms must really be tested) */
static int code_has(wd_wasm_func_t *f, int xop)
{
    const wd_wasm_code_t *c = wd_wasm_fn_code(f);
    for (uint32_t i = 0; i < c->ncells; i++)
        if (c->cells[i] == wd_wasm_xop_cell[xop]) return 1;
    return 0;
}

/* The translator fuses [i32.add dst a b|imm] + [store dst val off] into one LA_/LI_
 * store only when nothing was pushed after the add; a store's value always is, so
 * (as of this writing) it emits the fused store forms for no input. Their handlers
 * still must mark pages: rewrite the pair in place into the fused form (5 cells)
 * plus a MOV of the dead add result to itself (3 cells), the same 8 cells. */
static void code_fuse(wd_wasm_func_t *f, int add, int store, int fused)
{
    uint32_t *c = wd_wasm_fn_code(f)->cells;
    for (uint32_t i = 0; i + 8 <= wd_wasm_fn_code(f)->ncells; i++) {
        if (c[i] != wd_wasm_xop_cell[add] || c[i + 4] != wd_wasm_xop_cell[store] || c[i + 5] != c[i + 1])
            continue;
        uint32_t dst = c[i + 1], a = c[i + 2], b = c[i + 3], val = c[i + 6], off = c[i + 7];
        uint32_t n[8] = { wd_wasm_xop_cell[fused], a, b, val, off, wd_wasm_xop_cell[WD_XOP_MOV], dst, dst };
        memcpy(c + i, n, sizeof n);
        return;
    }
    ck_abort_msg("no add + store pair to fuse");
}

static const struct { const char *op, *vt; unsigned w; int plain, la, li; } STORES[] = {
    { "i32.store", "i32", 4, WD_OP_I32_STORE, WD_XOP_LA_I32_STORE, WD_XOP_LI_I32_STORE },
    { "i64.store", "i64", 8, WD_OP_I64_STORE, WD_XOP_LA_I64_STORE, WD_XOP_LI_I64_STORE },
    { "f32.store", "f32", 4, WD_OP_F32_STORE, WD_XOP_LA_F32_STORE, WD_XOP_LI_F32_STORE },
    { "f64.store", "f64", 8, WD_OP_F64_STORE, WD_XOP_LA_F64_STORE, WD_XOP_LI_F64_STORE },
    { "i32.store8", "i32", 1, WD_OP_I32_STORE8, WD_XOP_LA_I32_STORE8, WD_XOP_LI_I32_STORE8 },
    { "i32.store16", "i32", 2, WD_OP_I32_STORE16, WD_XOP_LA_I32_STORE16, WD_XOP_LI_I32_STORE16 },
    { "i64.store8", "i64", 1, WD_OP_I64_STORE8, WD_XOP_LA_I64_STORE8, WD_XOP_LI_I64_STORE8 },
    { "i64.store16", "i64", 2, WD_OP_I64_STORE16, WD_XOP_LA_I64_STORE16, WD_XOP_LI_I64_STORE16 },
    { "i64.store32", "i64", 4, WD_OP_I64_STORE32, WD_XOP_LA_I64_STORE32, WD_XOP_LI_I64_STORE32 },
};
#define NSTORES (sizeof STORES / sizeof STORES[0])
static const char *const FORMS[] = { "plain", "la", "li" };

/* One export per store op and form, all with params (a i32) (b i32) (v T): plain
 * stores at a+16, LA at (a+b)+16, LI at (a+8)+16; so address x is a = x-16, b = 0
 * (plain, LA) or a = x-24 (LI). */
static char *stores_wat(void)
{
    size_t cap = 16384, n = 0;
    char *w = malloc(cap);
    n += (size_t)snprintf(w + n, cap - n, "(module (memory %u 8)", MEMP);
    for (size_t i = 0; i < NSTORES; i++) {
        const char *addr[] = { "(local.get 0)", "(i32.add (local.get 0) (local.get 1))",
                               "(i32.add (local.get 0) (i32.const 8))" };
        for (int f = 0; f < 3; f++)
            n += (size_t)snprintf(w + n, cap - n,
                " (func (export \"%s_%s\") (param i32 i32 %s) (%s offset=16 %s (local.get 2)))",
                STORES[i].op, FORMS[f], STORES[i].vt, STORES[i].op, addr[f]);
    }
    snprintf(w + n, cap - n, ")");
    return w;
}

static void store_at(snapt_t *t, size_t i, int form, uint32_t x)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s", STORES[i].op, FORMS[form]);
    wd_wasm_val_t a[3] = { v32(form == 2 ? x - 24 : x - 16), v32(0), { .type = WD_WASM_I32 } };
    const char *vt = STORES[i].vt;
    a[2].type = !strcmp(vt, "i32") ? WD_WASM_I32 : !strcmp(vt, "i64") ? WD_WASM_I64
              : !strcmp(vt, "f32") ? WD_WASM_F32 : WD_WASM_F64;
    if (a[2].type == WD_WASM_I32 || a[2].type == WD_WASM_F32) a[2].of.i32 = 0xa5c3e1f7u;
    else a[2].of.i64 = 0xa5c3e1f7b4d2f096ull;
    call_ok(t, name, a, 3);
}

START_TEST(test_dirty_stores)
{
    snapt_t t;
    char *w = stores_wat();
    snapt_init(&t, w);
    free(w);
    for (size_t i = 0; i < NSTORES; i++) {
        char name[64];
        unsigned wd = STORES[i].w;
        for (int f = 0; f < 3; f++) {
            snprintf(name, sizeof name, "%s_%s", STORES[i].op, FORMS[f]);
            int xop = f == 0 ? STORES[i].plain : f == 1 ? STORES[i].la : STORES[i].li;
            wd_wasm_func_t *func = fn(t.inst, name);
            if (f > 0 && !code_has(func, xop))
                code_fuse(func, f == 1 ? WD_OP_I32_ADD : WD_XOP_I32_ADD_IMM, STORES[i].plain, xop);
            ck_assert_msg(code_has(func, xop), "%s: not the form under test", name);
            /* twice: the second round writes pages the first restore left populated */
            for (int round = 0; round < 2; round++) {
                store_at(&t, i, f, 5 * G + 100);                      /* inside a page */
                snapt_restore(&t, 0, name);
                store_at(&t, i, f, 8 * G - (wd > 1 ? wd / 2 : 1));     /* straddling pages 7 and 8 */
                snapt_restore(&t, 0, name);
                store_at(&t, i, f, 9 * G + GR - (wd > 1 ? wd / 2 : 1)); /* two granules of page 9 */
                snapt_restore(&t, 0, name);
                store_at(&t, i, f, 9 * G + 2 * GR + 5);               /* granule 2 of page 9 dirty, */
                store_at(&t, i, f, 9 * G + 3 * GR - (wd > 1 ? 1 : 0)); /* then one into 2 and 3 */
                snapt_restore(&t, 0, name);
                store_at(&t, i, f, 10 * G + 40);                      /* page 10 already dirty, */
                store_at(&t, i, f, 11 * G - (wd > 1 ? 1 : 0));        /* then one into 10 and 11 */
                snapt_restore(&t, 0, name);
                store_at(&t, i, f, 13 * G + 40);                      /* page 13 already dirty, */
                store_at(&t, i, f, 13 * G - (wd > 1 ? 1 : 0));        /* then one into 12 and 13 */
                snapt_restore(&t, 0, name);
                store_at(&t, i, f, MEMP * 65536 - wd);                /* the last bytes */
                snapt_restore(&t, 0, name);
            }
        }
    }
    snapt_free(&t);
}
END_TEST

static const char *BULK =
    "(module (memory 4 8) (data $d \"passive data segment, 40 bytes long.....\")"
    " (func (export \"fill\") (param i32 i32) (memory.fill (local.get 0) (i32.const 0xee) (local.get 1)))"
    " (func (export \"copy\") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))"
    " (func (export \"init\") (param i32 i32) (memory.init $d (local.get 0) (i32.const 0) (local.get 1))))";

START_TEST(test_dirty_bulk)
{
    snapt_t t;
    snapt_init(&t, BULK);
    for (int round = 0; round < 2; round++) {
        wd_wasm_val_t a[3];
        a[0] = v32(3 * G - 10); a[1] = v32(G + 20);                   /* pages 2, 3 and 4 */
        call_ok(&t, "fill", a, 2);
        snapt_restore(&t, 0, "memory.fill");
        a[0] = v32(20 * G + 1); a[1] = v32(1);
        call_ok(&t, "fill", a, 2);
        snapt_restore(&t, 0, "memory.fill (1 byte)");
        a[0] = v32(6 * G - 5); a[1] = v32(40 * G + 3); a[2] = v32(2 * G + 10);   /* to pages 5..8 */
        call_ok(&t, "copy", a, 3);
        snapt_restore(&t, 0, "memory.copy");
        a[0] = v32(30 * G + 100); a[1] = v32(30 * G + 50); a[2] = v32(G);      /* overlapping: pages 30, 31 */
        call_ok(&t, "copy", a, 3);
        snapt_restore(&t, 0, "memory.copy (overlapping)");
        a[0] = v32(15 * G - 17); a[1] = v32(40);                      /* pages 14 and 15 */
        call_ok(&t, "init", a, 2);
        snapt_restore(&t, 0, "memory.init");
        /* a zero length at the end of memory: writes nothing, no trap */
        a[0] = v32(MEMP * 65536); a[1] = v32(0);
        call_ok(&t, "fill", a, 2);
        call_ok(&t, "init", a, 2);
        snapt_restore_any(&t);
    }
    snapt_free(&t);
}
END_TEST

/* host functions writing guest memory the way src/host does: through wd_wasm_memory_ptr */
static wd_wasm_host_rc_t host_poke(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *res, void *ud)
{
    (void)res; (void)ud;
    uint8_t *p = wd_wasm_memory_ptr(wd_wasm_instance_memory(caller), (uint32_t)args[0], (uint32_t)args[1]);
    if (p == NULL) return WD_WASM_HOST_TRAP;
    memset(p, 0xcd, (uint32_t)args[1]);
    return WD_WASM_HOST_OK;
}

static int poke_suspended;
static wd_wasm_host_rc_t host_poke_suspend(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *res,
                                           void *ud)
{
    poke_suspended++;
    if (host_poke(caller, args, res, ud) != WD_WASM_HOST_OK) return WD_WASM_HOST_TRAP;
    return WD_WASM_HOST_SUSPEND;
}

static const char *HOSTW =
    "(module (import \"env\" \"poke\" (func $poke (param i32 i32)))"
    " (import \"env\" \"poke_suspend\" (func $pokes (param i32 i32)))"
    " (memory 4 8)"
    " (func (export \"poke\") (param i32 i32) (call $poke (local.get 0) (local.get 1)))"
    " (func (export \"poke_suspend\") (param i32 i32)"
    "   (i32.store (i32.const 100) (i32.const -1)) (call $pokes (local.get 0) (local.get 1)))"
    " (func (export \"store_trap\") (param i32)"
    "   (i32.store (local.get 0) (i32.const -1)) (i32.store (i32.const 9000) (i32.const -1)) unreachable)"
    " (func (export \"store_oob\") (param i32)"
    "   (i64.store (local.get 0) (i64.const -1)) (i64.store (i32.const 262141) (i64.const -1))))";

START_TEST(test_dirty_host)
{
    snapt_t t;
    snapt_init(&t, HOSTW);
    for (int round = 0; round < 2; round++) {
        wd_wasm_val_t a[2] = { v32(9 * G - 3), v32(2 * G + 6) };     /* pages 8..10 */
        call_ok(&t, "poke", a, 2);
        snapt_restore(&t, 0, "host write via wd_wasm_memory_ptr");
        /* the embedder itself, between calls */
        uint8_t *p = wd_wasm_memory_ptr(t.mem, 20 * G - 1, 2);
        ck_assert_ptr_nonnull(p);
        p[0] = p[1] = 0xcd;
        snapt_restore(&t, 0, "embedder write via wd_wasm_memory_ptr");
        /* reads through wd_wasm_memory_cptr mark nothing; its bounds are wd_wasm_memory_ptr's */
        ck_assert_uint_eq(t.mem->ndirty, 0);
        const uint8_t *q = wd_wasm_memory_cptr(t.mem, 20 * G - 1, 2);
        ck_assert_ptr_eq(q, t.mem->base + 20 * G - 1);
        ck_assert_uint_eq(q[0], t.pristine[20 * G - 1]);
        ck_assert_ptr_nonnull(wd_wasm_memory_cptr(t.mem, MEMP * 65536, 0));
        ck_assert_ptr_null(wd_wasm_memory_cptr(t.mem, MEMP * 65536 - 1, 2));
        ck_assert_ptr_null(wd_wasm_memory_cptr(t.mem, 1, UINT64_MAX));
        ck_assert_uint_eq(t.mem->ndirty, 0);
        /* a trap mid-request: what was written before it is undone */
        a[0] = v32(33 * G - 2);
        ck_assert_int_eq(callf(&t, "store_trap", a, 1), WD_WASM_TRAP);
        snapt_restore(&t, 0, "trap mid-request");
        a[0] = v32(3 * G - 2);
        ck_assert_int_eq(callf(&t, "store_oob", a, 1), WD_WASM_TRAP);
        ck_assert_str_eq(wd_wasm_last_trap(t.inst)->msg, "out of bounds memory access");
        snapt_restore(&t, 0, "out-of-bounds trap mid-request");
        /* a suspended call (the host wrote, then suspended) discarded by restore */
        a[0] = v32(50 * G + 7); a[1] = v32(3);
        poke_suspended = 0;
        ck_assert_int_eq(callf(&t, "poke_suspend", a, 2), WD_WASM_SUSPENDED);
        ck_assert_int_eq(poke_suspended, 1);
        snapt_restore(&t, 0, "suspended call");
    }
    snapt_free(&t);
}
END_TEST

static const char *GROW =
    "(module (memory 4 8)"
    " (func (export \"grow_write\") (param i32) (result i32)"
    "   (drop (memory.grow (i32.const 2)))"
    "   (i32.store (local.get 0) (i32.const -1))"
    "   (memory.fill (i32.const 327680) (i32.const 0x77) (i32.const 100))"
    "   (i64.store (i32.const 262140) (i64.const -1))"       /* straddles the snapshot's end */
    "   (memory.size))"
    " (func (export \"grow\") (result i32) (memory.grow (i32.const 2))))";

START_TEST(test_dirty_grown)
{
    snapt_t t;
    snapt_init(&t, GROW);
    for (int round = 0; round < 3; round++) {
        wd_wasm_val_t a[1] = { v32(MEMP * 65536 + 5000 + round) }, r[1];
        ck_assert_int_eq(wd_wasm_call(t.inst, fn(t.inst, "grow_write"), a, 1, r, 1), WD_WASM_OK);
        ck_assert_uint_eq(r[0].of.i32, MEMP + 2);
        snapt_restore(&t, 0, "write into grown memory");
        ck_assert_ptr_null(wd_wasm_memory_ptr(t.mem, MEMP * 65536, 1));
        /* grown again: the pages written in the last request read as zeros */
        ck_assert_int_eq(wd_wasm_call(t.inst, fn(t.inst, "grow"), NULL, 0, r, 1), WD_WASM_OK);
        ck_assert_uint_eq(r[0].of.i32, MEMP);
        ck_assert_uint_eq(t.mem->size, (MEMP + 2) * 65536);
        for (uint64_t i = MEMP * 65536; i < t.mem->size; i++)
            if (t.mem->base[i]) ck_abort_msg("grown byte %llu is %#x", (unsigned long long)i, t.mem->base[i]);
        snapt_restore_any(&t);
    }
    snapt_free(&t);
}
END_TEST

static const char *MANY =
    "(module (memory 48 64)"                                     /* > WD_WASM_KEPT_MAX + 4 pages */
    " (func $touchs (export \"touchs\") (param $from i32) (param $n i32) (param $stride i32)"
    "   (block (loop (br_if 1 (i32.eqz (local.get $n)))"         /* one byte at each of n strides */
    "     (i32.store8 (i32.add (i32.mul (local.get $from) (local.get $stride)) (i32.const 77)) (i32.const 0xab))"
    "     (local.set $from (i32.add (local.get $from) (i32.const 1)))"
    "     (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br 0))))"
    " (func (export \"touch\") (param $from i32) (param $n i32)"     /* one byte in each of n pages */
    "   (call $touchs (local.get $from) (local.get $n) (i32.const 4096)))"
    " (func (export \"fill\") (param i32 i32) (memory.fill (local.get 0) (i32.const 0xee) (local.get 1))))";

START_TEST(test_dirty_fallback)
{
    snapt_t t;
    snapt_init(&t, MANY);
    for (int round = 0; round < 2; round++) {
        wd_wasm_val_t a[3] = { v32(0), v32(WD_WASM_KEPT_MAX) };
        call_ok(&t, "touch", a, 2);           /* exactly as many pages as restores keep */
        snapt_restore(&t, 0, "WD_WASM_KEPT_MAX pages");
        ck_assert_uint_eq(t.mem->nkept, WD_WASM_KEPT_MAX);
        a[0] = v32(0); a[1] = v32(WD_WASM_KEPT_MAX * (G / GR)); a[2] = v32(GR);
        call_ok(&t, "touchs", a, 3);          /* every granule of those pages: still copying */
        snapt_restore(&t, 0, "every granule of the kept pages");
        a[0] = v32(1); a[1] = v32(WD_WASM_KEPT_MAX);
        call_ok(&t, "touch", a, 2);           /* one more populated page than restore keeps */
        snapt_restore(&t, 1, "kept pages over the budget");
        ck_assert_uint_eq(t.mem->nkept, 0);
        a[0] = v32(8); a[1] = v32(WD_WASM_DIRTY_MAX + 1); a[2] = v32(GR);
        call_ok(&t, "touchs", a, 3);          /* more granules than the dirty list holds */
        ck_assert_uint_eq(t.mem->dirty_overflow, 1);
        snapt_restore(&t, 1, "dirty list overflow (stores)");
        a[0] = v32(1000); a[1] = v32(OVER);
        call_ok(&t, "fill", a, 2);
        snapt_restore(&t, 1, "dirty list overflow (memory.fill)");
        a[0] = v32(5 * G); a[1] = v32(10);
        call_ok(&t, "fill", a, 2);            /* after a full restore, copying again */
        snapt_restore(&t, 0, "after a full restore");
        /* wd_wasm_memory_data: untracked writes make the next restore a full one */
        wd_wasm_memory_data(t.mem)[40 * G] ^= 0xff;
        snapt_restore(&t, 1, "wd_wasm_memory_data");
        ck_assert_uint_eq(t.mem->nkept, 0);   /* a full restore leaves no private copies */
    }
    snapt_free(&t);
}
END_TEST

static long rss_pages(void)
{
    long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
    fclose(f);
    return res;
}

/* wd_wasm_trim: the private copies copying restores keep are dropped (RSS goes
 * down by them), the memory still reads as the snapshot, and copying restores
 * go on working after it. */
START_TEST(test_trim)
{
    snapt_t t;
    snapt_init(&t, MANY);
    ck_assert_uint_eq(wd_wasm_trim(t.inst), 0);             /* nothing kept yet */
    for (int round = 0; round < 2; round++) {
        wd_wasm_val_t a[2] = { v32(3), v32(WD_WASM_KEPT_MAX) };
        call_ok(&t, "touch", a, 2);
        ck_assert_uint_eq(wd_wasm_trim(t.inst), 0);         /* not restored: refused */
        snapt_restore(&t, 0, "before trim");
        ck_assert_uint_eq(t.mem->nkept, WD_WASM_KEPT_MAX);
        long before = rss_pages();
        ck_assert_uint_eq(wd_wasm_trim(t.inst), WD_WASM_KEPT_MAX * G);
        long after = rss_pages();
        ck_assert_msg(before - after >= WD_WASM_KEPT_MAX - 4, "RSS %ld -> %ld pages after trim", before, after);
        ck_assert_uint_eq(t.mem->nkept, 0);
        ck_assert_int_eq(memcmp(t.mem->base, t.pristine, t.snap_size), 0);
        ck_assert_uint_eq(wd_wasm_trim(t.inst), 0);
        a[0] = v32(3); a[1] = v32(2);           /* pages the next round touches again */
        call_ok(&t, "touch", a, 2);
        snapt_restore(&t, 0, "after trim");                 /* copying again, not full */
    }
    snapt_free(&t);
}
END_TEST

/* wd_wasm_trim also drops the call stack pages a deep call left populated (an idle
 * pooled instance of a big guest kept ~100 KiB of them), once: a second trim makes no
 * system call and the instance runs again after it. */
START_TEST(test_trim_stack)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_test_load(
        "(module (memory 1)"
        " (func $r (export \"r\") (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64)"
        "   (if (result i32) (local.get 0)"
        "     (then (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1)))))"
        "     (else (i32.const 0)))))");
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);
    for (int round = 0; round < 2; round++) {
        wd_wasm_val_t a = { .type = WD_WASM_I32 }, r[1];
        a.of.i32 = 15000;                       /* ~15000 frames of ~14 slots: > 1.5 MiB */
        ck_assert_int_eq(wd_wasm_call(inst, fn(inst, "r"), &a, 1, r, 1), WD_WASM_OK);
        ck_assert_uint_eq(r[0].of.i32, 15000);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
        long before = rss_pages();
        wd_wasm_trim(inst);
        long after = rss_pages();
        ck_assert_msg(before - after >= 256, "RSS %ld -> %ld pages after trim", before, after);
        ck_assert_uint_eq(inst->stack_used, 0);
        wd_wasm_trim(inst);                     /* nothing left: no madvise */
        ck_assert_uint_eq(inst->stack_used, 0);
    }
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

/* A second snapshot replaces the first: pages that became zero read as zeros
 * after both kinds of restore, pages written before it are kept. */
START_TEST(test_resnapshot)
{
    snapt_t t;
    snapt_init(&t, MANY);
    wd_wasm_val_t a[2] = { v32(0), v32(4 * G) };   /* page 0 zeroed (it held the pattern) */
    wd_wasm_memory_t *mem = t.mem;
    memset(mem->base, 0, 4 * G);
    a[0] = v32(10); a[1] = v32(3);
    call_ok(&t, "touch", a, 2);                     /* pages 10..12 changed */
    ck_assert_int_eq(wd_wasm_snapshot(t.inst), 0);
    memcpy(t.pristine, mem->base, t.snap_size);
    t.fast = mem->restores_fast;
    t.full = mem->restores_full;
    a[0] = v32(1000); a[1] = v32(3 * G);
    call_ok(&t, "fill", a, 2);
    snapt_restore(&t, 0, "copying restore after a second snapshot");
    a[0] = v32(0); a[1] = v32(OVER);
    call_ok(&t, "fill", a, 2);
    snapt_restore(&t, 1, "full restore after a second snapshot");
    for (uint32_t i = 0; i < 4 * G; i++) ck_assert_uint_eq(mem->base[i], 0);
    ck_assert_uint_eq(mem->base[10 * G + 77], 0xab);
    snapt_free(&t);
}
END_TEST

/* Instances of one module whose memories hold the same bytes at snapshot time share
 * one image (one memfd mapped by all): a write in one is seen by no other, each
 * restores to the image, an instance with other bytes keeps its own image, and the
 * image outlives the store of the instance that published it. */
START_TEST(test_shared_image)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_test_load(
        "(module (memory (export \"mem\") 4) (data (i32.const 100) \"pristine\")"
        " (func (export \"poke\") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))");
    wd_wasm_store_t *s1 = wd_wasm_store_new(), *s2 = wd_wasm_store_new();
    wd_wasm_instance_t *a = wd_wasm_instantiate(s1, m, NULL, 0, NULL, &err);
    wd_wasm_instance_t *b = wd_wasm_instantiate(s2, m, NULL, 0, NULL, &err);
    wd_wasm_instance_t *c = wd_wasm_instantiate(s2, m, NULL, 0, NULL, &err);
    ck_assert(a && b && c);
    wd_wasm_memory_data(c->mem)[200] = 7;       /* c differs from a and b before its snapshot */
    ck_assert_int_eq(wd_wasm_snapshot(a), 0);
    ck_assert_int_eq(wd_wasm_snapshot(b), 0);
    ck_assert_int_eq(wd_wasm_snapshot(c), 0);
    ck_assert_ptr_nonnull(a->mem->image);
    ck_assert_ptr_eq(a->mem->image, b->mem->image);         /* one image for a and b */
    ck_assert_ptr_ne(c->mem->image, a->mem->image);         /* c's bytes differ: its own */
    wd_wasm_val_t r[1], args[2] = { { .type = WD_WASM_I32 }, { .type = WD_WASM_I32 } };
    args[0].of.i32 = 100;
    args[1].of.i32 = 'X';
    ck_assert_int_eq(wd_wasm_call(a, fn(a, "poke"), args, 2, r, 0), WD_WASM_OK);
    args[0].of.i32 = 4 * 65536 - 1;
    ck_assert_int_eq(wd_wasm_call(b, fn(b, "poke"), args, 2, r, 0), WD_WASM_OK);
    ck_assert_uint_eq(a->mem->base[100], 'X');
    ck_assert_uint_eq(b->mem->base[100], 'p');              /* a's write is a's only */
    ck_assert_uint_eq(a->mem->base[4 * 65536 - 1], 0);      /* and b's is b's */
    ck_assert_uint_eq(a->mem->image[100], 'p');
    ck_assert_int_eq(wd_wasm_restore(a), 0);
    ck_assert_uint_eq(a->mem->base[100], 'p');
    wd_wasm_store_free(s1);                                 /* a published the image */
    ck_assert_int_eq(wd_wasm_restore(b), 0);
    ck_assert_uint_eq(b->mem->base[4 * 65536 - 1], 0);
    ck_assert_int_eq(memcmp(b->mem->base + 100, "pristine", 8), 0);
    ck_assert_uint_eq(c->mem->base[200], 7);
    ck_assert_int_eq(wd_wasm_call(c, fn(c, "poke"), args, 2, r, 0), WD_WASM_OK);
    ck_assert_int_eq(wd_wasm_restore(c), 0);
    ck_assert_uint_eq(c->mem->base[200], 7);
    ck_assert_uint_eq(c->mem->base[4 * 65536 - 1], 0);
    wd_wasm_store_free(s2);
    wd_wasm_module_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine-snapshot");
    TCase *tc = tcase_create("snapshot");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_restore_64k_of_64m);
    tcase_add_test(tc, test_instantiate_cost);
    tcase_add_test(tc, test_dirty_stores);
    tcase_add_test(tc, test_dirty_bulk);
    tcase_add_test(tc, test_dirty_host);
    tcase_add_test(tc, test_dirty_grown);
    tcase_add_test(tc, test_dirty_fallback);
    tcase_add_test(tc, test_trim);
    tcase_add_test(tc, test_resnapshot);
    tcase_add_test(tc, test_shared_image);
    tcase_add_test(tc, test_trim_stack);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
