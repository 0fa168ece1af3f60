/*
 * test_comp_names.c -- import/export name grammar and semver-compatible matching
 * (src/component/wd_comp_names.c). Prints "ok - ..." / "FAIL - ..." and "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>
#include "wd_comp_int.h"

static int pass, fail;

static void
check(int cond, const char *what)
{
    if (cond) {
        pass++;
        printf("ok - %s\n", what);
    } else {
        fail++;
        printf("FAIL - %s\n", what);
    }
}

static int
name_ok(const char *s)
{
    const char *why;
    return wd_comp_check_externname(s, strlen(s), &why) == 0;
}

int
main(void)
{
    static const char *const host[] = {
        "wasi:io/streams@0.2.8", "wasi:io/streams@0.2.3", "wasi:http/types@0.2.8",
        "wasi:cli/run@1.4.0", "wasi:cli/run@1.2.0", "ex:pre/x@0.2.9-rc1", "ex:zero/z@0.0.3",
        "plain-func", "wasi:random/random"
    };
    uint32_t n = sizeof(host) / sizeof(host[0]);
    int near;

    /* grammar */
    check(name_ok("a-b-c") && name_ok("A1-2-3") && name_ok("m1x3d-4CR0NYMS"), "kebab-case labels");
    check(!name_ok("1-2-3") && !name_ok("a--b") && !name_ok("a-") && !name_ok("aB") && !name_ok(""),
          "bad labels refused");
    check(name_ok("[method]output-stream.write") && name_ok("[static]r.f") && name_ok("[constructor]fields"),
          "annotated plain names");
    check(!name_ok("[method]r") && !name_ok("[async]f") && !name_ok("[constructor]a.b"), "bad annotations refused");
    check(name_ok("wasi:io/streams@0.2.12") && name_ok("wasi:http/types") && name_ok("a-b:c-d/e-F@1.0.0-rc.1+b.5"),
          "interface names");
    check(!name_ok("wasi:io/streams@0.2") && !name_ok("wasi:io/streams@01.2.3") && !name_ok("Wasi:io/x")
          && !name_ok("wasi:io") && !name_ok("wasi:io/streams@1.0.0-01"), "bad interface names refused");

    /* matching */
    check(wd_comp_name_match("wasi:io/streams@0.2.3", host, n, NULL) == 1, "exact version first");
    check(wd_comp_name_match("wasi:io/streams@0.2.0", host, n, NULL) == 0, "0.2.0 binds the highest 0.2.x");
    check(wd_comp_name_match("wasi:io/streams@0.2.12", host, n, NULL) == 0, "0.2.12 binds the host's 0.2.8");
    check(wd_comp_name_match("wasi:http/types@0.2.10", host, n, NULL) == 2, "0.2.10 binds 0.2.8");
    check(wd_comp_name_match("wasi:cli/run@1.0.0", host, n, NULL) == 3, "1.x track: highest 1.x");
    check(wd_comp_name_match("wasi:io/streams@0.3.0", host, n, &near) == -1 && near >= 0
          && strncmp(host[near], "wasi:io/streams@", 16) == 0, "0.3 is another track; nearest named");
    check(wd_comp_name_match("wasi:cli/run@2.0.0", host, n, &near) == -1 && near >= 0, "2.x is another track");
    check(wd_comp_name_match("ex:zero/z@0.0.4", host, n, &near) == -1 && near == 6, "0.0.x only exactly");
    check(wd_comp_name_match("ex:zero/z@0.0.3", host, n, NULL) == 6, "0.0.x exact match");
    check(wd_comp_name_match("ex:pre/x@0.2.9", host, n, NULL) == -1, "pre-releases only exactly");
    check(wd_comp_name_match("wasi:sockets/tcp@0.2.0", host, n, &near) == -1 && near == -1,
          "unknown interface: no nearest");
    check(wd_comp_name_match("plain-func", host, n, NULL) == 7, "plain names exactly");
    check(wd_comp_name_match("wasi:random/random@0.2.0", host, n, &near) == -1 && near == 8,
          "unversioned host name is not a track");
    check(wd_comp_name_match("wasi:io/streams", host, n, &near) == -1 && near >= 0, "unversioned import");

    printf("%d passed, %d failed\n", pass, fail);
    return fail != 0;
}
