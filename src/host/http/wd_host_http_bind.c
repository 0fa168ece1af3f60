/*
 * wd_host_http_bind.c -- the wasi:http world's host functions for components.
 *
 * A component's `canon lower` of a wasi:http-world function with UTF-8 strings has exactly
 * the core signature of the hand-lowered import a core-module handler gets (both are the
 * Canonical ABI's flattening), so a component binds the same functions: one implementation.
 * What differs is where memory and realloc come from: each lowering names its own in its
 * canonopts (the guest module's, or the preview1 adapter's cabi_import_realloc), and the
 * caller may be any core instance of the component. A binding remembers its memory and
 * realloc and installs them (and the calling instance, for trap messages) in the shared
 * context around the call; the context's handle table is the component instance's table of
 * host resources, so handles pass freely between the guest and its adapter.
 */
#include <string.h>
#include <stdio.h>
#include "wd_host_http_int.h"

typedef struct wd_hh_binding {
    struct wd_hh_binding *next;
    wd_host_http_t *h;
    wd_wasm_host_fn fn;
    wd_wasm_memory_t *mem;
    wd_wasm_func_t *realloc;
} wd_hh_binding_t;

static wd_hh_rc_t wd_hh_bound_call(wd_wasm_instance_t *caller, const uint64_t *a, uint64_t *r,
                                   void *ud)
{
    wd_hh_binding_t *b = ud;
    wd_host_http_t *h = b->h;
    wd_wasm_instance_t *pcaller = h->caller;
    wd_wasm_memory_t *pmem = h->bound_mem;
    wd_wasm_func_t *prealloc = h->realloc_fn;
    h->caller = caller;
    h->bound_mem = b->mem;
    h->mem = b->mem;
    h->realloc_fn = b->realloc;
    wd_hh_rc_t rc = b->fn(caller, a, r, h);
    h->caller = pcaller;
    h->bound_mem = pmem;
    h->realloc_fn = prealloc;
    return rc;
}

static void wd_hh_sigstr(const wd_wasm_functype_t *ft, char *buf, size_t len)
{
    size_t n = 0;
    for (uint32_t i = 0; i < ft->nparams && n + 3 < len; i++)
        buf[n++] = ft->params[i] == WD_WASM_I32 ? 'i' : ft->params[i] == WD_WASM_I64 ? 'I'
                 : ft->params[i] == WD_WASM_F32 ? 'f' : ft->params[i] == WD_WASM_F64 ? 'F' : '?';
    buf[n++] = ':';
    for (uint32_t i = 0; i < ft->nresults && n + 2 < len; i++)
        buf[n++] = ft->results[i] == WD_WASM_I32 ? 'i' : ft->results[i] == WD_WASM_I64 ? 'I'
                 : ft->results[i] == WD_WASM_F32 ? 'f' : ft->results[i] == WD_WASM_F64 ? 'F' : '?';
    buf[n] = '\0';
}

int wd_host_http_has(const char *iface, const char *name, const wd_wasm_functype_t *type,
                     char *msg, size_t msglen)
{
    int known;
    char sig[64];
    const wd_hh_import_t *f = wd_hh_find_import(iface, strlen(iface), name, strlen(name), &known);
    if (f == NULL) {
        snprintf(msg, msglen, "\"%s#%s\" is not provided by the host", iface, name);
        return known ? -1 : 0;
    }
    wd_hh_sigstr(type, sig, sizeof sig);
    if (strcmp(sig, f->sig) != 0) {
        snprintf(msg, msglen, "\"%s#%s\": the component's lowering has core type (%s), the "
                 "host's is (%s)", iface, name, sig, f->sig);
        return -1;
    }
    return 1;
}

wd_wasm_func_t *wd_host_http_bind(wd_host_http_t *h, wd_wasm_store_t *s, const char *iface,
                                  const char *name, const wd_wasm_functype_t *type,
                                  wd_wasm_memory_t *mem, wd_wasm_func_t *realloc, char *msg,
                                  size_t msglen)
{
    int known;
    if (wd_host_http_has(iface, name, type, msg, msglen) <= 0)
        return NULL;
    const wd_hh_import_t *f = wd_hh_find_import(iface, strlen(iface), name, strlen(name), &known);
    wd_hh_binding_t *b = wd_wasm_calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    b->h = h;
    b->fn = f->fn;
    b->mem = mem;
    b->realloc = realloc;
    wd_wasm_func_t *fn = wd_wasm_func_new_host(s, type, wd_hh_bound_call, b);
    if (fn == NULL) {
        wd_wasm_free(b);
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    b->next = h->bindings;
    h->bindings = b;
    return fn;
}

wd_wasm_host_fn wd_host_http_fn(const char *iface, const char *name,
                                const wd_wasm_functype_t *type, char *msg, size_t msglen)
{
    int known;
    if (wd_host_http_has(iface, name, type, msg, msglen) <= 0)
        return NULL;
    return wd_hh_find_import(iface, strlen(iface), name, strlen(name), &known)->fn;
}

wd_wasm_host_rc_t wd_host_http_call_in(wd_host_http_t *h, wd_wasm_host_fn fn,
                                       wd_wasm_instance_t *caller, wd_wasm_memory_t *mem,
                                       wd_host_http_alloc_fn alloc, void *alloc_ud,
                                       const uint64_t *a, uint64_t *r)
{
    wd_wasm_instance_t *pcaller = h->caller;
    wd_wasm_memory_t *pmem = h->bound_mem, *pm = h->mem;
    wd_wasm_func_t *prealloc = h->realloc_fn;
    wd_host_http_alloc_fn palloc = h->alloc;
    void *pud = h->alloc_ud;
    h->caller = caller;
    h->bound_mem = mem;
    h->mem = mem;
    h->realloc_fn = NULL;
    h->alloc = alloc;
    h->alloc_ud = alloc_ud;
    wd_wasm_host_rc_t rc = fn(caller, a, r, h);
    h->caller = pcaller;
    h->bound_mem = pmem;
    h->mem = pm;
    h->realloc_fn = prealloc;
    h->alloc = palloc;
    h->alloc_ud = pud;
    return rc;
}

void wd_hh_bindings_free(wd_host_http_t *h)
{
    while (h->bindings) {
        wd_hh_binding_t *b = h->bindings;
        h->bindings = b->next;
        wd_wasm_free(b);
    }
}

int wd_host_http_attach_export(wd_host_http_t *h, wd_wasm_instance_t *thread,
                               wd_wasm_func_t *handle, wd_wasm_memory_t *mem,
                               wd_wasm_func_t *realloc, wd_wasm_func_t *post_return,
                               char *msg, size_t msglen)
{
    const wd_wasm_functype_t *ft = wd_wasm_func_type(handle);
    if (ft->nparams != 2 || ft->nresults != 0 || ft->params[0] != WD_WASM_I32
        || ft->params[1] != WD_WASM_I32) {
        snprintf(msg, msglen, "the handle export must have core type (i32, i32) -> ()");
        return -1;
    }
    if (post_return) {
        ft = wd_wasm_func_type(post_return);
        if (ft->nparams != 0 || ft->nresults != 0) {
            snprintf(msg, msglen, "the handle export's post-return must have type () -> ()");
            return -1;
        }
    }
    h->inst = thread;
    h->handle_fn = handle;
    h->mem = mem;
    h->realloc_fn = realloc;
    h->post_return_fn = post_return;
    return 0;
}

void wd_host_http_set_thread(wd_host_http_t *h, wd_wasm_instance_t *thread,
                             wd_wasm_memory_t *mem, wd_wasm_func_t *realloc)
{
    h->inst = thread;
    h->mem = mem;
    h->realloc_fn = realloc;
}

void wd_host_http_set_file_reader(wd_host_http_t *h, wd_host_http_file_read_fn fn, void *ud)
{
    h->file_read = fn;
    h->file_ud = ud;
}

uint32_t wd_host_http_file_stream(wd_host_http_t *h, uint32_t file, uint64_t off)
{
    uint32_t idx = wd_hh_new(h, WD_HH_INSTREAM, WD_HH_S_FILE, NULL);
    if (idx) {
        h->tab[idx].aux = off;
        h->tab[idx].file = file;
    }
    return idx;
}
