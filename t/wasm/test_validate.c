/*
 * test_validate.c -- unit tests for the validator (src/wasm/validate/).
 *
 * Modules are assembled here byte by byte (a tiny section builder), decoded
 * with wd_wasm_decode() and checked with wd_wasm_validate() directly, so these
 * tests exercise the validator alone: exact error texts, offsets and function
 * indices; the polymorphic stack; multi-value blocks; br_table; constant
 * expressions; C.refs; limits; the data count rule; load limits; every
 * allocation failing in turn; and linear time on large inputs.
 *
 * All engine memory goes through a tracking allocator installed with
 * wd_wasm_set_allocator(), which frees whatever a test left behind (the
 * module structures have no public destructor at this layer) and can make
 * the Nth allocation fail.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wd_wasm_int.h"
#include "wd_t_modbuf.h"

/* ------------------------------------------------------ tracking allocator */

typedef struct wd_t_blk {
    struct wd_t_blk *prev, *next;
    size_t size;
    size_t pad;
} wd_t_blk_t;

static wd_t_blk_t wd_t_head = { &wd_t_head, &wd_t_head, 0, 0 };
static long wd_t_allocs, wd_t_fail_at = -1;

static void *wd_t_malloc(size_t n, void *ud)
{
    (void)ud;
    if (wd_t_fail_at >= 0 && wd_t_allocs++ == wd_t_fail_at) return NULL;
    wd_t_blk_t *b = malloc(sizeof(*b) + n);
    if (!b) return NULL;
    b->size = n;
    b->next = wd_t_head.next;
    b->prev = &wd_t_head;
    wd_t_head.next->prev = b;
    wd_t_head.next = b;
    return b + 1;
}

static void wd_t_free(void *p, void *ud)
{
    (void)ud;
    if (!p) return;
    wd_t_blk_t *b = (wd_t_blk_t *)p - 1;
    b->prev->next = b->next;
    b->next->prev = b->prev;
    free(b);
}

static void *wd_t_realloc(void *p, size_t n, void *ud)
{
    if (!p) return wd_t_malloc(n, ud);
    wd_t_blk_t *old = (wd_t_blk_t *)p - 1;
    void *np = wd_t_malloc(n, ud);
    if (!np) return NULL;
    memcpy(np, p, old->size < n ? old->size : n);
    wd_t_free(p, ud);
    return np;
}

static void wd_t_free_all(void)
{
    while (wd_t_head.next != &wd_t_head) wd_t_free(wd_t_head.next + 1, NULL);
}

static const wd_wasm_allocator_t wd_t_alloc = { wd_t_malloc, wd_t_realloc, wd_t_free, NULL };

static void setup(void)
{
    wd_wasm_set_allocator(&wd_t_alloc);
    wd_t_fail_at = -1;
    wd_t_allocs = 0;
}

static void teardown(void)
{
    wd_t_free_all();
    wd_wasm_set_allocator(NULL);
}

/* ------------------------------------------------------------ module builder */

/* buf_t, put, put1, leb, sleb, section, header: wd_t_modbuf.h */

/* Extra sections the single-function helper can add. */
typedef struct {
    const char *imports;      /* raw import section content (with count), or NULL */
    size_t imports_len;
    const char *mem;          /* raw memory section content */
    size_t mem_len;
    const char *globals;
    size_t globals_len;
    const char *exports;
    size_t exports_len;
    const char *elems;
    size_t elems_len;
    const char *tables;
    size_t tables_len;
    int datacount;            /* -1: none */
    const char *datas;
    size_t datas_len;
} extra_t;

/* A module with type 0 = params -> results (valtype strings, e.g. "\x7f"), one
 * function of type 0 with `locals` (one i32 run of that many) and `body`
 * (instructions without the final end, which is added). */
static buf_t build(const char *params, const char *results, uint32_t nlocals, const void *body,
                   size_t body_len, const extra_t *x)
{
    buf_t mod = { 0 }, s = { 0 };
    header(&mod);
    leb(&s, 1);
    put1(&s, 0x60);
    leb(&s, strlen(params));
    put(&s, params, strlen(params));
    leb(&s, strlen(results));
    put(&s, results, strlen(results));
    section(&mod, 1, &s);
    if (x && x->imports) { s.n = 0; put(&s, x->imports, x->imports_len); section(&mod, 2, &s); }
    s.n = 0;
    leb(&s, 1);
    leb(&s, 0);
    section(&mod, 3, &s);
    if (x && x->tables) { s.n = 0; put(&s, x->tables, x->tables_len); section(&mod, 4, &s); }
    if (x && x->mem) { s.n = 0; put(&s, x->mem, x->mem_len); section(&mod, 5, &s); }
    if (x && x->globals) { s.n = 0; put(&s, x->globals, x->globals_len); section(&mod, 6, &s); }
    if (x && x->exports) { s.n = 0; put(&s, x->exports, x->exports_len); section(&mod, 7, &s); }
    if (x && x->elems) { s.n = 0; put(&s, x->elems, x->elems_len); section(&mod, 9, &s); }
    if (x && x->datacount >= 0 && (x->datas || x->datacount > 0)) {
        s.n = 0;
        leb(&s, (uint64_t)x->datacount);
        section(&mod, 12, &s);
    }
    buf_t fb = { 0 };
    if (nlocals) { leb(&fb, 1); leb(&fb, nlocals); put1(&fb, 0x7f); }
    else leb(&fb, 0);
    put(&fb, body, body_len);
    put1(&fb, 0x0b);
    s.n = 0;
    leb(&s, 1);
    leb(&s, fb.n);
    put(&s, fb.b, fb.n);
    section(&mod, 10, &s);
    if (x && x->datas) { s.n = 0; put(&s, x->datas, x->datas_len); section(&mod, 11, &s); }
    free(fb.b);
    free(s.b);
    return mod;
}

/* Decode + validate; returns 0 / -1 and fills err. */
static int check_bytes(const uint8_t *bytes, size_t n, const wd_wasm_load_opts_t *opts,
                       wd_wasm_error_t *err)
{
    wd_wasm_module_t *m = wd_wasm_calloc(1, sizeof(*m));
    if (!m) return -1;
    m->bytes = wd_wasm_malloc(n);
    if (!m->bytes) return -1;
    memcpy(m->bytes, bytes, n);
    m->len = n;
    memset(err, 0, sizeof(*err));
    if (wd_wasm_decode(m, opts, err) < 0) return -2;      /* decoder rejected it */
    return wd_wasm_validate(m, opts, err);
}

#define BODY(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static void expect_valid(buf_t mod)
{
    wd_wasm_error_t err;
    int rc = check_bytes(mod.b, mod.n, NULL, &err);
    if (rc != 0) ck_abort_msg("expected valid, got rc %d: %s (offset %lld)", rc, err.msg,
                              (long long)err.offset);
    free(mod.b);
}

static wd_wasm_error_t expect_invalid(buf_t mod, const char *msg)
{
    wd_wasm_error_t err;
    int rc = check_bytes(mod.b, mod.n, NULL, &err);
    ck_assert_msg(rc == -1, "expected validation error \"%s\", got rc %d (%s)", msg, rc, err.msg);
    ck_assert_str_eq(err.msg, msg);
    free(mod.b);
    return err;
}

#define I32 "\x7f"
#define I64 "\x7e"
#define F32 "\x7d"
#define F64 "\x7c"

/* ------------------------------------------------------------------ tests */

START_TEST(test_basic_types)
{
    expect_valid(build("", I32, 0, BODY(0x41, 0x01), NULL));                 /* i32.const 1 */
    expect_invalid(build("", I32, 0, BODY(0x42, 0x01), NULL), "type mismatch");
    expect_invalid(build("", I32, 0, BODY(), NULL), "type mismatch");       /* empty stack */
    expect_invalid(build("", "", 0, BODY(0x41, 0x01), NULL), "type mismatch"); /* leftover */
    expect_valid(build(I32 I64, I64, 0, BODY(0x20, 0x01), NULL));           /* local.get 1 */
    expect_invalid(build(I32 I64, I64, 0, BODY(0x20, 0x00), NULL), "type mismatch");
    expect_invalid(build(I32, I32, 2, BODY(0x20, 0x03), NULL), "unknown local 3");
    expect_valid(build(I32, I32, 2, BODY(0x20, 0x02), NULL));
    /* f32.add of an i32 and an f32 */
    expect_invalid(build("", F32, 0, BODY(0x41, 0x00, 0x43, 0, 0, 0, 0, 0x92), NULL),
                   "type mismatch");
    /* i64.eqz yields i32 */
    expect_valid(build(I64, I32, 0, BODY(0x20, 0x00, 0x50), NULL));
    /* local.tee keeps the value */
    expect_valid(build("", I32, 1, BODY(0x41, 0x05, 0x22, 0x00), NULL));
    /* sign extension and trunc_sat */
    expect_valid(build(F64, I64, 0, BODY(0x20, 0x00, 0xfc, 0x07, 0xc4), NULL));
}
END_TEST

START_TEST(test_unreachable_polymorphic)
{
    /* unreachable; i32.add; -> the operands come from the polymorphic stack */
    expect_valid(build("", I32, 0, BODY(0x00, 0x6a), NULL));
    /* ... but the result is an i32, not anything */
    expect_invalid(build("", I64, 0, BODY(0x00, 0x6a), NULL), "type mismatch");
    /* br 0 makes the rest of the block polymorphic */
    expect_valid(build("", "", 0, BODY(0x0c, 0x00, 0x1a, 0x1a, 0x1a), NULL));
    expect_invalid(build("", F64, 0, BODY(0x0c, 0x00), NULL), "type mismatch");
    /* a known value under the unreachable bottom still gets checked */
    expect_invalid(build("", I32, 0, BODY(0x00, 0x42, 0x00, 0x6a), NULL), "type mismatch");
    /* select with both operands unknown, result feeds i32 */
    expect_valid(build("", I32, 0, BODY(0x00, 0x1b), NULL));
    /* return with an i32 on the stack in a void function is fine after unreachable? no: */
    expect_invalid(build("", "", 0, BODY(0x00, 0x41, 0x00), NULL), "type mismatch");
    /* unreachable makes the stack polymorphic only up to the current frame */
    expect_invalid(build("", I32, 0, BODY(0x00, 0x02, 0x40, 0x6a, 0x1a, 0x0b), NULL),
                   "type mismatch");
}
END_TEST

START_TEST(test_blocks_multivalue)
{
    extra_t x = { .datacount = -1 };
    /* type 0 is the function's own type, so use block types by valtype */
    expect_valid(build("", I32, 0, BODY(0x02, 0x7f, 0x41, 0x01, 0x0b), &x));
    expect_invalid(build("", I32, 0, BODY(0x02, 0x7f, 0x0b), &x), "type mismatch");
    /* block with type index 0 (i32 i64 -> f32): params taken from the stack */
    buf_t m = build(I32 I64, F32, 0,
                    BODY(0x20, 0x00, 0x20, 0x01, 0x02, 0x00, 0x1a, 0x1a, 0x43, 0, 0, 0, 0, 0x0b), &x);
    expect_valid(m);
    expect_invalid(build(I32 I64, F32, 0,
                         BODY(0x20, 0x01, 0x20, 0x00, 0x02, 0x00, 0x1a, 0x1a, 0x43, 0, 0, 0, 0,
                              0x0b), &x), "type mismatch");
    /* unknown block type index */
    expect_invalid(build("", "", 0, BODY(0x02, 0x05, 0x0b), &x), "unknown type");
    /* loop label carries params: br 0 inside loop (i32 i64 -> f32) needs i32 i64 */
    expect_valid(build(I32 I64, F32, 0,
                       BODY(0x20, 0x00, 0x20, 0x01, 0x03, 0x00, 0x0c, 0x00, 0x0b), &x));
    /* if without else: params must equal results */
    expect_invalid(build("", I32, 0, BODY(0x41, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x0b), &x),
                   "type mismatch");
    expect_valid(build("", I32, 0,
                       BODY(0x41, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x05, 0x41, 0x02, 0x0b), &x));
    /* else branch of wrong type */
    expect_invalid(build("", I32, 0,
                         BODY(0x41, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x05, 0x42, 0x02, 0x0b), &x),
                   "type mismatch");
    /* if needs an i32 condition */
    expect_invalid(build("", "", 0, BODY(0x42, 0x00, 0x04, 0x40, 0x0b), &x), "type mismatch");
    /* labels */
    expect_invalid(build("", "", 0, BODY(0x0c, 0x01), &x), "unknown label");
    expect_valid(build("", "", 0, BODY(0x02, 0x40, 0x0c, 0x01, 0x0b), &x));
    /* br_if keeps the label values on the stack */
    expect_valid(build("", I32, 0, BODY(0x02, 0x7f, 0x41, 0x01, 0x41, 0x00, 0x0d, 0x00, 0x0b), &x));
}
END_TEST

START_TEST(test_br_table)
{
    /* block (result i32) block (result i64) ... br_table 0 1 -> arity same, types differ */
    expect_invalid(build("", "", 0,
                         BODY(0x02, 0x7f, 0x02, 0x7e, 0x42, 0x00, 0x41, 0x00, 0x0e, 0x01, 0x00,
                              0x01, 0x0b, 0x1a, 0x0b, 0x1a), NULL),
                   "type mismatch");
    /* different arity */
    expect_invalid(build("", "", 0,
                         BODY(0x02, 0x7f, 0x02, 0x40, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x01, 0x0b,
                              0x41, 0x00, 0x0b, 0x1a), NULL),
                   "type mismatch");
    /* ok: both labels i32 */
    expect_valid(build("", I32, 0,
                       BODY(0x02, 0x7f, 0x41, 0x07, 0x41, 0x00, 0x0e, 0x02, 0x00, 0x01, 0x00, 0x0b),
                       NULL));
    /* polymorphic operand: unreachable then br_table to labels of differing types
     * but same arity is fine as long as the unknown values match both */
    expect_valid(build("", "", 0,
                       BODY(0x02, 0x7f, 0x02, 0x7e, 0x00, 0x0e, 0x01, 0x00, 0x01, 0x0b, 0x1a,
                            0x41, 0x00, 0x0b, 0x1a), NULL));
    expect_invalid(build("", "", 0, BODY(0x41, 0x00, 0x0e, 0x00, 0x02), NULL), "unknown label");
    /* implementation limit */
    wd_wasm_load_opts_t opts = { .max_br_table = 2 };
    buf_t m = build("", "", 0, BODY(0x41, 0x00, 0x0e, 0x03, 0x00, 0x00, 0x00, 0x00), NULL);
    wd_wasm_error_t err;
    ck_assert_int_eq(check_bytes(m.b, m.n, &opts, &err), -1);
    ck_assert_msg(strstr(err.msg, "br_table") != NULL, "%s", err.msg);
    free(m.b);
}
END_TEST

START_TEST(test_select_refs)
{
    /* select on externref needs the typed form */
    extra_t x = { .datacount = -1 };
    expect_invalid(build("\x6f\x6f", "\x6f", 0, BODY(0x20, 0x00, 0x20, 0x01, 0x41, 0x00, 0x1b), &x),
                   "type mismatch");
    expect_valid(build("\x6f\x6f", "\x6f", 0,
                       BODY(0x20, 0x00, 0x20, 0x01, 0x41, 0x00, 0x1c, 0x01, 0x6f), &x));
    expect_invalid(build(I32 I64, I32, 0, BODY(0x20, 0x00, 0x20, 0x01, 0x41, 0x00, 0x1b), &x),
                   "type mismatch");
    expect_invalid(build("", I32, 0, BODY(0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x1c, 0x02, 0x7f, 0x7f),
                         &x), "invalid result arity");
    /* ref.is_null on a number */
    expect_invalid(build("", I32, 0, BODY(0x41, 0x00, 0xd1), &x), "type mismatch");
    expect_valid(build("", I32, 0, BODY(0xd0, 0x70, 0xd1), &x));
    /* ref.func needs a declaration (export, elem or global init) */
    expect_invalid(build("", "", 0, BODY(0xd2, 0x00, 0x1a), &x), "undeclared function reference");
    x.exports = "\x01\x01" "f" "\x00\x00";
    x.exports_len = 5;
    expect_valid(build("", "", 0, BODY(0xd2, 0x00, 0x1a), &x));
    extra_t y = { .datacount = -1 };
    y.elems = "\x01\x03\x00\x01\x00";          /* declarative elem func [0] */
    y.elems_len = 5;
    expect_valid(build("", "", 0, BODY(0xd2, 0x00, 0x1a), &y));
    expect_invalid(build("", "", 0, BODY(0xd2, 0x01, 0x1a), &y), "unknown function 1");
}
END_TEST

START_TEST(test_globals_consts)
{
    extra_t x = { .datacount = -1 };
    /* immutable i32 global = 1 */
    x.globals = "\x01\x7f\x00\x41\x01\x0b";
    x.globals_len = 6;
    expect_valid(build("", I32, 0, BODY(0x23, 0x00), &x));
    expect_invalid(build("", "", 0, BODY(0x41, 0x00, 0x24, 0x00), &x), "global is immutable");
    expect_invalid(build("", "", 0, BODY(0x23, 0x01, 0x1a), &x), "unknown global 1");
    /* mutable: ok */
    x.globals = "\x01\x7f\x01\x41\x01\x0b";
    expect_valid(build("", "", 0, BODY(0x41, 0x00, 0x24, 0x00), &x));
    expect_invalid(build("", "", 0, BODY(0x42, 0x00, 0x24, 0x00), &x), "type mismatch");
    /* init of the wrong type, non-constant init, two values, empty */
    x.globals = "\x01\x7f\x00\x42\x01\x0b";
    expect_invalid(build("", "", 0, BODY(), &x), "type mismatch");
    x.globals = "\x01\x7f\x00\x41\x01\x41\x01\x6a\x0b";
    x.globals_len = 9;
    expect_invalid(build("", "", 0, BODY(), &x), "constant expression required");
    x.globals = "\x01\x7f\x00\x41\x01\x41\x01\x0b";
    x.globals_len = 8;
    expect_invalid(build("", "", 0, BODY(), &x), "type mismatch");
    x.globals = "\x01\x7f\x00\x0b";
    x.globals_len = 4;
    expect_invalid(build("", "", 0, BODY(), &x), "type mismatch");
    /* global.get of a defined global in an initializer */
    x.globals = "\x02\x7f\x00\x41\x01\x0b\x7f\x00\x23\x00\x0b";
    x.globals_len = 11;
    expect_invalid(build("", "", 0, BODY(), &x), "unknown global 0");
    /* ... of an imported immutable one is fine, of a mutable one is not */
    extra_t y = { .datacount = -1 };
    y.imports = "\x01\x01m\x01g\x03\x7f\x00";
    y.imports_len = 8;
    y.globals = "\x01\x7f\x00\x23\x00\x0b";
    y.globals_len = 6;
    expect_valid(build("", "", 0, BODY(), &y));
    y.imports = "\x01\x01m\x01g\x03\x7f\x01";
    expect_invalid(build("", "", 0, BODY(), &y), "constant expression required");
    /* funcref global initialized by ref.func declares the function */
    extra_t z = { .datacount = -1 };
    z.globals = "\x01\x70\x00\xd2\x00\x0b";
    z.globals_len = 6;
    expect_valid(build("", "", 0, BODY(0xd2, 0x00, 0x1a), &z));
}
END_TEST

START_TEST(test_memory_rules)
{
    extra_t x = { .datacount = -1 };
    /* no memory */
    expect_invalid(build("", I32, 0, BODY(0x41, 0x00, 0x28, 0x02, 0x00), &x), "unknown memory 0");
    expect_invalid(build("", I32, 0, BODY(0x3f, 0x00), &x), "unknown memory 0");
    x.mem = "\x01\x00\x01";
    x.mem_len = 3;
    expect_valid(build("", I32, 0, BODY(0x41, 0x00, 0x28, 0x02, 0x00), &x));
    expect_invalid(build("", I32, 0, BODY(0x41, 0x00, 0x28, 0x03, 0x00), &x),
                   "alignment must not be larger than natural");
    expect_invalid(build("", I32, 0, BODY(0x41, 0x00, 0x2d, 0x01, 0x00), &x),  /* load8_u align 2 */
                   "alignment must not be larger than natural");
    expect_valid(build("", "", 0, BODY(0x41, 0x00, 0x42, 0x00, 0x37, 0x03, 0x08), &x));
    /* memory.init / data.drop need the data count section */
    x.datas = "\x01\x01\x01\x00";               /* one passive segment, 1 byte */
    x.datas_len = 4;
    x.datacount = -1;
    expect_invalid(build("", "", 0, BODY(0xfc, 0x09, 0x00), &x), "data count section required");
    x.datacount = 1;
    expect_valid(build("", "", 0, BODY(0xfc, 0x09, 0x00), &x));
    expect_valid(build("", "", 0, BODY(0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x08, 0x00, 0x00), &x));
    expect_invalid(build("", "", 0, BODY(0xfc, 0x09, 0x01), &x), "unknown data segment 1");
    /* limits */
    extra_t y = { .datacount = -1 };
    y.mem = "\x01\x01\x02\x01";                 /* min 2 max 1 */
    y.mem_len = 4;
    expect_invalid(build("", "", 0, BODY(), &y), "size minimum must not be greater than maximum");
    y.mem = "\x01\x00\x81\x80\x04";             /* min 65537 */
    y.mem_len = 5;
    expect_invalid(build("", "", 0, BODY(), &y), "memory size must be at most 65536 pages (4GiB)");
    y.mem = "\x01\x01\x00\x80\x80\x04";         /* max 65536: ok */
    y.mem_len = 6;
    expect_valid(build("", "", 0, BODY(), &y));
    y.mem = "\x02\x00\x01\x00\x01";
    y.mem_len = 5;
    expect_invalid(build("", "", 0, BODY(), &y), "multiple memories");
}
END_TEST

START_TEST(test_tables_calls)
{
    extra_t x = { .datacount = -1 };
    expect_invalid(build("", "", 0, BODY(0x41, 0x00, 0x11, 0x00, 0x00), &x), "unknown table 0");
    x.tables = "\x02\x70\x00\x01\x6f\x00\x01";    /* funcref table 0, externref table 1 */
    x.tables_len = 7;
    expect_valid(build("", "", 0, BODY(0x41, 0x00, 0x11, 0x00, 0x00), &x));
    expect_invalid(build("", "", 0, BODY(0x41, 0x00, 0x11, 0x00, 0x01), &x), "type mismatch");
    expect_invalid(build("", "", 0, BODY(0x41, 0x00, 0x11, 0x03, 0x00), &x), "unknown type 3");
    /* table.get 1 yields externref */
    expect_valid(build("", "\x6f", 0, BODY(0x41, 0x00, 0x25, 0x01), &x));
    expect_invalid(build("", "\x70", 0, BODY(0x41, 0x00, 0x25, 0x01), &x), "type mismatch");
    /* table.copy between tables of different types */
    expect_invalid(build("", "", 0, BODY(0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0e, 0x00, 0x01), &x),
                   "type mismatch");
    /* table.grow 0 (ref.null func) 1 */
    expect_valid(build("", I32, 0, BODY(0xd0, 0x70, 0x41, 0x01, 0xfc, 0x0f, 0x00), &x));
    expect_invalid(build("", I32, 0, BODY(0xd0, 0x6f, 0x41, 0x01, 0xfc, 0x0f, 0x00), &x), "type mismatch");
    expect_invalid(build("", "", 0, BODY(0xfc, 0x0d, 0x00), &x), "unknown elem segment 0");
    /* call: recursion into itself with the right arguments */
    expect_valid(build(I32, I32, 0, BODY(0x20, 0x00, 0x10, 0x00), &x));
    expect_invalid(build(I32, I32, 0, BODY(0x10, 0x00), &x), "type mismatch");
    expect_invalid(build(I32, I32, 0, BODY(0x20, 0x00, 0x10, 0x01), &x), "unknown function 1");
    /* elem segment type must match its table */
    extra_t y = x;
    y.elems = "\x01\x06\x01\x41\x00\x0b\x70\x00";   /* active on table 1 (externref), funcref, 0 items */
    y.elems_len = 8;
    expect_invalid(build("", "", 0, BODY(), &y), "type mismatch");
    y.elems = "\x01\x02\x05\x41\x00\x0b\x00\x00";   /* active on table 5 */
    expect_invalid(build("", "", 0, BODY(), &y), "unknown table 5");
}
END_TEST

START_TEST(test_module_level)
{
    extra_t x = { .datacount = -1 };
    x.exports = "\x02\x01" "a" "\x00\x00" "\x01" "a" "\x00\x00";
    x.exports_len = 9;
    buf_t dup = build("", "", 0, BODY(), &x);
    size_t second = 0;                          /* the offending (second) export entry */
    for (size_t i = 0; i + 4 <= dup.n; i++)
        if (memcmp(dup.b + i, "\x01" "a" "\x00\x00", 4) == 0) second = i;
    wd_wasm_error_t derr = expect_invalid(dup, "duplicate export name");
    ck_assert_int_eq(derr.offset, (int64_t)second);
    x.exports = "\x02\x01" "a" "\x00\x00" "\x02" "a\0" "\x00\x00";   /* "a" and "a\0" differ */
    x.exports_len = 10;
    expect_valid(build("", "", 0, BODY(), &x));
    x.exports = "\x01\x01" "m" "\x02\x00";
    x.exports_len = 5;
    expect_invalid(build("", "", 0, BODY(), &x), "unknown memory 0");
    x.exports = "\x01\x01" "g" "\x03\x02";
    expect_invalid(build("", "", 0, BODY(), &x), "unknown global 2");
    /* start function must be [] -> [] */
    buf_t m = build(I32, "", 0, BODY(), NULL);
    /* append a start section referring to function 0: rebuild by hand */
    buf_t mod = { 0 }, s = { 0 };
    put(&mod, m.b, m.n);
    free(m.b);
    /* the start section (8) must come before code (10): insert it there */
    size_t code_at = 8 + 7 + 4;  /* header + type section (1 i32 param) + func section */
    ck_assert_int_eq(mod.b[code_at], 10);
    leb(&s, 0);
    buf_t out = { 0 };
    put(&out, mod.b, code_at);
    section(&out, 8, &s);
    put(&out, mod.b + code_at, mod.n - code_at);
    free(mod.b);
    free(s.b);
    expect_invalid(out, "start function");
}
END_TEST

START_TEST(test_error_location)
{
    /* one imported function, then the defined function 1 whose third instruction fails */
    extra_t x = { .datacount = -1 };
    x.imports = "\x01\x01m\x01" "f" "\x00\x00";
    x.imports_len = 7;
    buf_t m = build("", I32, 0, BODY(0x41, 0x01, 0x41, 0x02, 0x7c), &x);  /* i64.add on i32s */
    /* locate the i64.add byte in the module */
    size_t at = 0;
    for (size_t i = m.n; i-- > 0;)
        if (m.b[i] == 0x7c && m.b[i - 1] == 0x02) { at = i; break; }
    ck_assert_uint_gt(at, 0);
    wd_wasm_error_t err = expect_invalid(m, "type mismatch");
    ck_assert_int_eq(err.offset, (int64_t)at);
    ck_assert_int_eq(err.func_index, 1);
}
END_TEST

START_TEST(test_alloc_failures)
{
    /* a module touching every allocating path of the validator; each allocation
     * failing in turn must give an error, never a crash */
    extra_t x = { .datacount = -1 };
    x.exports = "\x02\x01" "a" "\x00\x00" "\x01" "b" "\x00\x00";
    x.exports_len = 9;
    buf_t m = build(I32, I32, 3,
                    BODY(0x02, 0x7f, 0x02, 0x7f, 0x20, 0x00, 0x20, 0x00, 0x0e, 0x01, 0x00, 0x01,
                         0x0b, 0x0b, 0xd2, 0x00, 0x1a), &x);
    wd_wasm_error_t err;
    ck_assert_int_eq(check_bytes(m.b, m.n, NULL, &err), 0);
    long total = wd_t_allocs;   /* counting is off while fail_at < 0: count now */
    wd_t_free_all();
    wd_t_fail_at = 1L << 40;
    wd_t_allocs = 0;
    ck_assert_int_eq(check_bytes(m.b, m.n, NULL, &err), 0);
    total = wd_t_allocs;
    ck_assert_int_gt(total, 3);
    for (long k = 0; k < total; k++) {
        wd_t_free_all();
        wd_t_allocs = 0;
        wd_t_fail_at = k;
        int rc = check_bytes(m.b, m.n, NULL, &err);
        ck_assert_msg(rc != 0, "allocation %ld failing went unnoticed", k);
    }
    free(m.b);
}
END_TEST


START_TEST(test_segments_limits)
{
    /* data offset must be an i32 constant */
    extra_t x = { .datacount = -1 };
    x.mem = "\x01\x00\x01";
    x.mem_len = 3;
    x.datas = "\x01\x00\x42\x00\x0b\x01\x00";     /* active, offset i64.const 0 */
    x.datas_len = 7;
    expect_invalid(build("", "", 0, BODY(), &x), "type mismatch");
    x.datas = "\x01\x00\x41\x00\x0b\x01\x00";
    expect_valid(build("", "", 0, BODY(), &x));
    x.datas = "\x01\x00\x41\x00\x41\x00\x6a\x0b\x01\x00";   /* i32.add: not constant */
    x.datas_len = 10;
    expect_invalid(build("", "", 0, BODY(), &x), "constant expression required");
    /* active data without a memory */
    extra_t y = { .datacount = -1 };
    y.datas = "\x01\x00\x41\x00\x0b\x01\x00";
    y.datas_len = 7;
    expect_invalid(build("", "", 0, BODY(), &y), "unknown memory 0");
    /* element items as expressions: their type must be the segment's */
    extra_t z = { .datacount = -1 };
    z.elems = "\x01\x05\x70\x02\xd2\x00\x0b\xd0\x70\x0b";   /* passive funcref [ref.func 0, ref.null func] */
    z.elems_len = 10;
    expect_valid(build("", "", 0, BODY(0xd2, 0x00, 0x1a), &z));
    z.elems = "\x01\x05\x70\x01\xd0\x6f\x0b";               /* funcref segment with ref.null extern */
    z.elems_len = 7;
    expect_invalid(build("", "", 0, BODY(), &z), "type mismatch");
    z.elems = "\x01\x05\x70\x01\x41\x00\x0b";               /* i32 item */
    expect_invalid(build("", "", 0, BODY(), &z), "type mismatch");
    /* max_locals (decoder) */
    wd_wasm_load_opts_t opts = { .max_locals = 10 };
    buf_t m = build("", "", 11, BODY(), NULL);
    wd_wasm_error_t err;
    ck_assert_int_ne(check_bytes(m.b, m.n, &opts, &err), 0);
    ck_assert_msg(strstr(err.msg, "too many locals") != NULL, "%s", err.msg);
    free(m.b);
    m = build("", "", 10, BODY(), NULL);
    ck_assert_int_eq(check_bytes(m.b, m.n, &opts, &err), 0);
    free(m.b);
}
END_TEST

START_TEST(test_nested_control)
{
    /* return from inside nested blocks needs the function's results */
    expect_valid(build("", I32, 0, BODY(0x02, 0x40, 0x03, 0x40, 0x41, 0x01, 0x0f, 0x0b, 0x0b, 0x41, 0x00), NULL));
    expect_invalid(build("", I32, 0, BODY(0x02, 0x40, 0x42, 0x01, 0x0f, 0x0b, 0x41, 0x00), NULL),
                   "type mismatch");
    /* unreachable in the then-branch does not leak into else */
    expect_invalid(build("", I32, 0,
                         BODY(0x41, 0x01, 0x04, 0x7f, 0x00, 0x05, 0x6a, 0x0b), NULL), "type mismatch");
    expect_valid(build("", I32, 0, BODY(0x41, 0x01, 0x04, 0x7f, 0x00, 0x05, 0x41, 0x03, 0x0b), NULL));
    /* else without if, end without block: the function's end is the last one */
    expect_invalid(build("", "", 0, BODY(0x05), NULL), "else without if");
    /* a body that closes the function early and then continues */
    buf_t m = build("", "", 0, BODY(0x0b, 0x01), NULL);
    wd_wasm_error_t err;
    ck_assert_int_ne(check_bytes(m.b, m.n, NULL, &err), 0);
    free(m.b);
    /* multi-value function result through a block of type 0 (i32 i32 -> i64? no: use params) */
    expect_valid(build(I32 I32, I32 I32, 0,
                       BODY(0x20, 0x00, 0x20, 0x01, 0x02, 0x00, 0x0b), NULL));   /* block type 0 */
    expect_invalid(build(I32 I32, I32 I32, 0,
                         BODY(0x20, 0x00, 0x02, 0x00, 0x0b), NULL), "type mismatch");
}
END_TEST

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

START_TEST(test_linear_time)
{
    /* ~1 MB body: 130k x (local.get 0; i32.const 1; i32.add; local.set 0) plus 50k nested
     * blocks -- a quadratic validator would take minutes */
    buf_t body = { 0 };
    for (int i = 0; i < 50000; i++) { put1(&body, 0x02); put1(&body, 0x40); }
    for (int i = 0; i < 130000; i++) {
        static const uint8_t seq[] = { 0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00, 0x01 };
        put(&body, seq, sizeof(seq));
    }
    for (int i = 0; i < 50000; i++) put1(&body, 0x0b);
    buf_t m = build("", "", 1, body.b, body.n, NULL);
    free(body.b);
    ck_assert_uint_gt(m.n, 1000000);
    wd_wasm_error_t err;
    double t0 = now_ms();
    ck_assert_int_eq(check_bytes(m.b, m.n, NULL, &err), 0);
    double dt = now_ms() - t0;
    fprintf(stderr, "test_validate: decode+validate of %zu bytes: %.1f ms\n", m.n, dt);
    ck_assert_msg(dt < 2000, "too slow: %.1f ms", dt);
    free(m.b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wasm_validate");
    TCase *tc = tcase_create("validate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_basic_types);
    tcase_add_test(tc, test_unreachable_polymorphic);
    tcase_add_test(tc, test_blocks_multivalue);
    tcase_add_test(tc, test_br_table);
    tcase_add_test(tc, test_select_refs);
    tcase_add_test(tc, test_globals_consts);
    tcase_add_test(tc, test_memory_rules);
    tcase_add_test(tc, test_tables_calls);
    tcase_add_test(tc, test_module_level);
    tcase_add_test(tc, test_error_location);
    tcase_add_test(tc, test_segments_limits);
    tcase_add_test(tc, test_nested_control);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_linear_time);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
