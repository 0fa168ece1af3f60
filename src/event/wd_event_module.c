/*
 * wd_event_module.c -- the events{} block and its directives.
 *
 * Like the core module, its conf struct is the cycle (worker_connections
 * lives in wd_cycle_t). The event loop itself is in src/event/wd_event*.c.
 */
#include "wd_cycle.h"
#include "wd_event.h"

static void *wd_events_create_conf(wd_cycle_t *cycle);
static char *wd_events_init_conf(wd_cycle_t *cycle, void *conf);
static char *wd_events_block(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static int   wd_events_init_worker(wd_cycle_t *cycle);

static const wd_conf_num_bounds_t wd_events_connections_bounds = {
    wd_conf_check_num_bounds, 1, 1000000
};

static const wd_command_t wd_events_commands[] = {
    { "events", WD_MAIN_CONF | WD_CONF_BLOCK | WD_CONF_NOARGS,
      wd_events_block, 0, 0, NULL },
    { "worker_connections", WD_EVENT_CONF | WD_CONF_TAKE1,
      wd_conf_set_uint_slot, 0, offsetof(wd_cycle_t, worker_connections),
      &wd_events_connections_bounds },
    wd_null_command
};

static const wd_module_ctx_t wd_events_module_ctx = {
    wd_events_create_conf, wd_events_init_conf,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

wd_module_t wd_events_module = {
    "events", WD_CORE_MODULE, wd_events_commands, &wd_events_module_ctx,
    NULL, wd_events_init_worker, NULL, NULL, 0, 0
};

/* Before the worker is confined: libuv's spare descriptor (wd_event_reserve_fd). */
static int
wd_events_init_worker(wd_cycle_t *cycle)
{
    wd_event_reserve_fd();
    return WD_OK;
}

static int wd_events_seen;

static void *
wd_events_create_conf(wd_cycle_t *cycle)
{
    cycle->worker_connections = WD_CONF_UNSET_UINT;
    wd_events_seen = 0;
    return cycle;
}

static char *
wd_events_init_conf(wd_cycle_t *cycle, void *conf)
{
    wd_conf_init_uint_value(cycle->worker_connections, 1024);
    return WD_CONF_OK;
}

static char *
wd_events_block(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_conf_t save = *cf;
    char *rv;

    if (wd_events_seen) {
        return "is duplicate";
    }
    wd_events_seen = 1;
    cf->cmd_type = WD_EVENT_CONF;
    rv = wd_conf_parse(cf, NULL);
    *cf = save;
    return rv;
}
