/* log.c — see log.h. Owns the log file handle. */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static FILE *log_fp;
static int log_level = LOG_NOTICE;

int log_open(const char *path, int level)
{
    log_level = level;
    if (path && *path) {
        FILE *fp = fopen(path, "a");
        if (!fp)
            return -errno;
        setvbuf(fp, NULL, _IOLBF, 0);
        log_fp = fp;
    }
    return 0;
}

void log_set_level(int level)
{
    log_level = level;
}

void log_close(void)
{
    if (log_fp)
        fclose(log_fp);
    log_fp = NULL;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < log_level)
        return;
    FILE *fp = log_fp ? log_fp : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S", &tm);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(fp, "%d:M %s.%03d %c %s\n", (int)getpid(), ts, (int)(tv.tv_usec / 1000),
            marks[level < 0 || level > 3 ? 2 : level], msg);
    fflush(fp);
}
