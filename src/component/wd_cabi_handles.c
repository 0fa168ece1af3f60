/*
 * Resource handle tables (CanonicalABI.md "Table State", "Resource State", lift_own,
 * lift_borrow, lower_own, lower_borrow, canon resource.new/rep/drop): one table per guest
 * component instance; slot 0 is never used; free slots form a LIFO list like the spec's
 * `free`. Reset per request is O(1) (no destructors: the host frees its per-request
 * resources itself and the guest's memory is restored).
 */
#include "wd_cabi_int.h"

#include <string.h>

void
wd_cabi_table_init(wd_cabi_table_t *t)
{
    memset(t, 0, sizeof *t);
    t->n = 1;
}

void
wd_cabi_table_reset(wd_cabi_table_t *t)
{
    if (t->ix_take && t->slots)   /* sparse: later indices may land anywhere below n */
        memset(t->slots, 0, (size_t)t->n * sizeof *t->slots);
    t->n = 1;
    t->free_head = 0;
    t->no_leave = 0;
}

void
wd_cabi_table_free(wd_cabi_table_t *t)
{
    wd_wasm_free(t->slots);
    t->slots = NULL;
    t->cap = 0;
    wd_cabi_table_reset(t);
}

int
wd_cabi_table_add(wd_cabi_table_t *t, const wd_cabi_handle_t *h, uint32_t *idx,
                  const char **msg)
{
    uint32_t i;
    if (t->ix_take) {
        if (t->ix_take(t->ix_ud, &i, msg) < 0)
            return -1;
        if (i >= t->cap) {
            uint32_t nc = t->cap ? t->cap : 16;
            while (nc <= i)
                nc *= 2;
            wd_cabi_handle_t *s = wd_wasm_realloc(t->slots, (size_t)nc * sizeof *s);
            if (!s) {
                t->ix_give(t->ix_ud, i);
                *msg = "out of memory for handles";
                return -1;
            }
            memset(s + t->cap, 0, (size_t)(nc - t->cap) * sizeof *s);
            t->slots = s;
            t->cap = nc;
        }
        if (i >= t->n)
            t->n = i + 1;
    } else if (t->free_head) {
        i = t->free_head;
        t->free_head = t->slots[i].next_free;
    } else {
        uint32_t max = t->max ? t->max : WD_CABI_MAX_HANDLES;
        if (t->n > max) {
            *msg = "too many handles";
            return -1;
        }
        if (t->n >= t->cap) {
            uint32_t nc = t->cap ? t->cap * 2 : 16;
            wd_cabi_handle_t *s = wd_wasm_realloc(t->slots, (size_t)nc * sizeof *s);
            if (!s) {
                *msg = "out of memory for handles";
                return -1;
            }
            t->slots = s;
            t->cap = nc;
        }
        i = t->n++;
    }
    t->slots[i] = *h;
    t->slots[i].next_free = 0;
    *idx = i;
    return 0;
}

wd_cabi_handle_t *
wd_cabi_table_get(wd_cabi_table_t *t, uint32_t idx, const char **msg)
{
    if (idx == 0 || idx >= t->n || !t->slots[idx].rt) {
        *msg = "unknown handle";
        return NULL;
    }
    return &t->slots[idx];
}

int
wd_cabi_table_remove(wd_cabi_table_t *t, uint32_t idx, wd_cabi_handle_t *out, const char **msg)
{
    wd_cabi_handle_t *h = wd_cabi_table_get(t, idx, msg);
    if (!h)
        return -1;
    *out = *h;
    h->rt = NULL;
    if (t->ix_give) {
        t->ix_give(t->ix_ud, idx);
        return 0;
    }
    h->next_free = t->free_head;
    t->free_head = idx;
    return 0;
}

int
wd_cabi_resource_new(wd_cabi_table_t *t, const wd_comp_resource_t *rt, uint32_t rep,
                     uint32_t *idx, const char **msg)
{
    wd_cabi_handle_t h = { .rt = rt, .rep = rep, .own = 1 };
    return wd_cabi_table_add(t, &h, idx, msg);
}

int
wd_cabi_resource_rep(wd_cabi_table_t *t, const wd_comp_resource_t *rt, uint32_t idx,
                     uint32_t *rep, const char **msg)
{
    wd_cabi_handle_t *h = wd_cabi_table_get(t, idx, msg);
    if (!h)
        return -1;
    if (h->rt != rt) {
        *msg = "handle of the wrong resource type";
        return -1;
    }
    *rep = h->rep;
    return 0;
}

int
wd_cabi_resource_drop(wd_cabi_table_t *t, const wd_comp_resource_t *rt, uint32_t idx,
                      const char **msg)
{
    wd_cabi_handle_t h;
    if (wd_cabi_table_remove(t, idx, &h, msg) < 0)
        return -1;
    if (h.rt != rt) {
        *msg = "handle of the wrong resource type";
        return -1;
    }
    if (h.lends) {
        *msg = "own handle dropped while lent to a call";
        return -1;
    }
    if (h.own)
        return t->dtor ? t->dtor(t->dtor_ud, rt, h.rep, msg) : 0;
    if (h.scope && h.scope->num_borrows)
        h.scope->num_borrows--;
    return 0;
}

int
wd_cabi_lift_own(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t idx, uint32_t *rep)
{
    wd_cabi_handle_t h;
    const char *msg;
    if (cx->raw_handles) {
        *rep = idx;
        return 0;
    }
    if (!cx->table)
        return wd_cabi_trap(cx, "handle without a table");
    if (wd_cabi_table_remove(cx->table, idx, &h, &msg) < 0)
        return wd_cabi_trap(cx, msg);
    cx->lifted_own = 1;
    cx->lifted_rt = h.rt;
    if (h.rt != t->resource)
        return wd_cabi_trap(cx, "handle of the wrong resource type");
    if (h.lends)
        return wd_cabi_trap(cx, "own handle passed while lent to a call");
    if (!h.own)
        return wd_cabi_trap(cx, "borrowed handle passed as own");
    *rep = h.rep;
    return 0;
}

int
wd_cabi_lift_borrow(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t idx, uint32_t *rep)
{
    const char *msg;
    wd_cabi_scope_t *s = cx->scope;
    if (cx->raw_handles) {
        *rep = idx;
        return 0;
    }
    if (!cx->table)
        return wd_cabi_trap(cx, "handle without a table");
    if (!s)
        return wd_cabi_trap(cx, "borrow outside a call");
    wd_cabi_handle_t *h = wd_cabi_table_get(cx->table, idx, &msg);
    if (!h)
        return wd_cabi_trap(cx, msg);
    if (h->rt != t->resource)
        return wd_cabi_trap(cx, "handle of the wrong resource type");
    if (s->nlenders == s->caplenders) {
        uint32_t nc = s->caplenders * 2;
        uint32_t *l = wd_cabi_arena_alloc(cx->arena, (size_t)nc * 4, 4);
        if (!l)
            return wd_cabi_trap(cx, "out of memory for values");
        memcpy(l, s->lenders, (size_t)s->nlenders * 4);
        s->lenders = l;
        s->caplenders = nc;
    }
    s->lenders[s->nlenders++] = idx;
    h->lends++;
    *rep = h->rep;
    return 0;
}

void
wd_cabi_scope_end(wd_cabi_cx_t *cx, wd_cabi_scope_t *s)
{
    wd_cabi_table_t *t = cx->table;
    for (uint32_t i = 0; t && i < s->nlenders; i++) {
        uint32_t idx = s->lenders[i];
        if (idx < t->n && t->slots[idx].rt && t->slots[idx].lends)
            t->slots[idx].lends--;
    }
    s->nlenders = 0;
}

int
wd_cabi_lower_own(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t rep, uint32_t *idx)
{
    const char *msg;
    wd_cabi_handle_t h = { .rt = t->resource, .rep = rep, .own = 1 };
    if (cx->raw_handles) {
        *idx = rep;
        return 0;
    }
    if (!cx->table)
        return wd_cabi_trap(cx, "handle without a table");
    if (wd_cabi_table_add(cx->table, &h, idx, &msg) < 0)
        return wd_cabi_trap(cx, msg);
    return 0;
}

int
wd_cabi_lower_borrow(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t rep, uint32_t *idx)
{
    const char *msg;
    if (cx->raw_handles) {
        *idx = rep;
        return 0;
    }
    if (!cx->table)
        return wd_cabi_trap(cx, "handle without a table");
    if (!t->resource->host && cx->table->impl && t->resource->ud == cx->table->impl) {
        *idx = rep;     /* lent to the component that defines it: the rep itself */
        return 0;
    }
    if (!cx->scope)
        return wd_cabi_trap(cx, "borrow outside a call");
    wd_cabi_handle_t h = { .rt = t->resource, .rep = rep, .own = 0, .scope = cx->scope };
    if (wd_cabi_table_add(cx->table, &h, idx, &msg) < 0)
        return wd_cabi_trap(cx, msg);
    cx->scope->num_borrows++;
    return 0;
}
