/*
 * wd_host_kv_backend.c -- the kinds of wasi:keyvalue stores by name, and the size and time
 * syntax their parameters share with the rest of the configuration (wd_host_kv.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "wd_host_kv.h"

static const wd_kv_backend_t *const wd_kv_backends[] = {
    &wd_kv_lmdb_backend, &wd_kv_redis_backend,
};

const wd_kv_backend_t *wd_kv_backend_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof wd_kv_backends / sizeof wd_kv_backends[0]; i++)
        if (strlen(wd_kv_backends[i]->name) == len && memcmp(wd_kv_backends[i]->name, name, len) == 0)
            return wd_kv_backends[i];
    return NULL;
}

/* digits, then an optional k/K, m/M, g/G (binary units) */
int64_t wd_kv_parse_size(const char *s)
{
    int64_t v = 0;
    int shift = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (p == s)
        return -1;
    switch (*p) {
    case '\0': return v;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return -1;
    }
    return p[1] == '\0' && v <= (INT64_MAX >> shift) ? v << shift : -1;
}

/* parts of digits + unit (d, h, m, s, ms), largest first, e.g. 1m30s or 500ms; or a bare
 * number of seconds: milliseconds, -1 if malformed */
int64_t wd_kv_parse_ms(const char *s)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
    };
    const size_t nunits = sizeof units / sizeof units[0];
    int64_t total = 0;
    size_t last = 0;
    int any = 0;
    const char *p = s;
    if (*p == '\0')
        return -1;
    while (*p) {
        const char *d = p;
        int64_t v = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > INT64_MAX / 864000000)
                return -1;
            v = v * 10 + (*p - '0');
        }
        if (p == d)
            return -1;
        if (*p == '\0')
            return any ? -1 : v * 1000;       /* a bare number: seconds */
        size_t ul = p[0] == 'm' && p[1] == 's' ? 2 : 1, i;
        for (i = 0; i < nunits; i++)
            if (strlen(units[i].unit) == ul && memcmp(units[i].unit, p, ul) == 0)
                break;
        if (i == nunits || (any && i <= last))
            return -1;
        total += v * units[i].ms;
        if (total < 0)
            return -1;
        last = i;
        any = 1;
        p += ul;
    }
    return total;
}

uv_loop_t *wd_kv_env_loop(const wd_kv_env_t *env)
{
    return env && env->loop ? env->loop(env->ud) : NULL;
}

void wd_kv_env_log(const wd_kv_env_t *env, const char *msg)
{
    if (env && env->log)
        env->log(env->ud, msg);
    else
        fprintf(stderr, "wasmd: %s\n", msg);
}
