/*
 * wd_string.c -- string helpers and the number/size/time parsers shared by
 * the configuration setters.
 *
 * Sizes: digits with an optional k/K, m/M or g/G suffix (powers of 1024).
 * Times: one or more "<digits><unit>" groups, units ms, s, m, h, d, w, M (30d), y (365d),
 * in decreasing order ("1h30m", "1m30s"); a bare number means seconds, like nginx.
 * Overflow is an error, never a wrap.
 */
#include "wd_core.h"

void
wd_strlow(u_char *dst, const u_char *src, size_t n)
{
    while (n--) {
        *dst++ = wd_tolower(*src);
        src++;
    }
}

wd_int_t
wd_atoi(const u_char *line, size_t n)
{
    wd_int_t v = 0;

    if (n == 0) {
        return WD_ERROR;
    }
    for (; n--; line++) {
        if (*line < '0' || *line > '9') {
            return WD_ERROR;
        }
        if (v > (INTPTR_MAX - (*line - '0')) / 10) {
            return WD_ERROR;
        }
        v = v * 10 + (*line - '0');
    }
    return v;
}

static int64_t
wd_parse_scaled(const wd_str_t *line, int64_t max)
{
    size_t len = line->len;
    int64_t scale = 1;
    wd_int_t v;

    if (len == 0) {
        return WD_ERROR;
    }
    switch (line->data[len - 1]) {
    case 'k': case 'K': scale = 1024; len--; break;
    case 'm': case 'M': scale = 1024 * 1024; len--; break;
    case 'g': case 'G': scale = 1024 * 1024 * 1024; len--; break;
    default: break;
    }
    v = wd_atoi(line->data, len);
    if (v == WD_ERROR || v > max / scale) {
        return WD_ERROR;
    }
    return v * scale;
}

ssize_t
wd_parse_size(const wd_str_t *line)
{
    return (ssize_t) wd_parse_scaled(line, SSIZE_MAX);
}

off_t
wd_parse_offset(const wd_str_t *line)
{
    return (off_t) wd_parse_scaled(line, INT64_MAX);
}

wd_int_t
wd_parse_time(const wd_str_t *line, int is_sec)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "y", 365LL * 86400000 }, { "M", 30LL * 86400000 }, { "w", 7LL * 86400000 },
        { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
    };
    const u_char *p = line->data, *end = line->data + line->len;
    int64_t total = 0, v;
    int last = -1, i, any = 0;

    if (line->len == 0) {
        return WD_ERROR;
    }
    while (p < end) {
        const u_char *d = p;
        v = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (v > (INT64_MAX / 1000 - 9) / 10) {
                return WD_ERROR;
            }
            v = v * 10 + (*p++ - '0');
        }
        if (p == d) {
            return WD_ERROR;
        }
        if (p == end) {
            /* bare number: seconds (only allowed as the whole value) */
            if (any) {
                return WD_ERROR;
            }
            i = 6;
        } else {
            size_t ul = (p + 1 < end && p[0] == 'm' && p[1] == 's') ? 2 : 1;
            for (i = 0; i < (int) wd_nelems(units); i++) {
                if (strlen(units[i].unit) == ul && memcmp(units[i].unit, p, ul) == 0) {
                    break;
                }
            }
            if (i == (int) wd_nelems(units)) {
                return WD_ERROR;
            }
            p += ul;
        }
        if (i <= last) {
            return WD_ERROR;              /* units must decrease: "1s1m" is invalid */
        }
        last = i;
        if (is_sec && units[i].ms < 1000) {
            return WD_ERROR;
        }
        if (v > (INT64_MAX - total) / units[i].ms) {
            return WD_ERROR;
        }
        total += v * units[i].ms;
        any = 1;
    }
    if (is_sec) {
        total /= 1000;
    }
    if (total > INTPTR_MAX) {
        return WD_ERROR;
    }
    return (wd_int_t) total;
}
