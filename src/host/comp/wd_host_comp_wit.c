/*
 * wd_host_comp_wit.c -- interfaces with no core-module counterpart, served through the
 * Canonical ABI layer with host functions written against WIT values (any string
 * encoding, the component's own function types and canonopts):
 *   wasi:cli/terminal-stdin|stdout|stderr  get-terminal-*: none (a handler has no terminal);
 *   wasi:cli/terminal-input|output         resources only (never created);
 *   wasi:filesystem/preopens|types         wd_host_comp_fs.c (wasm_dir, read-only);
 * and the default function for what cannot be meaningful in a handler.
 * What cannot be meaningful in a handler links and returns its WIT error.
 */
#include <string.h>
#include "wd_host_comp_int.h"

/* the "nothing here" value of t: err(...) for results, none, empty, zero; for an enum the
   case "unsupported" if it has one */
static int wd_hc_zero(wd_cabi_cx_t *cx, const wd_comp_type_t *t, wd_cabi_val_t *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (t == NULL)
        return 0;
    v->kind = t->kind;
    if (depth > WD_COMP_MAX_TYPE_DEPTH)
        return wd_cabi_trap(cx, "type too deep");
    switch (t->kind) {
    case WD_CT_RESULT:
        v->n = 1;
        if (t->err) {
            if ((v->vals = wd_cabi_arena_alloc(cx->arena, sizeof *v, 8)) == NULL)
                return wd_cabi_trap(cx, "out of memory for values");
            return wd_hc_zero(cx, t->err, v->vals, depth + 1);
        }
        return 0;
    case WD_CT_ENUM:
        for (uint32_t i = 0; i < t->n; i++)
            if (strcmp(t->labels[i], "unsupported") == 0)
                v->n = i;
        return 0;
    case WD_CT_OPTION: case WD_CT_LIST: case WD_CT_STRING: case WD_CT_MAP:
        return 0;
    case WD_CT_VARIANT:
        if (t->fields[0].type) {
            if ((v->vals = wd_cabi_arena_alloc(cx->arena, sizeof *v, 8)) == NULL)
                return wd_cabi_trap(cx, "out of memory for values");
            return wd_hc_zero(cx, t->fields[0].type, v->vals, depth + 1);
        }
        return 0;
    case WD_CT_RECORD: case WD_CT_TUPLE:
        v->n = t->n;
        if ((v->vals = wd_cabi_arena_alloc(cx->arena, t->n * sizeof *v, 8)) == NULL)
            return wd_cabi_trap(cx, "out of memory for values");
        for (uint32_t i = 0; i < t->n; i++)
            if (wd_hc_zero(cx, t->fields[i].type, &v->vals[i], depth + 1) < 0)
                return -1;
        return 0;
    case WD_CT_OWN: case WD_CT_BORROW:
        return wd_cabi_trap(cx, "not supported by wasmd");
    default:
        return 0;                 /* numbers, bool, char U+0000, flags */
    }
}

wd_cabi_rc_t wd_hc_default_fn(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *result,
                              void *ud)
{
    wd_hc_bind_t *b = ud;
    if (result == NULL)
        return WD_CABI_OK;
    return wd_hc_zero(cx, b->hf->type->result, result, 0) < 0 ? WD_CABI_TRAP : WD_CABI_OK;
}

/* an option<...> answered with none, a list answered empty: the default does both */
static const wd_hc_func_t wd_hc_terminal_stdin[] = {
    { "get-terminal-stdin", wd_hc_default_fn }, { NULL, NULL } };
static const wd_hc_func_t wd_hc_terminal_stdout[] = {
    { "get-terminal-stdout", wd_hc_default_fn }, { NULL, NULL } };
static const wd_hc_func_t wd_hc_terminal_stderr[] = {
    { "get-terminal-stderr", wd_hc_default_fn }, { NULL, NULL } };
static const wd_hc_func_t wd_hc_none[] = { { NULL, NULL } };
const wd_hc_iface_t wd_hc_wit_ifaces[] = {
    { "wasi:cli/terminal-input", wd_hc_none },
    { "wasi:cli/terminal-output", wd_hc_none },
    { "wasi:cli/terminal-stdin", wd_hc_terminal_stdin },
    { "wasi:cli/terminal-stdout", wd_hc_terminal_stdout },
    { "wasi:cli/terminal-stderr", wd_hc_terminal_stderr },
    { "wasi:filesystem/preopens", wd_hc_preopens },
    { "wasi:filesystem/types", wd_hc_fs_types },
};
const uint32_t wd_hc_wit_nifaces = sizeof wd_hc_wit_ifaces / sizeof wd_hc_wit_ifaces[0];

wd_cabi_host_fn wd_hc_wit_find(const char *iface, const char *name, int *iface_known)
{
    const char *at = strchr(iface, '@');
    size_t il = at ? (size_t)(at - iface) : strlen(iface);
    *iface_known = 0;
    for (uint32_t i = 0; i < wd_hc_wit_nifaces; i++) {
        if (strlen(wd_hc_wit_ifaces[i].iface) != il
            || memcmp(wd_hc_wit_ifaces[i].iface, iface, il) != 0)
            continue;
        *iface_known = 1;
        for (const wd_hc_func_t *f = wd_hc_wit_ifaces[i].funcs; f->name; f++)
            if (strcmp(f->name, name) == 0)
                return f->fn;
    }
    return NULL;
}
