/* clock.h — the node's two clocks, in one place.
 *
 * Wall clock (ms since the epoch): clock stamps, expiry, forwarding
 * deadlines, gossip generations.  Monotonic clock: every interval and
 * timeout measured inside the process.  Pure reads of the system clocks;
 * callable from any layer and any thread. */
#ifndef KV_CLOCK_H
#define KV_CLOCK_H

#include <stdint.h>

/* Wall clock in milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);
/* Monotonic clock in microseconds (arbitrary origin). */
int64_t clock_mono_us(void);
/* Monotonic clock in nanoseconds (arbitrary origin): latency recording. */
int64_t clock_mono_ns(void);
/* Monotonic clock in milliseconds (arbitrary origin). */
int64_t clock_mono_ms(void);

#endif
