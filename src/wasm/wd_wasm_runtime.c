/*
 * wd_wasm_runtime.c -- modules, stores, instances, linking and calls.
 *
 * wd_wasm_module_load runs the pipeline decode -> validate -> translate on a
 * private copy of the bytes; the result is never written again. A store owns
 * every object created in it through a singly linked list; freeing the store
 * frees them all. Instantiation follows spec exec/modules.rst "instantiate"
 * (2.0 semantics): imports are checked against the module's import types,
 * globals are evaluated, then active element and data segments are applied
 * in order (an out-of-bounds segment fails the instantiation, earlier writes
 * stay visible through shared tables/memories), active and declarative
 * segments are dropped, and the start function runs with the configured fuel.
 *
 * Each instance owns the stack its calls run on: a lazily committed mmap
 * reservation holding the value slots and the frame records, so 10,000+
 * nested calls cost only the pages they touch.
 */
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "wd_wasm_rt.h"
#include "wd_wasm_simd.h"

#define WD_WASM_DEFAULT_DEPTH       20000u
#define WD_WASM_DEFAULT_STACK_BYTES ((size_t)64 << 20)

/* ---- modules ---- */

void wd_wasm_module_release(wd_wasm_module_t *m)
{
    if (m == NULL) return;
    wd_wasm_jit_release(m);
    for (uint32_t i = 0; i < m->nimports; i++) {
        wd_wasm_free((void *)m->imports[i].module);
        wd_wasm_free((void *)m->imports[i].name);
    }
    wd_wasm_free(m->imports);
    wd_wasm_free(m->import_type_index);
    for (uint32_t i = 0; i < m->nexports; i++) wd_wasm_free((void *)m->exports[i].name);
    wd_wasm_free(m->exports);
    if (m->funcs) {
        for (uint32_t i = 0; i < m->nfuncs - m->nfuncs_imported; i++) {
            wd_wasm_free(m->funcs[i].runs);
            wd_wasm_free(m->funcs[i].local_types);
            if (m->funcs[i].code) {
                wd_wasm_free(m->funcs[i].code->cells);
                wd_wasm_free(m->funcs[i].code);
            }
        }
    }
    wd_wasm_free(m->funcs);
    wd_wasm_free(m->func_types);
    wd_wasm_free(m->types);
    wd_wasm_free(m->typepool);
    wd_wasm_free(m->type_canon);
    wd_wasm_free(m->tables);
    wd_wasm_free(m->mems);
    wd_wasm_free(m->globals);
    for (uint32_t i = 0; i < m->nelems; i++) {
        wd_wasm_free(m->elems[i].func_indices);
        wd_wasm_free(m->elems[i].exprs);
    }
    wd_wasm_free(m->elems);
    wd_wasm_free(m->datas);
    wd_wasm_free(m->bytes);
    wd_wasm_free(m);
}

wd_wasm_module_t *wd_wasm_module_load(const uint8_t *bytes, size_t len,
                                      const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    size_t maxsz = opts && opts->max_module_size ? opts->max_module_size : WD_WASM_DEFAULT_MAX_MODULE_SIZE;
    if (len > maxsz || len > UINT32_MAX) {
        wd_wasm_set_error(err, -1, -1, "module too large (%zu bytes, limit %zu)", len, maxsz);
        return NULL;
    }
    wd_wasm_module_t *m = wd_wasm_calloc(1, sizeof(*m));
    if (m == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory"); return NULL; }
    m->bytes = wd_wasm_malloc(len);
    if (m->bytes == NULL) {
        wd_wasm_free(m);
        wd_wasm_set_error(err, -1, -1, "out of memory");
        return NULL;
    }
    if (len) memcpy(m->bytes, bytes, len);
    m->len = len;
    if (wd_wasm_decode(m, opts, err) < 0 || wd_wasm_compile(m, opts, err) < 0 ||
        wd_wasm_jit_compile(m, opts, err) < 0) {
        wd_wasm_module_release(m);
        return NULL;
    }
    m->refs = 1;
    return m;
}

void wd_wasm_module_ref(const wd_wasm_module_t *m)
{
    __atomic_add_fetch(&((wd_wasm_module_t *)m)->refs, 1, __ATOMIC_RELAXED);
}

void wd_wasm_module_unref(const wd_wasm_module_t *m)
{
    if (m != NULL && __atomic_sub_fetch(&((wd_wasm_module_t *)m)->refs, 1, __ATOMIC_ACQ_REL) == 0)
        wd_wasm_module_release((wd_wasm_module_t *)m);
}

void wd_wasm_module_free(wd_wasm_module_t *m) { wd_wasm_module_unref(m); }

uint32_t wd_wasm_module_import_count(const wd_wasm_module_t *m) { return m->nimports; }

const wd_wasm_import_desc_t *wd_wasm_module_import(const wd_wasm_module_t *m, uint32_t i)
{
    return i < m->nimports ? &m->imports[i] : NULL;
}

uint32_t wd_wasm_module_export_count(const wd_wasm_module_t *m) { return m->nexports; }

const wd_wasm_export_desc_t *wd_wasm_module_export(const wd_wasm_module_t *m, uint32_t i)
{
    return i < m->nexports ? &m->exports[i] : NULL;
}

const wd_wasm_export_desc_t *wd_wasm_module_find_export(const wd_wasm_module_t *m,
                                                        const char *name, size_t name_len)
{
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].name_len == name_len && !memcmp(m->exports[i].name, name, name_len))
            return &m->exports[i];
    return NULL;
}

const wd_wasm_functype_t *wd_wasm_module_func_type(const wd_wasm_module_t *m, uint32_t funcidx)
{
    return funcidx < m->nfuncs ? &m->types[m->func_types[funcidx]] : NULL;
}

/* ---- stores and objects ---- */

wd_wasm_store_t *wd_wasm_store_new(void)
{
    return wd_wasm_calloc(1, sizeof(wd_wasm_store_t));
}

void wd_wasm_store_free(wd_wasm_store_t *s)
{
    if (s == NULL) return;
    wd_wasm_obj_t *o = s->objs;
    while (o) {
        wd_wasm_obj_t *next = o->next;
        o->free_fn(o);
        o = next;
    }
    wd_wasm_free(s);
}

static void wd_wasm_obj_add(wd_wasm_store_t *s, wd_wasm_obj_t *o, void (*fn)(wd_wasm_obj_t *))
{
    o->free_fn = fn;
    o->next = s->objs;
    s->objs = o;
}

static void wd_wasm_plain_free(wd_wasm_obj_t *o) { wd_wasm_free(o); }

static void wd_wasm_hostfn_free(wd_wasm_obj_t *o)
{
    wd_wasm_func_t *f = (wd_wasm_func_t *)((char *)o - offsetof(wd_wasm_func_t, obj));
    wd_wasm_free((void *)f->own_type.params);
    wd_wasm_free(f);
}

wd_wasm_func_t *wd_wasm_func_new_host(wd_wasm_store_t *s, const wd_wasm_functype_t *type,
                                      wd_wasm_host_fn fn, void *ud)
{
    /* host functions get raw 64-bit slots: no v128 (see wd_wasm_host_fn) */
    for (uint32_t i = 0; i < type->nparams; i++) if (type->params[i] == WD_WASM_V128) return NULL;
    for (uint32_t i = 0; i < type->nresults; i++) if (type->results[i] == WD_WASM_V128) return NULL;
    wd_wasm_func_t *f = wd_wasm_calloc(1, sizeof(*f));
    uint8_t *types = wd_wasm_malloc((size_t)type->nparams + type->nresults + 1);
    if (f == NULL || types == NULL) { wd_wasm_free(f); wd_wasm_free(types); return NULL; }
    if (type->nparams) memcpy(types, type->params, type->nparams);
    if (type->nresults) memcpy(types + type->nparams, type->results, type->nresults);
    f->own_type.nparams = type->nparams;
    f->own_type.nresults = type->nresults;
    f->own_type.params = types;
    f->own_type.results = types + type->nparams;
    f->nparams = type->nparams;
    f->nresults = type->nresults;
    f->host = fn;
    f->ud = ud;
    wd_wasm_obj_add(s, &f->obj, wd_wasm_hostfn_free);
    return f;
}

const wd_wasm_functype_t *wd_wasm_func_type(const wd_wasm_func_t *f) { return wd_wasm_fn_type(f); }

void wd_wasm_host_trap(wd_wasm_instance_t *caller, const char *msg)
{
    snprintf(caller->host_msg, sizeof(caller->host_msg), "%s", msg ? msg : "host trap");
}

wd_wasm_host_rc_t wd_wasm_host_exit(wd_wasm_instance_t *caller, int code)
{
    caller->host_exited = 1;
    caller->exit_code = code;
    snprintf(caller->host_msg, sizeof(caller->host_msg), "exit with code %d", code);
    return WD_WASM_HOST_TRAP;
}

int wd_wasm_exit_code(const wd_wasm_instance_t *inst) { return inst->exit_code; }

wd_wasm_global_t *wd_wasm_global_new(wd_wasm_store_t *s, wd_wasm_val_t init, int mutable_)
{
    wd_wasm_global_t *g = wd_wasm_calloc(1, sizeof(*g));
    if (g == NULL) return NULL;
    g->type = init.type;
    g->mutable_ = (uint8_t)(mutable_ != 0);
    g->val = init.of.i64;
    if (init.type == WD_WASM_I32 || init.type == WD_WASM_F32) g->val = init.of.i32;
    if (init.type == WD_WASM_FUNCREF) g->val = (uint64_t)(uintptr_t)init.of.func;
    if (init.type == WD_WASM_EXTERNREF) g->val = (uint64_t)init.of.extern_ref;
    if (init.type == WD_WASM_V128) { memcpy(&g->val, init.of.v128, 8); memcpy(&g->val_hi, init.of.v128 + 8, 8); }
    wd_wasm_obj_add(s, &g->obj, wd_wasm_plain_free);
    return g;
}

static wd_wasm_val_t wd_wasm_mkval(uint8_t type, uint64_t raw)
{
    wd_wasm_val_t v;
    memset(&v, 0, sizeof(v));
    v.type = type;
    switch (type) {
    case WD_WASM_I32: case WD_WASM_F32: v.of.i32 = (uint32_t)raw; break;
    case WD_WASM_FUNCREF: v.of.func = (wd_wasm_func_t *)(uintptr_t)raw; break;
    case WD_WASM_EXTERNREF: v.of.extern_ref = (uintptr_t)raw; break;
    default: v.of.i64 = raw; break;
    }
    return v;
}

static uint64_t wd_wasm_rawval(const wd_wasm_val_t *v)
{
    switch (v->type) {
    case WD_WASM_I32: case WD_WASM_F32: return v->of.i32;
    case WD_WASM_FUNCREF: return (uint64_t)(uintptr_t)v->of.func;
    case WD_WASM_EXTERNREF: return (uint64_t)v->of.extern_ref;
    default: return v->of.i64;
    }
}

/* a v128 value from its two slots (low half first) and back */
static wd_wasm_val_t wd_wasm_mkval128(const uint64_t *raw)
{
    wd_wasm_val_t v;
    memset(&v, 0, sizeof(v));
    v.type = WD_WASM_V128;
    memcpy(v.of.v128, raw, 8);
    memcpy(v.of.v128 + 8, raw + 1, 8);
    return v;
}

wd_wasm_val_t wd_wasm_global_get(const wd_wasm_global_t *g)
{
    if (g->type == WD_WASM_V128) return wd_wasm_mkval128((const uint64_t[2]){ g->val, g->val_hi });
    return wd_wasm_mkval(g->type, g->val);
}

int wd_wasm_global_set(wd_wasm_global_t *g, wd_wasm_val_t v)
{
    if (v.type != g->type) return -1;
    if (v.type == WD_WASM_V128) {
        memcpy(&g->val, v.of.v128, 8);
        memcpy(&g->val_hi, v.of.v128 + 8, 8);
        return 0;
    }
    g->val = wd_wasm_rawval(&v);
    return 0;
}

/* ---- tables ---- */

static void wd_wasm_table_free_obj(wd_wasm_obj_t *o)
{
    wd_wasm_table_t *t = (wd_wasm_table_t *)o;
    wd_wasm_free(t->elems);
    wd_wasm_free(t);
}

wd_wasm_table_t *wd_wasm_table_new(wd_wasm_store_t *s, uint8_t reftype, uint32_t min,
                                   uint32_t max, int has_max)
{
    wd_wasm_table_t *t = wd_wasm_calloc(1, sizeof(*t));
    if (t == NULL) return NULL;
    t->elems = wd_wasm_calloc((size_t)min + 1, sizeof(uint64_t));
    if (t->elems == NULL) { wd_wasm_free(t); return NULL; }
    t->size = min;
    t->max = max;
    t->has_max = (uint8_t)(has_max != 0);
    t->reftype = reftype;
    wd_wasm_obj_add(s, &t->obj, wd_wasm_table_free_obj);
    return t;
}

int64_t wd_wasm_table_grow_n(wd_wasm_table_t *t, uint32_t n, uint64_t init)
{
    uint64_t old = t->size, nsz = old + n;
    uint64_t lim = t->has_max ? t->max : UINT32_MAX;
    if (nsz > lim || nsz > (1u << 24) * 8ull) return -1;   /* implementation cap: 128Mi entries */
    if (n == 0) return (int64_t)old;
    uint64_t *e = wd_wasm_realloc(t->elems, (size_t)(nsz + 1) * sizeof(uint64_t));
    if (e == NULL) return -1;
    for (uint64_t i = old; i < nsz; i++) e[i] = init;
    t->elems = e;
    t->size = (uint32_t)nsz;
    return (int64_t)old;
}

uint32_t wd_wasm_table_size(const wd_wasm_table_t *t) { return t->size; }

int wd_wasm_table_get(const wd_wasm_table_t *t, uint32_t i, wd_wasm_val_t *out)
{
    if (i >= t->size) return -1;
    *out = wd_wasm_mkval(t->reftype, t->elems[i]);
    return 0;
}

int wd_wasm_table_set(wd_wasm_table_t *t, uint32_t i, wd_wasm_val_t v)
{
    if (i >= t->size) return -1;
    t->elems[i] = wd_wasm_rawval(&v);
    return 0;
}

/* ---- memories ---- */

static void wd_wasm_memory_free_obj(wd_wasm_obj_t *o)
{
    wd_wasm_memory_t *mem = (wd_wasm_memory_t *)o;
    if (mem->base) munmap(mem->base - WD_WASM_DIRTY_MAP, WD_WASM_DIRTY_MAP + mem->reserved);
    wd_wasm_memory_image_drop(mem);
    wd_wasm_free(mem);
}

static wd_wasm_memory_t *wd_wasm_memory_create(wd_wasm_store_t *s, uint32_t min, uint32_t max,
                                               int has_max, uint64_t limit_bytes)
{
    uint64_t cap = limit_bytes / 65536;
    if (cap > 65536) cap = 65536;
    uint64_t eff = has_max && max < cap ? max : cap;
    if (min > eff) return NULL;
    wd_wasm_memory_t *mem = wd_wasm_calloc(1, sizeof(*mem));
    if (mem == NULL) return NULL;
    mem->memfd = -1;
    mem->reserved = WD_WASM_GUARD_PAGES ? WD_WASM_GUARD_RESERVE : (size_t)(eff ? eff : 1) * 65536;
    /* The dirty map (WD_WASM_DIRTY_MAP) sits right below base, committed as pages
     * of it are first written (4 KiB of map per 4 MiB of memory written). Only
     * the part covering the largest size is ever read, so only that is made
     * accessible (a strict-overcommit system charges no more). */
    size_t total = WD_WASM_DIRTY_MAP + mem->reserved;
    size_t map_rw = ((size_t)(eff ? eff : 1) * (65536 >> WD_WASM_DIRTY_SHIFT) + 4095) & ~(size_t)4095;
    uint8_t *p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) { wd_wasm_free(mem); return NULL; }
    mem->base = p + WD_WASM_DIRTY_MAP;
    if (mprotect(p, map_rw, PROT_READ | PROT_WRITE) < 0 ||
        (min && mprotect(mem->base, (size_t)min * 65536, PROT_READ | PROT_WRITE) < 0)) {
        munmap(p, total);
        wd_wasm_free(mem);
        return NULL;
    }
    mem->pages = min;
    mem->size = (uint64_t)min * 65536;
    mem->max_pages = (uint32_t)eff;
    mem->decl_max = max;
    mem->has_max = (uint8_t)(has_max != 0);
    wd_wasm_obj_add(s, &mem->obj, wd_wasm_memory_free_obj);
    return mem;
}

wd_wasm_memory_t *wd_wasm_memory_new(wd_wasm_store_t *s, uint32_t min_pages, uint32_t max_pages,
                                     int has_max)
{
    return wd_wasm_memory_create(s, min_pages, max_pages, has_max, (uint64_t)65536 * 65536);
}

int64_t wd_wasm_memory_grow_pages(wd_wasm_memory_t *mem, uint32_t delta)
{
    uint64_t old = mem->pages, np = old + delta;
    if (np > mem->max_pages) return -1;
    if (delta == 0) return (int64_t)old;
    if (mprotect(mem->base + mem->size, (size_t)delta * 65536, PROT_READ | PROT_WRITE) < 0) return -1;
    mem->pages = (uint32_t)np;
    mem->size = np * 65536;
    return (int64_t)old;
}

int64_t wd_wasm_memory_grow(wd_wasm_memory_t *mem, uint32_t delta_pages)
{
    return wd_wasm_memory_grow_pages(mem, delta_pages);
}

/* The caller may write anywhere through it, and writes are not tracked: the next
 * restore drops the whole memory (wd_wasm_memory_ptr keeps restore cheap). */
uint8_t *wd_wasm_memory_data(wd_wasm_memory_t *mem)
{
    mem->dirty_overflow = 1;
    return mem->base;
}

uint64_t wd_wasm_memory_size(const wd_wasm_memory_t *mem) { return mem->size; }

/* Host functions write guest memory only through here: the range counts as written. */
/* Host functions read guest memory through here (or through wd_wasm_memory_ptr) ... */
const uint8_t *wd_wasm_memory_cptr(const wd_wasm_memory_t *mem, uint64_t off, uint64_t len)
{
    if (off > mem->size || len > mem->size - off) return NULL;
    return mem->base + off;
}

/* ... and write it only through here: the range counts as written. */
uint8_t *wd_wasm_memory_ptr(wd_wasm_memory_t *mem, uint64_t off, uint64_t len)
{
    if (wd_wasm_memory_cptr(mem, off, len) == NULL) return NULL;
    /* return areas are mostly on the guest's stack, written already: the store test first */
    if (len && (len > WD_WASM_DIRTY_GRANULE || !WD_WASM_DIRTY_BOTH(mem->base, off, len)))
        wd_wasm_memory_mark(mem, off, len);
    return mem->base + off;
}

wd_wasm_memory_t *wd_wasm_instance_memory(wd_wasm_instance_t *inst) { return inst->mem; }

/* ---- instances ---- */

static void wd_wasm_instance_free_obj(wd_wasm_obj_t *o)
{
    wd_wasm_instance_t *inst = (wd_wasm_instance_t *)o;
    if (inst->stack) munmap(inst->stack, inst->stack_bytes);
    if (inst->elem_items) {
        for (uint32_t i = 0; i < inst->module->nelems; i++) wd_wasm_free(inst->elem_items[i]);
    }
    if (inst->snap_table_elems) {
        for (uint32_t i = 0; i < inst->module->ntables; i++) wd_wasm_free(inst->snap_table_elems[i]);
    }
    wd_wasm_free(inst->snap_table_elems);
    wd_wasm_free(inst->snap_table_size);
    wd_wasm_free(inst->snap_globals);
    wd_wasm_free(inst->snap_elem_len);
    wd_wasm_free(inst->snap_data_len);
    wd_wasm_free(inst->elem_items);
    wd_wasm_module_unref(inst->module);
    wd_wasm_free(inst);
}

/* Evaluate a (validated) constant expression of type v128: v128.const or global.get. */
static void wd_wasm_const_eval128(wd_wasm_instance_t *inst, wd_wasm_span_t span, uint64_t out[2])
{
    const wd_wasm_module_t *m = inst->module;
    const uint8_t *p = m->bytes + span.off, *end = p + span.len;
    const char *why;
    uint32_t x = 0;
    out[0] = out[1] = 0;
    if (p < end && *p == WD_WASM_PREFIX_FD) {
        p++;
        if (wd_wasm_read_u32(&p, end, &x, &why) == 0 && x == WD_OP_V128_CONST - WD_OP_FD_BASE &&
            end - p >= 16) {
            memcpy(out, p, 16);
        }
    } else if (p < end && *p == WD_OP_GLOBAL_GET) {
        p++;
        if (wd_wasm_read_u32(&p, end, &x, &why) == 0) {
            out[0] = inst->globals[x]->val;
            out[1] = inst->globals[x]->val_hi;
        }
    }
}

/* Evaluate a (validated) constant expression. */
static uint64_t wd_wasm_const_eval(wd_wasm_instance_t *inst, wd_wasm_span_t span)
{
    const wd_wasm_module_t *m = inst->module;
    const uint8_t *p = m->bytes + span.off, *end = p + span.len;
    const char *why;
    uint64_t stack[8];
    int sp = 0;
    while (p < end) {
        uint8_t op = *p++;
        uint64_t v = 0;
        switch (op) {
        case WD_OP_I32_CONST: { int32_t x = 0; wd_wasm_read_s32(&p, end, &x, &why); v = (uint32_t)x; break; }
        case WD_OP_I64_CONST: { int64_t x = 0; wd_wasm_read_s64(&p, end, &x, &why); v = (uint64_t)x; break; }
        case WD_OP_F32_CONST: { uint32_t x; memcpy(&x, p, 4); p += 4; v = x; break; }
        case WD_OP_F64_CONST: memcpy(&v, p, 8); p += 8; break;
        case WD_OP_REF_NULL: p++; v = 0; break;
        case WD_OP_REF_FUNC: { uint32_t x = 0; wd_wasm_read_u32(&p, end, &x, &why);
            v = (uint64_t)(uintptr_t)inst->funcs[x]; break; }
        case WD_OP_GLOBAL_GET: { uint32_t x = 0; wd_wasm_read_u32(&p, end, &x, &why);
            v = inst->globals[x]->val; break; }
        case WD_OP_I32_ADD: case WD_OP_I32_SUB: case WD_OP_I32_MUL:
        case WD_OP_I64_ADD: case WD_OP_I64_SUB: case WD_OP_I64_MUL: {
            if (sp < 2) return 0;
            uint64_t b = stack[--sp], a = stack[--sp];
            v = op == WD_OP_I32_ADD || op == WD_OP_I64_ADD ? a + b
              : op == WD_OP_I32_SUB || op == WD_OP_I64_SUB ? a - b : a * b;
            if (op <= WD_OP_I32_MUL) v = (uint32_t)v;
            break;
        }
        case WD_OP_END: return sp ? stack[sp - 1] : 0;
        default: return 0;
        }
        if (sp < 8) stack[sp++] = v;
    }
    return sp ? stack[sp - 1] : 0;
}

static int wd_wasm_limits_match(uint64_t amin, uint64_t amax, int ahas, uint64_t emin, uint64_t emax, int ehas)
{
    if (amin < emin) return 0;
    if (ehas) {
        if (!ahas || amax > emax) return 0;
    }
    return 1;
}

static int wd_wasm_stack_init(wd_wasm_instance_t *inst, const wd_wasm_limits_t *lim)
{
    inst->max_depth = lim && lim->max_call_depth ? lim->max_call_depth : WD_WASM_DEFAULT_DEPTH;
    size_t slots_bytes = lim && lim->max_stack_bytes ? lim->max_stack_bytes : WD_WASM_DEFAULT_STACK_BYTES;
    size_t frame_bytes = ((size_t)inst->max_depth + 64) * sizeof(wd_wasm_frame_t);
    size_t pg = 4096;
    slots_bytes = (slots_bytes + pg - 1) & ~(pg - 1);
    frame_bytes = (frame_bytes + pg - 1) & ~(pg - 1);
    size_t total = slots_bytes + frame_bytes;
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    inst->stack = p;
    inst->stack_bytes = total;
    inst->stack_end = (uint64_t *)((char *)p + slots_bytes);
    inst->frames = (wd_wasm_frame_t *)((char *)p + slots_bytes);
    return 0;
}

static wd_wasm_status_t wd_wasm_call_raw(wd_wasm_instance_t *inst, wd_wasm_func_t *f,
                                         uint64_t **res_at);

wd_wasm_instance_t *wd_wasm_instantiate(wd_wasm_store_t *s, const wd_wasm_module_t *m,
                                        const wd_wasm_extern_t *imports, uint32_t nimports,
                                        const wd_wasm_limits_t *limits, wd_wasm_error_t *err)
{
    if (nimports < m->nimports) {
        wd_wasm_set_error(err, -1, -1, "unknown import: %s.%s (%u imports given, %u needed)",
                          m->imports[nimports].module, m->imports[nimports].name, nimports, m->nimports);
        return NULL;
    }
    /* link check first: nothing is allocated for a module that cannot link */
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wd_wasm_import_desc_t *d = &m->imports[i];
        const wd_wasm_extern_t *x = &imports[i];
        int ok = 0;
        if (x->kind != d->kind || x->of.func == NULL) {
            ok = 0;
        } else if (d->kind == WD_WASM_EXTERN_FUNC) {
            const wd_wasm_functype_t *a = wd_wasm_fn_type(x->of.func), *e = &m->types[m->import_type_index[i]];
            ok = a->nparams == e->nparams && a->nresults == e->nresults &&
                 !memcmp(a->params, e->params, a->nparams) && !memcmp(a->results, e->results, a->nresults);
        } else if (d->kind == WD_WASM_EXTERN_TABLE) {
            const wd_wasm_table_t *t = x->of.table;
            ok = t->reftype == d->valtype &&
                 wd_wasm_limits_match(t->size, t->max, t->has_max, d->min, d->max, d->has_max);
        } else if (d->kind == WD_WASM_EXTERN_MEMORY) {
            const wd_wasm_memory_t *mm = x->of.memory;
            ok = wd_wasm_limits_match(mm->pages, mm->decl_max, mm->has_max, d->min, d->max, d->has_max);
        } else {
            const wd_wasm_global_t *g = x->of.global;
            ok = g->type == d->valtype && g->mutable_ == d->mutable_;
        }
        if (!ok) {
            wd_wasm_set_error(err, -1, -1, "incompatible import type: %s.%s", d->module, d->name);
            return NULL;
        }
    }

    /* one allocation for the instance and its index spaces, defined functions and globals */
    uint32_t ndef = m->nfuncs - m->nfuncs_imported;
    uint32_t ngdef = m->nglobals - m->nglobals_imported;
    size_t sz = sizeof(wd_wasm_instance_t);
    size_t o_funcs = sz;       sz += (size_t)m->nfuncs * sizeof(void *);
    size_t o_tables = sz;      sz += (size_t)m->ntables * sizeof(void *);
    size_t o_globals = sz;     sz += (size_t)m->nglobals * sizeof(void *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_fdef = sz;        sz += (size_t)ndef * WD_WASM_FUNC_DEF_SIZE;
    size_t o_gdef = sz;        sz += (size_t)ngdef * sizeof(wd_wasm_global_t);
    size_t o_elen = sz;        sz += (size_t)m->nelems * sizeof(uint32_t);
    size_t o_dlen = sz;        sz += (size_t)m->ndatas * sizeof(uint32_t);
    char *blk = wd_wasm_calloc(1, sz);
    if (blk == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory"); return NULL; }
    wd_wasm_instance_t *inst = (wd_wasm_instance_t *)blk;
    inst->store = s;
    inst->module = m;
    inst->funcs = (wd_wasm_func_t **)(blk + o_funcs);
    inst->tables = (wd_wasm_table_t **)(blk + o_tables);
    inst->globals = (wd_wasm_global_t **)(blk + o_globals);
    inst->elem_len = (uint32_t *)(blk + o_elen);
    inst->data_len = (uint32_t *)(blk + o_dlen);
    inst->fuel = INT64_MAX;
    inst->max_memory_bytes = limits && limits->max_memory_bytes ? limits->max_memory_bytes
                                                                : (uint64_t)65536 * 65536;
    inst->trap.func_index = -1;
    if (wd_wasm_stack_init(inst, limits) < 0) {
        wd_wasm_free(blk);
        wd_wasm_set_error(err, -1, -1, "out of memory (call stack)");
        return NULL;
    }
    wd_wasm_module_ref(m);
    wd_wasm_obj_add(s, &inst->obj, wd_wasm_instance_free_obj);

    uint32_t fi = 0, ti = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wd_wasm_extern_t *x = &imports[i];
        switch (x->kind) {
        case WD_WASM_EXTERN_FUNC: inst->funcs[fi++] = x->of.func; break;
        case WD_WASM_EXTERN_TABLE: inst->tables[ti++] = x->of.table; break;
        case WD_WASM_EXTERN_MEMORY: inst->mem = x->of.memory; break;
        case WD_WASM_EXTERN_GLOBAL: inst->globals[gi++] = x->of.global; break;
        }
    }
    for (uint32_t i = 0; i < ndef; i++) {
        wd_wasm_func_t *f = (wd_wasm_func_t *)(blk + o_fdef + (size_t)i * WD_WASM_FUNC_DEF_SIZE);
        uint32_t tix = m->funcs[i].type_index;
        const wd_wasm_code_t *code = m->funcs[i].code;
        f->canon = m->type_canon[tix];
        f->inst = inst;
        f->index = m->nfuncs_imported + i;
        f->body = wd_wasm_code_entry(code) + 2;
        f->max_slots = code->max_slots;
        f->nparams = code->nparams;
        f->nlocals = code->nlocals;
        f->entry_fuel = code->entry_fuel;
        inst->funcs[fi++] = f;
    }
    for (uint32_t i = m->ntables_imported; i < m->ntables; i++) {
        const wd_wasm_table_decl_t *td = &m->tables[i];
        wd_wasm_table_t *t = wd_wasm_table_new(s, td->reftype, td->min, td->max, td->has_max);
        if (t == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory (table)"); return NULL; }
        inst->tables[i] = t;
    }
    if (m->nmems > m->nmems_imported) {
        const wd_wasm_mem_decl_t *md = &m->mems[m->nmems_imported];
        if ((uint64_t)md->min * 65536 > inst->max_memory_bytes) {
            wd_wasm_set_error(err, -1, -1, "memory limit exceeded: initial memory %llu bytes > limit %llu",
                              (unsigned long long)md->min * 65536, (unsigned long long)inst->max_memory_bytes);
            return NULL;
        }
        inst->mem = wd_wasm_memory_create(s, md->min, md->max, md->has_max, inst->max_memory_bytes);
        if (inst->mem == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory (linear memory)"); return NULL; }
        inst->mem->owner = m;     /* instances of m may share a snapshot image */
    }
    wd_wasm_global_t *gdef = (wd_wasm_global_t *)(blk + o_gdef);
    for (uint32_t i = m->nglobals_imported; i < m->nglobals; i++) {
        wd_wasm_global_t *g = &gdef[i - m->nglobals_imported];
        g->type = m->globals[i].type;
        g->mutable_ = m->globals[i].mutable_;
        inst->globals[i] = g;
        if (g->type == WD_WASM_V128) {
            uint64_t v[2];
            wd_wasm_const_eval128(inst, m->globals[i].init, v);
            g->val = v[0];
            g->val_hi = v[1];
        } else {
            g->val = wd_wasm_const_eval(inst, m->globals[i].init);
        }
    }
    /* element segments: resolve items */
    if (m->nelems) {
        inst->elem_items = wd_wasm_calloc(m->nelems, sizeof(uint64_t *));
        if (inst->elem_items == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory"); return NULL; }
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wd_wasm_elem_decl_t *e = &m->elems[i];
        uint64_t *items = wd_wasm_calloc((size_t)e->nitems + 1, sizeof(uint64_t));
        if (items == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory"); return NULL; }
        for (uint32_t k = 0; k < e->nitems; k++)
            items[k] = e->func_indices ? (uint64_t)(uintptr_t)inst->funcs[e->func_indices[k]]
                                       : wd_wasm_const_eval(inst, e->exprs[k]);
        inst->elem_items[i] = items;
        inst->elem_len[i] = e->nitems;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) inst->data_len[i] = m->datas[i].bytes.len;

    /* spec 2.0: active segments run in order as table.init / memory.init, then are dropped */
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wd_wasm_elem_decl_t *e = &m->elems[i];
        if (e->mode == WD_WASM_SEG_ACTIVE) {
            wd_wasm_table_t *t = inst->tables[e->table];
            uint64_t off = (uint32_t)wd_wasm_const_eval(inst, e->offset);
            if (off + e->nitems > t->size) {
                wd_wasm_set_error(err, e->seg_off, -1, "out of bounds table access");
                return NULL;
            }
            if (e->nitems) memcpy(t->elems + off, inst->elem_items[i], (size_t)e->nitems * sizeof(uint64_t));
        }
        if (e->mode != WD_WASM_SEG_PASSIVE) {
            /* dropped for good (restores bring back length 0): keep no copy of its items */
            inst->elem_len[i] = 0;
            wd_wasm_free(inst->elem_items[i]);
            inst->elem_items[i] = NULL;     /* table.init copies nothing from a length-0 segment */
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wd_wasm_data_decl_t *d = &m->datas[i];
        if (d->mode != WD_WASM_SEG_ACTIVE) continue;
        uint64_t off = (uint32_t)wd_wasm_const_eval(inst, d->offset);
        if (inst->mem == NULL || off + d->bytes.len > inst->mem->size) {
            wd_wasm_set_error(err, d->seg_off, -1, "out of bounds memory access");
            return NULL;
        }
        if (d->bytes.len) {
            if (inst->mem->image)     /* an imported memory may be snapshotted; marks mean */
                wd_wasm_memory_mark(inst->mem, off, d->bytes.len);   /* nothing before that */
            memcpy(inst->mem->base + off, m->bytes + d->bytes.off, d->bytes.len);
        }
        inst->data_len[i] = 0;
    }
    if (m->has_start) {
        uint64_t fuel = limits ? limits->fuel : 0;
        wd_wasm_set_fuel(inst, fuel);
        uint64_t *res;
        wd_wasm_status_t st = wd_wasm_call_raw(inst, inst->funcs[m->start], &res);
        if (st == WD_WASM_SUSPENDED) {
            wd_wasm_abort(inst);
            wd_wasm_set_error(err, -1, m->start, "start function suspended (not supported)");
            return NULL;
        }
        if (st != WD_WASM_OK) {
            wd_wasm_set_error(err, -1, inst->trap.func_index, "%s", inst->trap.msg);
            return NULL;
        }
    }
    wd_wasm_set_fuel(inst, 0);
    return inst;
}

const wd_wasm_module_t *wd_wasm_instance_module(const wd_wasm_instance_t *inst) { return inst->module; }

int wd_wasm_instance_export(wd_wasm_instance_t *inst, const char *name, size_t name_len,
                            wd_wasm_extern_t *out)
{
    const wd_wasm_export_desc_t *e = wd_wasm_module_find_export(inst->module, name, name_len);
    if (e == NULL) return -1;
    out->kind = e->kind;
    switch (e->kind) {
    case WD_WASM_EXTERN_FUNC: out->of.func = inst->funcs[e->index]; break;
    case WD_WASM_EXTERN_TABLE: out->of.table = inst->tables[e->index]; break;
    case WD_WASM_EXTERN_MEMORY: out->of.memory = inst->mem; break;
    case WD_WASM_EXTERN_GLOBAL: out->of.global = inst->globals[e->index]; break;
    }
    return 0;
}

void wd_wasm_instance_set_user(wd_wasm_instance_t *inst, void *user) { inst->user = user; }
void *wd_wasm_instance_user(const wd_wasm_instance_t *inst) { return inst->user; }

/* ---- calls ---- */

/* Where a new call's frame starts: the bottom of the stack, or above the
 * frame of the host function that is calling back into Wasm. */
static uint64_t *wd_wasm_call_base(wd_wasm_instance_t *inst)
{
    return inst->s_direct_args ? inst->s_direct_args : inst->stack;
}

/* Run f with its arguments already in place at the call base; *res_at gets
 * where the results are. */
static wd_wasm_status_t wd_wasm_call_raw(wd_wasm_instance_t *inst, wd_wasm_func_t *f,
                                         uint64_t **res_at)
{
    uint64_t *base = wd_wasm_call_base(inst);
    *res_at = base;
    inst->stack_used = 1;         /* its pages are populated now (wd_wasm_trim drops them) */
    if (f->body == NULL) {
        const wd_wasm_functype_t *ft = &f->own_type;
        uint64_t *res = base + ft->nparams;
        if (res + ft->nresults + 1 > inst->stack_end) return wd_wasm_trap_set(inst, WD_TRAP_STACK_EXHAUSTED, f), WD_WASM_TRAP;
        uint64_t *saved = inst->s_direct_args;
        inst->s_direct_args = res + ft->nresults;
        inst->host_msg[0] = 0;
        inst->host_exited = 0;
        wd_wasm_host_rc_t rc = f->host(inst, base, res, f->ud);
        inst->s_direct_args = saved;
        if (inst->yield_deferred && saved == NULL) {
            /* a yield requested while this host function ran Wasm: no Wasm run is
             * left to honour it, so it stays pending for the next call */
            inst->yield_deferred = 0;
            __atomic_fetch_or(&inst->attn, WD_ATTN_YIELD, __ATOMIC_RELAXED);
        }
        if (rc == WD_WASM_HOST_OK) {
            memmove(base, res, ft->nresults * sizeof(uint64_t));
            return WD_WASM_OK;
        }
        if (rc == WD_WASM_HOST_SUSPEND) {
            inst->suspended = 2;     /* direct host call */
            inst->yielded = 0;
            inst->s_func = f;
            return WD_WASM_SUSPENDED;
        }
        if (inst->host_exited) return wd_wasm_trap_set(inst, WD_TRAP_EXIT, f), WD_WASM_TRAP;
        if (!inst->host_msg[0]) snprintf(inst->host_msg, sizeof(inst->host_msg), "host trap");
        wd_wasm_trap_set(inst, WD_TRAP_HOST, f);
        return WD_WASM_TRAP;
    }
    const wd_wasm_code_t *code = wd_wasm_fn_code(f);
    if (inst->depth + 2 > inst->max_depth || base + code->max_slots > inst->stack_end) {
        wd_wasm_trap_set(inst, WD_TRAP_STACK_EXHAUSTED, f);
        return WD_WASM_TRAP;
    }
    inst->frames[inst->depth].func = NULL;       /* sentinel: return to the embedder */
    inst->frames[inst->depth].ret_ip = NULL;
    inst->frames[inst->depth].fp = NULL;
    inst->depth++;
    if (code->nlocals > code->nparams)
        memset(base + code->nparams, 0, (size_t)(code->nlocals - code->nparams) * sizeof(uint64_t));
    inst->host_exited = 0;
    wd_wasm_status_t st = wd_wasm_interp_run(inst, wd_wasm_code_entry(code), base, f);
    if (st == WD_WASM_SUSPENDED) inst->suspended = 1;
    return st;
}

static wd_wasm_status_t wd_wasm_finish(wd_wasm_instance_t *inst, wd_wasm_status_t st,
                                       const wd_wasm_functype_t *ft, uint64_t *res,
                                       wd_wasm_val_t *results, uint32_t nresults)
{
    if (st == WD_WASM_OK) {
        for (uint32_t i = 0; i < ft->nresults && i < nresults; i++) {
            if (ft->results[i] == WD_WASM_V128) {
                results[i] = wd_wasm_mkval128(res);
                res += 2;
            } else {
                results[i] = wd_wasm_mkval(ft->results[i], *res++);
            }
        }
    }
    return st;
}

static wd_wasm_status_t wd_wasm_api_trap(wd_wasm_instance_t *inst, const char *msg)
{
    inst->trap.kind = WD_TRAP_HOST;
    snprintf(inst->trap.msg, sizeof(inst->trap.msg), "%s", msg);
    inst->trap.func_index = -1;
    return WD_WASM_TRAP;
}

wd_wasm_status_t wd_wasm_call(wd_wasm_instance_t *inst, wd_wasm_func_t *f,
                              const wd_wasm_val_t *args, uint32_t nargs,
                              wd_wasm_val_t *results, uint32_t nresults)
{
    if (inst->suspended && inst->s_direct_args == NULL)
        return wd_wasm_api_trap(inst, "instance has a suspended call (resume or abort it first)");
    const wd_wasm_functype_t *ft = wd_wasm_fn_type(f);
    if (nargs != ft->nparams) return wd_wasm_api_trap(inst, "argument count mismatch");
    if (nresults < ft->nresults) return wd_wasm_api_trap(inst, "result buffer too small");
    uint64_t *base = wd_wasm_call_base(inst);
    if (base + 2 * (size_t)ft->nparams + 1 > inst->stack_end) {
        wd_wasm_trap_set(inst, WD_TRAP_STACK_EXHAUSTED, f);
        return WD_WASM_TRAP;
    }
    for (uint32_t i = 0, k = 0; i < nargs; i++) {
        if (args[i].type != ft->params[i]) return wd_wasm_api_trap(inst, "argument type mismatch");
        if (args[i].type == WD_WASM_V128) {
            memcpy(&base[k], args[i].of.v128, 8);
            memcpy(&base[k + 1], args[i].of.v128 + 8, 8);
            k += 2;
        } else {
            base[k++] = wd_wasm_rawval(&args[i]);
        }
    }
    inst->trap.kind = WD_TRAP_NONE;
    if (inst->s_direct_args == NULL) inst->yielded = 0;
    uint64_t *res;
    wd_wasm_status_t st = wd_wasm_call_raw(inst, f, &res);
    if (st == WD_WASM_SUSPENDED) inst->s_entry = f, inst->s_entry_base = res;
    return wd_wasm_finish(inst, st, ft, res, results, nresults);
}

wd_wasm_status_t wd_wasm_resume(wd_wasm_instance_t *inst, wd_wasm_val_t *results, uint32_t nresults)
{
    if (!inst->suspended) return wd_wasm_api_trap(inst, "no suspended call");
    wd_wasm_func_t *entry = inst->s_entry;
    uint64_t *base = inst->s_entry_base;
    const wd_wasm_functype_t *ft = wd_wasm_fn_type(entry);
    if (nresults < ft->nresults) return wd_wasm_api_trap(inst, "result buffer too small");
    wd_wasm_status_t st;
    inst->yielded = 0;
    if (inst->suspended == 2) {
        inst->suspended = 0;
        uint64_t *res;
        uint64_t *saved = inst->s_direct_args;
        inst->s_direct_args = NULL;
        (void)saved;
        st = wd_wasm_call_raw(inst, entry, &res);
        if (st == WD_WASM_SUSPENDED) return st;
        return wd_wasm_finish(inst, st, ft, base, results, nresults);
    }
    inst->suspended = 0;
    st = wd_wasm_interp_run(inst, inst->s_ip, inst->s_fp, inst->s_func);
    if (st == WD_WASM_SUSPENDED) { inst->suspended = 1; return st; }
    return wd_wasm_finish(inst, st, ft, base, results, nresults);
}

void wd_wasm_abort(wd_wasm_instance_t *inst)
{
    inst->suspended = 0;
    inst->yielded = 0;
    inst->yield_deferred = 0;
    inst->depth = 0;
    inst->s_direct_args = NULL;
}

const wd_wasm_trap_t *wd_wasm_last_trap(const wd_wasm_instance_t *inst) { return &inst->trap; }

/* ---- metering ---- */

void wd_wasm_set_fuel(wd_wasm_instance_t *inst, uint64_t fuel)
{
    __atomic_store_n(&inst->attn, 0, __ATOMIC_RELAXED);   /* interrupt and yield */
    inst->yield_deferred = 0;
    inst->fuel_set = fuel;
    inst->fuel_reserve = 0;
    inst->fuel_limited = fuel != 0;
    inst->fuel = fuel == 0 ? INT64_MAX : (fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel);
}

uint64_t wd_wasm_fuel_left(const wd_wasm_instance_t *inst)
{
    if (!inst->fuel_limited) return 0;
    return (inst->fuel > 0 ? (uint64_t)inst->fuel : 0) + (uint64_t)inst->fuel_reserve;
}

uint64_t wd_wasm_fuel_used(const wd_wasm_instance_t *inst)
{
    if (!inst->fuel_limited) return (uint64_t)(INT64_MAX - inst->fuel - inst->fuel_reserve);
    return inst->fuel_set - wd_wasm_fuel_left(inst);
}

void wd_wasm_set_slice(wd_wasm_instance_t *inst, uint64_t slice)
{
    /* fuel + reserve never exceeds INT64_MAX, and fuel is the units until the next pause */
    int64_t left = inst->fuel + inst->fuel_reserve;
    if (left < 0) left = 0;
    if (slice == 0 || slice >= (uint64_t)left) {
        inst->fuel = left;
        inst->fuel_reserve = 0;
        return;
    }
    inst->fuel = (int64_t)slice;
    inst->fuel_reserve = left - (int64_t)slice;
}

/* lock-free atomic RMW on an int: async-signal-safe and thread-safe */
void wd_wasm_interrupt(wd_wasm_instance_t *inst)
{
    __atomic_fetch_or(&inst->attn, WD_ATTN_INTERRUPT, __ATOMIC_RELAXED);
}

void wd_wasm_clear_interrupt(wd_wasm_instance_t *inst)
{
    __atomic_fetch_and(&inst->attn, ~WD_ATTN_INTERRUPT, __ATOMIC_RELAXED);
}

void wd_wasm_request_yield(wd_wasm_instance_t *inst)
{
    __atomic_fetch_or(&inst->attn, WD_ATTN_YIELD, __ATOMIC_RELAXED);
}

int wd_wasm_yielded(const wd_wasm_instance_t *inst)
{
    return inst->suspended == 1 && inst->yielded;
}

/* the v128 lane code's instruction sets (wd_wasm_simd.h) */
#if WD_SIMD_SSE41 && WD_SIMD_SSSE3
#define WD_RT_SIMD_ISA "simd sse4.1+ssse3+sse2"
#elif WD_SIMD_SSE41
#define WD_RT_SIMD_ISA "simd sse4.1+sse2"
#elif WD_SIMD_SSSE3
#define WD_RT_SIMD_ISA "simd ssse3+sse2"
#elif WD_SIMD_SSE2
#define WD_RT_SIMD_ISA "simd sse2"
#else
#define WD_RT_SIMD_ISA "simd portable"
#endif

const char *wd_wasm_build_info(void)
{
#if WD_WASM_SWITCH_DISPATCH && WD_WASM_GUARD_PAGES
    return "switch, guard-pages, " WD_RT_SIMD_ISA;
#elif WD_WASM_SWITCH_DISPATCH
    return "switch, bounds-checks, " WD_RT_SIMD_ISA;
#elif WD_WASM_GUARD_PAGES
    return "computed-goto, guard-pages, " WD_RT_SIMD_ISA;
#else
    return "computed-goto, bounds-checks, " WD_RT_SIMD_ISA;
#endif
}
