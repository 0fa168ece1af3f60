/*
 * fuzz_cabi -- the Canonical ABI layer (src/component/wd_cabi*) lifting hostile guest
 * memory and core values. Input:
 *   byte 0        string encoding (mod 3)
 *   byte 1        pointer to load from (times 8; aligned down to the type's alignment)
 *   then a type   prefix-coded (see parse_type: one kind byte, counts mod 6 + 1, depth <= 6,
 *                 at most 64 nodes)
 *   then 16 x 8   core value slots for lift_flat (little-endian; missing bytes are 0)
 *   the rest      the guest memory image from address 0 (one 64 KiB page)
 * For each input: load at the pointer and lift_flat the slots; whatever lifts is lowered
 * again (store into a second memory with a bump realloc, lower_flat) and lifted back, and
 * must give the same value (a mismatch aborts). Traps are fine; crashes, sanitizer reports,
 * leaks and timeouts are findings. Lifting is bounded by cx->work_limit (1 MiB here).
 * FUZZ_CABI_MKSEED=DIR: write seed inputs to DIR and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/wd_cabi.h"

#define MEMSIZE 65536
#define MAX_NODES 64

static wd_wasm_store_t *store;
static wd_wasm_memory_t *mem1, *mem2;
static wd_cabi_arena_t arena;
static wd_cabi_table_t table;
static wd_comp_type_t nodes[MAX_NODES];
static wd_comp_field_t fields[MAX_NODES * 6];
static const char *labels[32] = { "a" };
static wd_comp_resource_t res = { .name = "r", .host = 1 };
static unsigned nnodes, nfields;

typedef struct {
    const uint8_t *p;
    size_t n, i;
} rd_t;

static uint8_t
rb(rd_t *r)
{
    return r->i < r->n ? r->p[r->i++] : 0;
}

static wd_comp_type_t *
parse_type(rd_t *r, unsigned depth)
{
    if (nnodes >= MAX_NODES)
        return NULL;
    uint8_t k = rb(r);
    wd_comp_type_t *t = &nodes[nnodes++];
    memset(t, 0, sizeof *t);
    unsigned kind = k % 24;
    if (depth >= 6 && kind > 13)
        kind = kind % 13 + 1;
    switch (kind) {
    case 0: kind = WD_CT_STRING; /* fall through */
    default:
        if (kind <= 13) {
            t->kind = kind;
            break;
        }
        /* fall through */
    case 14:
    case 15:
        t->kind = WD_CT_LIST;
        if (kind == 15)
            t->len = rb(r) % 5 + 1;
        if (!(t->elem = parse_type(r, depth + 1)))
            return NULL;
        break;
    case 16:
    case 17:
    case 18: {
        t->kind = kind == 16 ? WD_CT_RECORD : kind == 17 ? WD_CT_TUPLE : WD_CT_VARIANT;
        unsigned n = rb(r) % 6 + 1;
        if (kind == 18 && (rb(r) & 1))
            n = 257;     /* a two-byte discriminant; cases past 5 have no payload */
        if (nfields + n > sizeof fields / sizeof fields[0])
            return NULL;
        t->fields = &fields[nfields];
        nfields += n;
        t->n = n;
        for (unsigned i = 0; i < n; i++) {
            t->fields[i].label = "f";
            t->fields[i].type = NULL;
            if (kind != 18 || (i < 6 && (rb(r) & 1)))
                if (!(t->fields[i].type = parse_type(r, depth + 1)))
                    return NULL;
        }
        break;
    }
    case 19:
        t->kind = WD_CT_ENUM;
        t->n = rb(r) % 6 + 1;
        t->labels = labels;
        break;
    case 20:
        t->kind = WD_CT_OPTION;
        if (!(t->elem = parse_type(r, depth + 1)))
            return NULL;
        break;
    case 21:
        t->kind = WD_CT_RESULT;
        if ((rb(r) & 1) && !(t->elem = parse_type(r, depth + 1)))
            return NULL;
        if ((rb(r) & 1) && !(t->err = parse_type(r, depth + 1)))
            return NULL;
        break;
    case 22:
        t->kind = WD_CT_FLAGS;
        t->n = rb(r) % 32 + 1;
        t->labels = labels;
        break;
    case 23:
        t->kind = WD_CT_MAP;
        if (nfields + 2 > sizeof fields / sizeof fields[0])
            return NULL;
        t->fields = &fields[nfields];
        nfields += 2;
        t->n = 2;
        if (!(t->fields[0].type = parse_type(r, depth + 1)) ||
            !(t->fields[1].type = parse_type(r, depth + 1)))
            return NULL;
        break;
    }
    if (wd_comp_type_layout(t))
        return NULL;
    return t;
}

static int
case_has_payload(const wd_comp_type_t *t, uint32_t d)
{
    switch (t->kind) {
    case WD_CT_VARIANT: return t->fields[d].type != NULL;
    case WD_CT_OPTION:  return d == 1;
    case WD_CT_RESULT:  return d == 0 ? t->elem != NULL : t->err != NULL;
    default:            return 0;
    }
}

static const wd_comp_type_t *
case_type(const wd_comp_type_t *t, uint32_t d)
{
    switch (t->kind) {
    case WD_CT_VARIANT: return t->fields[d].type;
    case WD_CT_OPTION:  return d == 1 ? t->elem : NULL;
    case WD_CT_RESULT:  return d == 0 ? t->elem : t->err;
    default:            return NULL;
    }
}

static int veq(const wd_comp_type_t *t, const wd_cabi_val_t *a, const wd_cabi_val_t *b);

/* a plain value's bytes (a raw list element) against a value tree of the same type */
static int
veq_raw(const wd_comp_type_t *t, const uint8_t *p, const wd_cabi_val_t *b)
{
    if (t->kind >= WD_CT_BOOL && t->kind <= WD_CT_U64) {
        uint64_t u = 0;
        memcpy(&u, p, t->size);
        if (t->kind == WD_CT_S8) u = (uint64_t)(int64_t)(int8_t)u;
        if (t->kind == WD_CT_S16) u = (uint64_t)(int64_t)(int16_t)u;
        if (t->kind == WD_CT_S32) u = (uint64_t)(int64_t)(int32_t)u;
        return u == b->u;
    }
    if (t->kind == WD_CT_RECORD || t->kind == WD_CT_TUPLE) {
        for (uint32_t i = 0; i < t->n; i++)
            if (!veq_raw(t->fields[i].type, p + t->fields[i].offset, &b->vals[i]))
                return 0;
        return 1;
    }
    if (t->kind == WD_CT_LIST && t->len) {
        if (b->raw)
            return memcmp(p, b->p, t->size) == 0;
        for (uint32_t i = 0; i < t->len; i++)
            if (!veq_raw(t->elem, p + (size_t)i * t->esize, &b->vals[i]))
                return 0;
        return 1;
    }
    return 0;
}

/* equality of two lifted values of type t (a list may be a raw view in one and a value
   array in the other: lift_flat never makes raw fixed lists, load does) */
static int
veq(const wd_comp_type_t *t, const wd_cabi_val_t *a, const wd_cabi_val_t *b)
{
    switch (t->kind) {
    case WD_CT_F32:
        return memcmp(&a->f32, &b->f32, 4) == 0;
    case WD_CT_F64:
        return memcmp(&a->f64, &b->f64, 8) == 0;
    case WD_CT_STRING:
        return a->n == b->n && (!a->n || memcmp(a->str, b->str, a->n) == 0);
    case WD_CT_LIST:
    case WD_CT_MAP:
        if (a->n != b->n)
            return 0;
        if (a->raw && b->raw)
            return !a->n || memcmp(a->p, b->p, (size_t)a->n * t->esize) == 0;
        if (a->raw || b->raw) {
            const wd_cabi_val_t *r = a->raw ? a : b, *o = a->raw ? b : a;
            if (t->kind == WD_CT_MAP)
                return 0;   /* raw maps are only made by load, on both sides */
            for (uint32_t i = 0; i < a->n; i++)
                if (!veq_raw(t->elem, (const uint8_t *)r->p + (size_t)i * t->esize, &o->vals[i]))
                    return 0;
            return 1;
        }
        for (uint32_t i = 0; i < a->n; i++) {
            if (t->kind == WD_CT_MAP) {
                if (!veq(t->fields[0].type, &a->vals[i].vals[0], &b->vals[i].vals[0]) ||
                    !veq(t->fields[1].type, &a->vals[i].vals[1], &b->vals[i].vals[1]))
                    return 0;
            } else if (!veq(t->elem, &a->vals[i], &b->vals[i])) {
                return 0;
            }
        }
        return 1;
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        for (uint32_t i = 0; i < t->n; i++)
            if (!veq(t->fields[i].type, &a->vals[i], &b->vals[i]))
                return 0;
        return 1;
    case WD_CT_VARIANT:
    case WD_CT_ENUM:
    case WD_CT_OPTION:
    case WD_CT_RESULT:
        if (a->n != b->n)
            return 0;
        return !case_has_payload(t, a->n) || veq(case_type(t, a->n), a->vals, b->vals);
    default:
        return a->u == b->u;
    }
}

static uint32_t heap;

static int
bump(wd_cabi_cx_t *cx, uint32_t old, uint32_t old_size, uint32_t align, uint32_t new_size,
     uint32_t *ptr)
{
    uint64_t p = ((uint64_t)heap + align - 1) / align * align;
    if (p + new_size > MEMSIZE)
        return wd_cabi_trap(cx, "fuzz heap full");
    if (old && old_size) {
        uint8_t *b = wd_wasm_memory_ptr(cx->mem, 0, MEMSIZE);
        memmove(b + p, b + old, old_size < new_size ? old_size : new_size);
    }
    heap = (uint32_t)(p + new_size);
    *ptr = (uint32_t)p;
    return 0;
}

static void
setup(void)
{
    if (store)
        return;
    store = wd_wasm_store_new();
    mem1 = wd_wasm_memory_new(store, 1, 1, 1);
    mem2 = wd_wasm_memory_new(store, 1, 1, 1);
    wd_cabi_table_init(&table);
    for (int i = 0; i < 32; i++)
        labels[i] = "l";
    (void)res;
}

static void
check_roundtrip_mem(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v)
{
    /* store into the second memory, load back */
    wd_cabi_cx_t c2 = *cx;
    c2.mem = mem2;
    c2.realloc_cb = bump;
    c2.work = 0;
    memset(wd_wasm_memory_ptr(mem2, 0, MEMSIZE), 0, MEMSIZE);
    heap = (t->size + 15) & ~7u;
    if (heap >= MEMSIZE)
        return;
    if (wd_cabi_store(&c2, t, v, 8) < 0) {
        if (strcmp(c2.trap, "fuzz heap full")) {    /* the heap can fill up: nothing else */
            fprintf(stderr, "fuzz_cabi: a lifted value does not store: %s\n", c2.trap);
            abort();
        }
        return;
    }
    wd_cabi_val_t w;
    c2.work = 0;
    if (wd_cabi_load(&c2, t, 8, &w) < 0) {
        fprintf(stderr, "fuzz_cabi: stored value does not load back: %s\n", c2.trap);
        abort();
    }
    if (!veq(t, v, &w)) {
        fprintf(stderr, "fuzz_cabi: load(store(v)) != v\n");
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    rd_t r = { data, size, 0 };
    uint8_t enc = rb(&r) % 3, ptrb = rb(&r);
    nnodes = nfields = 0;
    wd_comp_type_t *t = parse_type(&r, 0);
    if (!t)
        return 0;
    uint64_t flat[WD_CABI_FLAT_CAP];
    for (int i = 0; i < WD_CABI_FLAT_CAP; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v |= (uint64_t)rb(&r) << (8 * k);
        flat[i] = v;
    }
    uint8_t *m = wd_wasm_memory_ptr(mem1, 0, MEMSIZE);
    memset(m, 0, MEMSIZE);
    if (r.i < size)
        memcpy(m, data + r.i, size - r.i < MEMSIZE ? size - r.i : MEMSIZE);
    wd_cabi_arena_reset(&arena);
    wd_cabi_table_reset(&table);
    wd_cabi_cx_t cx = { .mem = mem1, .enc = enc, .arena = &arena, .table = &table,
                        .work_limit = 1 << 20 };
    arena.limit = 8 << 20;

    uint32_t ptr = (uint32_t)ptrb * 8 & ~(uint32_t)(t->align - 1);
    wd_cabi_val_t v;
    if (wd_cabi_load(&cx, t, ptr, &v) == 0)
        check_roundtrip_mem(&cx, t, &v);

    if (t->flat_n <= WD_CABI_FLAT_CAP) {
        uint32_t pos = 0;
        cx.work = 0;
        if (wd_cabi_lift_flat(&cx, t, flat, &pos, &v) == 0) {
            if (pos != t->flat_n) {
                fprintf(stderr, "fuzz_cabi: lift_flat read %u slots, type has %u\n", pos,
                        t->flat_n);
                abort();
            }
            check_roundtrip_mem(&cx, t, &v);
            /* lower_flat into the second memory and lift again */
            wd_cabi_cx_t c2 = cx;
            uint64_t f2[WD_CABI_FLAT_CAP];
            c2.mem = mem2;
            c2.realloc_cb = bump;
            heap = 64;
            memset(wd_wasm_memory_ptr(mem2, 0, MEMSIZE), 0, MEMSIZE);
            uint32_t p2 = 0;
            if (wd_cabi_lower_flat(&c2, t, &v, f2, &p2) == 0) {
                wd_cabi_val_t w;
                uint32_t p3 = 0;
                c2.work = 0;
                if (p2 != t->flat_n || wd_cabi_lift_flat(&c2, t, f2, &p3, &w) < 0 ||
                    !veq(t, &v, &w)) {
                    fprintf(stderr, "fuzz_cabi: lift_flat(lower_flat(v)) != v (%s)\n",
                            c2.trap ? c2.trap : "");
                    abort();
                }
            }
        }
    }
    return 0;
}

/* seeds: a few types over memories holding valid values of them */
static void
mkseed(const char *dir)
{
    static const uint8_t types[][12] = {
        { 0 },                          /* string */
        { 14, 3 },                      /* list<u8> */
        { 14, 0 },                      /* list<string> */
        { 16, 2, 0, 7 },                /* record { string, u32 } */
        { 21, 1, 0, 1, 14, 3 },         /* result<string, list<u8>> */
        { 18, 2, 0, 1, 10, 1, 11 },     /* variant { f32, f64 } */
        { 23, 0, 12 },                  /* map<string, char> */
        { 15, 3, 12 },                  /* list<char, 4> */
        { 22, 20 },                     /* flags (21) */
        { 20, 14, 0 },                  /* option<list<string>> */
    };
    for (unsigned e = 0; e < 3; e++)
        for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/seed-%u-%u", dir, e, i);
            FILE *f = fopen(path, "wb");
            if (!f)
                exit(1);
            uint8_t hdr[2] = { (uint8_t)e, 1 };
            fwrite(hdr, 1, 2, f);
            fwrite(types[i], 1, sizeof types[i], f);
            uint8_t slots[128] = { 0 };
            slots[0] = 64;      /* ptr 64, length 5 */
            slots[8] = 5;
            fwrite(slots, 1, sizeof slots, f);
            uint8_t img[256] = { 0 };
            uint32_t w[] = { 64, 5, 64, 5 };
            memcpy(img + 8, w, sizeof w);
            memcpy(img + 64, e == 0 ? "hello" : "h\0e\0l\0l\0o\0", e == 0 ? 5 : 10);
            fwrite(img, 1, sizeof img, f);
            fclose(f);
        }
    exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *d = getenv("FUZZ_CABI_MKSEED");
    if (d)
        mkseed(d);
    return 0;
}
