/*
 * wd_times.c -- the cached clock and its formatted strings.
 *
 * wd_time_update() reads the wall clock; the three strings are reformatted
 * only when the second changes. The error log and access log use local time
 * (like nginx); the Date header uses GMT.
 */
#include "wd_log.h"
#include <sys/time.h>

volatile time_t     wd_time_sec;
volatile wd_msec_t  wd_current_msec;

static u_char wd_log_time_buf[sizeof("2026/11/25 04:51:17")];
static u_char wd_http_time_buf[sizeof("Wed, 25 Nov 2026 04:51:17 GMT")];
static u_char wd_http_log_time_buf[sizeof("25/Nov/2026:04:51:17 +0000")];

wd_str_t wd_cached_log_time = { sizeof(wd_log_time_buf) - 1, wd_log_time_buf };
wd_str_t wd_cached_http_time = { sizeof(wd_http_time_buf) - 1, wd_http_time_buf };
wd_str_t wd_cached_http_log_time = { sizeof(wd_http_log_time_buf) - 1, wd_http_log_time_buf };

static time_t wd_time_formatted = (time_t) -1;

static const char *wd_week[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *wd_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

u_char *
wd_http_time(u_char *buf, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    return buf + sprintf((char *) buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                         wd_week[tm.tm_wday], tm.tm_mday, wd_months[tm.tm_mon],
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
wd_time_update(void)
{
    struct timeval tv;
    struct tm tm;
    long off;

    gettimeofday(&tv, NULL);
    wd_time_sec = tv.tv_sec;
    wd_current_msec = (wd_msec_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;

    if (tv.tv_sec == wd_time_formatted) {
        return;
    }
    wd_time_formatted = tv.tv_sec;

    wd_http_time(wd_http_time_buf, tv.tv_sec);

    localtime_r(&tv.tv_sec, &tm);
    snprintf((char *) wd_log_time_buf, sizeof(wd_log_time_buf),
             "%04d/%02d/%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    off = tm.tm_gmtoff / 60;
    snprintf((char *) wd_http_log_time_buf, sizeof(wd_http_log_time_buf),
             "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld", tm.tm_mday,
             wd_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

void
wd_time_init(void)
{
    tzset();
    wd_time_formatted = (time_t) -1;
    wd_time_update();
}
