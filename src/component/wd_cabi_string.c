/*
 * Strings in the Canonical ABI: strict UTF-8 / UTF-16 / latin1 transcoders (leaf functions:
 * (src, len, dst, cap) -> (read, written), no allocation), lifting a guest string into a host
 * UTF-8 value (load_string_from_range) and lowering a host UTF-8 string into a guest with
 * the realloc calls the spec makes, in the same order and sizes (store_string_into_range with
 * a utf8 source: store_string_copy, store_utf8_to_utf16, store_string_to_latin1_or_utf16).
 * Little-endian hosts only (guest UTF-16 is read and written in place).
 */
#include "wd_cabi_int.h"

#include <string.h>

/* ---- UTF-8 decoding ---- */

/* Decodes one code point at s[*i] (i < len); returns -1 if invalid (overlong, surrogate,
   > U+10FFFF, truncated, bad continuation). */
static inline int
u8_next(const uint8_t *s, size_t len, size_t *i, uint32_t *cp)
{
    size_t k = *i;
    uint32_t c = s[k];
    if (c < 0x80) {
        *cp = c;
        *i = k + 1;
        return 0;
    }
    if (c < 0xc2)
        return -1;
    if (c < 0xe0) {
        if (k + 1 >= len || (s[k + 1] & 0xc0) != 0x80)
            return -1;
        *cp = ((c & 0x1f) << 6) | (s[k + 1] & 0x3f);
        *i = k + 2;
        return 0;
    }
    if (c < 0xf0) {
        if (k + 2 >= len || (s[k + 1] & 0xc0) != 0x80 || (s[k + 2] & 0xc0) != 0x80)
            return -1;
        uint32_t v = ((c & 0x0f) << 12) | ((s[k + 1] & 0x3f) << 6) | (s[k + 2] & 0x3f);
        if (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))
            return -1;
        *cp = v;
        *i = k + 3;
        return 0;
    }
    if (c < 0xf5) {
        if (k + 3 >= len || (s[k + 1] & 0xc0) != 0x80 || (s[k + 2] & 0xc0) != 0x80 ||
            (s[k + 3] & 0xc0) != 0x80)
            return -1;
        uint32_t v = ((c & 0x07) << 18) | ((s[k + 1] & 0x3f) << 12) | ((s[k + 2] & 0x3f) << 6) |
                     (s[k + 3] & 0x3f);
        if (v < 0x10000 || v > 0x10ffff)
            return -1;
        *cp = v;
        *i = k + 4;
        return 0;
    }
    return -1;
}

/* index of the first non-ASCII byte */
static size_t
ascii_prefix(const uint8_t *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

int
wd_cabi_utf8_validate(const uint8_t *s, size_t len, size_t *units16)
{
    size_t i = ascii_prefix(s, len), u = i;
    uint32_t cp;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            u++;
            continue;
        }
        if (u8_next(s, len, &i, &cp) < 0)
            return -1;
        u += cp >= 0x10000 ? 2 : 1;
    }
    if (units16)
        *units16 = u;
    return 0;
}

int
wd_cabi_utf8_to_utf16(const uint8_t *src, size_t len, uint16_t *dst, size_t cap, size_t *read,
                      size_t *written)
{
    size_t i = 0, o = 0;
    int rc = 0;
    while (i < len) {
        size_t at = i;
        uint32_t cp;
        if (src[i] < 0x80) {
            if (o >= cap)
                break;
            dst[o++] = src[i++];
            continue;
        }
        if (u8_next(src, len, &i, &cp) < 0) {
            i = at;
            rc = -1;
            break;
        }
        if (cp >= 0x10000) {
            if (o + 2 > cap) {
                i = at;
                break;
            }
            cp -= 0x10000;
            dst[o++] = (uint16_t)(0xd800 | (cp >> 10));
            dst[o++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
        } else {
            if (o >= cap) {
                i = at;
                break;
            }
            dst[o++] = (uint16_t)cp;
        }
    }
    *read = i;
    *written = o;
    return rc;
}

int
wd_cabi_utf16_to_utf8(const uint16_t *src, size_t len, uint8_t *dst, size_t cap, size_t *read,
                      size_t *written)
{
    size_t i = 0, o = 0;
    int rc = 0;
    while (i < len) {
        uint32_t c = src[i], n = 1;
        if (c >= 0xd800 && c <= 0xdfff) {
            if (c >= 0xdc00 || i + 1 >= len || src[i + 1] < 0xdc00 || src[i + 1] > 0xdfff) {
                rc = -1;
                break;
            }
            c = 0x10000 + ((c - 0xd800) << 10) + (src[i + 1] - 0xdc00);
            n = 2;
        }
        if (c < 0x80) {
            if (o + 1 > cap)
                break;
            dst[o++] = (uint8_t)c;
        } else if (c < 0x800) {
            if (o + 2 > cap)
                break;
            dst[o++] = (uint8_t)(0xc0 | (c >> 6));
            dst[o++] = (uint8_t)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            if (o + 3 > cap)
                break;
            dst[o++] = (uint8_t)(0xe0 | (c >> 12));
            dst[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            dst[o++] = (uint8_t)(0x80 | (c & 0x3f));
        } else {
            if (o + 4 > cap)
                break;
            dst[o++] = (uint8_t)(0xf0 | (c >> 18));
            dst[o++] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
            dst[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            dst[o++] = (uint8_t)(0x80 | (c & 0x3f));
        }
        i += n;
    }
    *read = i;
    *written = o;
    return rc;
}

int
wd_cabi_latin1_to_utf8(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *read,
                       size_t *written)
{
    size_t i = 0, o = 0;
    for (; i < len; i++) {
        uint8_t c = src[i];
        if (c < 0x80) {
            if (o + 1 > cap)
                break;
            dst[o++] = c;
        } else {
            if (o + 2 > cap)
                break;
            dst[o++] = (uint8_t)(0xc0 | (c >> 6));
            dst[o++] = (uint8_t)(0x80 | (c & 0x3f));
        }
    }
    *read = i;
    *written = o;
    return 0;
}

int
wd_cabi_utf8_to_latin1(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *read,
                       size_t *written)
{
    size_t i = 0, o = 0;
    int rc = 0;
    while (i < len && o < cap) {
        size_t at = i;
        uint32_t cp;
        if (src[i] < 0x80) {
            dst[o++] = src[i++];
            continue;
        }
        if (u8_next(src, len, &i, &cp) < 0) {
            i = at;
            rc = -1;
            break;
        }
        if (cp >= 0x100) {
            i = at;
            break;
        }
        dst[o++] = (uint8_t)cp;
    }
    *read = i;
    *written = o;
    return rc;
}

/* ---- lifting ---- */

int
wd_cabi_lift_string(wd_cabi_cx_t *cx, uint32_t ptr, uint32_t tagged, wd_cabi_val_t *out)
{
    uint64_t bytes;
    uint32_t align;
    int kind;   /* 0 utf8, 1 utf16, 2 latin1 */
    switch (cx->enc) {
    case WD_CABI_UTF8:
        align = 1, bytes = tagged, kind = 0;
        break;
    case WD_CABI_UTF16:
        align = 2, bytes = 2 * (uint64_t)tagged, kind = 1;
        break;
    default:
        align = 2;
        if (tagged & WD_CABI_UTF16_TAG)
            bytes = 2 * (uint64_t)(tagged ^ WD_CABI_UTF16_TAG), kind = 1;
        else
            bytes = tagged, kind = 2;
        break;
    }
    if (bytes > WD_CABI_MAX_STRING_BYTES)
        return wd_cabi_trap(cx, "string too long");
    if (ptr & (align - 1))
        return wd_cabi_trap(cx, "misaligned string");
    if (!cx->mem)
        return wd_cabi_trap(cx, "string without a memory");
    const uint8_t *p = wd_wasm_memory_cptr(cx->mem, ptr, bytes);
    if (!p)
        return wd_cabi_trap(cx, "string out of bounds");
    if (wd_cabi_charge(cx, bytes + 16) < 0)
        return -1;
    out->kind = WD_CT_STRING;
    out->raw = 0;
    if (kind == 0) {
        if (wd_cabi_utf8_validate(p, bytes, NULL) < 0)
            return wd_cabi_trap(cx, "invalid UTF-8 in a string");
        if (cx->copy_views && bytes) {
            uint8_t *c = wd_cabi_arena_alloc(cx->arena, bytes, 1);
            if (!c)
                return wd_cabi_trap(cx, "out of memory for values");
            memcpy(c, p, bytes);
            p = c;
        }
        out->n = (uint32_t)bytes;
        out->str = (const char *)p;
        return 0;
    }
    size_t r, w;
    if (kind == 2) {
        size_t need = bytes;
        for (uint64_t i = 0; i < bytes; i++)
            need += p[i] >> 7;
        uint8_t *d = wd_cabi_arena_alloc(cx->arena, need ? need : 1, 1);
        if (!d)
            return wd_cabi_trap(cx, "out of memory for values");
        wd_cabi_latin1_to_utf8(p, bytes, d, need, &r, &w);
        out->n = (uint32_t)w;
        out->str = (const char *)d;
        return 0;
    }
    /* utf16: validate while measuring, then convert */
    const uint16_t *u = (const uint16_t *)(const void *)p;
    size_t units = bytes / 2, need = 0;
    for (size_t i = 0; i < units; i++) {
        uint16_t c = u[i];
        if (c < 0x80)
            need += 1;
        else if (c < 0x800)
            need += 2;
        else if (c >= 0xd800 && c <= 0xdbff) {
            if (i + 1 >= units || u[i + 1] < 0xdc00 || u[i + 1] > 0xdfff)
                return wd_cabi_trap(cx, "invalid UTF-16 in a string");
            need += 4;
            i++;
        } else if (c >= 0xdc00 && c <= 0xdfff)
            return wd_cabi_trap(cx, "invalid UTF-16 in a string");
        else
            need += 3;
    }
    uint8_t *d = wd_cabi_arena_alloc(cx->arena, need ? need : 1, 1);
    if (!d)
        return wd_cabi_trap(cx, "out of memory for values");
    if (wd_cabi_utf16_to_utf8(u, units, d, need, &r, &w) < 0 || r != units)
        return wd_cabi_trap(cx, "invalid UTF-16 in a string");
    out->n = (uint32_t)w;
    out->str = (const char *)d;
    return 0;
}

/* ---- lowering ---- */

int
wd_cabi_lower_string(wd_cabi_cx_t *cx, const char *str, uint32_t len, uint32_t *ptr_out,
                     uint32_t *tagged_out)
{
    const uint8_t *s = (const uint8_t *)str;
    uint32_t ptr;
    uint8_t *d;
    size_t r, w;
    if (!cx->mem)
        return wd_cabi_trap(cx, "string without a memory");
    switch (cx->enc) {
    case WD_CABI_UTF8:
        if (wd_cabi_utf8_validate(s, len, NULL) < 0)
            return wd_cabi_trap(cx, "invalid UTF-8 in a host string");
        if (wd_cabi_realloc(cx, 0, 0, 1, len, &ptr) < 0)
            return -1;
        if (!(d = wd_cabi_wptr(cx, ptr, len)))
            return wd_cabi_trap(cx, "realloc result out of bounds");
        memcpy(d, s, len);
        *ptr_out = ptr;
        *tagged_out = len;
        return 0;
    case WD_CABI_UTF16: {
        uint64_t worst = 2 * (uint64_t)len;
        if (worst > UINT32_MAX)
            return wd_cabi_trap(cx, "string too long");
        if (wd_cabi_realloc(cx, 0, 0, 2, (uint32_t)worst, &ptr) < 0)
            return -1;
        if (ptr & 1)
            return wd_cabi_trap(cx, "misaligned realloc result");
        if (!(d = wd_cabi_wptr(cx, ptr, worst)))
            return wd_cabi_trap(cx, "realloc result out of bounds");
        if (wd_cabi_utf8_to_utf16(s, len, (uint16_t *)(void *)d, len, &r, &w) < 0 || r != len)
            return wd_cabi_trap(cx, "invalid UTF-8 in a host string");
        if (2 * (uint64_t)w < worst) {
            if (wd_cabi_realloc(cx, ptr, (uint32_t)worst, 2, (uint32_t)(2 * w), &ptr) < 0)
                return -1;
            if (ptr & 1)
                return wd_cabi_trap(cx, "misaligned realloc result");
            if (!wd_wasm_memory_cptr(cx->mem, ptr, 2 * (uint64_t)w))
                return wd_cabi_trap(cx, "realloc result out of bounds");
        }
        *ptr_out = ptr;
        *tagged_out = (uint32_t)w;
        return 0;
    }
    default: {  /* latin1+utf16 */
        if (wd_cabi_realloc(cx, 0, 0, 2, len, &ptr) < 0)
            return -1;
        if (ptr & 1)
            return wd_cabi_trap(cx, "misaligned realloc result");
        if (!(d = wd_cabi_wptr(cx, ptr, len)))
            return wd_cabi_trap(cx, "realloc result out of bounds");
        if (wd_cabi_utf8_to_latin1(s, len, d, len, &r, &w) < 0)
            return wd_cabi_trap(cx, "invalid UTF-8 in a host string");
        if (r == len) {
            if (w < len) {
                if (wd_cabi_realloc(cx, ptr, len, 2, (uint32_t)w, &ptr) < 0)
                    return -1;
                if (ptr & 1)
                    return wd_cabi_trap(cx, "misaligned realloc result");
                if (!wd_wasm_memory_cptr(cx->mem, ptr, w))
                    return wd_cabi_trap(cx, "realloc result out of bounds");
            }
            *ptr_out = ptr;
            *tagged_out = (uint32_t)w;
            return 0;
        }
        /* a code point >= 256: grow to the UTF-16 worst case, widen what was written */
        uint64_t worst = 2 * (uint64_t)len;
        if (worst > UINT32_MAX)
            return wd_cabi_trap(cx, "string too long");
        if (wd_cabi_realloc(cx, ptr, len, 2, (uint32_t)worst, &ptr) < 0)
            return -1;
        if (ptr & 1)
            return wd_cabi_trap(cx, "misaligned realloc result");
        if (!(d = wd_cabi_wptr(cx, ptr, worst)))
            return wd_cabi_trap(cx, "realloc result out of bounds");
        for (size_t j = w; j-- > 0;) {
            d[2 * j] = d[j];
            d[2 * j + 1] = 0;
        }
        size_t r2, w2;
        if (wd_cabi_utf8_to_utf16(s + r, len - r, (uint16_t *)(void *)(d + 2 * w), len - w, &r2,
                                  &w2) < 0 || r + r2 != len)
            return wd_cabi_trap(cx, "invalid UTF-8 in a host string");
        uint64_t units = w + w2;
        if (worst > 2 * units) {
            if (wd_cabi_realloc(cx, ptr, (uint32_t)worst, 2, (uint32_t)(2 * units), &ptr) < 0)
                return -1;
            if (ptr & 1)
                return wd_cabi_trap(cx, "misaligned realloc result");
            if (!wd_wasm_memory_cptr(cx->mem, ptr, 2 * units))
                return wd_cabi_trap(cx, "realloc result out of bounds");
        }
        *ptr_out = ptr;
        *tagged_out = (uint32_t)units | WD_CABI_UTF16_TAG;
        return 0;
    }
    }
}
