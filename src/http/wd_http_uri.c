/*
 * wd_http_uri.c -- request-target path normalization and Host validation.
 *
 * Normalization happens on the decoded path, so "%2e%2e" is a ".." segment
 * and "%2F" a separator (nginx decodes before resolving dot segments too).
 * The output is never longer than the input, so it may be computed in a
 * buffer of the input's size (or in place: out == in is allowed).
 */
#include "wd_http_conf.h"

static int
wd_hexval(u_char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int
wd_http_normalize_uri(const u_char *in, size_t len, u_char *out, size_t *out_len)
{
    size_t i, o, d, s, seglen;
    int h, l;

    if (len == 0 || in[0] != '/') {
        return WD_ERROR;
    }
    /* 1. percent-decode up to the query */
    for (i = 0, d = 0; i < len; i++) {
        u_char c = in[i];
        if (c == '?' || c == '#') {
            break;
        }
        if (c == '%') {
            if (i + 2 >= len || (h = wd_hexval(in[i + 1])) < 0 || (l = wd_hexval(in[i + 2])) < 0) {
                return WD_ERROR;
            }
            c = (u_char) (h * 16 + l);
            if (c == '\0') {
                return WD_ERROR;
            }
            i += 2;
        } else if (c == '\0') {
            return WD_ERROR;
        }
        out[d++] = c;
    }

    /* 2. merge slashes, resolve "." and ".." (in place: o <= s always) */
    o = 0;
    i = 0;
    while (i < d) {
        while (i < d && out[i] == '/') {
            i++;
        }
        s = i;
        while (i < d && out[i] != '/') {
            i++;
        }
        seglen = i - s;
        if (seglen == 0) {
            out[o++] = '/';              /* trailing slash */
            break;
        }
        if (seglen == 1 && out[s] == '.') {
            if (i >= d) {
                out[o++] = '/';
            }
            continue;
        }
        if (seglen == 2 && out[s] == '.' && out[s + 1] == '.') {
            if (o == 0) {
                return WD_ERROR;         /* above the root */
            }
            while (o > 0 && out[o - 1] != '/') {
                o--;
            }
            o--;                         /* drop the '/' too */
            if (i >= d) {
                out[o++] = '/';
            }
            continue;
        }
        out[o++] = '/';
        memmove(out + o, out + s, seglen);
        o += seglen;
    }
    if (o == 0) {
        out[o++] = '/';
    }
    *out_len = o;
    return WD_OK;
}

int
wd_http_validate_host(const u_char *in, size_t len, u_char *out, size_t *out_len)
{
    size_t i, host_len = 0, dot_pos = (size_t) -1;
    int in_brackets = 0;
    u_char c;

    for (i = 0; i < len; i++) {
        c = in[i];
        switch (c) {
        case '.':
            if (dot_pos == i - 1) {
                return WD_ERROR;         /* ".." or a leading "." */
            }
            dot_pos = i;
            break;
        case ':':
            if (in_brackets) {
                break;
            }
            host_len = i;
            goto port;
        case '[':
            if (i != 0) {
                return WD_ERROR;
            }
            in_brackets = 1;
            break;
        case ']':
            if (!in_brackets) {
                return WD_ERROR;
            }
            in_brackets = 0;
            break;
        case '\0': case '/': case '\\': case ' ': case '\t': case '\r': case '\n':
            return WD_ERROR;
        default:
            if (c < 0x20 || c == 0x7f) {
                return WD_ERROR;
            }
            break;
        }
    }
    host_len = len;
    goto done;

port:
    for (i = host_len + 1; i < len; i++) {
        if (in[i] < '0' || in[i] > '9') {
            return WD_ERROR;
        }
    }

done:
    if (in_brackets) {
        return WD_ERROR;
    }
    if (host_len && in[host_len - 1] == '.') {
        host_len--;                      /* "example.com." */
    }
    if (host_len == 0 && len != 0) {
        return WD_ERROR;
    }
    wd_strlow(out, in, host_len);
    *out_len = host_len;
    return WD_OK;
}
