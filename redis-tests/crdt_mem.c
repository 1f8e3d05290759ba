/* crdt_mem.c — bytes per element of the convergent types (core/crdt.h):
 * in memory (jemalloc's allocated-bytes counter around building the state)
 * and in the encoding (crdt_encode), for a set, a hash and a sorted set of
 * n elements written by one coordinator, in the shapes
 * redis-tests/crdt_memory.py loads into redis-server: members "member:<i>",
 * fields "field:<i>" with values "value:<i>", scores i.
 *
 *   build/redis-tests/crdt_mem N [N...]
 * prints one line per type and N: "type n memory_per_elem encoded_per_elem".
 * Not a test; crdt_memory.py prints these next to Redis's MEMORY USAGE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crdt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/val.h"

static void build(struct crdt *c, enum crdt_type t, long n, uint32_t actor)
{
    crdt_init(c, t);
    char k[32], v[32];
    for (long i = 0; i < n; i++) {
        if (t == CRDT_SET) {
            int kl = snprintf(k, sizeof(k), "member:%ld", i);
            crdt_set_add(c, actor, k, (size_t)kl, NULL, NULL);
        } else if (t == CRDT_HASH) {
            int kl = snprintf(k, sizeof(k), "field:%ld", i);
            int vl = snprintf(v, sizeof(v), "value:%ld", i);
            struct val *x = val_create(v, (size_t)vl);
            crdt_reg_set(c, actor, k, (size_t)kl, x, NULL, NULL);
            val_unref(x);
        } else {
            int kl = snprintf(k, sizeof(k), "member:%ld", i);
            crdt_zset_add(c, actor, k, (size_t)kl, (double)i, NULL, NULL);
        }
    }
}

int main(int argc, char **argv)
{
    uint32_t actor = vc_actor_intern("n1.1764064488100", 16);
    const enum crdt_type types[] = { CRDT_SET, CRDT_HASH, CRDT_ZSET };
    for (int a = 1; a < argc; a++) {
        long n = strtol(argv[a], NULL, 10);
        if (n <= 0)
            continue;
        /* small states: build enough copies for the allocator's counter
         * to see them (each copy's struct crdt counted as well) */
        long copies = n >= 100000 ? 1 : 200000 / n;
        for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
            struct crdt *c = mem_alloc((size_t)copies * sizeof(*c));
            size_t before = mem_used();
            for (long k = 0; k < copies; k++)
                build(&c[k], types[ti], n, actor);
            size_t after = mem_used();
            struct buf b;
            buf_init(&b);
            crdt_encode(&c[0], &b);
            double mem = after >= before && before
                             ? (double)(after - before) / (double)copies + sizeof(*c)
                             : -1.0;
            printf("%s %ld %.1f %.1f\n", crdt_type_name(types[ti]), n, mem / (double)n,
                   (double)b.len / (double)n);
            buf_fini(&b);
            for (long k = 0; k < copies; k++)
                crdt_fini(&c[k]);
            mem_free(c);
        }
    }
    return 0;
}
