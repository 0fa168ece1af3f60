/*
 * wd_host_kv.c -- wasi:keyvalue (store, atomics, batch) and wasi:config (store) as
 * WIT-level host functions, their types as data, and the core-module binding.
 * See wd_host_kv.h.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include "wd_host_kv.h"

typedef struct {
    uint8_t used;
    uint32_t store;
    char *key;
    size_t kl;
    int had;
    void *val;
    size_t vl;
} wd_kv_cas_t;

typedef struct wd_kv_batch wd_kv_batch_t;

struct wd_host_kv {
    wd_host_kv_conf_t conf;
    wd_kv_batch_t *pend;          /* the operations of a suspended call */
    wd_kv_batch_t *spent;         /* the last call's, freed at the next call or reset */
    void (*wake)(void *ud);
    void *wake_ud;
    wd_cabi_arena_t arena;
    wd_cabi_table_t table;        /* core modules: bucket and cas handles */
    wd_wasm_memory_t *mem;
    wd_wasm_func_t *realloc;
    wd_wasm_instance_t *inst;
    struct wd_kv_bind *binds;
    wd_kv_cas_t cas[WD_HOST_KV_MAX_CAS];
};

/* ---------------------------------------------------------------- types as data */

static wd_comp_resource_t wd_kv_bucket_rt = { .name = "bucket", .host = 1 };
static wd_comp_resource_t wd_kv_cas_rt = { .name = "cas", .host = 1 };

static wd_comp_type_t t_bytes = WD_CT_LIST_OF(WD_CT_P(U8));
static wd_comp_type_t t_opt_bytes = WD_CT_OPTION_OF(&t_bytes);
static wd_comp_type_t t_opt_string = WD_CT_OPTION_OF(WD_CT_P(STRING));
static wd_comp_type_t t_strings = WD_CT_LIST_OF(WD_CT_P(STRING));
static wd_comp_field_t f_error[] = { { "no-such-store", NULL }, { "access-denied", NULL },
                                     { "other", WD_CT_P(STRING) } };
static wd_comp_type_t t_error = WD_CT_VARIANT_OF(f_error);
static wd_comp_type_t t_own_bucket = WD_CT_OWN_OF(&wd_kv_bucket_rt);
static wd_comp_type_t t_borrow_bucket = WD_CT_BORROW_OF(&wd_kv_bucket_rt);
static wd_comp_type_t t_own_cas = WD_CT_OWN_OF(&wd_kv_cas_rt);
static wd_comp_type_t t_borrow_cas = WD_CT_BORROW_OF(&wd_kv_cas_rt);
static wd_comp_field_t f_keyresp[] = { { "keys", &t_strings }, { "cursor", &t_opt_string } };
static wd_comp_type_t t_keyresp = WD_CT_RECORD_OF(f_keyresp);
static wd_comp_type_t r_bucket = WD_CT_RESULT_OF(&t_own_bucket, &t_error);
static wd_comp_type_t r_opt_bytes = WD_CT_RESULT_OF(&t_opt_bytes, &t_error);
static wd_comp_type_t r_unit = WD_CT_RESULT_OF(NULL, &t_error);
static wd_comp_type_t r_bool = WD_CT_RESULT_OF(WD_CT_P(BOOL), &t_error);
static wd_comp_type_t r_keyresp = WD_CT_RESULT_OF(&t_keyresp, &t_error);
static wd_comp_type_t r_s64 = WD_CT_RESULT_OF(WD_CT_P(S64), &t_error);
static wd_comp_type_t r_cas = WD_CT_RESULT_OF(&t_own_cas, &t_error);
static wd_comp_field_t f_cas_error[] = { { "store-error", &t_error }, { "cas-failed", &t_own_cas } };
static wd_comp_type_t t_cas_error = WD_CT_VARIANT_OF(f_cas_error);
static wd_comp_type_t r_swap = WD_CT_RESULT_OF(NULL, &t_cas_error);
static wd_comp_field_t f_kv[] = { { NULL, WD_CT_P(STRING) }, { NULL, &t_bytes } };
static wd_comp_type_t t_kv = WD_CT_TUPLE_OF(f_kv);
static wd_comp_type_t t_opt_kv = WD_CT_OPTION_OF(&t_kv);
static wd_comp_type_t t_list_opt_kv = WD_CT_LIST_OF(&t_opt_kv);
static wd_comp_type_t t_list_kv = WD_CT_LIST_OF(&t_kv);
static wd_comp_type_t r_get_many = WD_CT_RESULT_OF(&t_list_opt_kv, &t_error);
/* wasi:config */
static wd_comp_field_t f_cerror[] = { { "upstream", WD_CT_P(STRING) }, { "io", WD_CT_P(STRING) } };
static wd_comp_type_t t_cerror = WD_CT_VARIANT_OF(f_cerror);
static wd_comp_field_t f_ss[] = { { NULL, WD_CT_P(STRING) }, { NULL, WD_CT_P(STRING) } };
static wd_comp_type_t t_ss = WD_CT_TUPLE_OF(f_ss);
static wd_comp_type_t t_list_ss = WD_CT_LIST_OF(&t_ss);
static wd_comp_type_t r_cget = WD_CT_RESULT_OF(&t_opt_string, &t_cerror);
static wd_comp_type_t r_cget_all = WD_CT_RESULT_OF(&t_list_ss, &t_cerror);

static wd_comp_field_t p_open[] = { { "identifier", WD_CT_P(STRING) } };
static wd_comp_field_t p_key[] = { { "self", &t_borrow_bucket }, { "key", WD_CT_P(STRING) } };
static wd_comp_field_t p_set[] = { { "self", &t_borrow_bucket }, { "key", WD_CT_P(STRING) },
                                   { "value", &t_bytes } };
static wd_comp_field_t p_list[] = { { "self", &t_borrow_bucket }, { "cursor", &t_opt_string } };
static wd_comp_field_t p_incr[] = { { "bucket", &t_borrow_bucket }, { "key", WD_CT_P(STRING) },
                                    { "delta", WD_CT_P(S64) } };
static wd_comp_field_t p_casnew[] = { { "bucket", &t_borrow_bucket }, { "key", WD_CT_P(STRING) } };
static wd_comp_field_t p_cascur[] = { { "self", &t_borrow_cas } };
static wd_comp_field_t p_swap[] = { { "cas", &t_own_cas }, { "value", &t_bytes } };
static wd_comp_field_t p_keys[] = { { "bucket", &t_borrow_bucket }, { "keys", &t_strings } };
static wd_comp_field_t p_kvs[] = { { "bucket", &t_borrow_bucket }, { "key-values", &t_list_kv } };
static wd_comp_field_t p_cget[] = { { "key", WD_CT_P(STRING) } };

static wd_comp_func_type_t ft_open = WD_CT_FUNC_OF(p_open, &r_bucket);
static wd_comp_func_type_t ft_get = WD_CT_FUNC_OF(p_key, &r_opt_bytes);
static wd_comp_func_type_t ft_set = WD_CT_FUNC_OF(p_set, &r_unit);
static wd_comp_func_type_t ft_delete = WD_CT_FUNC_OF(p_key, &r_unit);
static wd_comp_func_type_t ft_exists = WD_CT_FUNC_OF(p_key, &r_bool);
static wd_comp_func_type_t ft_list = WD_CT_FUNC_OF(p_list, &r_keyresp);
static wd_comp_func_type_t ft_incr = WD_CT_FUNC_OF(p_incr, &r_s64);
static wd_comp_func_type_t ft_casnew = WD_CT_FUNC_OF(p_casnew, &r_cas);
static wd_comp_func_type_t ft_cascur = WD_CT_FUNC_OF(p_cascur, &r_opt_bytes);
static wd_comp_func_type_t ft_swap = WD_CT_FUNC_OF(p_swap, &r_swap);
static wd_comp_func_type_t ft_get_many = WD_CT_FUNC_OF(p_keys, &r_get_many);
static wd_comp_func_type_t ft_set_many = WD_CT_FUNC_OF(p_kvs, &r_unit);
static wd_comp_func_type_t ft_delete_many = WD_CT_FUNC_OF(p_keys, &r_unit);
static wd_comp_func_type_t ft_cget = WD_CT_FUNC_OF(p_cget, &r_cget);
static wd_comp_func_type_t ft_cget_all = WD_CT_FUNC_NOPARAMS(&r_cget_all);

/* ---------------------------------------------------------------- helpers */

static wd_cabi_val_t *wd_kv_vals(wd_cabi_cx_t *cx, uint32_t n)
{
    wd_cabi_val_t *v = wd_cabi_arena_alloc(cx->arena, (n ? n : 1) * sizeof *v, 8);
    if (v)
        memset(v, 0, (n ? n : 1) * sizeof *v);
    return v;
}

static wd_cabi_rc_t wd_kv_ok(wd_cabi_cx_t *cx, wd_cabi_val_t *res, wd_cabi_val_t *payload)
{
    *res = wd_cabi_v_case(WD_CT_RESULT, 0, payload);
    return WD_CABI_OK;
}

/* err(error): case 0 no-such-store, 1 access-denied, 2 other(msg) */
static wd_cabi_rc_t wd_kv_err(wd_cabi_cx_t *cx, wd_cabi_val_t *res, uint32_t c, const char *msg)
{
    wd_cabi_val_t *e = wd_kv_vals(cx, 2);
    if (e == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    if (c == 2) {
        size_t l = strlen(msg);
        char *s = wd_cabi_arena_alloc(cx->arena, l + 1, 1);
        if (s == NULL)
            return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
        memcpy(s, msg, l + 1);
        e[1] = wd_cabi_v_str(s, (uint32_t)l);
        e[0] = wd_cabi_v_case(WD_CT_VARIANT, 2, &e[1]);
    } else {
        e[0] = wd_cabi_v_case(WD_CT_VARIANT, c, NULL);
    }
    *res = wd_cabi_v_case(WD_CT_RESULT, 1, &e[0]);
    return WD_CABI_OK;
}

static const wd_host_kv_store_t *wd_kv_store(wd_host_kv_t *kv, wd_cabi_cx_t *cx, uint64_t rep)
{
    if (rep == 0 || rep > kv->conf.nstores || kv->conf.stores[rep - 1].ops == NULL)
        return NULL;
    return &kv->conf.stores[rep - 1];
}

static size_t wd_kv_key_max(wd_host_kv_t *kv)
{
    return kv->conf.key_max ? kv->conf.key_max : 256;
}

static size_t wd_kv_value_max(wd_host_kv_t *kv)
{
    return kv->conf.value_max ? kv->conf.value_max : (size_t)1 << 20;
}

/* key checks: 0 fine, else an err result was written */
static int wd_kv_key_bad(wd_host_kv_t *kv, wd_cabi_cx_t *cx, const wd_cabi_val_t *k,
                         wd_cabi_val_t *res)
{
    char m[96];
    if (k->n == 0) {
        wd_kv_err(cx, res, 2, "empty key");
        return 1;
    }
    if (k->n > wd_kv_key_max(kv)) {
        snprintf(m, sizeof m, "key of %u bytes is longer than the limit of %zu", k->n,
                 wd_kv_key_max(kv));
        wd_kv_err(cx, res, 2, m);
        return 1;
    }
    return 0;
}

static int wd_kv_value_bad(wd_host_kv_t *kv, wd_cabi_cx_t *cx, uint32_t n, wd_cabi_val_t *res)
{
    char m[96];
    if (n > wd_kv_value_max(kv)) {
        snprintf(m, sizeof m, "value of %u bytes is larger than the limit of %zu", n,
                 wd_kv_value_max(kv));
        wd_kv_err(cx, res, 2, m);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- open */

static wd_cabi_rc_t wd_kv_open(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                               void *ud)
{
    wd_host_kv_t *kv = ud;
    for (size_t i = 0; i < kv->conf.nstores; i++) {
        const wd_host_kv_store_t *s = &kv->conf.stores[i];
        if (strlen(s->name) != a[0].n || memcmp(s->name, a[0].str, a[0].n) != 0)
            continue;
        if (!s->granted)
            return wd_kv_err(cx, res, 1, NULL);
        if (s->ops == NULL)
            return wd_kv_err(cx, res, 2, "store is not available in this process");
        wd_cabi_val_t *h = wd_kv_vals(cx, 1);
        if (h == NULL)
            return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
        *h = wd_cabi_v_u(WD_CT_OWN, i + 1);
        return wd_kv_ok(cx, res, h);
    }
    return wd_kv_err(cx, res, 0, NULL);
}

static wd_cabi_rc_t wd_kv_some_bytes(wd_cabi_cx_t *cx, wd_cabi_val_t *res, int found, void *v,
                                     size_t vl)
{
    wd_cabi_val_t *o = wd_kv_vals(cx, 2);
    if (o == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    if (found) {
        o[1] = wd_cabi_v_bytes(v, (uint32_t)vl);
        o[0] = wd_cabi_v_case(WD_CT_OPTION, 1, &o[1]);
    } else {
        o[0] = wd_cabi_v_case(WD_CT_OPTION, 0, NULL);
    }
    return wd_kv_ok(cx, res, &o[0]);
}

/* ---------------------------------------------------------------- operations in flight */

/* The operations of one host call. While the backend works on them the guest is suspended;
 * the engine's re-invocation of the same function finds them complete (kv->pend) and
 * answers from their results. If the request ends first, the batch is orphaned (kv NULL)
 * and freed by its completion. */
struct wd_kv_batch {
    wd_host_kv_t *kv;             /* NULL: orphaned */
    wd_cabi_host_fn fn;           /* the host function that started it */
    int done;
    uint32_t n;
    wd_kv_op_t ops[];
};

static void wd_kv_batch_free(wd_kv_batch_t *b)
{
    if (b == NULL)
        return;
    for (uint32_t i = 0; i < b->n; i++) {
        wd_kv_op_t *o = &b->ops[i];
        free((void *)o->key);
        free((void *)o->val);
        free((void *)o->old);
        free(o->v);
        free(o->keys);
        free(o->cursor);
    }
    free(b);
}

static void wd_kv_batch_done(void *u)
{
    wd_kv_batch_t *b = u;
    if (b->kv == NULL) {
        wd_kv_batch_free(b);
        return;
    }
    b->done = 1;
    if (b->kv->wake)
        b->kv->wake(b->kv->wake_ud);
}

static wd_kv_batch_t *wd_kv_batch_new(uint32_t n)
{
    wd_kv_batch_t *b = calloc(1, sizeof *b + (size_t)n * sizeof(wd_kv_op_t));
    if (b)
        b->n = n;
    return b;
}

/* a copy the batch owns; 0 on success */
static int wd_kv_dup(const void **dst, const void *src, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        return -1;
    if (n)
        memcpy(p, src, n);
    *dst = p;
    return 0;
}

static int wd_kv_op_key(wd_kv_op_t *o, wd_kv_opcode_t op, const char *k, size_t kl)
{
    o->op = op;
    o->kl = kl;
    return wd_kv_dup((const void **)&o->key, k, kl);
}

/* The batch this call (fn) left when it suspended: 1 complete (in *out, kept in kv->spent
 * until the next call or the reset), 2 still in progress, 0 none. */
static int wd_kv_take(wd_host_kv_t *kv, wd_cabi_host_fn fn, wd_kv_batch_t **out)
{
    wd_kv_batch_free(kv->spent);
    kv->spent = NULL;
    wd_kv_batch_t *b = kv->pend;
    if (b == NULL)
        return 0;
    if (b->fn != fn) {            /* not ours (cannot happen: the guest waits for it) */
        if (b->done)
            wd_kv_batch_free(b);
        else
            b->kv = NULL;
        kv->pend = NULL;
        return 0;
    }
    if (!b->done)
        return 2;
    kv->pend = NULL;
    kv->spent = b;
    *out = b;
    return 1;
}

/* Start b on st: 1 complete (b is kv->spent), 0 suspended (b is kv->pend), -1 not
 * possible here (b freed, msg set). */
static int wd_kv_start(wd_host_kv_t *kv, const wd_host_kv_store_t *st, wd_kv_batch_t *b,
                       wd_cabi_host_fn fn, const char **msg)
{
    b->fn = fn;
    b->kv = kv;
    if (st->ops->submit && kv->wake) {
        if (st->ops->submit(st->data, b->ops, b->n, wd_kv_batch_done, b) == 1) {
            kv->spent = b;
            return 1;
        }
        kv->pend = b;
        return 0;
    }
    if (st->ops->exec == NULL) {
        wd_kv_batch_free(b);
        *msg = "this store needs the server's event loop";
        return -1;
    }
    for (uint32_t i = 0; i < b->n; i++)
        st->ops->exec(st->data, &b->ops[i]);
    kv->spent = b;
    return 1;
}

/* Common head of the calls on a bucket: st, and either the completed batch (*b) or a
 * return value for the host function (*rc, when the result says so). */
#define KV_BEGIN(rep)                                                          \
    wd_host_kv_t *kv = ud;                                                     \
    const wd_host_kv_store_t *st = wd_kv_store(kv, cx, (rep));                 \
    wd_kv_batch_t *b = NULL;                                                   \
    if (st == NULL)                                                            \
        return wd_kv_err(cx, res, 2, "bucket is not usable");                  \
    int taken = wd_kv_take(kv, KV_FN, &b);                                     \
    if (taken == 2)                                                            \
        return WD_CABI_SUSPEND;

/* after the batch b was filled: run it, or suspend */
#define KV_RUN()                                                               \
    do {                                                                       \
        const char *why = NULL;                                                \
        int started = wd_kv_start(kv, st, b, KV_FN, &why);                     \
        if (started < 0)                                                       \
            return wd_kv_err(cx, res, 2, why);                                 \
        if (started == 0)                                                      \
            return WD_CABI_SUSPEND;                                            \
    } while (0)

#define KV_OOM() return wd_kv_batch_free(b), wd_kv_err(cx, res, 2, "out of memory")

/* ---------------------------------------------------------------- wasi:keyvalue/store */

static wd_cabi_rc_t wd_kv_get(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                              void *ud);
#define KV_FN wd_kv_get
static wd_cabi_rc_t wd_kv_get(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                              void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        if (wd_kv_key_bad(kv, cx, &a[1], res))
            return WD_CABI_OK;
        if ((b = wd_kv_batch_new(1)) == NULL || wd_kv_op_key(&b->ops[0], WD_KV_OP_GET, a[1].str,
                                                             a[1].n) < 0)
            KV_OOM();
        KV_RUN();
    }
    wd_kv_op_t *o = &b->ops[0];
    if (o->rc < 0)
        return wd_kv_err(cx, res, 2, o->err);
    return wd_kv_some_bytes(cx, res, o->rc == 1, o->v, o->rvl);
}
#undef KV_FN

static wd_cabi_rc_t wd_kv_exists(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                 void *ud);
#define KV_FN wd_kv_exists
static wd_cabi_rc_t wd_kv_exists(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                 void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        if (wd_kv_key_bad(kv, cx, &a[1], res))
            return WD_CABI_OK;
        if ((b = wd_kv_batch_new(1)) == NULL || wd_kv_op_key(&b->ops[0], WD_KV_OP_GET, a[1].str,
                                                             a[1].n) < 0)
            KV_OOM();
        KV_RUN();
    }
    wd_kv_op_t *o = &b->ops[0];
    if (o->rc < 0)
        return wd_kv_err(cx, res, 2, o->err);
    wd_cabi_val_t *v = wd_kv_vals(cx, 1);
    if (v == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    *v = wd_cabi_v_u(WD_CT_BOOL, o->rc == 1);
    return wd_kv_ok(cx, res, v);
}
#undef KV_FN

static wd_cabi_rc_t wd_kv_set(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                              void *ud);
#define KV_FN wd_kv_set
static wd_cabi_rc_t wd_kv_set(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                              void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        if (wd_kv_key_bad(kv, cx, &a[1], res) || wd_kv_value_bad(kv, cx, a[2].n, res))
            return WD_CABI_OK;
        if ((b = wd_kv_batch_new(1)) == NULL
            || wd_kv_op_key(&b->ops[0], WD_KV_OP_SET, a[1].str, a[1].n) < 0
            || wd_kv_dup(&b->ops[0].val, a[2].p, a[2].n) < 0)
            KV_OOM();
        b->ops[0].vl = a[2].n;
        KV_RUN();
    }
    if (b->ops[0].rc < 0)
        return wd_kv_err(cx, res, 2, b->ops[0].err);
    return wd_kv_ok(cx, res, NULL);
}
#undef KV_FN

static wd_cabi_rc_t wd_kv_delete(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                 void *ud);
#define KV_FN wd_kv_delete
static wd_cabi_rc_t wd_kv_delete(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                 void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        if (wd_kv_key_bad(kv, cx, &a[1], res))
            return WD_CABI_OK;
        if ((b = wd_kv_batch_new(1)) == NULL || wd_kv_op_key(&b->ops[0], WD_KV_OP_DEL, a[1].str,
                                                             a[1].n) < 0)
            KV_OOM();
        KV_RUN();
    }
    if (b->ops[0].rc < 0)
        return wd_kv_err(cx, res, 2, b->ops[0].err);
    return wd_kv_ok(cx, res, NULL);
}
#undef KV_FN

static wd_cabi_rc_t wd_kv_list_keys(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                    void *ud);
#define KV_FN wd_kv_list_keys
static wd_cabi_rc_t wd_kv_list_keys(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                    void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        if ((b = wd_kv_batch_new(1)) == NULL)
            KV_OOM();
        b->ops[0].op = WD_KV_OP_LIST;
        b->ops[0].max = WD_HOST_KV_LIST_PAGE;
        if (a[1].n == 1 && (wd_kv_dup((const void **)&b->ops[0].key, a[1].vals[0].str,
                                      a[1].vals[0].n) < 0))
            KV_OOM();
        b->ops[0].kl = a[1].n == 1 ? a[1].vals[0].n : 0;
        KV_RUN();
    }
    wd_kv_op_t *o = &b->ops[0];
    if (o->rc < 0)
        return wd_kv_err(cx, res, 2, o->err);
    wd_cabi_val_t *keys = wd_kv_vals(cx, o->nkeys), *r = wd_kv_vals(cx, 4);
    if (keys == NULL || r == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    size_t off = 0;
    for (uint32_t i = 0; i < o->nkeys; i++) {
        uint32_t l;
        memcpy(&l, o->keys + off, 4);
        keys[i] = wd_cabi_v_str(o->keys + off + 4, l);
        off += 4 + l;
    }
    if (o->cursor) {
        r[3] = wd_cabi_v_str(o->cursor, (uint32_t)o->cursor_len);
        r[2] = wd_cabi_v_case(WD_CT_OPTION, 1, &r[3]);
    } else {
        r[2] = wd_cabi_v_case(WD_CT_OPTION, 0, NULL);
    }
    /* record fields must be contiguous: keys, cursor */
    r[1] = wd_cabi_v_vals(WD_CT_LIST, keys, o->nkeys);
    wd_cabi_val_t *f = wd_kv_vals(cx, 2);
    if (f == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    f[0] = r[1];
    f[1] = r[2];
    r[0] = wd_cabi_v_vals(WD_CT_RECORD, f, 2);
    return wd_kv_ok(cx, res, &r[0]);
}
#undef KV_FN

/* ---------------------------------------------------------------- wasi:keyvalue/atomics */

static wd_cabi_rc_t wd_kv_increment(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                    void *ud);
#define KV_FN wd_kv_increment
static wd_cabi_rc_t wd_kv_increment(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                    void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        if (wd_kv_key_bad(kv, cx, &a[1], res))
            return WD_CABI_OK;
        if ((b = wd_kv_batch_new(1)) == NULL || wd_kv_op_key(&b->ops[0], WD_KV_OP_INCR,
                                                             a[1].str, a[1].n) < 0)
            KV_OOM();
        b->ops[0].delta = a[2].s;
        KV_RUN();
    }
    if (b->ops[0].rc < 0)
        return wd_kv_err(cx, res, 2, b->ops[0].err);
    wd_cabi_val_t *v = wd_kv_vals(cx, 1);
    if (v == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    *v = wd_cabi_v_s(WD_CT_S64, b->ops[0].out);
    return wd_kv_ok(cx, res, v);
}
#undef KV_FN

static void wd_kv_cas_free(wd_kv_cas_t *c)
{
    free(c->key);
    free(c->val);
    memset(c, 0, sizeof *c);
}

static wd_cabi_rc_t wd_kv_cas_new(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                  void *ud);
#define KV_FN wd_kv_cas_new
static wd_cabi_rc_t wd_kv_cas_new(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                  void *ud)
{
    KV_BEGIN(a[0].u);
    uint32_t i;
    if (!taken) {
        if (wd_kv_key_bad(kv, cx, &a[1], res))
            return WD_CABI_OK;
        if ((b = wd_kv_batch_new(1)) == NULL || wd_kv_op_key(&b->ops[0], WD_KV_OP_GET, a[1].str,
                                                             a[1].n) < 0)
            KV_OOM();
        KV_RUN();
    }
    for (i = 0; i < WD_HOST_KV_MAX_CAS && kv->cas[i].used; i++)
        ;
    if (i == WD_HOST_KV_MAX_CAS)
        return wd_kv_err(cx, res, 2, "too many cas handles in this request");
    wd_kv_op_t *o = &b->ops[0];
    if (o->rc < 0)
        return wd_kv_err(cx, res, 2, o->err);
    wd_kv_cas_t *c = &kv->cas[i];
    c->key = malloc(a[1].n);
    c->val = malloc(o->rvl ? o->rvl : 1);
    if (c->key == NULL || c->val == NULL) {
        wd_kv_cas_free(c);
        return wd_kv_err(cx, res, 2, "out of memory");
    }
    c->used = 1;
    c->store = (uint32_t)a[0].u;
    memcpy(c->key, a[1].str, a[1].n);
    c->kl = a[1].n;
    c->had = o->rc == 1;
    if (o->rvl)
        memcpy(c->val, o->v, o->rvl);
    c->vl = o->rvl;
    wd_cabi_val_t *h = wd_kv_vals(cx, 1);
    if (h == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    *h = wd_cabi_v_u(WD_CT_OWN, i + 1);
    return wd_kv_ok(cx, res, h);
}
#undef KV_FN

static wd_kv_cas_t *wd_kv_cas_get(wd_host_kv_t *kv, uint64_t rep)
{
    if (rep == 0 || rep > WD_HOST_KV_MAX_CAS || !kv->cas[rep - 1].used)
        return NULL;
    return &kv->cas[rep - 1];
}

static wd_cabi_rc_t wd_kv_cas_current(wd_cabi_cx_t *cx, const wd_cabi_val_t *a,
                                      wd_cabi_val_t *res, void *ud)
{
    wd_host_kv_t *kv = ud;
    wd_kv_cas_t *c = wd_kv_cas_get(kv, a[0].u);
    if (c == NULL)
        return wd_kv_err(cx, res, 2, "cas handle is not usable");
    return wd_kv_some_bytes(cx, res, c->had, c->val, c->vl);
}

/* swap(own<cas>, value): one batch of [cas, get] (the get refreshes the handle when the
 * value changed: cas-failed gives it back to the guest for a retry). Suspending after the
 * own handle was lifted: the handle goes back into the guest's table (the index the lift
 * just freed, so the engine's re-invocation lifts the same handle again). */
static wd_cabi_rc_t wd_kv_swap(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                               void *ud);
#define KV_FN wd_kv_swap
static wd_cabi_rc_t wd_kv_swap(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                               void *ud)
{
    wd_host_kv_t *kv = ud;
    wd_kv_cas_t *c = wd_kv_cas_get(kv, a[0].u);
    wd_kv_batch_t *b = NULL;
    char berr[200];
    wd_cabi_val_t *e = wd_kv_vals(cx, 3);
    if (e == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    /* store-error(error): reuse wd_kv_err's shape one level down */
#define SWAP_STORE_ERR(msg) do {                                                   \
        wd_kv_err(cx, &e[1], 2, (msg));                                            \
        e[0] = wd_cabi_v_case(WD_CT_VARIANT, 0, e[1].vals);                        \
        *res = wd_cabi_v_case(WD_CT_RESULT, 1, &e[0]);                             \
        if (c) wd_kv_cas_free(c);                                                  \
        return WD_CABI_OK;                                                         \
    } while (0)
    if (c == NULL)
        SWAP_STORE_ERR("cas handle is not usable");
    const wd_host_kv_store_t *st = wd_kv_store(kv, cx, c->store);
    if (st == NULL)
        SWAP_STORE_ERR("bucket is not usable");
    int taken = wd_kv_take(kv, KV_FN, &b);
    if (!taken) {
        if (a[1].n > wd_kv_value_max(kv)) {
            snprintf(berr, sizeof berr, "value of %u bytes is larger than the limit of %zu",
                     a[1].n, wd_kv_value_max(kv));
            SWAP_STORE_ERR(berr);
        }
        if ((b = wd_kv_batch_new(2)) == NULL
            || wd_kv_op_key(&b->ops[0], WD_KV_OP_CAS, c->key, c->kl) < 0
            || wd_kv_dup(&b->ops[0].val, a[1].p, a[1].n) < 0
            || wd_kv_dup(&b->ops[0].old, c->val, c->vl) < 0
            || wd_kv_op_key(&b->ops[1], WD_KV_OP_GET, c->key, c->kl) < 0) {
            wd_kv_batch_free(b);
            SWAP_STORE_ERR("out of memory");
        }
        b->ops[0].vl = a[1].n;
        b->ops[0].oldl = c->vl;
        b->ops[0].had = c->had;
        const char *why = NULL;
        taken = wd_kv_start(kv, st, b, KV_FN, &why);
        if (taken < 0)
            SWAP_STORE_ERR(why);
    }
    if (taken != 1) {             /* wait: the handle goes back where it was */
        uint32_t idx;
        const char *m = NULL;
        if (cx->table && cx->lifted_own
            && wd_cabi_resource_new(cx->table, cx->lifted_rt ? cx->lifted_rt : &wd_kv_cas_rt,
                                    (uint32_t)a[0].u, &idx, &m) < 0)
            return wd_cabi_trap(cx, m ? m : "handle table"), WD_CABI_TRAP;
        cx->lifted_own = 0;
        return WD_CABI_SUSPEND;
    }
    wd_kv_op_t *o = &b->ops[0], *g = &b->ops[1];
    if (o->rc < 0)
        SWAP_STORE_ERR(o->err);
    if (o->rc == 0) {
        /* cas-failed(cas): the handle goes back to the guest with the value now stored,
           so a retry loop can call current() and swap again */
        if (g->rc < 0)
            SWAP_STORE_ERR(g->err);
        void *nv = malloc(g->rvl ? g->rvl : 1);
        if (nv == NULL)
            SWAP_STORE_ERR("out of memory");
        if (g->rvl)
            memcpy(nv, g->v, g->rvl);
        free(c->val);
        c->val = nv;
        c->vl = g->rvl;
        c->had = g->rc == 1;
        e[1] = wd_cabi_v_u(WD_CT_OWN, a[0].u);
        e[0] = wd_cabi_v_case(WD_CT_VARIANT, 1, &e[1]);
        *res = wd_cabi_v_case(WD_CT_RESULT, 1, &e[0]);
        return WD_CABI_OK;
    }
    wd_kv_cas_free(c);
    return wd_kv_ok(cx, res, NULL);
#undef SWAP_STORE_ERR
}
#undef KV_FN

/* ---------------------------------------------------------------- wasi:keyvalue/batch */

static wd_cabi_rc_t wd_kv_get_many(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                   void *ud);
#define KV_FN wd_kv_get_many
static wd_cabi_rc_t wd_kv_get_many(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                   void *ud)
{
    KV_BEGIN(a[0].u);
    uint32_t n = a[1].n;
    if (!taken) {
        for (uint32_t i = 0; i < n; i++)
            if (wd_kv_key_bad(kv, cx, &a[1].vals[i], res))
                return WD_CABI_OK;
        if ((b = wd_kv_batch_new(n)) == NULL)
            KV_OOM();
        for (uint32_t i = 0; i < n; i++)
            if (wd_kv_op_key(&b->ops[i], WD_KV_OP_GET, a[1].vals[i].str, a[1].vals[i].n) < 0)
                KV_OOM();
        KV_RUN();
    }
    wd_cabi_val_t *out = wd_kv_vals(cx, n * 4 + 1);
    if (out == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    wd_cabi_val_t *opts = out + 1;
    for (uint32_t i = 0; i < n && i < b->n; i++) {
        wd_kv_op_t *o = &b->ops[i];
        if (o->rc < 0)
            return wd_kv_err(cx, res, 2, o->err);
        if (o->rc == 0) {
            opts[i] = wd_cabi_v_case(WD_CT_OPTION, 0, NULL);
            continue;
        }
        wd_cabi_val_t *pair = wd_kv_vals(cx, 3);
        if (pair == NULL)
            return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
        pair[1] = a[1].vals[i];
        pair[2] = wd_cabi_v_bytes(o->v, (uint32_t)o->rvl);
        pair[0] = wd_cabi_v_vals(WD_CT_TUPLE, &pair[1], 2);
        opts[i] = wd_cabi_v_case(WD_CT_OPTION, 1, &pair[0]);
    }
    out[0] = wd_cabi_v_vals(WD_CT_LIST, opts, n);
    return wd_kv_ok(cx, res, &out[0]);
}
#undef KV_FN

static wd_cabi_rc_t wd_kv_set_many(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                   void *ud);
#define KV_FN wd_kv_set_many
static wd_cabi_rc_t wd_kv_set_many(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                   void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        for (uint32_t i = 0; i < a[1].n; i++) {
            const wd_cabi_val_t *p = a[1].vals[i].vals;
            if (wd_kv_key_bad(kv, cx, &p[0], res) || wd_kv_value_bad(kv, cx, p[1].n, res))
                return WD_CABI_OK;
        }
        if ((b = wd_kv_batch_new(a[1].n)) == NULL)
            KV_OOM();
        for (uint32_t i = 0; i < a[1].n; i++) {
            const wd_cabi_val_t *p = a[1].vals[i].vals;
            if (wd_kv_op_key(&b->ops[i], WD_KV_OP_SET, p[0].str, p[0].n) < 0
                || wd_kv_dup(&b->ops[i].val, p[1].p, p[1].n) < 0)
                KV_OOM();
            b->ops[i].vl = p[1].n;
        }
        KV_RUN();
    }
    for (uint32_t i = 0; i < b->n; i++)
        if (b->ops[i].rc < 0)
            return wd_kv_err(cx, res, 2, b->ops[i].err);
    return wd_kv_ok(cx, res, NULL);
}
#undef KV_FN

static wd_cabi_rc_t wd_kv_delete_many(wd_cabi_cx_t *cx, const wd_cabi_val_t *a,
                                      wd_cabi_val_t *res, void *ud);
#define KV_FN wd_kv_delete_many
static wd_cabi_rc_t wd_kv_delete_many(wd_cabi_cx_t *cx, const wd_cabi_val_t *a,
                                      wd_cabi_val_t *res, void *ud)
{
    KV_BEGIN(a[0].u);
    if (!taken) {
        for (uint32_t i = 0; i < a[1].n; i++)
            if (wd_kv_key_bad(kv, cx, &a[1].vals[i], res))
                return WD_CABI_OK;
        if ((b = wd_kv_batch_new(a[1].n)) == NULL)
            KV_OOM();
        for (uint32_t i = 0; i < a[1].n; i++)
            if (wd_kv_op_key(&b->ops[i], WD_KV_OP_DEL, a[1].vals[i].str, a[1].vals[i].n) < 0)
                KV_OOM();
        KV_RUN();
    }
    for (uint32_t i = 0; i < b->n; i++)
        if (b->ops[i].rc < 0)
            return wd_kv_err(cx, res, 2, b->ops[i].err);
    return wd_kv_ok(cx, res, NULL);
}
#undef KV_FN

/* ---------------------------------------------------------------- wasi:config/store */

static wd_cabi_rc_t wd_cfg_get(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                               void *ud)
{
    wd_host_kv_t *kv = ud;
    wd_cabi_val_t *o = wd_kv_vals(cx, 2);
    if (o == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    o[0] = wd_cabi_v_case(WD_CT_OPTION, 0, NULL);
    /* the last definition wins (a nested level's wasm_config comes after its parent's) */
    for (size_t i = kv->conf.nconfig; i-- > 0;) {
        const char *e = kv->conf.config[i], *eq = strchr(e, '=');
        if (eq && (size_t)(eq - e) == a[0].n && memcmp(e, a[0].str, a[0].n) == 0) {
            o[1] = wd_cabi_v_str(eq + 1, (uint32_t)strlen(eq + 1));
            o[0] = wd_cabi_v_case(WD_CT_OPTION, 1, &o[1]);
            break;
        }
    }
    return wd_kv_ok(cx, res, &o[0]);
}

static wd_cabi_rc_t wd_cfg_get_all(wd_cabi_cx_t *cx, const wd_cabi_val_t *a, wd_cabi_val_t *res,
                                   void *ud)
{
    wd_host_kv_t *kv = ud;
    size_t n = kv->conf.nconfig;
    wd_cabi_val_t *l = wd_kv_vals(cx, (uint32_t)(1 + 3 * n));
    if (l == NULL)
        return wd_cabi_trap(cx, "out of memory for values"), WD_CABI_TRAP;
    wd_cabi_val_t *items = l + 1, *pairs = l + 1 + n;
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = kv->conf.config[i], *eq = strchr(e, '=');
        int shadowed = 0;
        if (eq == NULL)
            continue;
        for (size_t j = i + 1; j < n && !shadowed; j++)
            shadowed = strncmp(kv->conf.config[j], e, (size_t)(eq - e) + 1) == 0;
        if (shadowed)
            continue;
        pairs[2 * m] = wd_cabi_v_str(e, (uint32_t)(eq - e));
        pairs[2 * m + 1] = wd_cabi_v_str(eq + 1, (uint32_t)strlen(eq + 1));
        items[m] = wd_cabi_v_vals(WD_CT_TUPLE, &pairs[2 * m], 2);
        m++;
    }
    l[0] = wd_cabi_v_vals(WD_CT_LIST, items, m);
    return wd_kv_ok(cx, res, &l[0]);
}

/* ---------------------------------------------------------------- the table of functions */

typedef struct {
    const char *iface;            /* without version */
    const char *name;
    wd_cabi_host_fn fn;           /* NULL: [resource-drop] */
    wd_comp_func_type_t *ft;
    const wd_comp_resource_t *drop_rt;
} wd_kv_func_t;

#define KVS "wasi:keyvalue/store"
#define KVA "wasi:keyvalue/atomics"
#define KVB "wasi:keyvalue/batch"
#define CFG "wasi:config/store"
static const wd_kv_func_t wd_kv_funcs[] = {
    { KVS, "open", wd_kv_open, &ft_open, NULL },
    { KVS, "[method]bucket.get", wd_kv_get, &ft_get, NULL },
    { KVS, "[method]bucket.set", wd_kv_set, &ft_set, NULL },
    { KVS, "[method]bucket.delete", wd_kv_delete, &ft_delete, NULL },
    { KVS, "[method]bucket.exists", wd_kv_exists, &ft_exists, NULL },
    { KVS, "[method]bucket.list-keys", wd_kv_list_keys, &ft_list, NULL },
    { KVS, "[resource-drop]bucket", NULL, NULL, &wd_kv_bucket_rt },
    { KVA, "increment", wd_kv_increment, &ft_incr, NULL },
    { KVA, "[static]cas.new", wd_kv_cas_new, &ft_casnew, NULL },
    { KVA, "[method]cas.current", wd_kv_cas_current, &ft_cascur, NULL },
    { KVA, "swap", wd_kv_swap, &ft_swap, NULL },
    { KVA, "[resource-drop]cas", NULL, NULL, &wd_kv_cas_rt },
    { KVB, "get-many", wd_kv_get_many, &ft_get_many, NULL },
    { KVB, "set-many", wd_kv_set_many, &ft_set_many, NULL },
    { KVB, "delete-many", wd_kv_delete_many, &ft_delete_many, NULL },
    { CFG, "get", wd_cfg_get, &ft_cget, NULL },
    { CFG, "get-all", wd_cfg_get_all, &ft_cget_all, NULL },
};
#define WD_KV_NFUNCS (sizeof wd_kv_funcs / sizeof wd_kv_funcs[0])

static const char *const wd_kv_iface_names[] = {
    "wasi:keyvalue/store@0.2.0-draft2", "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2", "wasi:config/store@0.2.0-draft",
};

const char *const *wd_host_kv_interfaces(uint32_t *n)
{
    *n = sizeof wd_kv_iface_names / sizeof wd_kv_iface_names[0];
    return wd_kv_iface_names;
}

static int wd_kv_laid_out;

static int wd_kv_layout(void)
{
    if (wd_kv_laid_out)
        return wd_kv_laid_out > 0 ? 0 : -1;
    wd_kv_laid_out = 1;
    for (size_t i = 0; i < WD_KV_NFUNCS; i++)
        if (wd_kv_funcs[i].ft && wd_comp_func_layout_deep(wd_kv_funcs[i].ft) != NULL)
            wd_kv_laid_out = -1;
    return wd_kv_laid_out > 0 ? 0 : -1;
}

/* "wasi:keyvalue/store@0.2.0-draft2" or unversioned: the interface without version, or NULL */
static const char *wd_kv_iface(const char *m, size_t ml)
{
    static const struct { const char *base, *ver; } ifs[] = {
        { KVS, "@0.2.0-draft2" }, { KVA, "@0.2.0-draft2" }, { KVB, "@0.2.0-draft2" },
        { CFG, "@0.2.0-draft" } };
    for (size_t i = 0; i < sizeof ifs / sizeof ifs[0]; i++) {
        size_t bl = strlen(ifs[i].base), vl = strlen(ifs[i].ver);
        if (ml < bl || memcmp(m, ifs[i].base, bl) != 0)
            continue;
        if (ml == bl || (ml == bl + vl && memcmp(m + bl, ifs[i].ver, vl) == 0))
            return ifs[i].base;
    }
    return NULL;
}

int wd_host_kv_owns(const char *module, size_t mlen)
{
    return wd_kv_iface(module, mlen) != NULL;
}

static const wd_kv_func_t *wd_kv_lookup(const char *iface, const char *name, size_t nl)
{
    for (size_t i = 0; i < WD_KV_NFUNCS; i++)
        if (strcmp(wd_kv_funcs[i].iface, iface) == 0 && strlen(wd_kv_funcs[i].name) == nl
            && memcmp(wd_kv_funcs[i].name, name, nl) == 0)
            return &wd_kv_funcs[i];
    return NULL;
}

wd_cabi_host_fn wd_host_kv_find(const char *iface, const char *name, int *known)
{
    const char *base = wd_kv_iface(iface, strlen(iface));
    *known = base != NULL;
    if (base == NULL)
        return NULL;
    const wd_kv_func_t *f = wd_kv_lookup(base, name, strlen(name));
    return f ? f->fn : NULL;
}

const wd_comp_func_type_t *wd_host_kv_func_type(const char *iface, const char *name)
{
    const char *base = wd_kv_iface(iface, strlen(iface));
    const wd_kv_func_t *f = base ? wd_kv_lookup(base, name, strlen(name)) : NULL;
    if (f == NULL || f->ft == NULL || wd_kv_layout() < 0)
        return NULL;
    return f->ft;
}

void wd_host_kv_drop(wd_host_kv_t *kv, const char *resource, uint32_t rep)
{
    if (kv && resource && strcmp(resource, "cas") == 0 && rep >= 1 && rep <= WD_HOST_KV_MAX_CAS
        && kv->cas[rep - 1].used)
        wd_kv_cas_free(&kv->cas[rep - 1]);
}

/* ---------------------------------------------------------------- core modules */

static const uint8_t wd_kv_i32[1] = { WD_CFLAT_I32 };

static int wd_kv_core_type_ok(const wd_kv_func_t *f, const wd_wasm_functype_t *t)
{
    if (f->ft == NULL)      /* resource drop: (i32) -> () */
        return t->nparams == 1 && t->params[0] == WD_WASM_I32 && t->nresults == 0;
    return t->nparams == f->ft->lower_params_n && t->nresults == f->ft->lower_results_n
        && memcmp(t->params, f->ft->lower_params, t->nparams) == 0
        && memcmp(t->results, f->ft->lower_results, t->nresults) == 0;
}

int wd_host_kv_check_import(const wd_wasm_import_desc_t *d, char *msg, size_t msglen)
{
    const char *base = wd_kv_iface(d->module, d->module_len);
    if (base == NULL)
        return 0;
    if (wd_kv_layout() < 0) {
        snprintf(msg, msglen, "internal error: keyvalue types");
        return -1;
    }
    const wd_kv_func_t *f = wd_kv_lookup(base, d->name, d->name_len);
    if (f == NULL || d->kind != WD_WASM_EXTERN_FUNC) {
        snprintf(msg, msglen, "unknown import: %.*s::%.*s", (int)d->module_len, d->module,
                 (int)d->name_len, d->name);
        return -1;
    }
    if (!wd_kv_core_type_ok(f, &d->func)) {
        snprintf(msg, msglen, "incompatible import type: %.*s::%.*s", (int)d->module_len,
                 d->module, (int)d->name_len, d->name);
        return -1;
    }
    return 1;
}

typedef struct wd_kv_bind {
    struct wd_kv_bind *next;
    wd_host_kv_t *kv;
    const wd_kv_func_t *f;
} wd_kv_bind_t;

static wd_wasm_host_rc_t wd_kv_core_call(wd_wasm_instance_t *caller, const uint64_t *args,
                                         uint64_t *results, void *ud)
{
    wd_kv_bind_t *b = ud;
    wd_host_kv_t *kv = b->kv;
    char msg[200];
    const char *m = NULL;
    if (b->f->fn == NULL) {
        if (wd_cabi_resource_drop(&kv->table, b->f->drop_rt, (uint32_t)args[0], &m) == 0)
            return WD_WASM_HOST_OK;
        snprintf(msg, sizeof msg, "%s#%s: %s", b->f->iface, b->f->name, m ? m : "trap");
        wd_wasm_host_trap(caller, msg);
        return WD_WASM_HOST_TRAP;
    }
    wd_cabi_cx_t cx;
    memset(&cx, 0, sizeof cx);
    cx.mem = kv->mem;
    cx.realloc = kv->realloc;
    cx.enc = WD_CABI_UTF8;
    cx.inst = kv->inst ? kv->inst : caller;
    cx.arena = &kv->arena;
    cx.table = &kv->table;
    wd_cabi_rc_t rc = wd_cabi_host_call(&cx, b->f->ft, args, results, b->f->fn, kv);
    if (rc == WD_CABI_OK)
        return WD_WASM_HOST_OK;
    if (rc == WD_CABI_SUSPEND)
        return WD_WASM_HOST_SUSPEND;
    snprintf(msg, sizeof msg, "%s#%s: %s", b->f->iface, b->f->name, cx.trap ? cx.trap : "trap");
    wd_wasm_host_trap(caller, msg);
    return WD_WASM_HOST_TRAP;
}

static int wd_kv_dtor(void *ud, const wd_comp_resource_t *rt, uint32_t rep, const char **msg)
{
    wd_host_kv_t *kv = ud;
    if (rt == &wd_kv_cas_rt && rep >= 1 && rep <= WD_HOST_KV_MAX_CAS && kv->cas[rep - 1].used)
        wd_kv_cas_free(&kv->cas[rep - 1]);
    return 0;
}

wd_host_kv_t *wd_host_kv_new(const wd_host_kv_conf_t *conf)
{
    if (wd_kv_layout() < 0)
        return NULL;
    wd_host_kv_t *kv = calloc(1, sizeof *kv);
    if (kv == NULL)
        return NULL;
    kv->conf = *conf;
    wd_cabi_table_init(&kv->table);
    kv->table.max = WD_HOST_KV_MAX_HANDLES;
    kv->table.dtor = wd_kv_dtor;
    kv->table.dtor_ud = kv;
    return kv;
}

void wd_host_kv_set_wake(wd_host_kv_t *kv, void (*wake)(void *ud), void *ud)
{
    kv->wake = wake;
    kv->wake_ud = ud;
}

int wd_host_kv_waiting(const wd_host_kv_t *kv)
{
    return kv && kv->pend && !kv->pend->done;
}

void wd_host_kv_reset(wd_host_kv_t *kv)
{
    if (kv == NULL)
        return;
    if (kv->pend) {               /* in progress: its completion frees it */
        if (kv->pend->done)
            wd_kv_batch_free(kv->pend);
        else
            kv->pend->kv = NULL;
        kv->pend = NULL;
    }
    wd_kv_batch_free(kv->spent);
    kv->spent = NULL;
    wd_cabi_table_reset(&kv->table);
    for (uint32_t i = 0; i < WD_HOST_KV_MAX_CAS; i++)
        if (kv->cas[i].used)
            wd_kv_cas_free(&kv->cas[i]);
    wd_cabi_arena_reset(&kv->arena);
}

void wd_host_kv_free(wd_host_kv_t *kv)
{
    if (kv == NULL)
        return;
    wd_host_kv_reset(kv);
    wd_cabi_table_free(&kv->table);
    wd_cabi_arena_free(&kv->arena);
    while (kv->binds) {
        wd_kv_bind_t *b = kv->binds;
        kv->binds = b->next;
        free(b);
    }
    free(kv);
}

int wd_host_kv_link(wd_host_kv_t *kv, wd_wasm_store_t *s, const wd_wasm_module_t *m,
                    wd_wasm_extern_t *imports, char *msg, size_t msglen)
{
    for (uint32_t i = 0; i < wd_wasm_module_import_count(m); i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        int rc = wd_host_kv_check_import(d, msg, msglen);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        const wd_kv_func_t *f = wd_kv_lookup(wd_kv_iface(d->module, d->module_len), d->name,
                                             d->name_len);
        wd_kv_bind_t *b = calloc(1, sizeof *b);
        if (b == NULL) {
            snprintf(msg, msglen, "out of memory");
            return -1;
        }
        b->kv = kv;
        b->f = f;
        b->next = kv->binds;
        kv->binds = b;
        imports[i].kind = WD_WASM_EXTERN_FUNC;
        imports[i].of.func = wd_wasm_func_new_host(s, &d->func, wd_kv_core_call, b);
        if (imports[i].of.func == NULL) {
            snprintf(msg, msglen, "out of memory");
            return -1;
        }
    }
    (void)wd_kv_i32;
    return 0;
}

int wd_host_kv_attach(wd_host_kv_t *kv, wd_wasm_instance_t *inst, char *msg, size_t msglen)
{
    wd_wasm_extern_t x;
    kv->inst = inst;
    if (wd_wasm_instance_export(inst, "memory", 6, &x) == 0 && x.kind == WD_WASM_EXTERN_MEMORY)
        kv->mem = x.of.memory;
    if (wd_wasm_instance_export(inst, "cabi_realloc", 12, &x) == 0
        && x.kind == WD_WASM_EXTERN_FUNC)
        kv->realloc = x.of.func;
    if (kv->binds && (kv->mem == NULL || kv->realloc == NULL)) {
        snprintf(msg, msglen, "a module importing wasi:keyvalue or wasi:config must export "
                 "\"memory\" and \"cabi_realloc\"");
        return -1;
    }
    return 0;
}
