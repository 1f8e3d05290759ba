/* vclock.h — vector clocks (Dynamo §4.4). Pure module: no I/O.
 *
 * A clock is a set of entries (actor, counter, timestamp).  Actors are the
 * clock identities of coordinating nodes: a stable node name plus its
 * incarnation, written "name.incarnation" (e.g. "n1.1764064488123"), so a
 * node that restarts without its data never stamps a counter that an older
 * entry of its own could dominate.  Inside the process an actor is a small
 * interned integer (vc_actor_intern); on the wire it is the name.
 *
 * Ordering uses counters only.  Timestamps (wall-clock ms of the last
 * increment by that actor) exist only so vc_prune can drop the oldest entries
 * when a clock exceeds vclock-max-entries.
 *
 * Entries are kept sorted by actor id (ids are per-process, which is why the
 * wire codec uses names and re-sorts on decode).
 *
 * Ownership: a struct vclock owns its entry array.  Do not memcpy one clock
 * over another; use vc_copy / vc_move.  vc_fini accepts zeroed memory.
 */
#ifndef KV_VCLOCK_H
#define KV_VCLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define VC_DEFAULT_MAX_ENTRIES 50
#define VC_MAX_ACTOR_LEN 255     /* longest actor name accepted by the codecs */
#define VC_MAX_DECODE_ENTRIES 4096 /* clocks from the network larger than this are refused */
/* Largest counter the codecs accept (from clients, peers and the log).  An
 * honest actor (one node incarnation) cannot issue 2^48 writes to one key;
 * the bound leaves room so that no increment can ever saturate or wrap. */
#define VC_MAX_COUNTER ((uint64_t)1 << 48)

struct vc_entry {
    uint32_t actor;   /* interned actor id */
    uint32_t pad_;
    uint64_t counter; /* >= 1 */
    uint64_t ts_ms;   /* wall clock of the last increment, for pruning only */
};

struct vclock {
    uint32_t n;
    uint32_t cap;
    struct vc_entry *e; /* sorted by actor, no duplicates */
};

enum vc_order {
    VC_EQUAL = 0,
    VC_BEFORE,     /* a < b: b dominates a */
    VC_AFTER,      /* a > b: a dominates b */
    VC_CONCURRENT,
    VC_ORDER_COUNT
};
const char *vc_order_name(enum vc_order o);

/* ---- actor interning (process-wide table; ids are never reused) ---- */
/* Returns the id for name[0..len), adding it if new. len <= VC_MAX_ACTOR_LEN. */
uint32_t vc_actor_intern(const char *name, size_t len);
/* Returns the name of an id (borrowed, valid for the process lifetime) and its length. */
const char *vc_actor_name(uint32_t id, size_t *len);
/* Looks name[0..len) up without adding it; true and *id when interned. */
bool vc_actor_find(const char *name, size_t len, uint32_t *id);
/* Actors interned so far (INFO clock_actors). */
uint32_t vc_actor_count(void);
/* For other codecs that carry actor names (crdt_codec.c): true when
 * name[0..len) is a name the wire decoders accept (1..VC_MAX_ACTOR_LEN
 * printable ASCII bytes, no space), and the interning of such a name from
 * the network, which refuses (KV_EBADCTX) a new name once the table holds
 * as many names as vc_decode lets peers add. */
bool vc_actor_name_ok(const void *name, size_t len);
int vc_actor_intern_wire(const char *name, size_t len, uint32_t *id);

/* ---- algebra ---- */
void vc_init(struct vclock *vc);
void vc_fini(struct vclock *vc);
void vc_clear(struct vclock *vc);                       /* n = 0, keeps memory */
void vc_copy(struct vclock *dst, const struct vclock *src); /* dst overwritten */
void vc_move(struct vclock *dst, struct vclock *src);   /* dst finied, src emptied */
/* HOT: actor's counter, 0 when absent.  Inline: the dotted-version order
 * asks it several times per write; clocks are short and sorted by actor, so
 * a scan that stops at the first larger actor beats a call. */
static inline uint64_t vc_counter(const struct vclock *vc, uint32_t actor)
{
    for (uint32_t i = 0; i < vc->n && vc->e[i].actor <= actor; i++)
        if (vc->e[i].actor == actor)
            return vc->e[i].counter;
    return 0;
}
/* Increments actor's counter (adds it at 1 when absent) and sets its ts. */
void vc_increment(struct vclock *vc, uint32_t actor, uint64_t now_ms);
/* Sets the timestamp of actor's entry to now_ms (when it has one and an
 * older timestamp): a typed state's clock says when it last changed. */
void vc_stamp(struct vclock *vc, uint32_t actor, uint64_t now_ms);
/* a and b hold the same entries with the same counters AND timestamps
 * (vc_compare's VC_EQUAL ignores timestamps): codec round trips check this. */
bool vc_identical(const struct vclock *a, const struct vclock *b);
/* dst = pointwise max of dst and src (ts: max too). */
void vc_merge(struct vclock *dst, const struct vclock *src);
/* HOT: compares by counters only. */
enum vc_order vc_compare(const struct vclock *a, const struct vclock *b);
/* a descends from b (a >= b pointwise). */
bool vc_descends(const struct vclock *a, const struct vclock *b);
/* Drops the entries with the oldest timestamps until n <= max_entries.
 * Returns the number of entries dropped. */
unsigned vc_prune(struct vclock *vc, unsigned max_entries);

/* ---- local compact codec (actor ids; never leaves the process) ---- */
/* Appends a compact encoding (varints) to out. */
void vc_pack(const struct vclock *vc, struct buf *out);
/* Decodes what vc_pack wrote; *used = bytes read. 0 or KV_EPROTO. */
int vc_unpack(struct vclock *vc, const void *p, size_t len, size_t *used);

/* ---- wire codec (actor names; used between nodes) ---- */
void vc_encode(const struct vclock *vc, struct buf *out);
/* Validates everything (lengths, counts <= VC_MAX_DECODE_ENTRIES, counters
 * in 1..VC_MAX_COUNTER, no duplicate actors); *used = bytes read. 0 or
 * KV_EBADCTX. */
int vc_decode(struct vclock *vc, const void *p, size_t len, size_t *used);

/* ---- client context: printable, opaque, checksummed ---- */
/* Appends a printable token (base64url alphabet, no padding) that encodes
 * the clock plus a version byte and a checksum.  The empty clock encodes as
 * the empty string. */
void vc_to_context(const struct vclock *vc, struct buf *out);
/* Decodes a context from a client.  Empty input = empty clock.  Anything
 * malformed (bad alphabet, bad checksum, truncated, bad entries, counters
 * above VC_MAX_COUNTER) returns KV_EBADCTX and leaves vc empty; never
 * crashes on any input.  Entries naming actors this process has never
 * interned are dropped (never added to the actor table), so the result may
 * hold fewer entries than the token, possibly none. */
int vc_from_context(struct vclock *vc, const void *p, size_t len);

/* ---- readable form ---- */
/* Appends e.g. "[n1.1764064488123:3@1764064490001, n2.1764064488200:1@...]". */
void vc_format(const struct vclock *vc, struct buf *out);

#endif
