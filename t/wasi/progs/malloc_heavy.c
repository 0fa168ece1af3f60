/* Allocation-heavy code: many blocks of pseudo-random sizes allocated, filled,
 * reallocated and freed in random order; a chained hash table; a linked list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static uint32_t rnd(void) { rng = rng * 1103515245u + 12345u; return rng >> 8; }

typedef struct node { struct node *next; uint32_t key, val; } node_t;

int main(void)
{
    enum { N = 4000, ROUNDS = 15 };
    unsigned char **blk = calloc(N, sizeof(*blk));
    size_t *sz = calloc(N, sizeof(*sz));
    uint64_t check = 0, live = 0, peak = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < N; k++) {
            int i = rnd() % N;
            if (blk[i] && (rnd() & 3) == 0) {
                for (size_t j = 0; j < sz[i]; j++) check += blk[i][j] * (j + 1);
                live -= sz[i];
                free(blk[i]);
                blk[i] = NULL;
            } else if (blk[i]) {
                size_t ns = rnd() % 3000 + 1;
                unsigned char *p = realloc(blk[i], ns);
                if (!p) { printf("realloc failed\n"); return 1; }
                if (ns > sz[i]) memset(p + sz[i], (int)(ns & 0xff), ns - sz[i]);
                live += ns; live -= sz[i];
                blk[i] = p; sz[i] = ns;
            } else {
                size_t ns = (rnd() & 7) == 0 ? rnd() % 70000 + 1 : rnd() % 200 + 1;
                blk[i] = malloc(ns);
                if (!blk[i]) { printf("malloc failed\n"); return 1; }
                for (size_t j = 0; j < ns; j++) blk[i][j] = (unsigned char)(i + j);
                sz[i] = ns;
                live += ns;
            }
            if (live > peak) peak = live;
        }
    }
    for (int i = 0; i < N; i++) {
        if (blk[i]) for (size_t j = 0; j < sz[i]; j++) check += blk[i][j];
        free(blk[i]);
    }
    free(blk); free(sz);
    printf("blocks check=%llu peak=%llu\n", (unsigned long long)check, (unsigned long long)peak);

    enum { B = 1024 };
    node_t **tab = calloc(B, sizeof(*tab));
    for (uint32_t i = 0; i < 200000; i++) {
        uint32_t key = rnd() % 50000;
        node_t *n;
        for (n = tab[key % B]; n && n->key != key; n = n->next) ;
        if (n) n->val += i;
        else {
            n = malloc(sizeof(*n));
            n->key = key; n->val = i; n->next = tab[key % B]; tab[key % B] = n;
        }
    }
    uint64_t hs = 0, cnt = 0; uint32_t longest = 0;
    for (int b = 0; b < B; b++) {
        uint32_t len = 0;
        while (tab[b]) { node_t *n = tab[b]; tab[b] = n->next; hs += (uint64_t)n->key * n->val; cnt++; len++; free(n); }
        if (len > longest) longest = len;
    }
    free(tab);
    printf("hash entries=%llu sum=%llu longest=%u\n", (unsigned long long)cnt, (unsigned long long)hs, longest);

    char *s = NULL; size_t cap = 0, len = 0;
    for (int i = 0; i < 20000; i++) {
        char tmp[32];
        int n = snprintf(tmp, sizeof(tmp), "%d,", i * 7);
        if (len + n + 1 > cap) { cap = cap ? cap * 2 : 16; s = realloc(s, cap); }
        memcpy(s + len, tmp, n + 1); len += n;
    }
    printf("string len=%zu tail=%s\n", len, s + len - 12);
    free(s);
    return 0;
}
