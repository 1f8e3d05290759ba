/* hiredis_ev.h — attaching a hiredis async context to a libevent loop with
 * fewer system calls than hiredis's stock libevent adapter. */
#ifndef DN_NET_HIREDIS_EV_H
#define DN_NET_HIREDIS_EV_H

#include <event2/event.h>
#include <hiredis/async.h>

/* Attaches ac to base.  Commands queued on ac during one loop iteration
 * leave in one write() at the end of that iteration's callbacks; the read
 * event stays registered for the context's whole life.  Returns 0, or -1
 * when ac already has an adapter or memory is short. */
int hiredis_ev_attach(redisAsyncContext *ac, struct event_base *base);

#endif
