/*
 * log.c - leveled logging (see log.h for the thread contract).
 *
 * stderr lines carry a monotonic timestamp and the level; syslog gets the
 * matching priority. One fprintf per message, so lines from different
 * non-RT threads do not interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static enum log_level cur_level = LOG_LVL_INFO;
static enum log_target cur_target = LOG_TO_STDERR;
static const char *cur_ident = "hark";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_setup(const char *ident, enum log_level level, enum log_target target)
{
    if (cur_target == LOG_TO_SYSLOG && target != LOG_TO_SYSLOG)
        closelog();
    cur_ident = ident;
    cur_level = level;
    cur_target = target;
    if (target == LOG_TO_SYSLOG)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

enum log_level log_get_level(void)
{
    return cur_level;
}

const char *log_level_name(enum log_level l)
{
    return (unsigned)l < 4 ? level_names[l] : "?";
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (unsigned i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

int log_target_parse(const char *s, enum log_target *out)
{
    if (strcmp(s, "stderr") == 0)
        *out = LOG_TO_STDERR;
    else if (strcmp(s, "syslog") == 0)
        *out = LOG_TO_SYSLOG;
    else
        return -EINVAL;
    return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    char buf[1024];
    va_list ap;
    int saved = errno;

    if (level > cur_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (cur_target == LOG_TO_SYSLOG) {
        syslog(prio[level], "%s", buf);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(stderr, "%s[%5ld.%03ld] %-5s %s\n", cur_ident, (long)ts.tv_sec,
                ts.tv_nsec / 1000000, level_names[level], buf);
    }
    errno = saved;
}
