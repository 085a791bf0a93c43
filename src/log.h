/*
 * log.h - leveled logging to stderr or syslog.
 *
 * Threads: main/control/network threads only. Never call from a real-time
 * audio thread (it formats and may block on the log sink): audio threads
 * count events in atomics and the main loop logs them.
 * log_setup() before any other thread starts.
 */
#ifndef HARK_LOG_H
#define HARK_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_target { LOG_TO_STDERR = 0, LOG_TO_SYSLOG };

void log_setup(const char *ident, enum log_level level, enum log_target target);
enum log_level log_get_level(void);
/* Parse "error|warn|info|debug"; returns -EINVAL on anything else. */
int log_level_parse(const char *s, enum log_level *out);
int log_target_parse(const char *s, enum log_target *out);
const char *log_level_name(enum log_level l);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
