/*
 * wd_main.c -- main(): the command line.
 *
 *   wasmd [-c file] [-p prefix] [-g directives] [-t|-T [-q]] [-s stop|quit|reload|reopen]
 *         [-v] [-V] [-h]
 *   wasmd run [options] FILE.wasm [args...]     (src/host/wd_host_run.h)
 *   wasmd component-info [--instantiate] FILE   (src/component/wd_comp.h)
 *
 * Start-up order: parse + validate the configuration (wd_cycle_init), then
 * -t / -s act and exit; otherwise open the listening sockets, run the
 * modules' init_master (the Wasm module compiles .wasm files here, before
 * fork, so every worker shares them), optionally daemonize, write the pid
 * file and run the master (or, with `master_process off`, the one worker
 * in this process). Foreground by default.
 */
#include "wd_cycle.h"
#include "wd_process.h"
#include "wd_host_run.h"
#include "component/wd_comp.h"
#include "wd_host_comp.h"
#include "wd_sandbox.h"
#include "wd_wasm.h"

/* The ./configure paths (objs/config.mk -> contrib/build.mk): the prefix absolute, the
 * others relative to it when they lie under it (so -p moves them, as in nginx). */
#ifdef WD_CFG_PREFIX
static void
wd_configured_paths(void)
{
    wd_paths.prefix = WD_CFG_PREFIX;
    wd_paths.conf = WD_CFG_CONF_PATH;
    wd_paths.pid = WD_CFG_PID_PATH;
    wd_paths.error_log = WD_CFG_ERROR_LOG_PATH;
    wd_paths.http_log = WD_CFG_HTTP_LOG_PATH;
}
#else
static void wd_configured_paths(void) { }
#endif

static void
wd_usage(FILE *out)
{
    fprintf(out,
        "Usage: wasmd [-?hvVtTq] [-s signal] [-p prefix] [-c filename] [-g directives]\n"
        "       wasmd run [--fuel N] [--max-memory SIZE] [--env NAME[=VALUE]]...\n"
        "                 [--dir HOST[::GUEST]]... [--invoke NAME [ARGS...]] FILE.wasm [ARGS...]\n"
        "       wasmd component-info [--instantiate] [--stub] [--fuel N] FILE.wasm\n"
        "\n"
        "Options:\n"
        "  -?,-h         : this help\n"
        "  -v            : show version and exit\n"
        "  -V            : show version and configure options then exit\n"
        "  -t            : test configuration and exit\n"
        "  -T            : test configuration, dump it and exit\n"
        "  -q            : suppress non-error messages during configuration testing\n"
        "  -s signal     : send signal to a master process: stop, quit, reopen, reload\n"
        "  -p prefix     : set prefix path (default: %s)\n"
        "  -c filename   : set configuration file (default: %s)\n"
        "  -g directives : set global directives out of configuration file\n",
        wd_paths.prefix[0] ? wd_paths.prefix : "the current directory", wd_paths.conf);
}

static void
wd_show_version(int configure)
{
    fprintf(stderr, "wasmd version: " WD_VER "\n");
    if (configure) {
#ifdef __VERSION__
#if defined(__clang__)
        fprintf(stderr, "built with clang " __clang_version__ "\n");
#else
        fprintf(stderr, "built with gcc " __VERSION__ "\n");
#endif
#endif
        fprintf(stderr, "built on " __DATE__ " " __TIME__ "\n");
#ifdef WD_CFG_ARGS
        fprintf(stderr, "configure arguments:%s%s\n", WD_CFG_ARGS[0] ? " " : "", WD_CFG_ARGS);
#else
        fprintf(stderr, "configure arguments: (none: the current directory is the prefix)\n");
#endif
        /* every path in effect, given or defaulted (relative ones: under the prefix) */
        fprintf(stderr, "paths: --prefix=%s\n", wd_paths.prefix[0] ? wd_paths.prefix : ".");
#ifdef WD_CFG_SBIN_PATH
        fprintf(stderr, "  --sbin-path=%s\n", WD_CFG_SBIN_PATH);
#endif
        fprintf(stderr, "  --conf-path=%s\n", wd_paths.conf);
        fprintf(stderr, "  --error-log-path=%s\n",
                wd_paths.error_log ? wd_paths.error_log : "stderr");
        fprintf(stderr, "  --pid-path=%s\n", wd_paths.pid);
        fprintf(stderr, "  --http-log-path=%s\n", wd_paths.http_log);
        fprintf(stderr, "  (no --modules-path: every module is compiled in, none is loadable)\n");
        fprintf(stderr, "features: libuv event loop, llhttp, OpenSSL, own Wasm 2.0 engine, "
                        "WASI preview1, wasi:http handlers, POSIX regex locations\n");
        fprintf(stderr, "wasm engine: %s\n", wd_wasm_build_info());
    }
}

/* takes "-cFILE" or "-c FILE" */
static const char *
wd_opt_arg(int argc, char **argv, int *i, const char *p)
{
    if (p[1] != '\0') {
        return p + 1;
    }
    if (*i + 1 < argc) {
        return argv[++*i];
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *conf_file = NULL, *prefix = NULL, *signal_name = NULL, *a, *inherited;
    int test = 0, quiet = 0, dump = 0, i, rc;
    wd_cycle_t *cycle;
    char *err = NULL;

    wd_pid = getpid();
    wd_configured_paths();
    wd_time_init();
    wd_process_save_argv(argc, argv);

    if (argc > 1 && strcmp(argv[1], "run") == 0) {
        wd_run_sandbox = wd_sandbox_run;
        return wd_run_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "component-info") == 0) {
        wd_host_comp_t *hc = wd_host_comp_new(NULL);   /* the server's host functions */
        rc = wd_comp_info_main(argc - 1, argv + 1, hc ? wd_host_comp_host(hc) : NULL);
        wd_host_comp_free(hc);
        return rc;
    }

    for (i = 1; i < argc; i++) {
        const char *p = argv[i];
        if (p[0] != '-' || p[1] == '\0') {
            wd_log_stderr(0, "invalid option: \"%s\"", p);
            return 1;
        }
        for (p++; *p; p++) {
            switch (*p) {
            case '?': case 'h':
                wd_usage(stdout);
                return 0;
            case 'v':
                wd_show_version(0);
                return 0;
            case 'V':
                wd_show_version(1);
                return 0;
            case 't':
                test = 1;
                continue;
            case 'q':
                quiet = 1;
                continue;
            case 'T':
                test = dump = 1;
                wd_cycle_keep_config = 1;
                continue;
            case 'c': case 'p': case 's': case 'g':
                a = wd_opt_arg(argc, argv, &i, p);
                if (a == NULL) {
                    wd_log_stderr(0, "option \"-%c\" requires %s", *p,
                                  *p == 'c' ? "file name" : *p == 'p' ? "directory name"
                                  : "parameter");
                    return 1;
                }
                if (*p == 'c') conf_file = a;
                else if (*p == 'p') prefix = a;
                else if (*p == 'g') wd_cycle_conf_param = a;
                else signal_name = a;
                goto next;
            default:
                wd_log_stderr(0, "invalid option: \"%c\"", *p);
                return 1;
            }
        }
    next:
        ;
    }

    if (signal_name && strcmp(signal_name, "stop") && strcmp(signal_name, "quit")
        && strcmp(signal_name, "reload") && strcmp(signal_name, "reopen"))
    {
        wd_log_stderr(0, "invalid option: \"-s %s\"", signal_name);
        return 1;
    }

    cycle = wd_cycle_init(conf_file, prefix, &err);
    if (cycle == NULL) {
        if (test) {
            /* the error itself was printed by the parser */
            char path[PATH_MAX];
            const char *shown = conf_file ? conf_file : wd_paths.conf;
            if (shown[0] != '/') {
                const char *pf = prefix ? prefix : wd_paths.prefix;
                char cwd[PATH_MAX] = "";
                if (pf[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
                    cwd[0] = '\0';
                }
                snprintf(path, sizeof(path), "%s%s%s%s%s", cwd, cwd[0] ? "/" : "", pf,
                         pf[0] && pf[strlen(pf) - 1] != '/' ? "/" : "", shown);
                shown = path;
            }
            wd_log_stderr(0, "configuration file %s test failed", shown);
        }
        return 1;
    }

    if (test) {
        /* like nginx, -t also runs the modules' start-up hooks (not the sockets) */
        if (!quiet) {
            wd_log_stderr(0, "the configuration file %s syntax is ok", cycle->conf_file.data);
        }
        rc = wd_cycle_init_master(cycle);
        if (rc != WD_OK) {
            wd_log_stderr(0, "configuration file %s test failed", cycle->conf_file.data);
        } else {
            if (!quiet) {
                wd_log_stderr(0, "configuration file %s test is successful",
                              cycle->conf_file.data);
            }
            if (dump) {
                wd_conf_dump_t *d = cycle->config_dump->elts;
                wd_uint_t j;
                for (j = 0; j < cycle->config_dump->nelts; j++) {
                    printf("# configuration file %.*s:\n%.*s", wd_str_pf(&d[j].name),
                           wd_str_pf(&d[j].text));
                    if (d[j].text.len == 0 || d[j].text.data[d[j].text.len - 1] != '\n') {
                        putchar('\n');
                    }
                    putchar('\n');
                }
                fflush(stdout);
            }
        }
        wd_cycle_free(cycle);
        return rc == WD_OK ? 0 : 1;
    }

    if (signal_name) {
        rc = wd_signal_process(cycle, signal_name);
        wd_cycle_free(cycle);
        return rc;
    }

    wd_cycle = cycle;
    inherited = getenv("WASMD_LISTEN");
    if (inherited) {
        /* started by an old master's binary upgrade (USR2): take over its sockets */
        rc = wd_cycle_open_listening_inherited(cycle, inherited);
        unsetenv("WASMD_LISTEN");
    } else {
        rc = wd_cycle_open_listening(cycle, NULL);
    }
    if (rc != WD_OK) {
        wd_cycle_free(cycle);
        return 1;
    }
    if (wd_cycle_init_master(cycle) != WD_OK) {
        wd_cycle_free(cycle);
        return 1;
    }
    if (cycle->daemon && inherited == NULL && wd_daemonize() != WD_OK) {
        wd_cycle_free(cycle);
        return 1;
    }
    if (wd_cycle_create_pidfile(cycle) != WD_OK) {
        wd_cycle_free(cycle);
        return 1;
    }

    if (cycle->master_process) {
        rc = wd_master_process_cycle(cycle);
    } else {
        rc = wd_single_process_cycle(cycle);
    }

    wd_process_delete_pidfile(wd_cycle);
    wd_cycle_free(wd_cycle);
    return rc;
}
