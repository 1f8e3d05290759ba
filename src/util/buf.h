/* buf.h — a growable byte buffer.
 *
 * Used for reply encoding (resp_add_* write into a buf), query buffers and
 * binary codecs.  data is NULL until the first write.  Growth doubles so the
 * amortised cost of appends is O(1). */
#ifndef KV_BUF_H
#define KV_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);             /* frees data; accepts zeroed memory */
void buf_reserve(struct buf *b, size_t extra); /* ensure cap >= len + extra */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);  /* drop n bytes from the front */
/* Shrinks an empty buffer's allocation back when it grew past keep bytes. */
void buf_trim(struct buf *b, size_t keep);

/* HOT: inlined small appends used by the RESP encoder. */
static inline void buf_putc(struct buf *b, char c)
{
    if (b->len + 1 > b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
}

static inline void buf_put(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return; /* p may be NULL (an empty buffer) */
    if (b->len + n > b->cap)
        buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

#endif
