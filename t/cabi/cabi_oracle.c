/*
 * cabi_oracle.c -- the C side of the oracle test (t/cabi/oracle.py): reads cases on stdin,
 * one per line, runs them through the Canonical ABI layer (src/component/wd_cabi*.c) on a
 * one-page engine memory with a bump-allocator realloc, and prints one answer line per case.
 * oracle.py runs the same cases through the reference canonical-abi-definitions.py and
 * compares the answers.
 *
 * Lines ("|" separates sections; tokens are space-separated):
 *   layout | TYPE                                   -> SIZE ALIGN FLAT,FLAT,...
 *   store ENC PTR HEAP HI RMODE | TYPE | VALUE      -> ok MEMHEX[0,HI) | trap
 *   lowerflat ENC HEAP HI RMODE | TYPE | VALUE      -> ok FLATHEX... ; MEMHEX | trap
 *   load ENC PTR | TYPE | MEMHEX                    -> ok VALUE | trap
 *   liftflat ENC | TYPE | FLATHEX... | MEMHEX       -> ok VALUE | trap
 * TYPE (prefix): bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string | list T |
 *   flist N T | rec N T.. | tup N T.. | var N (_ | + T).. | enum N | opt T |
 *   res (_ | + T) (_ | + T) | flags N | map K V
 * VALUE (type-directed): integers in decimal, bool 0/1, char as a code point, floats as bit
 *   patterns 0xHEX, strings sHEX (UTF-8), lists/maps L<n> then the elements (map: k v),
 *   records/tuples the fields in order, variant-likes V<case> then the payload if any,
 *   flags F<bits>.
 * RMODE: "0" or "K:mis" / "K:oob": the K-th realloc call (1-based) returns a misaligned /
 *   out-of-bounds pointer.
 * A trap answer is followed by "# message" for people (oracle.py ignores it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wd_cabi.h"

#define MEMSIZE 65536

static char *tok[1 << 16];
static int ntok, ti;
static wd_wasm_memory_t *mem;

static void
die(const char *m)
{
    fprintf(stderr, "cabi_oracle: %s\n", m);
    exit(2);
}

static const char *
next(void)
{
    if (ti >= ntok)
        die("unexpected end of line");
    return tok[ti++];
}

/* ---- types ---- */

static const char *const L = "x";

static wd_comp_type_t *parse_type(void);

static const wd_comp_type_t *
parse_opt_type(void)
{
    const char *s = next();
    if (!strcmp(s, "_"))
        return NULL;
    if (strcmp(s, "+"))
        die("bad optional type");
    return parse_type();
}

static wd_comp_type_t *
parse_type(void)
{
    static const char *const prims[] = { "", "bool", "s8", "u8", "s16", "u16", "s32", "u32",
                                         "s64", "u64", "f32", "f64", "char", "string" };
    const char *s = next();
    wd_comp_type_t *t = calloc(1, sizeof *t);
    for (unsigned k = WD_CT_BOOL; k <= WD_CT_STRING; k++)
        if (!strcmp(s, prims[k])) {
            t->kind = k;
            goto lay;
        }
    if (!strcmp(s, "list")) {
        t->kind = WD_CT_LIST;
        t->elem = parse_type();
    } else if (!strcmp(s, "flist")) {
        t->kind = WD_CT_LIST;
        t->len = (uint32_t)strtoul(next(), NULL, 10);
        t->elem = parse_type();
    } else if (!strcmp(s, "rec") || !strcmp(s, "tup") || !strcmp(s, "var")) {
        t->kind = s[0] == 'r' ? WD_CT_RECORD : s[0] == 't' ? WD_CT_TUPLE : WD_CT_VARIANT;
        t->n = (uint32_t)strtoul(next(), NULL, 10);
        t->fields = calloc(t->n ? t->n : 1, sizeof *t->fields);
        for (uint32_t i = 0; i < t->n; i++) {
            t->fields[i].label = L;
            t->fields[i].type = t->kind == WD_CT_VARIANT ? parse_opt_type() : parse_type();
        }
    } else if (!strcmp(s, "enum") || !strcmp(s, "flags")) {
        t->kind = s[0] == 'e' ? WD_CT_ENUM : WD_CT_FLAGS;
        t->n = (uint32_t)strtoul(next(), NULL, 10);
        const char **l = calloc(t->n ? t->n : 1, sizeof *l);
        for (uint32_t i = 0; i < t->n; i++)
            l[i] = L;
        t->labels = l;
    } else if (!strcmp(s, "opt")) {
        t->kind = WD_CT_OPTION;
        t->elem = parse_type();
    } else if (!strcmp(s, "res")) {
        t->kind = WD_CT_RESULT;
        t->elem = parse_opt_type();
        t->err = parse_opt_type();
    } else if (!strcmp(s, "map")) {
        t->kind = WD_CT_MAP;
        t->n = 2;
        t->fields = calloc(2, sizeof *t->fields);
        t->fields[0].label = "0";
        t->fields[0].type = parse_type();
        t->fields[1].label = "1";
        t->fields[1].type = parse_type();
    } else {
        die("unknown type token");
    }
lay:;
    const char *err = wd_comp_type_layout(t);
    if (err) {
        fprintf(stderr, "layout: %s\n", err);
        die("layout failed");
    }
    return t;
}

/* ---- values ---- */

static int
hexval(int c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    if (n > cap)
        die("hex too long");
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    return n;
}

static const wd_comp_type_t *
case_of(const wd_comp_type_t *t, uint32_t d)
{
    switch (t->kind) {
    case WD_CT_VARIANT: return d < t->n ? t->fields[d].type : NULL;
    case WD_CT_OPTION:  return d == 1 ? t->elem : NULL;
    case WD_CT_RESULT:  return d == 0 ? t->elem : t->err;
    default:            return NULL;
    }
}

static void
parse_val(const wd_comp_type_t *t, wd_cabi_val_t *v)
{
    const char *s = next();
    memset(v, 0, sizeof *v);
    v->kind = t->kind;
    switch (t->kind) {
    case WD_CT_BOOL: case WD_CT_U8: case WD_CT_U16: case WD_CT_U32: case WD_CT_U64:
    case WD_CT_CHAR:
        v->u = strtoull(s, NULL, 10);
        return;
    case WD_CT_S8: case WD_CT_S16: case WD_CT_S32: case WD_CT_S64:
        v->s = strtoll(s, NULL, 10);
        return;
    case WD_CT_F32: {
        uint32_t b = (uint32_t)strtoul(s, NULL, 16);
        memcpy(&v->f32, &b, 4);
        return;
    }
    case WD_CT_F64: {
        uint64_t b = strtoull(s, NULL, 16);
        memcpy(&v->f64, &b, 8);
        return;
    }
    case WD_CT_STRING: {
        uint8_t *b = malloc(strlen(s) / 2 + 1);
        v->n = (uint32_t)unhex(s + 1, b, strlen(s));
        v->str = (const char *)b;
        return;
    }
    case WD_CT_LIST:
    case WD_CT_MAP: {
        uint32_t n;
        if (t->kind == WD_CT_LIST && t->len) {   /* fixed length: no count token */
            ti--;
            n = t->len;
        } else {
            n = (uint32_t)strtoul(s + 1, NULL, 10);
        }
        v->n = n;
        v->vals = calloc(n ? n : 1, sizeof *v->vals);
        for (uint32_t i = 0; i < n; i++) {
            if (t->kind == WD_CT_MAP) {
                wd_cabi_val_t *kv = calloc(2, sizeof *kv);
                v->vals[i].kind = WD_CT_TUPLE;
                v->vals[i].n = 2;
                v->vals[i].vals = kv;
                parse_val(t->fields[0].type, &kv[0]);
                parse_val(t->fields[1].type, &kv[1]);
            } else {
                parse_val(t->elem, &v->vals[i]);
            }
        }
        return;
    }
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        ti--;
        v->n = t->n;
        v->vals = calloc(t->n, sizeof *v->vals);
        for (uint32_t i = 0; i < t->n; i++)
            parse_val(t->fields[i].type, &v->vals[i]);
        return;
    case WD_CT_VARIANT: case WD_CT_ENUM: case WD_CT_OPTION: case WD_CT_RESULT: {
        v->n = (uint32_t)strtoul(s + 1, NULL, 10);
        const wd_comp_type_t *c = case_of(t, v->n);
        if (c) {
            v->vals = calloc(1, sizeof *v->vals);
            parse_val(c, v->vals);
        }
        return;
    }
    case WD_CT_FLAGS:
        v->u = strtoull(s + 1, NULL, 10);
        return;
    default:
        die("value of unsupported type");
    }
}

static void print_val(FILE *f, const wd_comp_type_t *t, const wd_cabi_val_t *v);

/* a plain value's bytes (integers, records/tuples/fixed lists of them) */
static void
print_raw(FILE *f, const wd_comp_type_t *t, const uint8_t *p)
{
    if (t->kind >= WD_CT_BOOL && t->kind <= WD_CT_U64) {
        wd_cabi_val_t e;
        uint64_t u = 0;
        memcpy(&u, p, t->size);
        e.u = u;
        if (t->kind == WD_CT_S8) e.s = (int8_t)u;
        if (t->kind == WD_CT_S16) e.s = (int16_t)u;
        if (t->kind == WD_CT_S32) e.s = (int32_t)u;
        print_val(f, t, &e);
    } else if (t->kind == WD_CT_RECORD || t->kind == WD_CT_TUPLE) {
        for (uint32_t k = 0; k < t->n; k++)
            print_raw(f, t->fields[k].type, p + t->fields[k].offset);
    } else if (t->kind == WD_CT_LIST && t->len) {
        fprintf(f, " L%u", t->len);
        for (uint32_t k = 0; k < t->len; k++)
            print_raw(f, t->elem, p + (size_t)k * t->esize);
    } else {
        die("raw view of a non-plain type");
    }
}

static void
print_val(FILE *f, const wd_comp_type_t *t, const wd_cabi_val_t *v)
{
    switch (t->kind) {
    case WD_CT_BOOL: case WD_CT_U8: case WD_CT_U16: case WD_CT_U32: case WD_CT_U64:
    case WD_CT_CHAR:
        fprintf(f, " %llu", (unsigned long long)v->u);
        return;
    case WD_CT_S8: case WD_CT_S16: case WD_CT_S32: case WD_CT_S64:
        fprintf(f, " %lld", (long long)v->s);
        return;
    case WD_CT_F32: {
        uint32_t b;
        memcpy(&b, &v->f32, 4);
        fprintf(f, " 0x%08x", b);
        return;
    }
    case WD_CT_F64: {
        uint64_t b;
        memcpy(&b, &v->f64, 8);
        fprintf(f, " 0x%016llx", (unsigned long long)b);
        return;
    }
    case WD_CT_STRING:
        fputs(" s", f);
        for (uint32_t i = 0; i < v->n; i++)
            fprintf(f, "%02x", (uint8_t)v->str[i]);
        return;
    case WD_CT_LIST:
    case WD_CT_MAP:
        if (v->raw && t->len) {   /* a fixed list's raw view */
            print_raw(f, t, v->p);
            return;
        }
        fprintf(f, " L%u", v->n);
        for (uint32_t i = 0; i < v->n; i++) {
            if (v->raw && t->kind == WD_CT_MAP) {
                const uint8_t *e = (const uint8_t *)v->p + (size_t)i * t->esize;
                print_raw(f, t->fields[0].type, e + t->fields[0].offset);
                print_raw(f, t->fields[1].type, e + t->fields[1].offset);
            } else if (v->raw) {
                print_raw(f, t->elem, (const uint8_t *)v->p + (size_t)i * t->esize);
            } else if (t->kind == WD_CT_MAP) {
                print_val(f, t->fields[0].type, &v->vals[i].vals[0]);
                print_val(f, t->fields[1].type, &v->vals[i].vals[1]);
            } else {
                print_val(f, t->elem, &v->vals[i]);
            }
        }
        return;
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        for (uint32_t i = 0; i < t->n; i++)
            print_val(f, t->fields[i].type, &v->vals[i]);
        return;
    case WD_CT_VARIANT: case WD_CT_ENUM: case WD_CT_OPTION: case WD_CT_RESULT: {
        fprintf(f, " V%u", v->n);
        const wd_comp_type_t *c = case_of(t, v->n);
        if (c)
            print_val(f, c, v->vals);
        return;
    }
    case WD_CT_FLAGS:
        fprintf(f, " F%llu", (unsigned long long)v->u);
        return;
    default:
        die("printing unsupported type");
    }
}

/* ---- the bump realloc, same as oracle.py's ---- */

static uint32_t heap_next, realloc_calls, bad_call;
static int bad_kind;   /* 1 misaligned, 2 out of bounds */

static int
bump_realloc(wd_cabi_cx_t *cx, uint32_t old, uint32_t old_size, uint32_t align,
             uint32_t new_size, uint32_t *ptr)
{
    realloc_calls++;
    if (realloc_calls == bad_call && bad_kind == 1) {
        *ptr = ((heap_next + align - 1) & ~(align - 1)) + 1;
        return 0;
    }
    if (realloc_calls == bad_call && bad_kind == 2) {
        uint64_t p = (uint64_t)MEMSIZE - new_size + 1;
        p = (p + align - 1) / align * align;
        *ptr = (uint32_t)p;
        return 0;
    }
    uint64_t p = ((uint64_t)heap_next + align - 1) / align * align;
    if (p + new_size > MEMSIZE) {
        *ptr = MEMSIZE;    /* out of heap: an out-of-bounds answer (same in oracle.py) */
        return new_size ? 0 : 0;
    }
    uint8_t *base = wd_wasm_memory_ptr(mem, 0, MEMSIZE);
    if (old && old_size)
        memmove(base + p, base + old, old_size < new_size ? old_size : new_size);
    heap_next = (uint32_t)(p + new_size);
    *ptr = (uint32_t)p;
    return 0;
}

static void
set_rmode(const char *s)
{
    bad_call = 0;
    bad_kind = 0;
    if (strcmp(s, "0")) {
        bad_call = (uint32_t)strtoul(s, NULL, 10);
        bad_kind = strstr(s, "mis") ? 1 : 2;
    }
    realloc_calls = 0;
}

static uint8_t
enc_of(const char *s)
{
    if (!strcmp(s, "utf8"))
        return WD_CABI_UTF8;
    if (!strcmp(s, "utf16"))
        return WD_CABI_UTF16;
    if (!strcmp(s, "latin1+utf16"))
        return WD_CABI_LATIN1_UTF16;
    die("bad encoding");
    return 0;
}

static const char *
flat_name(uint8_t f)
{
    return f == WD_CFLAT_I32 ? "i32" : f == WD_CFLAT_I64 ? "i64" : f == WD_CFLAT_F32 ? "f32"
                                                                                     : "f64";
}

static void
print_mem(uint32_t hi)
{
    const uint8_t *p = wd_wasm_memory_cptr(mem, 0, hi);
    for (uint32_t i = 0; i < hi; i++)
        printf("%02x", p[i]);
}

static void
expect_bar(void)
{
    if (strcmp(next(), "|"))
        die("expected |");
}

int
main(void)
{
    static char line[1 << 22];
    wd_wasm_store_t *store = wd_wasm_store_new();
    mem = wd_wasm_memory_new(store, 1, 1, 1);
    if (!mem)
        die("no memory");
    wd_cabi_arena_t arena = { 0 };
    wd_cabi_table_t table;
    wd_cabi_table_init(&table);

    while (fgets(line, sizeof line, stdin)) {
        ntok = ti = 0;
        for (char *s = strtok(line, " \n"); s; s = strtok(NULL, " \n")) {
            if (ntok == (int)(sizeof tok / sizeof tok[0]))
                die("too many tokens");
            tok[ntok++] = s;
        }
        if (!ntok)
            continue;
        const char *op = next();
        wd_cabi_cx_t cx = { 0 };
        cx.mem = mem;
        cx.arena = &arena;
        cx.table = &table;
        cx.realloc_cb = bump_realloc;
        memset(wd_wasm_memory_ptr(mem, 0, MEMSIZE), 0, MEMSIZE);
        wd_cabi_arena_reset(&arena);
        int rc = 0;
        if (!strcmp(op, "layout")) {
            expect_bar();
            wd_comp_type_t *t = parse_type();
            printf("%u %u ", t->size, t->align);
            for (uint32_t i = 0; i < t->flat_n && i < WD_CABI_FLAT_CAP; i++)
                printf("%s%s", i ? "," : "", flat_name(t->flat[i]));
            if (t->flat_n > WD_CABI_FLAT_CAP)
                printf(",+%u", t->flat_n);
            printf("\n");
            fflush(stdout);
            continue;
        }
        cx.enc = enc_of(next());
        if (!strcmp(op, "store") || !strcmp(op, "lowerflat")) {
            uint32_t ptr = !strcmp(op, "store") ? (uint32_t)strtoul(next(), NULL, 10) : 0;
            heap_next = (uint32_t)strtoul(next(), NULL, 10);
            uint32_t hi = (uint32_t)strtoul(next(), NULL, 10);
            set_rmode(next());
            expect_bar();
            wd_comp_type_t *t = parse_type();
            expect_bar();
            wd_cabi_val_t v;
            parse_val(t, &v);
            uint64_t flat[WD_CABI_FLAT_CAP];
            uint32_t pos = 0;
            if (op[0] == 's')
                rc = wd_cabi_store(&cx, t, &v, ptr);
            else
                rc = wd_cabi_lower_flat(&cx, t, &v, flat, &pos);
            if (rc < 0) {
                printf("trap # %s\n", cx.trap);
            } else {
                printf("ok");
                if (op[0] == 'l') {
                    for (uint32_t i = 0; i < pos; i++)
                        printf(" %llx", (unsigned long long)flat[i]);
                    printf(" ;");
                }
                printf(" ");
                print_mem(hi);
                printf("\n");
            }
        } else if (!strcmp(op, "load") || !strcmp(op, "liftflat")) {
            uint32_t ptr = op[1] == 'o' ? (uint32_t)strtoul(next(), NULL, 10) : 0;
            expect_bar();
            wd_comp_type_t *t = parse_type();
            expect_bar();
            uint64_t flat[WD_CABI_FLAT_CAP + 1];
            uint32_t nflat = 0;
            if (op[1] == 'i') {
                const char *s;
                while (strcmp(s = next(), "|"))
                    if (nflat < WD_CABI_FLAT_CAP)
                        flat[nflat++] = strtoull(s, NULL, 16);
            }
            const char *hex = ti < ntok ? next() : "";
            unhex(hex, wd_wasm_memory_ptr(mem, 0, MEMSIZE), MEMSIZE);
            wd_cabi_val_t v;
            uint32_t pos = 0;
            if (op[1] == 'o')
                rc = wd_cabi_load(&cx, t, ptr, &v);
            else
                rc = wd_cabi_lift_flat(&cx, t, flat, &pos, &v);
            if (rc < 0) {
                printf("trap # %s\n", cx.trap);
            } else {
                printf("ok");
                print_val(stdout, t, &v);
                printf("\n");
            }
        } else {
            die("unknown op");
        }
        fflush(stdout);
    }
    wd_cabi_arena_free(&arena);
    wd_cabi_table_free(&table);
    wd_wasm_store_free(store);
    return 0;
}
