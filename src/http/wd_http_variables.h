/*
 * wd_http_variables.h -- named per-request values ($status, $request_time, $http_NAME...).
 *
 * A variable is a getter registered under a name; prefix variables ("http_", "sent_http_",
 * "arg_") take the rest of the name as their argument.  Users (the access log, modules)
 * compile a name once at configuration time into a wd_http_var_ref_t and evaluate it per
 * request.  A module adds its own variables with wd_http_add_variable() from its
 * preconfiguration hook (before any format can refer to them), e.g. the Wasm module's
 * $wasm_fuel.  A getter returns WD_OK with the value in *v (v->data == NULL or len 0:
 * "not found", logged as "-"); values may live in r->pool or in the request itself.
 */
#ifndef WD_HTTP_VARIABLES_H
#define WD_HTTP_VARIABLES_H

#include "wd_core.h"

struct wd_http_request_s;

typedef int (*wd_http_variable_get_pt)(struct wd_http_request_s *r, wd_str_t *v,
                                       const wd_str_t *arg);

typedef struct {
    wd_str_t                 name;
    wd_http_variable_get_pt  get;
    unsigned                 prefix:1;   /* name is a prefix: "http_" */
    unsigned                 named:1;    /* the getter's arg is the variable's own name */
} wd_http_variable_t;

typedef struct {
    const wd_http_variable_t *var;
    wd_str_t                  arg;       /* for prefix variables: the rest of the name */
} wd_http_var_ref_t;

/* Registers a variable (name copied); WD_OK, or WD_ERROR if the name exists.
 * prefix: 1 a prefix variable; WD_HTTP_VAR_NAMED: the getter receives the variable's
 * name as its arg (one getter serving variables named by the configuration: map). */
#define WD_HTTP_VAR_NAMED 2
int wd_http_add_variable(const char *name, wd_http_variable_get_pt get, int prefix);

/* Resolves a name (without '$'); WD_OK or WD_ERROR (unknown variable). pool: for the
 * argument of prefix variables (the configuration's pool). */
int wd_http_variable_compile(wd_pool_t *pool, const u_char *name, size_t len, wd_http_var_ref_t *ref);

/* Evaluates a compiled variable for r; v->len == 0 means empty / not set. */
int wd_http_variable_value(struct wd_http_request_s *r, const wd_http_var_ref_t *ref, wd_str_t *v);

#endif /* WD_HTTP_VARIABLES_H */
