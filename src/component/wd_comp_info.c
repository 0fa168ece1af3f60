/*
 * wd_comp_info.c -- `wasmd component-info [--instantiate] [--fuel N] FILE.wasm`: load a
 * component, print its instantiation plan, and optionally run the plan in a fresh store
 * with stub host functions (each traps when called). Debug output for tests and people;
 * the stub host is shared with t/fuzz/fuzz_component.
 */
#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include "wd_comp_int.h"

/* what the serving host will provide (issue 13: the wasi:http/proxy world plus what the
   preview1 adapter and language runtimes import), at the reference WIT's version */
static const char *const wd_comp_stub_names[] = {
    "wasi:http/types@0.2.8", "wasi:http/outgoing-handler@0.2.8",
    "wasi:io/error@0.2.8", "wasi:io/poll@0.2.8", "wasi:io/streams@0.2.8",
    "wasi:clocks/monotonic-clock@0.2.8", "wasi:clocks/wall-clock@0.2.8",
    "wasi:random/random@0.2.8", "wasi:random/insecure@0.2.8", "wasi:random/insecure-seed@0.2.8",
    "wasi:cli/stdout@0.2.8", "wasi:cli/stderr@0.2.8", "wasi:cli/stdin@0.2.8",
    "wasi:cli/environment@0.2.8", "wasi:cli/exit@0.2.8",
    "wasi:cli/terminal-input@0.2.8", "wasi:cli/terminal-output@0.2.8",
    "wasi:cli/terminal-stdin@0.2.8", "wasi:cli/terminal-stdout@0.2.8",
    "wasi:cli/terminal-stderr@0.2.8",
    "wasi:filesystem/types@0.2.8", "wasi:filesystem/preopens@0.2.8"
};

static wd_wasm_host_rc_t
wd_comp_stub_call(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    const wd_comp_hostfunc_t *hf = ud;
    char msg[200];
    snprintf(msg, sizeof(msg), "stub host function \"%s%s%s\" called", hf->interface ? hf->interface : "",
             hf->interface ? "#" : "", hf->name ? hf->name : "(resource intrinsic)");
    wd_wasm_host_trap(caller, msg);
    return WD_WASM_HOST_TRAP;
}

static wd_wasm_func_t *
wd_comp_stub_make(void *ud, wd_wasm_store_t *s, const wd_comp_hostfunc_t *hf, const char *host_interface,
                  const wd_comp_bound_opts_t *bound, wd_comp_error_t *err)
{
    wd_wasm_func_t *f = wd_wasm_func_new_host(s, &hf->core_type, wd_comp_stub_call, (void *) hf);
    if (f == NULL) {
        wd_comp_err(err, -1, "out of memory");
    }
    return f;
}

static const wd_comp_host_t wd_comp_stub = {
    wd_comp_stub_names, sizeof(wd_comp_stub_names) / sizeof(wd_comp_stub_names[0]), wd_comp_stub_make, NULL
};

const wd_comp_host_t *
wd_comp_stub_host(void)
{
    return &wd_comp_stub;
}

static uint8_t *
wd_comp_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *b = NULL;
    long n;
    if (fp == NULL) {
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0
        && (b = malloc(n ? (size_t) n : 1)) != NULL && fread(b, 1, (size_t) n, fp) == (size_t) n) {
        *len = (size_t) n;
        fclose(fp);
        return b;
    }
    free(b);
    fclose(fp);
    if (errno == 0) {
        errno = EIO;
    }
    return NULL;
}

int
wd_comp_info_main(int argc, char **argv, const wd_comp_host_t *host)
{
    const char *file = NULL;
    int inst = 0;
    uint64_t fuel = 100000000;
    size_t len = 0;
    uint8_t *bytes;
    wd_comp_error_t err;
    wd_comp_t *c;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--instantiate") == 0) {
            inst = 1;
        } else if (strcmp(argv[i], "--stub") == 0) {
            host = NULL;
        } else if (strcmp(argv[i], "--fuel") == 0 && i + 1 < argc) {
            fuel = strtoull(argv[++i], NULL, 10);
        } else if (argv[i][0] != '-' && file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "usage: wasmd component-info [--instantiate] [--stub] [--fuel N] FILE.wasm\n");
            return 2;
        }
    }
    if (file == NULL) {
        fprintf(stderr, "usage: wasmd component-info [--instantiate] [--stub] [--fuel N] FILE.wasm\n");
        return 2;
    }
    if (host == NULL) {
        host = &wd_comp_stub;
    }
    bytes = wd_comp_read_file(file, &len);
    if (bytes == NULL) {
        fprintf(stderr, "wasmd: %s: %s\n", file, strerror(errno));
        return 1;
    }
    if (!wd_comp_is_component(bytes, len)) {
        fprintf(stderr, "wasmd: %s: not a component (a core module or not WebAssembly)\n", file);
        free(bytes);
        return 1;
    }
    c = wd_comp_load(bytes, len, NULL, &err);
    free(bytes);
    if (c == NULL) {
        if (err.offset >= 0) {
            fprintf(stderr, "wasmd: %s: %s at byte offset %" PRId64 "\n", file, err.msg, err.offset);
        } else {
            fprintf(stderr, "wasmd: %s: %s\n", file, err.msg);
        }
        return 1;
    }
    wd_comp_dump(c, stdout);
    if (wd_comp_check_imports(c, host, &err) != 0) {
        printf("imports: %s\n", err.msg);
    } else {
        printf("imports: all resolve\n");
    }
    if (inst) {
        wd_wasm_store_t *s = wd_wasm_store_new();
        wd_wasm_limits_t lim;
        wd_comp_instance_t *ci;
        memset(&lim, 0, sizeof(lim));
        lim.fuel = fuel;
        ci = s ? wd_comp_instantiate(c, s, host, &lim, &err) : NULL;
        if (ci == NULL) {
            printf("instantiate: failed: %s\n", s ? err.msg : "out of memory");
            rc = 1;
        } else {
            printf("instantiate: ok, %u core instances\n", wd_comp_instance_core_count(ci));
            wd_comp_instance_free(ci);
        }
        wd_wasm_store_free(s);
    }
    wd_comp_free(c);
    fflush(stdout);
    return rc;
}
