/* mem.h — allocation wrappers.
 *
 * The binary links jemalloc, which replaces malloc/free for the whole
 * process.  These wrappers abort on out-of-memory, so internal code needs no
 * NULL checks.  Any size read from the network must be checked against a
 * limit *before* it reaches these functions. */
#ifndef KV_MEM_H
#define KV_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);               /* returns new memory, free with mem_free */
void *mem_calloc(size_t nmemb, size_t n); /* zeroed */
void *mem_realloc(void *p, size_t n);     /* p taken, returns new */
void mem_free(void *p);                   /* accepts NULL */
char *mem_strdup(const char *s);          /* returns new, free with mem_free */
char *mem_strndup(const char *s, size_t n);
void *mem_memdup(const void *p, size_t n);

/* Bytes currently allocated by the application (jemalloc stats.allocated),
 * and the allocator's name+version ("jemalloc-5.3.0"). */
size_t mem_used(void);
size_t mem_rss(void);
const char *mem_allocator(void);

#endif
