/* peer.h — the inter-node channel, client side: hiredis's async API on the
 * node's libevent loop.
 *
 * Two persistent connections per peer, one per channel (requests are
 * pipelined on each; the serving side answers them in order):
 *   PEER_CHAN_DATA  replica reads/writes and probes: always answered at once
 *   PEER_CHAN_FWD   forwarded client commands, which wait on replication
 * Keeping them apart matters: with one in-order channel, a replica write
 * queued behind a forwarded command that itself waits for a replica write
 * in the opposite direction would deadlock the two nodes until timeouts.
 * Outgoing sockets are bound to the node's cluster address (cluster-bind,
 * else bind) so address-pair firewall rules can cut one link.  Every
 * connection starts with the mutual handshake (PHELLO, PPROVE: see
 * cmd_peer.c); a link is up, and carries requests, only once the peer has
 * proved the cluster secret and accepted our proof; the secret itself is
 * never sent.  Host names are not resolved here (main.c resolved the
 * configured ones at startup).  A lost connection, or a failed or
 * unfinished handshake (PEER_CONNECT_TIMEOUT_MS), is re-opened with
 * exponential back-off (100 ms .. 1 s).
 *
 * Every request has a deadline (a libevent timer: Debian's hiredis 0.14 has
 * no async timeouts).  Its callback runs exactly once: with the reply, or
 * with KV_ETIMEDOUT / KV_EDISCONN (not sent: the link was down) /
 * KV_ELOST (sent, then the link went).  A reply that arrives after the deadline
 * is dropped.  Only this module reads hiredis's err/errstr.
 */
#ifndef KV_PEER_H
#define KV_PEER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct cfg;
struct peers;

enum peer_chan {
    PEER_CHAN_DATA = 0,
    PEER_CHAN_FWD,
    PEER_CHAN_COUNT
};

/* A reply, hiredis-independent.  Valid only during the callback. */
enum peer_rtype {
    PEER_R_STATUS = 0,
    PEER_R_ERROR,
    PEER_R_INT,
    PEER_R_BULK,
    PEER_R_NIL,
    PEER_R_ARRAY,
    PEER_R_TYPE_COUNT
};

struct peer_reply {
    enum peer_rtype type;
    long long integer;
    const char *str;    /* STATUS, ERROR, BULK */
    size_t len;
    size_t nelem;       /* ARRAY */
    const struct peer_reply *elem; /* ARRAY elements */
};

/* err: 0 with reply set, or a KV_E* code with reply NULL. */
typedef void (*peer_reply_fn)(void *arg, int err, const struct peer_reply *reply);

/* Creates connections to every configured node but self (cfg->nodes, and
 * a link to each seed of cfg->seeds).  base and cfg are borrowed and must
 * outlive the peers; cfg is read live (members that join, the cluster
 * secret and node name of each handshake).  self_idx is this node's index
 * in cfg->nodes. */
struct peers *peers_create(struct event_base *base, const struct cfg *cfg, int self_idx);
/* Opens links to nodes that joined: cfg.nodes[old count .. nnodes). */
void peers_add(struct peers *p, int nnodes);
/* Seeds: nodes known only by address (seed lines, DYNAMO JOIN), reached on
 * a data-channel link of their own until gossip names them.  Returns the
 * seed's index (an existing one for the same address), or -1 when full. */
int peers_add_seed(struct peers *p, const char *host, int cport);
int peers_nseeds(const struct peers *p);
void peers_send_seed(struct peers *p, int seed, int timeout_ms, peer_reply_fn cb, void *arg,
                     int argc, const char **argv, const size_t *argvlen);
void peers_destroy(struct peers *p);     /* pending callbacks run with KV_EDISCONN */

/* True when node idx (index in cfg.nodes) is self or has a live connection
 * that has not failed recently. */
bool peers_up(const struct peers *p, int idx);

/* Sends argv to node idx.  timeout_ms bounds the wait.  The callback always
 * runs exactly once, possibly before this returns (when the peer is down). */
void peers_send(struct peers *p, int idx, enum peer_chan chan, int timeout_ms, peer_reply_fn cb, void *arg,
                int argc, const char **argv, const size_t *argvlen);

/* Requests sent / failed (timeouts + disconnects), summed latency of answered
 * requests in microseconds, for INFO. */
void peers_stats(const struct peers *p, unsigned long long *sent, unsigned long long *failed,
                 unsigned long long *answered, unsigned long long *lat_us);

/* The round trips of the requests node idx answered on its data channel
 * (replica reads/writes, probes), or NULL (none yet, self, unknown idx).
 * Owned by p; valid until the next return to the event loop. */
struct lat_hist;
const struct lat_hist *peers_rtt(const struct peers *p, int idx);

/* Appends one line per peer ("name host:cport state ...") for DYNAMO NODES. */
struct buf;
void peers_describe(const struct peers *p, int idx, struct buf *out);

#endif
