/* Unit tests of cmd/defer.c, the deferred-reply mechanism, against a fake
 * server (one connection, reply slots filled at once) and fake reply
 * helpers: answered at once vs into a slot, the client going away, the
 * redirect to a callback (EXEC, defer_call), the in-flight cap of capped
 * launches, and the output-limit hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "util/buf.h"
#include "util/errors.h"

/* ---- the fake server: one connection ---- */

struct reply_slot {
    int unused;
};

static struct srv *const fake_srv = (struct srv *)&fake_srv;
static struct client conn;
static bool conn_alive;
static struct reply_slot the_slot;
static int slots_opened, slots_filled;
static unsigned inflight_cap;

struct client *srv_client_find(struct srv *s, uint64_t id)
{
    assert_ptr_equal(s, fake_srv);
    return conn_alive && id == conn.id ? &conn : NULL;
}

struct reply_slot *srv_slot_open(struct client *c)
{
    assert_ptr_equal(c, &conn);
    slots_opened++;
    return &the_slot;
}

void srv_slot_fill(struct client *c, struct reply_slot *slot, srv_fill_fn fn, void *arg)
{
    assert_ptr_equal(c, &conn);
    assert_ptr_equal(slot, &the_slot);
    slots_filled++;
    fn(arg, c);
}

void srv_inflight_begin(struct client *c)
{
    c->inflight++;
}

void srv_inflight_end(struct client *c)
{
    assert_true(c->inflight > 0);
    c->inflight--;
}

bool srv_inflight_full(const struct client *c)
{
    return c->kind == SRV_CLIENT && c->inflight >= inflight_cap;
}

void srv_client_hold(struct client *c, long long delta)
{
    c->held_bytes = (size_t)((long long)c->held_bytes + delta);
}

void cmd_reply_siblings(struct client *c, unsigned n)
{
    buf_printf(&c->out, "-SIB %u\r\n", n);
}

void cmd_reply_kverr(struct client *c, int err)
{
    buf_printf(&c->out, "-E%d\r\n", err);
}

/* Latency recording (cmd_latency.c) is not under test here: no command
 * runs timed, so nothing is taken. */
void cmd_lat_take(struct client *c, struct cmd_lat_taken *t)
{
    (void)c;
    (void)t;
}

void cmd_lat_finish(struct cmd_lat_taken *t, const struct client *c, bool record_it)
{
    (void)record_it;
    (void)c;
    buf_fini(&t->args);
}

/* defer_call's dispatch: what the command under test does. */
static void (*dispatch_hook)(struct client *c);

void cmd_dispatch_client(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    dispatch_hook(c);
}

static int setup(void **state)
{
    (void)state;
    memset(&conn, 0, sizeof(conn));
    conn.srv = fake_srv;
    conn.id = 42;
    conn.proto = 2;
    conn.kind = SRV_CLIENT;
    buf_init(&conn.out);
    conn_alive = true;
    slots_opened = slots_filled = 0;
    inflight_cap = 1000;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    buf_fini(&conn.out);
    return 0;
}

static bool out_is(const struct buf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/* ---- a command's state: a defer with a reply and a fini ---- */

struct cmd_state {
    struct defer d;
    const char *text;
};

static int finis;

static void state_reply(struct defer *d, struct client *c)
{
    struct cmd_state *s = (struct cmd_state *)d;
    buf_printf(&c->out, "+%s\r\n", s->text);
}

static void state_fini(struct defer *d)
{
    (void)d;
    finis++;
}

static struct cmd_state *state_new(struct client *c, const char *text)
{
    struct cmd_state *s = defer_create(sizeof(*s), c, state_reply, state_fini);
    s->text = text;
    return s;
}

static void test_answers_at_once_without_a_slot(void **state)
{
    (void)state;
    finis = 0;
    struct cmd_state *s = state_new(&conn, "now");
    defer_dispatched(&s->d, &conn);
    assert_true(out_is(&conn.out, "+now\r\n"));
    assert_int_equal(slots_opened, 0);
    assert_int_equal(finis, 1);
}

static void test_answers_later_into_its_slot_after_the_last_sub_request(void **state)
{
    (void)state;
    finis = 0;
    struct cmd_state *s = state_new(&conn, "later");
    defer_sub_begin(&s->d);
    defer_sub_begin(&s->d);
    defer_hold_open(&s->d); /* a wait that is not a coordinator request */
    defer_dispatched(&s->d, &conn);
    assert_int_equal(slots_opened, 1);
    assert_int_equal(conn.inflight, 2);
    assert_int_equal(conn.out.len, 0);
    defer_sub_end(&s->d);
    defer_release(&s->d);
    assert_int_equal(slots_filled, 0);
    assert_int_equal(conn.inflight, 1);
    defer_sub_end(&s->d);
    assert_int_equal(slots_filled, 1);
    assert_int_equal(conn.inflight, 0);
    assert_true(out_is(&conn.out, "+later\r\n"));
    assert_int_equal(finis, 1);
}

static void test_default_reply_is_err_or_out(void **state)
{
    (void)state;
    struct defer *d = defer_create(sizeof(*d), &conn, NULL, NULL);
    d->err = KV_ESIBLINGS;
    d->nsib = 3;
    defer_dispatched(d, &conn);
    d = defer_create(sizeof(*d), &conn, NULL, NULL);
    d->err = KV_ENOQUORUM;
    defer_dispatched(d, &conn);
    d = defer_create(sizeof(*d), &conn, NULL, NULL);
    buf_put(&d->out, ":7\r\n", 4);
    defer_dispatched(d, &conn);
    struct buf want;
    buf_init(&want);
    buf_printf(&want, "-SIB 3\r\n-E%d\r\n:7\r\n", KV_ENOQUORUM);
    assert_int_equal(conn.out.len, want.len);
    assert_memory_equal(conn.out.data, want.data, want.len);
    buf_fini(&want);
}

static void test_client_gone_gets_no_reply_and_state_is_freed(void **state)
{
    (void)state;
    finis = 0;
    struct cmd_state *s = state_new(&conn, "lost");
    defer_sub_begin(&s->d);
    defer_hold_bytes(&s->d, 100);
    assert_int_equal(conn.held_bytes, 100);
    defer_dispatched(&s->d, &conn);
    conn_alive = false;
    assert_true(defer_gone(&s->d));
    assert_null(defer_client(&s->d));
    defer_sub_end(&s->d);
    assert_int_equal(slots_filled, 0);
    assert_int_equal(conn.out.len, 0);
    assert_int_equal(finis, 1);
}

static void test_held_bytes_are_released_with_the_reply(void **state)
{
    (void)state;
    struct cmd_state *s = state_new(&conn, "x");
    defer_sub_begin(&s->d);
    defer_dispatched(&s->d, &conn);
    defer_hold_bytes(&s->d, 64);
    defer_hold_bytes(&s->d, 36);
    assert_int_equal(conn.held_bytes, 100);
    defer_sub_end(&s->d);
    assert_int_equal(conn.held_bytes, 0);
}

/* ---- the redirect ---- */

static struct buf called;
static int ncalled;

static void call_done(void *arg, const char *reply, size_t len)
{
    assert_ptr_equal(arg, &called);
    buf_put(&called, reply, len);
    ncalled++;
}

static void test_redirect_takes_the_reply_instead_of_a_slot(void **state)
{
    (void)state;
    buf_init(&called);
    ncalled = 0;
    struct defer_to to = {.done = call_done, .arg = &called, .taken = false};
    conn.defer_to = &to;
    struct cmd_state *s = state_new(&conn, "redirected");
    assert_true(to.taken);
    /* only the first defer of the dispatch takes it */
    struct cmd_state *other = state_new(&conn, "other");
    assert_null(other->d.call_done);
    defer_dispatched(&other->d, &conn);
    conn.defer_to = NULL;
    defer_sub_begin(&s->d);
    defer_dispatched(&s->d, &conn);
    assert_int_equal(slots_opened, 0);
    assert_int_equal(ncalled, 0);
    defer_sub_end(&s->d);
    assert_int_equal(ncalled, 1);
    assert_true(out_is(&called, "+redirected\r\n"));
    assert_true(out_is(&conn.out, "+other\r\n"));
    buf_fini(&called);
}

static struct cmd_state *pending;

static void dispatch_answers_now(struct client *c)
{
    buf_put(&c->out, "+OK\r\n", 5);
}

static void dispatch_answers_later(struct client *c)
{
    assert_null(c->srv); /* a scratch client */
    pending = state_new(c, "late");
    defer_hold_open(&pending->d);
    defer_dispatched(&pending->d, c);
}

static void test_defer_call_passes_the_reply_exactly_once(void **state)
{
    (void)state;
    buf_init(&called);
    ncalled = 0;
    dispatch_hook = dispatch_answers_now;
    struct arg argv[1] = {{"SET", 3}};
    defer_call(NULL, 1, argv, call_done, &called);
    assert_int_equal(ncalled, 1);
    assert_true(out_is(&called, "+OK\r\n"));
    called.len = 0;
    dispatch_hook = dispatch_answers_later;
    defer_call(NULL, 1, argv, call_done, &called);
    assert_int_equal(ncalled, 1); /* not yet */
    defer_release(&pending->d);
    assert_int_equal(ncalled, 2);
    assert_true(out_is(&called, "+late\r\n"));
    buf_fini(&called);
}

/* ---- capped launches ---- */

static struct defer *launched[8];
static int nlaunched;

static void launch_one(struct defer *d, int i)
{
    assert_int_equal(i, nlaunched);
    if (defer_gone(d)) { /* the launch must fail it */
        nlaunched++;
        return;
    }
    assert_int_equal(d->largv[i].len, 2);
    launched[nlaunched++] = d;
    defer_sub_begin(d);
}

static void test_launches_stay_under_the_inflight_cap(void **state)
{
    (void)state;
    finis = 0;
    nlaunched = 0;
    inflight_cap = 2;
    struct arg keys[5] = {{"k0", 2}, {"k1", 2}, {"k2", 2}, {"k3", 2}, {"k4", 2}};
    struct cmd_state *s = state_new(&conn, "all");
    defer_launch_all(&s->d, 5, 5, keys, launch_one);
    defer_dispatched(&s->d, &conn);
    assert_int_equal(nlaunched, 2);
    assert_int_equal(conn.inflight, 2);
    defer_sub_end(&s->d); /* one completes: one more starts */
    assert_int_equal(nlaunched, 3);
    assert_int_equal(conn.inflight, 2);
    defer_sub_end(&s->d);
    defer_sub_end(&s->d);
    assert_int_equal(nlaunched, 5);
    defer_sub_end(&s->d);
    assert_int_equal(slots_filled, 0);
    defer_sub_end(&s->d);
    assert_int_equal(slots_filled, 1);
    assert_int_equal(conn.inflight, 0);
    assert_true(out_is(&conn.out, "+all\r\n"));
    assert_int_equal(finis, 1);
}

static void test_a_defer_with_nothing_in_flight_launches_one_at_the_cap(void **state)
{
    (void)state;
    nlaunched = 0;
    inflight_cap = 1;
    conn.inflight = 1; /* held by another request of the connection */
    struct arg keys[2] = {{"k0", 2}, {"k1", 2}};
    struct cmd_state *s = state_new(&conn, "x");
    defer_launch_all(&s->d, 2, 2, keys, launch_one);
    defer_dispatched(&s->d, &conn);
    assert_int_equal(nlaunched, 1);
    defer_sub_end(&s->d);
    assert_int_equal(nlaunched, 2);
    defer_sub_end(&s->d);
    assert_int_equal(slots_filled, 1);
    assert_int_equal(conn.inflight, 1);
}

static void test_launches_after_the_client_went_away_all_fail_at_once(void **state)
{
    (void)state;
    finis = 0;
    nlaunched = 0;
    inflight_cap = 1;
    struct arg keys[4] = {{"k0", 2}, {"k1", 2}, {"k2", 2}, {"k3", 2}};
    struct cmd_state *s = state_new(&conn, "x");
    defer_launch_all(&s->d, 4, 4, keys, launch_one);
    defer_dispatched(&s->d, &conn);
    assert_int_equal(nlaunched, 1);
    conn_alive = false;
    defer_sub_end(&s->d);
    assert_int_equal(nlaunched, 4);
    assert_int_equal(finis, 1);
    assert_int_equal(slots_filled, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answers_at_once_without_a_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_answers_later_into_its_slot_after_the_last_sub_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_reply_is_err_or_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_gone_gets_no_reply_and_state_is_freed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_bytes_are_released_with_the_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirect_takes_the_reply_instead_of_a_slot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_defer_call_passes_the_reply_exactly_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_launches_stay_under_the_inflight_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_defer_with_nothing_in_flight_launches_one_at_the_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_launches_after_the_client_went_away_all_fail_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
