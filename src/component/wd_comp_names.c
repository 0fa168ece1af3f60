/*
 * wd_comp_names.c -- import/export names (Explainer.md "Import and Export Definitions")
 * and semver-compatible matching of import names against the host's.
 *
 *   plainname     ::= label | '[constructor]' label | '[method]' label '.' label
 *                   | '[static]' label '.' label
 *   label         ::= first-fragment ( '-' fragment )*     (kebab case: words or ACRONYMS)
 *   interfacename ::= words ':' words '/' label ( '@' valid-semver )?
 *
 * Matching follows the component model's semver rule (as wasmtime's NameMap does): an
 * import binds to the same name exactly, else to the host's highest version on the same
 * compatibility track: @1.2.3 -> "1", @0.2.3 -> "0.2"; 0.0.x and pre-releases have no
 * track and only match exactly.
 */
#include <stdlib.h>
#include "wd_comp_int.h"

static int
wd_comp_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static int
wd_comp_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int
wd_comp_digit(int c)
{
    return c >= '0' && c <= '9';
}

int
wd_comp_is_label(const char *s, size_t n)
{
    size_t i = 0;
    int first = 1;

    if (n == 0) {
        return 0;
    }
    for (;;) {
        /* one fragment: a word [a-z0-9]+ or an acronym [A-Z0-9]+; the first starts with a letter */
        size_t st = i;
        int up = -1;
        while (i < n && s[i] != '-') {
            int c = (unsigned char) s[i];
            if (wd_comp_lower(c)) {
                if (up == 1) {
                    return 0;
                }
                up = 0;
            } else if (wd_comp_upper(c)) {
                if (up == 0) {
                    return 0;
                }
                up = 1;
            } else if (!wd_comp_digit(c)) {
                return 0;
            } else if (i == st && first) {
                return 0;
            }
            i++;
        }
        if (i == st) {
            return 0;
        }
        first = 0;
        if (i == n) {
            return 1;
        }
        i++;                      /* '-' */
        if (i == n) {
            return 0;
        }
    }
}

/* words ::= first-word ('-' word)*: lower-case only */
static int
wd_comp_is_words(const char *s, size_t n)
{
    if (n == 0 || !wd_comp_lower((unsigned char) s[0])) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char) s[i];
        if (c == '-') {
            if (i + 1 == n || s[i + 1] == '-') {
                return 0;
            }
        } else if (!wd_comp_lower(c) && !wd_comp_digit(c)) {
            return 0;
        }
    }
    return 1;
}

static int
wd_comp_semver_num(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (s == end || !wd_comp_digit((unsigned char) *s)) {
        return -1;
    }
    if (*s == '0' && s + 1 < end && wd_comp_digit((unsigned char) s[1])) {
        return -1;                /* no leading zeros */
    }
    while (s < end && wd_comp_digit((unsigned char) *s)) {
        if (x > 100000000000ull) {
            return -1;
        }
        x = x * 10 + (uint64_t) (*s - '0');
        s++;
    }
    *p = s;
    *v = x;
    return 0;
}

/* dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading zeros when numeric */
static int
wd_comp_semver_ids(const char *s, const char *end, int numeric_rule)
{
    if (s == end) {
        return -1;
    }
    while (s <= end) {
        const char *st = s;
        int alldig = 1;
        while (s < end && *s != '.') {
            int c = (unsigned char) *s;
            if (!(wd_comp_digit(c) || wd_comp_lower(c) || wd_comp_upper(c) || c == '-')) {
                return -1;
            }
            if (!wd_comp_digit(c)) {
                alldig = 0;
            }
            s++;
        }
        if (s == st) {
            return -1;
        }
        if (numeric_rule && alldig && *st == '0' && s - st > 1) {
            return -1;
        }
        if (s == end) {
            return 0;
        }
        s++;
    }
    return 0;
}

typedef struct {
    uint64_t major, minor, patch;
    int pre;                      /* has a pre-release part */
} wd_comp_semver_t;

static int
wd_comp_semver_parse(const char *s, size_t n, wd_comp_semver_t *v)
{
    const char *p = s, *end = s + n;
    const char *pre, *build;

    memset(v, 0, sizeof(*v));
    if (wd_comp_semver_num(&p, end, &v->major) || p == end || *p++ != '.'
        || wd_comp_semver_num(&p, end, &v->minor) || p == end || *p++ != '.'
        || wd_comp_semver_num(&p, end, &v->patch)) {
        return -1;
    }
    if (p == end) {
        return 0;
    }
    build = memchr(p, '+', end - p);
    if (*p == '-') {
        pre = p + 1;
        if (wd_comp_semver_ids(pre, build ? build : end, 1)) {
            return -1;
        }
        v->pre = 1;
    } else if (*p != '+') {
        return -1;
    }
    if (build && wd_comp_semver_ids(build + 1, end, 0)) {
        return -1;
    }
    return 0;
}

int
wd_comp_check_externname(const char *s, size_t n, const char **why)
{
    const char *colon = memchr(s, ':', n);

    if (colon) {
        const char *slash = memchr(colon, '/', n - (colon - s));
        const char *at;
        size_t ln;
        if (!wd_comp_is_words(s, colon - s)) {
            *why = "the namespace is not kebab-case words";
            return -1;
        }
        if (slash == NULL || !wd_comp_is_words(colon + 1, slash - colon - 1)) {
            *why = "an interface name is ns:package/interface[@version]";
            return -1;
        }
        at = memchr(slash, '@', n - (slash - s));
        ln = (at ? at : s + n) - slash - 1;
        if (!wd_comp_is_label(slash + 1, ln)) {
            *why = "the interface is not a kebab-case label";
            return -1;
        }
        if (at) {
            wd_comp_semver_t v;
            if (wd_comp_semver_parse(at + 1, s + n - at - 1, &v)) {
                *why = "the version is not valid semver";
                return -1;
            }
        }
        return 0;
    }
    if (n > 0 && s[0] == '[') {
        static const struct { const char *p; int dotted; } ann[] = {
            { "[constructor]", 0 }, { "[method]", 1 }, { "[static]", 1 }
        };
        for (size_t i = 0; i < sizeof(ann) / sizeof(ann[0]); i++) {
            size_t pl = strlen(ann[i].p);
            if (n >= pl && memcmp(s, ann[i].p, pl) == 0) {
                const char *r = s + pl, *dot;
                size_t rn = n - pl;
                if (!ann[i].dotted) {
                    if (wd_comp_is_label(r, rn)) {
                        return 0;
                    }
                    *why = "not [constructor]label";
                    return -1;
                }
                dot = memchr(r, '.', rn);
                if (dot && wd_comp_is_label(r, dot - r)
                    && wd_comp_is_label(dot + 1, rn - (dot - r) - 1)) {
                    return 0;
                }
                *why = "not [method|static]resource.label";
                return -1;
            }
        }
        *why = "unknown [annotation]";
        return -1;
    }
    if (!wd_comp_is_label(s, n)) {
        *why = "not a kebab-case label";
        return -1;
    }
    return 0;
}

int
wd_comp_name_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int x = (unsigned char) *a, y = (unsigned char) *b;
        if (wd_comp_upper(x)) {
            x += 32;
        }
        if (wd_comp_upper(y)) {
            y += 32;
        }
        if (x != y) {
            return 0;
        }
    }
    return *a == *b;
}

/* split "base@version": returns base length; *ver = version or NULL */
static size_t
wd_comp_name_split(const char *s, const char **ver)
{
    const char *at = strchr(s, '@');
    *ver = at ? at + 1 : NULL;
    return at ? (size_t) (at - s) : strlen(s);
}

/* compatibility track: 1 and fills major/minor when it has one */
static int
wd_comp_track(const char *ver, wd_comp_semver_t *v)
{
    if (ver == NULL || wd_comp_semver_parse(ver, strlen(ver), v) || v->pre) {
        return 0;
    }
    return v->major > 0 || v->minor > 0;
}

static int
wd_comp_semver_cmp(const wd_comp_semver_t *a, const wd_comp_semver_t *b)
{
    if (a->major != b->major) {
        return a->major < b->major ? -1 : 1;
    }
    if (a->minor != b->minor) {
        return a->minor < b->minor ? -1 : 1;
    }
    if (a->patch != b->patch) {
        return a->patch < b->patch ? -1 : 1;
    }
    return 0;
}

int
wd_comp_name_match(const char *import, const char *const *names, uint32_t n, int *nearest)
{
    const char *iv, *hv;
    size_t ib = wd_comp_name_split(import, &iv);
    wd_comp_semver_t want, have, best_v = { 0, 0, 0, 0 };
    int best = -1, near = -1, track;

    if (nearest) {
        *nearest = -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(import, names[i]) == 0) {
            return (int) i;
        }
    }
    track = wd_comp_track(iv, &want);
    for (uint32_t i = 0; i < n; i++) {
        size_t hb = wd_comp_name_split(names[i], &hv);
        if (hb != ib || memcmp(import, names[i], ib) != 0) {
            continue;
        }
        near = (int) i;
        if (track && wd_comp_track(hv, &have) && have.major == want.major
            && (want.major > 0 || have.minor == want.minor)) {
            if (best < 0 || wd_comp_semver_cmp(&have, &best_v) > 0) {
                best = (int) i;
                best_v = have;
            }
        }
    }
    if (best < 0 && nearest) {
        *nearest = near;
    }
    return best;
}
