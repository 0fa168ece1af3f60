/*
 * wd_spec.c -- runs one converted spec-test script (the JSON + .wasm files that
 * `wast2json` writes for a .wast) against the engine and counts its commands.
 *
 *   wd_spec [-v] [-s] [-m] [-n maxfail] file.json
 *     -v  print every failing command: .wast line, command, expected vs got
 *     -s  skip every command: counts them without loading anything
 *     -m  strict messages: assert_invalid/malformed/unlinkable/uninstantiable
 *         with a different error text count as failures (default: reported with -v)
 *     -n  print at most this many failures without -v (default 5)
 *
 * The last stdout line is "RESULT <passed> <failed> <skipped> <msg-mismatches>";
 * t/spec/run turns it into the per-file line. Exit status 0 if nothing failed,
 * 1 otherwise, anything else means the runner itself died.
 *
 * All instances of one script live in one store. Imports are resolved by
 * (module, name) against the `spectest` host module and the instances the
 * script registered. v128 arguments and results are compared lane by lane
 * (each float lane with its own NaN pattern); nothing is skipped for SIMD.
 *
 * Value conventions of wast2json: integers and float bit patterns as unsigned
 * decimal strings; results "nan:canonical" / "nan:arithmetic"; "ref.extern N"
 * is the host value N, which we carry as externref N + 1 (0 is null).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "wd_wasm.h"

#define WD_SPEC_MAX_VALS 256

typedef struct {
    const char *name;                 /* NUL-terminated (host table) */
    size_t name_len;
    wd_wasm_extern_t ext;
} wd_spec_hostexp_t;

typedef struct {
    char *as;                         /* registered module name */
    size_t as_len;
    wd_wasm_instance_t *inst;         /* NULL: the spectest host module */
} wd_spec_reg_t;

typedef struct {
    char *name;                       /* "$M1" */
    wd_wasm_instance_t *inst;         /* NULL: the module was skipped or failed */
    int skipped;
} wd_spec_named_t;

typedef struct {
    const char *path, *dir, *base;
    int verbose, strict_msg, max_print;
    wd_wasm_store_t *store;

    wd_wasm_instance_t *cur;          /* the last module defined */
    int cur_skipped;                  /* ... which was skipped (never, since SIMD runs) */
    int cur_failed;                   /* ... which failed to load/instantiate */

    wd_wasm_module_t **modules;       /* freed after the store */
    size_t nmodules, cap_modules;
    wd_spec_reg_t *regs;
    size_t nregs, cap_regs;
    wd_spec_named_t *named;
    size_t nnamed, cap_named;
    wd_spec_hostexp_t host[16];
    size_t nhost;

    long passed, failed, skipped, msg_mismatch, printed;
    long line;                        /* .wast line of the current command */
} wd_spec_t;

static volatile long wd_spec_crash_line = -1;
static const char *wd_spec_crash_file = "";

/* ------------------------------------------------------------------ output */

static void wd_spec_fail(wd_spec_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wd_spec_fail(wd_spec_t *s, const char *fmt, ...)
{
    s->failed++;
    if (!s->verbose && s->printed >= s->max_print) {
        if (s->printed == s->max_print) {
            printf("    ... more failures (run with -v for all)\n");
            s->printed++;
        }
        return;
    }
    s->printed++;
    va_list ap;
    va_start(ap, fmt);
    printf("    %s:%ld: ", s->base, s->line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void
wd_spec_fmt_val(char *buf, size_t n, const wd_wasm_val_t *v)
{
    switch (v->type) {
    case WD_WASM_I32:
        snprintf(buf, n, "i32:%u (0x%x)", v->of.i32, v->of.i32);
        break;
    case WD_WASM_I64:
        snprintf(buf, n, "i64:%llu (0x%llx)", (unsigned long long) v->of.i64,
                 (unsigned long long) v->of.i64);
        break;
    case WD_WASM_F32: {
        float f;
        memcpy(&f, &v->of.f32, 4);
        snprintf(buf, n, "f32:0x%08x (%.9g)", v->of.f32, (double) f);
        break;
    }
    case WD_WASM_F64: {
        double d;
        memcpy(&d, &v->of.f64, 8);
        snprintf(buf, n, "f64:0x%016llx (%.17g)", (unsigned long long) v->of.f64, d);
        break;
    }
    case WD_WASM_V128: {
        size_t off = (size_t) snprintf(buf, n, "v128:");
        for (int i = 0; i < 16 && off < n; i++)
            off += (size_t) snprintf(buf + off, n - off, "%s%02x", i && i % 4 == 0 ? " " : "", v->of.v128[i]);
        break;
    }
    case WD_WASM_FUNCREF:
        if (v->of.func) snprintf(buf, n, "funcref:%p", (void *) v->of.func);
        else snprintf(buf, n, "funcref:null");
        break;
    case WD_WASM_EXTERNREF:
        if (v->of.extern_ref) snprintf(buf, n, "externref:%llu",
                                       (unsigned long long) (v->of.extern_ref - 1));
        else snprintf(buf, n, "externref:null");
        break;
    default:
        snprintf(buf, n, "type 0x%02x?", v->type);
    }
}

/* ------------------------------------------------------------- bookkeeping */

static void *
wd_spec_grow(void *p, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap) return p;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *np = realloc(p, nc * elt);
    if (!np) { fprintf(stderr, "wd_spec: out of memory\n"); exit(2); }
    *cap = nc;
    return np;
}

static void
wd_spec_keep_module(wd_spec_t *s, wd_wasm_module_t *m)
{
    s->modules = wd_spec_grow(s->modules, &s->cap_modules, s->nmodules + 1, sizeof(*s->modules));
    s->modules[s->nmodules++] = m;
}

static wd_spec_named_t *
wd_spec_find_named(wd_spec_t *s, const char *name)
{
    for (size_t i = s->nnamed; i-- > 0;)
        if (strcmp(s->named[i].name, name) == 0) return &s->named[i];
    return NULL;
}

static void
wd_spec_set_named(wd_spec_t *s, const char *name, wd_wasm_instance_t *inst, int skipped)
{
    s->named = wd_spec_grow(s->named, &s->cap_named, s->nnamed + 1, sizeof(*s->named));
    s->named[s->nnamed].name = strdup(name);
    s->named[s->nnamed].inst = inst;
    s->named[s->nnamed].skipped = skipped;
    s->nnamed++;
}

/* ------------------------------------------------------- spectest host module */

static wd_wasm_host_rc_t
wd_spec_print(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    (void) caller; (void) args; (void) results; (void) ud;
    return WD_WASM_HOST_OK;
}

static int
wd_spec_host_func(wd_spec_t *s, const char *name, const char *params)
{
    wd_wasm_functype_t ft;
    uint8_t p[4];
    size_t n = strlen(params);
    for (size_t i = 0; i < n; i++)
        p[i] = params[i] == 'i' ? WD_WASM_I32 : params[i] == 'I' ? WD_WASM_I64
             : params[i] == 'f' ? WD_WASM_F32 : WD_WASM_F64;
    ft.nparams = (uint32_t) n;
    ft.params = p;
    ft.nresults = 0;
    ft.results = NULL;
    wd_wasm_func_t *f = wd_wasm_func_new_host(s->store, &ft, wd_spec_print, NULL);
    if (!f) return -1;
    wd_spec_hostexp_t *h = &s->host[s->nhost++];
    h->name = name;
    h->name_len = strlen(name);
    h->ext.kind = WD_WASM_EXTERN_FUNC;
    h->ext.of.func = f;
    return 0;
}

static int
wd_spec_host_global(wd_spec_t *s, const char *name, uint8_t type, uint64_t bits)
{
    wd_wasm_val_t v;
    memset(&v, 0, sizeof(v));
    v.type = type;
    if (type == WD_WASM_I32 || type == WD_WASM_F32) v.of.i32 = (uint32_t) bits;
    else v.of.i64 = bits;
    wd_wasm_global_t *g = wd_wasm_global_new(s->store, v, 0);
    if (!g) return -1;
    wd_spec_hostexp_t *h = &s->host[s->nhost++];
    h->name = name;
    h->name_len = strlen(name);
    h->ext.kind = WD_WASM_EXTERN_GLOBAL;
    h->ext.of.global = g;
    return 0;
}

static int
wd_spec_host_init(wd_spec_t *s)
{
    float f32 = 666.6f;
    double f64 = 666.6;
    uint32_t f32b;
    uint64_t f64b;
    memcpy(&f32b, &f32, 4);
    memcpy(&f64b, &f64, 8);
    if (wd_spec_host_func(s, "print", "") < 0
        || wd_spec_host_func(s, "print_i32", "i") < 0
        || wd_spec_host_func(s, "print_i64", "I") < 0
        || wd_spec_host_func(s, "print_f32", "f") < 0
        || wd_spec_host_func(s, "print_f64", "d") < 0
        || wd_spec_host_func(s, "print_i32_f32", "if") < 0
        || wd_spec_host_func(s, "print_f64_f64", "dd") < 0
        || wd_spec_host_global(s, "global_i32", WD_WASM_I32, 666) < 0
        || wd_spec_host_global(s, "global_i64", WD_WASM_I64, 666) < 0
        || wd_spec_host_global(s, "global_f32", WD_WASM_F32, f32b) < 0
        || wd_spec_host_global(s, "global_f64", WD_WASM_F64, f64b) < 0)
        return -1;
    wd_wasm_table_t *t = wd_wasm_table_new(s->store, WD_WASM_FUNCREF, 10, 20, 1);
    wd_wasm_memory_t *m = wd_wasm_memory_new(s->store, 1, 2, 1);
    if (!t || !m) return -1;
    s->host[s->nhost].name = "table";
    s->host[s->nhost].name_len = 5;
    s->host[s->nhost].ext.kind = WD_WASM_EXTERN_TABLE;
    s->host[s->nhost++].ext.of.table = t;
    s->host[s->nhost].name = "memory";
    s->host[s->nhost].name_len = 6;
    s->host[s->nhost].ext.kind = WD_WASM_EXTERN_MEMORY;
    s->host[s->nhost++].ext.of.memory = m;

    s->regs = wd_spec_grow(s->regs, &s->cap_regs, 1, sizeof(*s->regs));
    s->regs[0].as = strdup("spectest");
    s->regs[0].as_len = 8;
    s->regs[0].inst = NULL;
    s->nregs = 1;
    return 0;
}

/* --------------------------------------------------------------- modules */

static uint8_t *
wd_spec_read_file(wd_spec_t *s, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) { fclose(f); return NULL; }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Loads name from the script directory. Returns the module, or NULL with err set. */
static wd_wasm_module_t *
wd_spec_load(wd_spec_t *s, const char *name, wd_wasm_error_t *err)
{
    size_t len = 0;
    uint8_t *bytes = wd_spec_read_file(s, name, &len);
    if (!bytes) {
        snprintf(err->msg, sizeof(err->msg), "cannot read %s: %s", name, strerror(errno));
        err->offset = err->func_index = -1;
        return NULL;
    }
    memset(err, 0, sizeof(*err));
    err->offset = err->func_index = -1;
    wd_wasm_module_t *m = wd_wasm_module_load(bytes, len, NULL, err);
    free(bytes);
    if (!m && !err->msg[0]) snprintf(err->msg, sizeof(err->msg), "(load failed with no message)");
    return m;
}

/* Resolves m's imports and instantiates it. NULL with err set on failure. */
static wd_wasm_instance_t *
wd_spec_instantiate(wd_spec_t *s, wd_wasm_module_t *m, wd_wasm_error_t *err)
{
    uint32_t n = wd_wasm_module_import_count(m);
    wd_wasm_extern_t *imps = calloc(n ? n : 1, sizeof(*imps));
    if (!imps) { fprintf(stderr, "wd_spec: out of memory\n"); exit(2); }
    memset(err, 0, sizeof(*err));
    err->offset = err->func_index = -1;
    for (uint32_t i = 0; i < n; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        int found = 0;
        for (size_t r = s->nregs; r-- > 0 && !found;) {
            wd_spec_reg_t *reg = &s->regs[r];
            if (reg->as_len != d->module_len || memcmp(reg->as, d->module, d->module_len) != 0)
                continue;
            if (reg->inst) {
                found = wd_wasm_instance_export(reg->inst, d->name, d->name_len, &imps[i]) == 0;
            } else {
                for (size_t h = 0; h < s->nhost; h++)
                    if (s->host[h].name_len == d->name_len
                        && memcmp(s->host[h].name, d->name, d->name_len) == 0) {
                        imps[i] = s->host[h].ext;
                        found = 1;
                        break;
                    }
            }
            break;    /* the newest registration of that name decides */
        }
        if (!found) {
            snprintf(err->msg, sizeof(err->msg), "unknown import \"%.*s\".\"%.*s\"",
                     (int) d->module_len, d->module, (int) d->name_len, d->name);
            free(imps);
            return NULL;
        }
    }
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s->store, m, imps, n, NULL, err);
    free(imps);
    if (!inst && !err->msg[0]) snprintf(err->msg, sizeof(err->msg), "(instantiate failed with no message)");
    return inst;
}

/* ---------------------------------------------------------------- values */

static int
wd_spec_valtype(const char *t, uint8_t *out)
{
    if (!strcmp(t, "i32")) *out = WD_WASM_I32;
    else if (!strcmp(t, "i64")) *out = WD_WASM_I64;
    else if (!strcmp(t, "f32")) *out = WD_WASM_F32;
    else if (!strcmp(t, "f64")) *out = WD_WASM_F64;
    else if (!strcmp(t, "funcref")) *out = WD_WASM_FUNCREF;
    else if (!strcmp(t, "externref")) *out = WD_WASM_EXTERNREF;
    else if (!strcmp(t, "v128")) *out = WD_WASM_V128;
    else return -1;
    return 0;
}

/* v128 values are written as {"lane_type": "i8".."f64", "value": [lanes...]}: lane width in bytes */
static int
wd_spec_lane_bytes(const char *lt)
{
    if (!lt) return 0;
    if (!strcmp(lt, "i8")) return 1;
    if (!strcmp(lt, "i16")) return 2;
    if (!strcmp(lt, "i32") || !strcmp(lt, "f32")) return 4;
    if (!strcmp(lt, "i64") || !strcmp(lt, "f64")) return 8;
    return 0;
}

static int
wd_spec_parse_u64(const char *str, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(str, &end, 10);
    if (errno || end == str || *end) return -1;
    *out = v;
    return 0;
}

/* Parses an argument (a concrete value). */
static int
wd_spec_parse_arg(json_t *j, wd_wasm_val_t *v, char *why, size_t whyn)
{
    const char *t = json_string_value(json_object_get(j, "type"));
    const char *str = json_string_value(json_object_get(j, "value"));
    memset(v, 0, sizeof(*v));
    if (!t || wd_spec_valtype(t, &v->type) < 0) {
        snprintf(why, whyn, "unknown value type %s", t ? t : "(none)");
        return -1;
    }
    uint64_t u = 0;
    if (v->type == WD_WASM_V128) {
        json_t *lanes = json_object_get(j, "value");
        int w = wd_spec_lane_bytes(json_string_value(json_object_get(j, "lane_type")));
        if (!w || !json_is_array(lanes) || json_array_size(lanes) != (size_t) (16 / w)) {
            snprintf(why, whyn, "malformed v128 argument");
            return -1;
        }
        for (int i = 0; i < 16 / w; i++) {
            const char *ls = json_string_value(json_array_get(lanes, (size_t) i));
            if (!ls || wd_spec_parse_u64(ls, &u) < 0) { snprintf(why, whyn, "bad v128 lane"); return -1; }
            memcpy(v->of.v128 + i * w, &u, (size_t) w);          /* little-endian host */
        }
        return 0;
    }
    if (!str) { snprintf(why, whyn, "argument without value"); return -1; }
    if (v->type == WD_WASM_FUNCREF || v->type == WD_WASM_EXTERNREF) {
        if (!strcmp(str, "null")) return 0;
        if (v->type == WD_WASM_FUNCREF) { snprintf(why, whyn, "funcref argument %s", str); return -1; }
        if (wd_spec_parse_u64(str, &u) < 0) { snprintf(why, whyn, "bad externref %s", str); return -1; }
        v->of.extern_ref = (uintptr_t) u + 1;
        return 0;
    }
    if (wd_spec_parse_u64(str, &u) < 0) { snprintf(why, whyn, "bad number %s", str); return -1; }
    if (v->type == WD_WASM_I32 || v->type == WD_WASM_F32) v->of.i32 = (uint32_t) u;
    else v->of.i64 = u;
    return 0;
}

/* Does the result got match the expected pattern j? */
static int
wd_spec_match(json_t *j, const wd_wasm_val_t *got, char *exp, size_t expn)
{
    const char *t = json_string_value(json_object_get(j, "type"));
    const char *str = json_string_value(json_object_get(j, "value"));
    uint8_t type;
    snprintf(exp, expn, "%s:%s", t ? t : "?", str ? str : "(any)");
    if (!t || wd_spec_valtype(t, &type) < 0) return 0;
    if (got->type != type) return 0;
    uint64_t u = 0;
    if (type == WD_WASM_V128) {
        /* lane by lane, each lane with its own NaN pattern */
        const char *lt = json_string_value(json_object_get(j, "lane_type"));
        json_t *lanes = json_object_get(j, "value");
        int w = wd_spec_lane_bytes(lt);
        if (!w || !json_is_array(lanes) || json_array_size(lanes) != (size_t) (16 / w)) return 0;
        size_t off = (size_t) snprintf(exp, expn, "v128:%s[", lt);
        int ok = 1;
        for (int i = 0; i < 16 / w; i++) {
            const char *ls = json_string_value(json_array_get(lanes, (size_t) i));
            uint64_t g = 0;
            memcpy(&g, got->of.v128 + i * w, (size_t) w);
            if (off < expn) off += (size_t) snprintf(exp + off, expn - off, "%s%s", i ? " " : "", ls ? ls : "?");
            if (!ls) { ok = 0; continue; }
            int is_f = lt[0] == 'f';
            if (is_f && w == 4 && !strcmp(ls, "nan:canonical")) ok &= (g & 0x7fffffffu) == 0x7fc00000u;
            else if (is_f && w == 4 && !strcmp(ls, "nan:arithmetic")) ok &= (g & 0x7fc00000u) == 0x7fc00000u;
            else if (is_f && w == 8 && !strcmp(ls, "nan:canonical"))
                ok &= (g & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
            else if (is_f && w == 8 && !strcmp(ls, "nan:arithmetic"))
                ok &= (g & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
            else {
                uint64_t mask = w == 8 ? ~0ull : ((1ull << (8 * w)) - 1);
                ok &= wd_spec_parse_u64(ls, &u) == 0 && (u & mask) == g;
            }
        }
        if (off < expn) snprintf(exp + off, expn - off, "]");
        return ok;
    }
    switch (type) {
    case WD_WASM_I32:
        return str && wd_spec_parse_u64(str, &u) == 0 && got->of.i32 == (uint32_t) u;
    case WD_WASM_I64:
        return str && wd_spec_parse_u64(str, &u) == 0 && got->of.i64 == u;
    case WD_WASM_F32:
        if (!str) return 0;
        if (!strcmp(str, "nan:canonical")) return (got->of.f32 & 0x7fffffffu) == 0x7fc00000u;
        if (!strcmp(str, "nan:arithmetic")) return (got->of.f32 & 0x7fc00000u) == 0x7fc00000u;
        return wd_spec_parse_u64(str, &u) == 0 && got->of.f32 == (uint32_t) u;
    case WD_WASM_F64:
        if (!str) return 0;
        if (!strcmp(str, "nan:canonical"))
            return (got->of.f64 & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (!strcmp(str, "nan:arithmetic"))
            return (got->of.f64 & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return wd_spec_parse_u64(str, &u) == 0 && got->of.f64 == u;
    case WD_WASM_FUNCREF:
        if (!str) return got->of.func != NULL;          /* (ref.func): any non-null */
        if (!strcmp(str, "null")) return got->of.func == NULL;
        return 0;
    case WD_WASM_EXTERNREF:
        if (!str) return got->of.extern_ref != 0;
        if (!strcmp(str, "null")) return got->of.extern_ref == 0;
        return wd_spec_parse_u64(str, &u) == 0 && got->of.extern_ref == (uintptr_t) u + 1;
    }
    return 0;
}

/* --------------------------------------------------------------- actions */

typedef enum { WD_SPEC_ACT_OK, WD_SPEC_ACT_TRAP, WD_SPEC_ACT_ERROR, WD_SPEC_ACT_SKIP } wd_spec_act_rc_t;

typedef struct {
    wd_wasm_val_t results[WD_SPEC_MAX_VALS];
    uint32_t nresults;
    char msg[512];                    /* trap message, or why the action could not run */
} wd_spec_act_t;

/* Which instance does an action address? NULL + rc in *skip when unavailable. */
static wd_wasm_instance_t *
wd_spec_target(wd_spec_t *s, json_t *action, wd_spec_act_t *out, wd_spec_act_rc_t *rc)
{
    const char *mod = json_string_value(json_object_get(action, "module"));
    if (mod) {
        wd_spec_named_t *n = wd_spec_find_named(s, mod);
        if (!n) { snprintf(out->msg, sizeof(out->msg), "no module named %s", mod); *rc = WD_SPEC_ACT_ERROR; return NULL; }
        if (n->skipped) { *rc = WD_SPEC_ACT_SKIP; return NULL; }
        if (!n->inst) { snprintf(out->msg, sizeof(out->msg), "module %s failed to instantiate", mod); *rc = WD_SPEC_ACT_ERROR; return NULL; }
        return n->inst;
    }
    if (s->cur_skipped) { *rc = WD_SPEC_ACT_SKIP; return NULL; }
    if (!s->cur) {
        snprintf(out->msg, sizeof(out->msg), s->cur_failed ? "current module failed to load/instantiate"
                                                           : "no current module");
        *rc = WD_SPEC_ACT_ERROR;
        return NULL;
    }
    return s->cur;
}

static wd_spec_act_rc_t
wd_spec_action(wd_spec_t *s, json_t *action, wd_spec_act_t *out)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    json_t *field = json_object_get(action, "field");
    json_t *args = json_object_get(action, "args");
    wd_spec_act_rc_t rc = WD_SPEC_ACT_ERROR;
    out->nresults = 0;
    out->msg[0] = 0;
    wd_wasm_instance_t *inst = wd_spec_target(s, action, out, &rc);
    if (!inst) return rc;
    if (!type || !json_is_string(field)) {
        snprintf(out->msg, sizeof(out->msg), "malformed action");
        return WD_SPEC_ACT_ERROR;
    }
    const char *name = json_string_value(field);
    size_t name_len = json_string_length(field);
    wd_wasm_extern_t ext;
    if (wd_wasm_instance_export(inst, name, name_len, &ext) < 0) {
        snprintf(out->msg, sizeof(out->msg), "no export \"%s\"", name);
        return WD_SPEC_ACT_ERROR;
    }

    if (!strcmp(type, "get")) {
        if (ext.kind != WD_WASM_EXTERN_GLOBAL) {
            snprintf(out->msg, sizeof(out->msg), "export \"%s\" is not a global", name);
            return WD_SPEC_ACT_ERROR;
        }
        out->results[0] = wd_wasm_global_get(ext.of.global);
        out->nresults = 1;
        return WD_SPEC_ACT_OK;
    }
    if (strcmp(type, "invoke") != 0) {
        snprintf(out->msg, sizeof(out->msg), "unknown action %s", type);
        return WD_SPEC_ACT_ERROR;
    }
    if (ext.kind != WD_WASM_EXTERN_FUNC) {
        snprintf(out->msg, sizeof(out->msg), "export \"%s\" is not a function", name);
        return WD_SPEC_ACT_ERROR;
    }
    wd_wasm_val_t argv[WD_SPEC_MAX_VALS];
    size_t nargs = json_array_size(args);
    if (nargs > WD_SPEC_MAX_VALS) {
        snprintf(out->msg, sizeof(out->msg), "too many arguments");
        return WD_SPEC_ACT_ERROR;
    }
    for (size_t i = 0; i < nargs; i++)
        if (wd_spec_parse_arg(json_array_get(args, i), &argv[i], out->msg, sizeof(out->msg)) < 0)
            return WD_SPEC_ACT_ERROR;
    const wd_wasm_functype_t *ft = wd_wasm_func_type(ext.of.func);
    if (!ft) {
        snprintf(out->msg, sizeof(out->msg), "wd_wasm_func_type returned NULL");
        return WD_SPEC_ACT_ERROR;
    }
    if (ft->nresults > WD_SPEC_MAX_VALS) {
        snprintf(out->msg, sizeof(out->msg), "too many results");
        return WD_SPEC_ACT_ERROR;
    }
    memset(out->results, 0, sizeof(out->results[0]) * ft->nresults);
    wd_wasm_status_t st = wd_wasm_call(inst, ext.of.func, argv, (uint32_t) nargs,
                                       out->results, ft->nresults);
    if (st == WD_WASM_OK) {
        out->nresults = ft->nresults;
        return WD_SPEC_ACT_OK;
    }
    if (st == WD_WASM_TRAP) {
        const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
        if (!t) snprintf(out->msg, sizeof(out->msg), "(trap without wd_wasm_last_trap)");
        else if (t->msg[0]) snprintf(out->msg, sizeof(out->msg), "%s", t->msg);
        else snprintf(out->msg, sizeof(out->msg), "%s", wd_wasm_trap_kind_message(t->kind));
        return WD_SPEC_ACT_TRAP;
    }
    wd_wasm_abort(inst);
    snprintf(out->msg, sizeof(out->msg), "call returned status %d", (int) st);
    return WD_SPEC_ACT_ERROR;
}

static const char *
wd_spec_action_desc(json_t *action, char *buf, size_t n)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *field = json_string_value(json_object_get(action, "field"));
    const char *mod = json_string_value(json_object_get(action, "module"));
    json_t *args = json_object_get(action, "args");
    size_t off = (size_t) snprintf(buf, n, "%s %s%s\"%s\"(", type ? type : "?", mod ? mod : "",
                                   mod ? "." : "", field ? field : "?");
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
        if (off >= n) break;
        const char *t = json_string_value(json_object_get(a, "type"));
        const char *v = json_string_value(json_object_get(a, "value"));
        off += (size_t) snprintf(buf + off, n - off, "%s%s:%s", i ? ", " : "", t ? t : "?",
                                 v ? v : "?");
    }
    if (off < n) snprintf(buf + off, n - off, ")");
    return buf;
}

/* Does ours carry the expected message (expected is a prefix of ours)? */
static int
wd_spec_msg_ok(const char *expected, const char *ours)
{
    if (!expected) return 1;
    return strncmp(ours, expected, strlen(expected)) == 0;
}

/* -------------------------------------------------------------- commands */

static void
wd_spec_cmd_module(wd_spec_t *s, json_t *c)
{
    const char *file = json_string_value(json_object_get(c, "filename"));
    const char *name = json_string_value(json_object_get(c, "name"));
    wd_wasm_error_t err;
    s->cur = NULL;
    s->cur_skipped = 0;
    s->cur_failed = 0;
    wd_wasm_module_t *m = file ? wd_spec_load(s, file, &err) : NULL;
    if (!m) {
        s->cur_failed = 1;
        wd_spec_fail(s, "module %s: load failed: %s (offset %lld, func %lld)",
                     file ? file : "?", file ? err.msg : "no filename",
                     (long long) err.offset, (long long) err.func_index);
        if (name) wd_spec_set_named(s, name, NULL, s->cur_skipped);
        return;
    }
    wd_spec_keep_module(s, m);
    wd_wasm_instance_t *inst = wd_spec_instantiate(s, m, &err);
    if (!inst) {
        s->cur_failed = 1;
        wd_spec_fail(s, "module %s: instantiate failed: %s", file, err.msg);
    } else {
        s->passed++;
    }
    s->cur = inst;
    if (name) wd_spec_set_named(s, name, inst, 0);
}

static void
wd_spec_cmd_register(wd_spec_t *s, json_t *c)
{
    json_t *as = json_object_get(c, "as");
    const char *name = json_string_value(json_object_get(c, "name"));
    wd_wasm_instance_t *inst = s->cur;
    int skipped = s->cur_skipped;
    if (name) {
        wd_spec_named_t *n = wd_spec_find_named(s, name);
        inst = n ? n->inst : NULL;
        skipped = n ? n->skipped : 0;
    }
    if (skipped) { s->skipped++; return; }
    if (!inst || !json_is_string(as)) {
        wd_spec_fail(s, "register %s: no such (instantiated) module", name ? name : "(current)");
        return;
    }
    s->regs = wd_spec_grow(s->regs, &s->cap_regs, s->nregs + 1, sizeof(*s->regs));
    s->regs[s->nregs].as_len = json_string_length(as);
    s->regs[s->nregs].as = malloc(s->regs[s->nregs].as_len + 1);
    memcpy(s->regs[s->nregs].as, json_string_value(as), s->regs[s->nregs].as_len + 1);
    s->regs[s->nregs].inst = inst;
    s->nregs++;
    s->passed++;
}

static void
wd_spec_cmd_return(wd_spec_t *s, json_t *c, int check_results)
{
    json_t *action = json_object_get(c, "action");
    json_t *expected = json_object_get(c, "expected");
    char desc[512];
    wd_spec_act_t *a = malloc(sizeof(*a));
    if (!a) exit(2);
    wd_spec_act_rc_t rc = wd_spec_action(s, action, a);
    wd_spec_action_desc(action, desc, sizeof(desc));
    if (rc == WD_SPEC_ACT_SKIP) s->skipped++;
    else if (rc == WD_SPEC_ACT_ERROR) wd_spec_fail(s, "%s: %s", desc, a->msg);
    else if (rc == WD_SPEC_ACT_TRAP) wd_spec_fail(s, "%s: unexpected trap: %s", desc, a->msg);
    else if (!check_results) s->passed++;
    else if (json_array_size(expected) != a->nresults)
        wd_spec_fail(s, "%s: %u results, expected %zu", desc, a->nresults, json_array_size(expected));
    else {
        int ok = 1;
        char exp[128], got[128];
        for (uint32_t i = 0; i < a->nresults; i++) {
            if (!wd_spec_match(json_array_get(expected, i), &a->results[i], exp, sizeof(exp))) {
                wd_spec_fmt_val(got, sizeof(got), &a->results[i]);
                wd_spec_fail(s, "%s: result %u: expected %s, got %s", desc, i, exp, got);
                ok = 0;
                break;
            }
        }
        if (ok) s->passed++;
    }
    free(a);
}

static void
wd_spec_cmd_trap(wd_spec_t *s, json_t *c)
{
    json_t *action = json_object_get(c, "action");
    const char *text = json_string_value(json_object_get(c, "text"));
    char desc[512];
    wd_spec_act_t *a = malloc(sizeof(*a));
    if (!a) exit(2);
    wd_spec_act_rc_t rc = wd_spec_action(s, action, a);
    wd_spec_action_desc(action, desc, sizeof(desc));
    if (rc == WD_SPEC_ACT_SKIP) s->skipped++;
    else if (rc == WD_SPEC_ACT_ERROR) wd_spec_fail(s, "%s: %s", desc, a->msg);
    else if (rc == WD_SPEC_ACT_OK) {
        char got[128] = "";
        if (a->nresults) wd_spec_fmt_val(got, sizeof(got), &a->results[0]);
        wd_spec_fail(s, "%s: expected trap \"%s\", returned %s", desc, text ? text : "", got);
    } else if (!wd_spec_msg_ok(text, a->msg))
        wd_spec_fail(s, "%s: expected trap \"%s\", got trap \"%s\"", desc, text, a->msg);
    else s->passed++;
    free(a);
}

/* assert_invalid / assert_malformed: the binary must be rejected by load. */
static void
wd_spec_cmd_reject(wd_spec_t *s, json_t *c, const char *kind)
{
    const char *file = json_string_value(json_object_get(c, "filename"));
    const char *mtype = json_string_value(json_object_get(c, "module_type"));
    const char *text = json_string_value(json_object_get(c, "text"));
    if (mtype && strcmp(mtype, "binary") != 0) {
        /* text-format module: wast2json already rejected it (it wrote the .wat) */
        s->passed++;
        return;
    }
    wd_wasm_error_t err;
    wd_wasm_module_t *m = file ? wd_spec_load(s, file, &err) : NULL;
    if (m) {
        wd_wasm_module_free(m);
        wd_spec_fail(s, "%s %s: module loaded, expected \"%s\"", kind, file, text ? text : "");
        return;
    }
    if (!file) { wd_spec_fail(s, "%s: no filename", kind); return; }
    if (!wd_spec_msg_ok(text, err.msg)) {
        s->msg_mismatch++;
        if (s->strict_msg) {
            wd_spec_fail(s, "%s %s: expected \"%s\", got \"%s\" (offset %lld, func %lld)", kind, file,
                         text, err.msg, (long long) err.offset, (long long) err.func_index);
            return;
        }
        if (s->verbose)
            printf("    %s:%ld: note: %s %s: expected \"%s\", got \"%s\" (offset %lld, func %lld)\n",
                   s->base, s->line, kind, file, text, err.msg, (long long) err.offset,
                   (long long) err.func_index);
    }
    s->passed++;
}

/* assert_unlinkable / assert_uninstantiable: loads, but instantiation fails. */
static void
wd_spec_cmd_noinst(wd_spec_t *s, json_t *c, const char *kind, int check_text)
{
    const char *file = json_string_value(json_object_get(c, "filename"));
    const char *text = json_string_value(json_object_get(c, "text"));
    wd_wasm_error_t err;
    wd_wasm_module_t *m = file ? wd_spec_load(s, file, &err) : NULL;
    if (!m) {
        wd_spec_fail(s, "%s %s: load failed: %s", kind, file ? file : "?", file ? err.msg : "");
        return;
    }
    wd_spec_keep_module(s, m);
    wd_wasm_instance_t *inst = wd_spec_instantiate(s, m, &err);
    if (inst) {
        wd_spec_fail(s, "%s %s: instantiated, expected \"%s\"", kind, file, text ? text : "");
        return;
    }
    if (!wd_spec_msg_ok(text, err.msg)) {
        s->msg_mismatch++;
        if (check_text || s->strict_msg) {
            wd_spec_fail(s, "%s %s: expected \"%s\", got \"%s\"", kind, file, text, err.msg);
            return;
        }
        if (s->verbose)
            printf("    %s:%ld: note: %s %s: expected \"%s\", got \"%s\"\n", s->base, s->line, kind,
                   file, text, err.msg);
    }
    s->passed++;
}

static void
wd_spec_command(wd_spec_t *s, json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    s->line = (long) json_integer_value(json_object_get(c, "line"));
    wd_spec_crash_line = s->line;
    if (!type) { wd_spec_fail(s, "command without type"); return; }
    if (!strcmp(type, "module")) wd_spec_cmd_module(s, c);
    else if (!strcmp(type, "register")) wd_spec_cmd_register(s, c);
    else if (!strcmp(type, "assert_return")) wd_spec_cmd_return(s, c, 1);
    else if (!strcmp(type, "action")) wd_spec_cmd_return(s, c, 0);
    else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) wd_spec_cmd_trap(s, c);
    else if (!strcmp(type, "assert_invalid")) wd_spec_cmd_reject(s, c, "assert_invalid");
    else if (!strcmp(type, "assert_malformed")) wd_spec_cmd_reject(s, c, "assert_malformed");
    else if (!strcmp(type, "assert_unlinkable")) wd_spec_cmd_noinst(s, c, "assert_unlinkable", 0);
    else if (!strcmp(type, "assert_uninstantiable")) wd_spec_cmd_noinst(s, c, "assert_uninstantiable", 1);
    else wd_spec_fail(s, "unknown command type %s", type);
}

/* ------------------------------------------------------------------- main */

#ifndef __SANITIZE_ADDRESS__
static void
wd_spec_crash(int sig)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "wd_spec: signal %d while running %s line %ld\n", sig,
                     wd_spec_crash_file, (long) wd_spec_crash_line);
    if (n > 0) { ssize_t w = write(2, buf, (size_t) n); (void) w; }
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

static void
wd_spec_usage(void)
{
    fprintf(stderr, "usage: wd_spec [-v] [-s] [-m] [-n maxfail] file.json | wd_spec -i\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    wd_spec_t s;
    int opt, skip_all = 0;
    memset(&s, 0, sizeof(s));
    s.max_print = 5;
    while ((opt = getopt(argc, argv, "vsmn:i")) != -1) {
        switch (opt) {
        case 'i': printf("%s\n", wd_wasm_build_info()); return 0;
        case 'v': s.verbose = 1; break;
        case 's': skip_all = 1; break;
        case 'm': s.strict_msg = 1; break;
        case 'n': s.max_print = atoi(optarg); break;
        default: wd_spec_usage();
        }
    }
    if (optind != argc - 1) wd_spec_usage();
    s.path = argv[optind];
    char *dir = strdup(s.path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else strcpy(dir, ".");
    s.dir = dir;
    /* failures are reported against the .wast (same base name, same line numbers) */
    const char *b = strrchr(s.path, '/') ? strrchr(s.path, '/') + 1 : s.path;
    char *base = strdup(b);
    char *dot = strrchr(base, '.');
    if (dot && strcmp(dot, ".json") == 0 && (size_t)(dot - base) + 6 <= strlen(b) + 1) strcpy(dot, ".wast");
    s.base = base;
    wd_spec_crash_file = s.path;

#ifndef __SANITIZE_ADDRESS__
    signal(SIGSEGV, wd_spec_crash);
    signal(SIGBUS, wd_spec_crash);
    signal(SIGFPE, wd_spec_crash);
    signal(SIGILL, wd_spec_crash);
    signal(SIGABRT, wd_spec_crash);
#endif
    setvbuf(stdout, NULL, _IOLBF, 0);

    json_error_t jerr;
    json_t *root = json_load_file(s.path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        fprintf(stderr, "wd_spec: %s:%d: %s\n", s.path, jerr.line, jerr.text);
        return 2;
    }
    json_t *cmds = json_object_get(root, "commands");
    if (!json_is_array(cmds)) {
        fprintf(stderr, "wd_spec: %s: no \"commands\" array\n", s.path);
        return 2;
    }

    if (skip_all) {
        s.skipped = (long) json_array_size(cmds);
    } else {
        s.store = wd_wasm_store_new();
        if (!s.store || wd_spec_host_init(&s) < 0) {
            fprintf(stderr, "wd_spec: cannot create the store / spectest module\n");
            return 2;
        }
        size_t i;
        json_t *c;
        json_array_foreach(cmds, i, c) wd_spec_command(&s, c);
        wd_wasm_store_free(s.store);
    }
    for (size_t i = 0; i < s.nmodules; i++) wd_wasm_module_free(s.modules[i]);
    for (size_t i = 0; i < s.nregs; i++) free(s.regs[i].as);
    for (size_t i = 0; i < s.nnamed; i++) free(s.named[i].name);
    free(s.modules);
    free(s.regs);
    free(s.named);
    free(dir);
    free(base);
    json_decref(root);

    printf("RESULT %ld %ld %ld %ld\n", s.passed, s.failed, s.skipped, s.msg_mismatch);
    return s.failed ? 1 : 0;
}
