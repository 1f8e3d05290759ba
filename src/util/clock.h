/* clock.h — the node's two clocks, in one place.
 *
 * Wall clock (ms since the epoch): clock stamps, expiry, forwarding
 * deadlines, gossip generations, tombstone ages.  Monotonic clock: every
 * interval and timeout measured inside the process (gossip silence, the
 * drain's pacing, latencies).
 *
 * Cached once per loop iteration: main.c hands the clock a wall source that
 * reads the event loop's cached time (libevent refreshes it once per
 * iteration, before the callbacks of that iteration run, and reads the
 * system clock outside callbacks), so every request handled in one
 * iteration is stamped and expired against one instant, as Redis does with
 * its cached mstime.  The monotonic reading stays exact: it measures
 * latencies.
 *
 * Driven by tests: clock_advance_ms moves both clocks forward by an offset
 * (DEBUG CLOCK-ADVANCE, only with enable-debug-command), so a test can make
 * a node see a tombstone grow old or a peer fall silent without waiting.
 * Event-loop timers still fire on libevent's own schedule; what the offset
 * changes is what they find when they read the clock.
 *
 * Callable from any layer; the source and the offset are set from the
 * event loop's thread only. */
#ifndef KV_CLOCK_H
#define KV_CLOCK_H

#include <stdint.h>

/* Wall clock in milliseconds since the Unix epoch (+ the test offset). */
int64_t clock_now_ms(void);
/* Monotonic clock in microseconds, arbitrary origin (+ the test offset). */
int64_t clock_mono_us(void);
/* Monotonic clock in milliseconds, arbitrary origin (+ the test offset). */
int64_t clock_mono_ms(void);

/* Where wall time comes from: fn writes microseconds since the epoch and
 * returns 0, or returns -1 to fall back to the system clock.  NULL
 * restores the system clock. */
typedef int (*clock_wall_fn)(void *arg, int64_t *us);
void clock_set_wall_source(clock_wall_fn fn, void *arg);

/* Moves both clocks forward by ms (>= 0; tests only).  Returns the total
 * offset now in effect. */
int64_t clock_advance_ms(int64_t ms);
int64_t clock_offset_ms(void);

#endif
