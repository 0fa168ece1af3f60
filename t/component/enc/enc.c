/* enc.c: a wasi:http handler whose strings are UTF-16 (ENC=1) or latin1+UTF-16 (ENC=2), as
 * componentize-dotnet's are. t/component/mkcomp.sh wraps it with `jco embed
 * --string-encoding utf16|compact-utf16` + `jco new`, so every `canon lower` of the
 * component has that encoding; t/component/test_enc_comp.py checks the bytes.
 *
 * The body reports what the host lowered, raw: for each string its code-unit count as the
 * guest received it (8 hex digits, the latin1+UTF-16 tag bit included) and its bytes in guest
 * memory:
 *   M<units>:<method other(string)>            P<units>:<path-with-query>
 *   H<units>:<name>=<value> per request header (fields.entries), G:<fields.get "x-in" values>
 *   E<units>:<name>=<units>:<value> per wasi:cli/environment entry
 *   A:<results of fields.append>: one digit each, 0 ok / 1+case err
 * and the response carries headers whose names the guest passes in its own encoding. */
#include <stdint.h>
#include <string.h>

#define IMP(m, n) __attribute__((import_module(m), import_name(n)))
#define T "wasi:http/types@0.2.0"
#define S "wasi:io/streams@0.2.0"
#define TAG 0x80000000u

IMP(T, "[method]incoming-request.method") void req_method(int32_t, void *);
IMP(T, "[method]incoming-request.path-with-query") void req_path(int32_t, void *);
IMP(T, "[method]incoming-request.headers") int32_t req_headers(int32_t);
IMP(T, "[method]fields.entries") void fields_entries(int32_t, void *);
IMP(T, "[method]fields.get") void fields_get(int32_t, const void *, uint32_t, void *);
IMP(T, "[constructor]fields") int32_t fields_new(void);
IMP(T, "[method]fields.append") void fields_append(int32_t, const void *, uint32_t,
                                                  const void *, uint32_t, void *);
IMP(T, "[constructor]outgoing-response") int32_t resp_new(int32_t);
IMP(T, "[method]outgoing-response.body") void resp_body(int32_t, void *);
IMP(T, "[method]outgoing-body.write") void obody_write(int32_t, void *);
IMP(T, "[static]outgoing-body.finish") void obody_finish(int32_t, int32_t, int32_t, void *);
IMP(T, "[static]response-outparam.set") void outparam_set(int32_t, int32_t, int32_t, int32_t,
                                                         int64_t, int32_t, int32_t, int32_t,
                                                         int32_t);
IMP(S, "[method]output-stream.blocking-write-and-flush") void out_write(int32_t, const void *,
                                                                      uint32_t, void *);
IMP(S, "[resource-drop]output-stream") void out_drop(int32_t);
IMP("wasi:cli/environment@0.2.0", "get-environment") void get_env(void *);

static uint8_t heap[1 << 20] __attribute__((aligned(8)));
static uint32_t top;

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size)
{
    if (old && new_size <= old_size)
        return old;
    top = (top + align - 1) & ~(align - 1);
    if (top + new_size > sizeof heap)
        __builtin_trap();
    void *p = heap + top;
    top += new_size;
    if (old)
        memcpy(p, old, old_size);
    return p;
}

static char body[16384];
static uint32_t blen;

static void put(const void *p, uint32_t n)
{
    if (blen + n > sizeof body)
        __builtin_trap();
    memcpy(body + blen, p, n);
    blen += n;
}
static void puts_(const char *s) { put(s, (uint32_t)strlen(s)); }
static void hex8(uint32_t v)
{
    char b[8];
    for (int i = 7; i >= 0; i--, v >>= 4)
        b[i] = "0123456789abcdef"[v & 15];
    put(b, 8);
}
/* bytes of a string of `units` code units in this guest's encoding */
static uint32_t str_bytes(uint32_t units)
{
#if ENC == 1
    return units * 2;
#else
    return units & TAG ? (units & ~TAG) * 2 : units;
#endif
}
static void put_str(const void *p, uint32_t units)
{
    hex8(units);
    puts_(":");
    put(p, str_bytes(units));
}

/* an ASCII/BMP name as UTF-16 code units (tagged in latin1+UTF-16) */
static uint16_t u16buf[64];
static uint32_t u16(const uint16_t *s, const void **p)
{
    uint32_t n = 0;
    while (s[n])
        n++;
    memcpy(u16buf, s, n * 2);
    *p = u16buf;
#if ENC == 1
    return n;
#else
    return n | TAG;
#endif
}

static uint32_t append(int32_t f, const void *name, uint32_t units, const char *val)
{
    uint8_t ret[2] __attribute__((aligned(4)));
    fields_append(f, name, units, val, (uint32_t)strlen(val), ret);
    return ret[0] ? 1 + ret[1] : 0;
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.0#handle")))
void handle(int32_t req, int32_t outparam)
{
    struct { uint8_t tag; uint8_t p[3]; const uint8_t *ptr; uint32_t len; } m, path;
    struct { const uint8_t *ptr; uint32_t n; } l;
    const void *np;
    uint32_t nu;

    blen = 0;
    req_method(req, &m);
    puts_("M");
    if (m.tag == 9)
        put_str(m.ptr, m.len);
    puts_("\nP");
    req_path(req, &path);
    if (path.tag == 1)
        put_str(path.ptr, path.len);
    puts_("\n");
    int32_t h = req_headers(req);
    fields_entries(h, &l);
    for (uint32_t i = 0; i < l.n; i++) {
        const uint32_t *e = (const uint32_t *)(l.ptr + 16 * i);
        puts_("H");
        put_str((const void *)e[0], e[1]);
        puts_("=");
        put((const void *)e[2], e[3]);
        puts_("\n");
    }
    puts_("G:");
    nu = u16(u"x-in", &np);
    fields_get(h, np, nu, &l);
    for (uint32_t i = 0; i < l.n; i++) {
        const uint32_t *e = (const uint32_t *)(l.ptr + 8 * i);
        put((const void *)e[0], e[1]);
        puts_(";");
    }
    puts_("\n");
    get_env(&l);
    for (uint32_t i = 0; i < l.n; i++) {
        const uint32_t *e = (const uint32_t *)(l.ptr + 16 * i);
        puts_("E");
        put_str((const void *)e[0], e[1]);
        puts_("=");
        put_str((const void *)e[2], e[3]);
        puts_("\n");
    }

    int32_t f = fields_new();
    puts_("A:");
    nu = u16(u"x-out", &np);
    hex8(append(f, np, nu, "v1"));
    nu = u16(u"x-\u20ac", &np);           /* not a token once in UTF-8: invalid-syntax */
    hex8(append(f, np, nu, "v2"));
#if ENC == 2
    hex8(append(f, "x-latin1", 8, "v3"));   /* latin1, untagged */
#endif
    puts_("\n");

    int32_t resp = resp_new(f);
    struct { uint8_t is_err; uint8_t p[3]; int32_t h; } r;
    resp_body(resp, &r);
    int32_t ob = r.h;
    outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
    obody_write(ob, &r);
    uint8_t wr[12] __attribute__((aligned(4)));
    out_write(r.h, body, blen, wr);
    out_drop(r.h);
    uint8_t fin[40] __attribute__((aligned(8)));
    obody_finish(ob, 0, 0, fin);
}
