/* fuzz_gossip.c — libFuzzer target for the gossip table decoder
 * (gossip_merge), which reads bytes straight from peers (PGOSSIP).
 *
 * The decoder must never crash or over-read; a table it accepts is merged
 * (possibly adding members), and then: the table never exceeds
 * CFG_MAX_NODES members, self's own row (generation, heartbeat, status) is
 * untouched, the encoding of the result is accepted by a fresh node, and
 * merging that encoding back into the same table changes nothing.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_gossip tests/fuzz/corpus/gossip */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "util/errors.h"
#include "core/gossip.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cfg_node nodes[3] = {
    {"n1", "127.0.0.1", 7001, 17001},
    {"n2", "127.0.0.1", 7002, 17002},
    {"n3", "127.0.0.1", 7003, 17003},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gossip *g = gossip_create(nodes, 3, 0, 1000, 0);
    gossip_tick(g, 1);
    uint64_t gen = gossip_generation(g, 0), hb = gossip_heartbeat(g, 0);
    int rc = gossip_merge(g, data, size, 2);
    if (rc == KV_EPROTO) {
        gossip_destroy(g);
        return 0;
    }
    if (rc < 0 || gossip_nmembers(g) > CFG_MAX_NODES || gossip_nmembers(g) < 3)
        abort();
    if (gossip_generation(g, 0) != gen || gossip_heartbeat(g, 0) < hb ||
        gossip_status(g, 0) != GOSSIP_MEMBER)
        abort();
    struct buf enc;
    buf_init(&enc);
    gossip_encode(g, &enc);
    struct gossip *f = gossip_create(nodes, 3, 1, 2000, 0);
    if (gossip_merge(f, enc.data, enc.len, 3) < 0)
        abort();
    if (gossip_merge(g, enc.data, enc.len, 3) != 0)
        abort();
    buf_fini(&enc);
    gossip_destroy(f);
    gossip_destroy(g);
    return 0;
}
