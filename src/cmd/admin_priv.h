/* admin_priv.h — PRIVATE to cmd/admin*.c: struct admin (the collaborators
 * and the sampled rates) and helpers the three files share. */
#ifndef KV_ADMIN_PRIV_H
#define KV_ADMIN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/admin.h"
#include "core/config.h"

struct event;

/* Rates from the 1 s sampler: per second, smoothed (half the weight on
 * the newest second). */
struct admin_rates {
    double hints[CFG_MAX_NODES];   /* hints delivered to each target */
    double xfer_moved, xfer_scanned;
    double ae_repaired;
    double commands;
};

struct admin {
    struct admin_deps d;
    struct event *sampler;
    bool sampled;                  /* prev holds one sample */
    uint64_t prev_hints[CFG_MAX_NODES];
    uint64_t prev_moved, prev_scanned, prev_repaired, prev_commands;
    struct admin_rates rate;
};

/* Node idx's state word: "alive", "suspect", "dead", "leaving" or "gone"
 * (self is alive; without gossip the peer link decides). */
const char *admin_node_state(const struct admin *a, int idx);
/* Node idx's link word: "self", "up", "suspect", "down" ... */
void admin_node_link(const struct admin *a, int idx, char *out, size_t n);
/* Seconds to finish `left` at `rate` per second; -1 when unknown. */
double admin_eta(double left, double rate);

#endif
