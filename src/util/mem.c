/* mem.c — allocation wrappers over the process allocator (jemalloc).
 * Owns nothing; aborts on out-of-memory. */
#include "util/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KV_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

static void oom(size_t n)
{
    fprintf(stderr, "dynamo-node: out of memory allocating %zu bytes\n", n);
    abort();
}

void *mem_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *mem_calloc(size_t nmemb, size_t n)
{
    void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
    if (!p)
        oom(nmemb * n);
    return p;
}

void *mem_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void mem_free(void *p)
{
    free(p);
}

char *mem_strdup(const char *s)
{
    return mem_memdup(s, strlen(s) + 1);
}

char *mem_strndup(const char *s, size_t n)
{
    char *d = mem_alloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *mem_memdup(const void *p, size_t n)
{
    void *d = mem_alloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

#ifdef KV_HAVE_JEMALLOC
static size_t stat_read(const char *name)
{
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    size_t v = 0;
    sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0)
        return 0;
    return v;
}

size_t mem_used(void)
{
    return stat_read("stats.allocated");
}

size_t mem_rss(void)
{
    return stat_read("stats.resident");
}

const char *mem_allocator(void)
{
    static char name[64];
    if (!name[0]) {
        const char *v = NULL;
        size_t sz = sizeof(v);
        if (mallctl("version", &v, &sz, NULL, 0) == 0 && v) {
            /* "5.3.0-0-g54eaed1d..." -> "jemalloc-5.3.0" */
            size_t n = strcspn(v, "-");
            snprintf(name, sizeof(name), "jemalloc-%.*s", (int)n, v);
        } else {
            snprintf(name, sizeof(name), "jemalloc");
        }
    }
    return name;
}
#else
size_t mem_used(void)
{
    return 0;
}

size_t mem_rss(void)
{
    return 0;
}

const char *mem_allocator(void)
{
    return "libc";
}
#endif
