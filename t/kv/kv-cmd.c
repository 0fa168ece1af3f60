/* kv-cmd: a WASI command using wasi:keyvalue / wasi:config under `wasmd run --keyvalue`
 * (t/kv/test_kv_run.py). Prints one line, exit status 0, or 2 after a store error:
 *   kv-cmd STORE incr KEY N     the new value
 *   kv-cmd STORE get KEY        the value, or "none"
 *   kv-cmd STORE set KEY VALUE  "ok"
 *   kv-cmd STORE fill PREFIX N  N keys PREFIX000000.. with set-many (100 a call): "ok"
 *   kv-cmd STORE list           "COUNT PAGES DISTINCT" (every page of list-keys)
 *   kv-cmd - config KEY         wasi:config's value, or "none" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasmd_kv.h"

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
    (void)old_size;
    if (new_size == 0)
        return (void *)align;
    void *p = realloc(old, new_size);
    if (p == NULL)
        abort();
    return p;
}

static int fail(int rc)
{
    printf("err %d %s\n", rc, rc == WASMD_KV_OTHER ? wasmd_kv_error() : "");
    return 2;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    wasmd_bucket b;
    int rc;
    if (argc < 3) {
        fprintf(stderr, "usage: kv-cmd STORE OP ARGS...\n");
        return 1;
    }
    if (strcmp(argv[2], "config") == 0 && argc == 4) {
        size_t l;
        const char *v = wasmd_config_get(argv[3], &l);
        if (v)
            printf("%.*s\n", (int)l, v);
        else
            printf("none\n");
        return 0;
    }
    if ((rc = wasmd_kv_open(argv[1], &b)) != WASMD_KV_OK)
        return fail(rc);
    if (strcmp(argv[2], "incr") == 0 && argc == 5) {
        int64_t n;
        if ((rc = wasmd_kv_increment(b, argv[3], strlen(argv[3]), atoll(argv[4]), &n)))
            return fail(rc);
        printf("%lld\n", (long long)n);
    } else if (strcmp(argv[2], "get") == 0 && argc == 4) {
        const uint8_t *v;
        size_t vl;
        int found;
        if ((rc = wasmd_kv_get(b, argv[3], strlen(argv[3]), &v, &vl, &found)))
            return fail(rc);
        if (found)
            printf("%.*s\n", (int)vl, (const char *)v);
        else
            printf("none\n");
    } else if (strcmp(argv[2], "set") == 0 && argc == 5) {
        if ((rc = wasmd_kv_set(b, argv[3], strlen(argv[3]), argv[4], strlen(argv[4]))))
            return fail(rc);
        printf("ok\n");
    } else if (strcmp(argv[2], "fill") == 0 && argc == 5) {
        long n = atol(argv[4]);
        static char names[100][64];
        for (long i = 0; i < n; i += 100) {
            wasmd_kv_pair kvs[100];
            long m = n - i < 100 ? n - i : 100;
            for (long j = 0; j < m; j++) {
                int l = snprintf(names[j], sizeof names[j], "%s%06ld", argv[3], i + j);
                kvs[j].key.ptr = names[j];
                kvs[j].key.len = (size_t)l;
                kvs[j].val = (const uint8_t *)names[j];
                kvs[j].len = (size_t)l;
            }
            if ((rc = wasmd_kv_set_many(b, kvs, (size_t)m)))
                return fail(rc);
        }
        printf("ok\n");
    } else if (strcmp(argv[2], "list") == 0 && argc == 3) {
        const char *cur = NULL;
        char *curcopy = NULL;
        size_t curl = 0, total = 0, pages = 0, cap = 0;
        char **all = NULL;
        do {
            const wasmd_kv_str *keys;
            size_t nk;
            if ((rc = wasmd_kv_list_keys(b, cur, curl, &keys, &nk, &cur, &curl)))
                return fail(rc);
            for (size_t i = 0; i < nk; i++) {
                if (total == cap) {
                    cap = cap ? 2 * cap : 1024;
                    all = realloc(all, cap * sizeof *all);
                }
                all[total] = malloc(keys[i].len + 1);
                memcpy(all[total], keys[i].ptr, keys[i].len);
                all[total++][keys[i].len] = 0;
            }
            pages++;
            if (cur) {            /* the next call's results may reuse the memory: copy */
                curcopy = realloc(curcopy, curl + 1);
                memcpy(curcopy, cur, curl);
                cur = curcopy;
            }
        } while (cur);
        size_t distinct = total > 0;
        if (total)
            qsort(all, total, sizeof *all, cmp);
        for (size_t i = 1; i < total; i++)
            distinct += strcmp(all[i], all[i - 1]) != 0;
        printf("%zu %zu %zu\n", total, pages, distinct);
    } else {
        fprintf(stderr, "kv-cmd: unknown operation\n");
        return 1;
    }
    return 0;
}
