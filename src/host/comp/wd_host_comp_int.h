/*
 * wd_host_comp_int.h -- internals of the component host (src/host/comp).
 *
 * wd_host_comp.c: the resolver (interface names, make_func), binding of the wasi:http world
 * to src/host/http, resource intrinsics of guest-defined resources, attach.
 * wd_host_comp_wit.c: interfaces served through the Canonical ABI layer with WIT-level host
 * functions (wasi:cli/terminal-*, wasi:filesystem/types|preopens), and the default
 * "answer with the WIT error" function.
 */
#ifndef WD_HOST_COMP_INT_H
#define WD_HOST_COMP_INT_H

#include "wd_host_comp.h"
#include "component/wd_cabi.h"
#include "p3/wd_host_p3.h"


/* One WIT-level host function of an interface described as data. */
typedef struct {
    const char *name;             /* "get-directories", "[method]descriptor.stat" */
    wd_cabi_host_fn fn;
} wd_hc_func_t;

typedef struct {
    const char *iface;            /* without version: "wasi:filesystem/preopens" */
    const wd_hc_func_t *funcs;    /* NULL-terminated */
} wd_hc_iface_t;

extern const wd_hc_iface_t wd_hc_wit_ifaces[];
extern const uint32_t wd_hc_wit_nifaces;

/* A guest resource type made for a local resource index of the plan. */
typedef struct {
    wd_comp_resource_t rt;
    uint8_t made;
    wd_wasm_func_t *dtor;         /* its destructor (wd_host_comp_bind_instance), or NULL */
} wd_hc_res_t;

/* an open descriptor or directory-entry-stream of wasi:filesystem (rep = index + 1) */
typedef struct {
    int fd;
    uint8_t kind;                 /* 0 free, 1 descriptor, 2 directory-entry-stream */
    uint8_t rw;                   /* beneath a read-write preopen */
    void *dirp;                   /* DIR * of a directory-entry-stream */
} wd_hc_fd_t;

struct wd_host_comp {
    wd_comp_host_t host;          /* ud = this */
    wd_host_http_t *http;
    wd_wasm_instance_t *thread;
    const wd_host_comp_dir_t *dirs;
    size_t ndirs;
    /* the Canonical ABI layer's state for WIT-level functions and resource intrinsics */
    wd_cabi_arena_t arena;
    wd_cabi_table_t table;        /* host resources of WIT-level interfaces, guest resources */
    wd_hc_res_t *res;             /* local resources by plan index */
    uint32_t nres;
    struct wd_hc_bind *binds;     /* freed with the context */
    wd_hc_fd_t *fds;              /* wasi:filesystem (wd_host_comp_fs.c) */
    uint32_t nfds;
    wd_host_kv_t *kv;             /* wasi:keyvalue / wasi:config (src/host/kv) */
    wd_host_p3_t *p3;             /* WASI 0.3 interfaces and the async runtime (src/host/p3) */
    /* wd_host_comp_xcode.c: the scratch memory of transcoded wasi:http calls */
    wd_wasm_memory_t *scratch;
    uint32_t scratch_top;
    wd_wasm_instance_t *xcaller;
    uint8_t xtrapped;
};

/* wd_host_comp_fs.c */
extern const wd_hc_func_t wd_hc_fs_types[], wd_hc_preopens[];
void wd_hc_fs_close_all(wd_host_comp_t *hc);
long wd_hc_fs_file_read(void *ud, uint32_t file, uint64_t off, uint8_t *buf, size_t len);
wd_wasm_host_rc_t wd_hc_fs_read_via_stream(wd_wasm_instance_t *caller, const uint64_t *a,
                                           uint64_t *r, void *ud);
int wd_hc_fs_dtor(void *ud, const wd_comp_resource_t *rt, uint32_t rep, const char **msg);
/* canon resource.drop of an own handle of a resource the guest defines: its dtor (rep) */
int wd_hc_guest_dtor(wd_host_comp_t *hc, const wd_comp_resource_t *rt, uint32_t rep,
                     const char **msg);

/* A WIT-level binding: the component's function type and canonopts. */
typedef struct wd_hc_bind {
    struct wd_hc_bind *next;
    wd_host_comp_t *hc;
    const wd_comp_hostfunc_t *hf;
    wd_cabi_host_fn fn;
    void *fn_ud;                  /* ud for fn (NULL: this binding) */
    wd_wasm_host_fn http_fn;      /* transcoded wasi:http function (wd_host_comp_xcode.c) */
    uint8_t kv;                   /* resource drop of a wasi:keyvalue resource */
    wd_wasm_memory_t *mem;
    wd_wasm_func_t *realloc;
    uint32_t resource;            /* resource intrinsics: plan index */
} wd_hc_bind_t;

/* wd_host_comp_xcode.c: the core function for a wasi:http-world lowering with UTF-16 or
   latin1+UTF-16 strings (NULL with msg) */
wd_wasm_func_t *wd_hc_xcode_make(wd_host_comp_t *hc, wd_wasm_store_t *s,
                                 const wd_comp_hostfunc_t *hf, const char *iface,
                                 const char *name, const wd_comp_bound_opts_t *bound,
                                 char *msg, size_t msglen);

/* wd_host_comp_sig.c + wd_host_comp_sigs.c (generated): the WIT function types of the
   interfaces we bind, checked against every import at load */
typedef struct {
    const char *iface;            /* "wasi:filesystem/types" (no version) */
    const char *name;             /* "[method]descriptor.read"; resources: the resource */
    const char *sig;              /* see wd_host_comp_sig.c; NULL for resources */
} wd_hc_sig_t;
extern const char *const wd_hc_sig_defs[];
extern const uint32_t wd_hc_sig_ndefs;
extern const wd_hc_sig_t wd_hc_sigs[], wd_hc_sig_resources[];
extern const uint32_t wd_hc_nsigs, wd_hc_sig_nresources;
/* the WIT signature of iface (any version) # name, or NULL (*iface_known: the table has
   that interface) */
const char *wd_hc_sig_find(const char *iface, const char *name, int *iface_known);
/* 1 if ft is exactly the WIT's type sig, else 0 with why (what differs) */
int wd_hc_sig_match(const wd_comp_func_type_t *ft, const char *sig, char *why, size_t cap);
/* 1 if the WIT's interface iface (any version) defines resource name */
int wd_hc_sig_has_resource(const char *iface, const char *name);

/* The WIT-level function for iface (matched host name, with version) # name, or NULL. */
wd_cabi_host_fn wd_hc_wit_find(const char *iface, const char *name, int *iface_known);
/* Answers with the "nothing here" value of the function's result type: err(unsupported)
 * (or the error enum's first case), none, an empty list, zero. */
wd_cabi_rc_t wd_hc_default_fn(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *result,
                              void *ud);

#endif
