/*
 * wd_core_module.c -- main-context directives: worker_processes, pid,
 * error_log, daemon, master_process, worker_shutdown_timeout, worker_rlimit_nofile,
 * worker_cpu_affinity, include; and the workers' sandbox (handlers in wd_sandbox.c):
 * user, worker_seccomp, worker_landlock, worker_rlimit_core.
 *
 * The core conf struct is the cycle itself: directives write straight into
 * wd_cycle_t fields (offsetof), create_core_conf returns the cycle.
 */
#include "wd_cycle.h"
#include "wd_process.h"
#include "wd_sandbox.h"

static void *wd_core_create_conf(wd_cycle_t *cycle);
static char *wd_core_init_conf(wd_cycle_t *cycle, void *conf);
static char *wd_core_set_worker_processes(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_core_set_error_log(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_core_set_cpu_affinity(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

static const wd_conf_num_bounds_t wd_core_positive = { wd_conf_check_num_bounds, 1, 1048576 };

static const wd_command_t wd_core_commands[] = {
    { "worker_processes", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_core_set_worker_processes, 0, offsetof(wd_cycle_t, worker_processes), NULL },
    { "pid", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_conf_set_path_slot, 0, offsetof(wd_cycle_t, pid), NULL },
    { "error_log", WD_MAIN_CONF | WD_CONF_TAKE12,
      wd_core_set_error_log, 0, 0, NULL },
    { "daemon", WD_MAIN_CONF | WD_CONF_FLAG,
      wd_conf_set_flag_slot, 0, offsetof(wd_cycle_t, daemon), NULL },
    { "master_process", WD_MAIN_CONF | WD_CONF_FLAG,
      wd_conf_set_flag_slot, 0, offsetof(wd_cycle_t, master_process), NULL },
    { "worker_shutdown_timeout", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_conf_set_msec_slot, 0, offsetof(wd_cycle_t, worker_shutdown_timeout), NULL },
    { "worker_rlimit_nofile", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_conf_set_num_slot, 0, offsetof(wd_cycle_t, worker_rlimit_nofile), &wd_core_positive },
    { "worker_cpu_affinity", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_core_set_cpu_affinity, 0, 0, NULL },
    { "user", WD_MAIN_CONF | WD_CONF_TAKE12,
      wd_sandbox_set_user, 0, 0, NULL },
    { "worker_seccomp", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_sandbox_set_seccomp, 0, 0, NULL },
    { "worker_landlock", WD_MAIN_CONF | WD_CONF_FLAG,
      wd_sandbox_set_landlock, 0, 0, NULL },
    { "worker_rlimit_core", WD_MAIN_CONF | WD_CONF_TAKE1,
      wd_sandbox_set_rlimit_core, 0, 0, NULL },
    { "include", WD_ANY_CONF | WD_CONF_TAKE1,
      wd_conf_include, 0, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_core_module_ctx = {
    wd_core_create_conf, wd_core_init_conf,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

wd_module_t wd_core_module = {
    "core", WD_CORE_MODULE, wd_core_commands, &wd_core_module_ctx,
    NULL, NULL, NULL, NULL, 0, 0
};

static void *
wd_core_create_conf(wd_cycle_t *cycle)
{
    cycle->worker_processes = WD_CONF_UNSET;
    cycle->daemon = WD_CONF_UNSET;
    cycle->master_process = WD_CONF_UNSET;
    cycle->worker_shutdown_timeout = WD_CONF_UNSET_MSEC;
    cycle->worker_rlimit_nofile = WD_CONF_UNSET;
    cycle->worker_cpu_affinity = WD_CONF_UNSET;
    cycle->pid.len = 0;
    cycle->pid.data = NULL;
    cycle->sandbox = wd_sandbox_create_conf(cycle);
    if (cycle->sandbox == NULL) {
        return NULL;
    }
    return cycle;
}

static char *
wd_core_init_conf(wd_cycle_t *cycle, void *conf)
{
    wd_conf_init_value(cycle->worker_processes, 1);
    wd_conf_init_value(cycle->daemon, 0);
    wd_conf_init_value(cycle->master_process, 1);
    wd_conf_init_msec_value(cycle->worker_shutdown_timeout, 0);
    wd_conf_init_value(cycle->worker_rlimit_nofile, 0);
    wd_conf_init_value(cycle->worker_cpu_affinity, 0);
    if (wd_sandbox_init_conf(cycle) != WD_CONF_OK) {
        return WD_CONF_ERROR;
    }
    if (cycle->pid.data == NULL) {
        cycle->pid.data = (u_char *) wd_paths.pid;
        cycle->pid.len = strlen(wd_paths.pid);
        if (wd_conf_full_name(cycle, &cycle->pid, 0) != WD_OK) {
            return WD_CONF_ERROR;
        }
    }
    return WD_CONF_OK;
}

static char *
wd_core_set_worker_processes(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_cycle_t *cycle = conf;
    wd_str_t *value = cf->args->elts;

    if (cycle->worker_processes != WD_CONF_UNSET) {
        return "is duplicate";
    }
    if (wd_str_eq(&value[1], "auto")) {
        cycle->worker_processes = wd_ncpu();
        return WD_CONF_OK;
    }
    cycle->worker_processes = wd_atoi(value[1].data, value[1].len);
    if (cycle->worker_processes == WD_ERROR || cycle->worker_processes < 1
        || cycle->worker_processes > 1024)
    {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    return WD_CONF_OK;
}

/* error_log FILE [LEVEL] in the main context; several may be given (all are written). */
static char *
wd_core_set_error_log(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_cycle_t *cycle = conf;
    wd_str_t *value = cf->args->elts;
    wd_log_t *log, **tail;
    int level = WD_LOG_ERR;

    if (cf->args->nelts == 3) {
        level = wd_log_level_parse(&value[2]);
        if (level == WD_ERROR) {
            return wd_conf_invalid_value(cf, &value[2]);
        }
    }
    if (value[1].len == 0) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    log = wd_pcalloc(cf->pool, sizeof(wd_log_t));
    if (log == NULL) {
        return WD_CONF_ERROR;
    }
    log->level = level;
    log->file = wd_cycle_open_file(cycle, &value[1]);
    if (log->file == NULL) {
        return WD_CONF_ERROR;
    }
    for (tail = &cycle->error_log_conf; *tail; tail = &(*tail)->next) {
        /* append */
    }
    *tail = log;
    return WD_CONF_OK;
}

/* worker_cpu_affinity auto|off (nginx also takes bit masks; `auto` is what matters here) */
static char *
wd_core_set_cpu_affinity(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_cycle_t *cycle = conf;
    wd_str_t *value = cf->args->elts;

    if (cycle->worker_cpu_affinity != WD_CONF_UNSET) {
        return "is duplicate";
    }
    if (wd_str_eq(&value[1], "auto")) {
        cycle->worker_cpu_affinity = 1;
    } else if (wd_str_eq(&value[1], "off")) {
        cycle->worker_cpu_affinity = 0;
    } else {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    return WD_CONF_OK;
}
