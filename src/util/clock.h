/* clock.h — the node's two clocks, in one place.
 *
 * Wall clock (ms since the epoch): clock stamps, expiry, forwarding
 * deadlines, gossip generations, tombstone ages.  Monotonic clock: every
 * interval and timeout measured inside the process (gossip silence, the
 * drain's pacing, latencies).
 *
 * Cached once per loop iteration: main.c hands the clock a source that
 * names the loop iteration running now (libevent's cached time, which it
 * refreshes once per iteration before that iteration's callbacks run, from
 * a precise monotonic clock: with the coarse one several iterations share
 * a value and a reading would outlive its iteration).  The
 * first wall reading of an iteration reads the system clock and every later
 * one in the same iteration returns that reading, so every request handled
 * in one iteration is stamped and expired against one instant, as Redis
 * does with its cached mstime.  (libevent's cached time itself is not used
 * as the time: it is derived from the monotonic clock and drifts from the
 * system's wall clock between its resyncs, which other nodes would see.)
 * Outside callbacks each reading is fresh.  The monotonic reading stays
 * exact: it measures latencies.

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
/* Monotonic clock in nanoseconds, arbitrary origin (+ the test offset):
 * latency recording. */
int64_t clock_mono_ns(void);
/* Monotonic clock in milliseconds, arbitrary origin (+ the test offset). */
int64_t clock_mono_ms(void);

/* The loop iteration running now: fn writes a value that stays the same
 * during one iteration and changes from one to the next, and returns 0; or
 * returns -1 (no iteration: every reading is fresh).  NULL: no caching. */
typedef int (*clock_iteration_fn)(void *arg, int64_t *iteration);
void clock_set_iteration_source(clock_iteration_fn fn, void *arg);

/* Moves both clocks forward by ms (>= 0; tests only).  Returns the total
 * offset now in effect. */
int64_t clock_advance_ms(int64_t ms);
int64_t clock_offset_ms(void);

#endif
