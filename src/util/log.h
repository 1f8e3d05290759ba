/* log.h — leveled logging to stderr or a file, Redis-style lines:
 *   "12345:M 25 Nov 2026 09:54:48.123 * message"
 * Never blocks on anything but the write itself. */
#ifndef KV_LOG_H
#define KV_LOG_H

enum log_level {
    LOG_DEBUG = 0,
    LOG_VERBOSE,
    LOG_NOTICE,
    LOG_WARNING,
    LOG_LEVEL_COUNT
};

/* path NULL or "" = stderr. Returns 0 or -errno. */
int log_open(const char *path, int level);
void log_set_level(int level);
void log_close(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif
