/* test_gossip.c — membership table, failure detector and table codec.
 *
 * Three (or more) simulated nodes, each its own struct gossip, exchange
 * tables by calling gossip_encode/gossip_merge directly while the test
 * drives the clock by hand: no sockets, no sleeps.  Decoding is checked
 * against truncation at every length, hand-built malformed tables and
 * random garbage from a fixed-seed PRNG (override with KV_TEST_SEED=<n>);
 * every rejected input must leave the table exactly as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "gossip.h"
#include "util/buf.h"

#define MAXN 8

static unsigned long long seed = 0x90551bULL;
static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static struct cfg_node nodes[MAXN];

static int setup(void **state)
{
    (void)state;
    rng_state = seed;
    memset(nodes, 0, sizeof(nodes));
    for (int i = 0; i < MAXN; i++) {
        snprintf(nodes[i].name, sizeof(nodes[i].name), "n%d", i + 1);
        snprintf(nodes[i].host, sizeof(nodes[i].host), "127.0.0.1");
        nodes[i].port = 7000 + i;
        nodes[i].cport = 17000 + i;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* change-callback recorder                                          */

struct change {
    int64_t at;
    int idx;
    enum gossip_state from, to;
};

struct recorder {
    int64_t *clock;  /* the simulation's current time */
    int n;
    struct change c[64];
};

static void record(void *arg, int idx, enum gossip_state from, enum gossip_state to)
{
    struct recorder *r = arg;
    assert_true(r->n < 64);
    r->c[r->n++] = (struct change){ *r->clock, idx, from, to };
}

static void assert_change(const struct recorder *r, int k, int64_t at, int idx,
                          enum gossip_state from, enum gossip_state to)
{
    assert_true(k < r->n);
    assert_int_equal(r->c[k].at, at);
    assert_int_equal(r->c[k].idx, idx);
    assert_int_equal(r->c[k].from, from);
    assert_int_equal(r->c[k].to, to);
}

/* ---------------------------------------------------------------- */
/* wire helpers                                                      */

static void put_varint(struct buf *b, uint64_t x)
{
    while (x >= 0x80) {
        buf_putc(b, (char)(x | 0x80));
        x >>= 7;
    }
    buf_putc(b, (char)x);
}

static void put_row(struct buf *b, const char *name, uint64_t gen, uint64_t hb)
{
    size_t n = strlen(name);
    buf_putc(b, (char)n);
    buf_put(b, name, n);
    put_varint(b, gen);
    put_varint(b, hb);
}

/* Sends from's table to to; returns gossip_merge's result. */
static int exchange(const struct gossip *from, struct gossip *to, int64_t now)
{
    struct buf b;
    buf_init(&b);
    gossip_encode(from, &b);
    int rc = gossip_merge(to, b.data, b.len, now);
    buf_fini(&b);
    return rc;
}

/* Everything observable about a table at one instant. */
struct snap {
    struct buf enc;
    enum gossip_state st[MAXN];
    int64_t silence[MAXN];
};

static void snap_take(struct snap *s, const struct gossip *g, int64_t now)
{
    buf_init(&s->enc);
    gossip_encode(g, &s->enc);
    for (int i = 0; i < gossip_nmembers(g); i++) {
        s->st[i] = gossip_state(g, i);
        s->silence[i] = gossip_silence_ms(g, i, now);
    }
}

static void assert_unchanged(const struct snap *s, const struct gossip *g, int64_t now)
{
    struct snap t;
    snap_take(&t, g, now);
    assert_int_equal(s->enc.len, t.enc.len);
    assert_memory_equal(s->enc.data, t.enc.data, s->enc.len);
    for (int i = 0; i < gossip_nmembers(g); i++) {
        assert_int_equal(s->st[i], t.st[i]);
        assert_int_equal(s->silence[i], t.silence[i]);
    }
    buf_fini(&t.enc);
}

/* Expects KV_EPROTO for p[0..len) and no observable change to g. */
static void assert_rejected(struct gossip *g, const struct recorder *r, const void *p,
                            size_t len, int64_t now)
{
    struct snap s;
    snap_take(&s, g, now);
    int before = r ? r->n : 0;
    assert_int_equal(gossip_merge(g, p, len, now), KV_EPROTO);
    assert_unchanged(&s, g, now);
    if (r)
        assert_int_equal(r->n, before);
    buf_fini(&s.enc);
}

/* ---------------------------------------------------------------- */

static void test_basics(void **state)
{
    (void)state;
    assert_string_equal(gossip_state_name(GOSSIP_ALIVE), "alive");
    assert_string_equal(gossip_state_name(GOSSIP_SUSPECT), "suspect");
    assert_string_equal(gossip_state_name(GOSSIP_DEAD), "dead");
    assert_string_equal(gossip_state_name(GOSSIP_STATE_COUNT), "?");
    gossip_destroy(NULL);

    struct gossip *g = gossip_create(nodes, 3, 1, 5000, 100);
    assert_non_null(g);
    assert_int_equal(gossip_nmembers(g), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gossip_state(g, i), GOSSIP_ALIVE);
        assert_int_equal(gossip_heartbeat(g, i), 0);
        assert_int_equal(gossip_silence_ms(g, i, 150), 50);
        assert_int_equal(gossip_generation(g, i), i == 1 ? 5000 : 0);
    }
    /* Self heartbeats once per tick and stays alive however long it runs;
     * no callback is registered (NULL is allowed). */
    for (int t = 1; t <= 100; t++) {
        gossip_tick(g, 100 + (int64_t)t * 1000);
        assert_int_equal(gossip_heartbeat(g, 1), (uint64_t)t);
        assert_int_equal(gossip_state(g, 1), GOSSIP_ALIVE);
    }
    assert_int_equal(gossip_state(g, 0), GOSSIP_DEAD);
    assert_int_equal(gossip_state(g, 2), GOSSIP_DEAD);

    /* Encoding: count, then n1, n2, n3 in configuration order. */
    struct buf want, got;
    buf_init(&want);
    buf_init(&got);
    put_varint(&want, 3);
    put_row(&want, "n1", 0, 0);
    put_row(&want, "n2", 5000, 100);
    put_row(&want, "n3", 0, 0);
    buf_put(&got, "xy", 2); /* encode appends */
    gossip_encode(g, &got);
    assert_int_equal(got.len, 2 + want.len);
    assert_memory_equal(got.data + 2, want.data, want.len);
    buf_fini(&want);
    buf_fini(&got);
    gossip_destroy(g);
}

/* A hears about C only through B; then every node converges. */
static void test_transitive(void **state)
{
    (void)state;
    int64_t now = 0;
    struct gossip *a = gossip_create(nodes, 3, 0, 1000, now);
    struct gossip *b = gossip_create(nodes, 3, 1, 1001, now);
    struct gossip *c = gossip_create(nodes, 3, 2, 1002, now);
    for (now = 100; now <= 300; now += 100)
        gossip_tick(c, now);
    assert_int_equal(gossip_heartbeat(c, 2), 3);

    assert_int_equal(exchange(c, b, now), 1); /* C's row; B ignores its own */
    assert_int_equal(gossip_generation(b, 2), 1002);
    assert_int_equal(gossip_heartbeat(b, 2), 3);
    assert_int_equal(gossip_heartbeat(a, 2), 0);

    now = 400;
    assert_int_equal(exchange(b, a, now), 2); /* B's own row and C's */
    assert_int_equal(gossip_generation(a, 2), 1002);
    assert_int_equal(gossip_heartbeat(a, 2), 3);
    assert_int_equal(gossip_generation(a, 1), 1001);
    assert_int_equal(gossip_silence_ms(a, 2, 450), 50);
    /* Nothing new the second time. */
    assert_int_equal(exchange(b, a, now), 0);

    /* Rounds of tick + push in a line a->b->c->a: everyone ends up with
     * everyone's latest heartbeat, within one round's lag. */
    struct gossip *g[3] = { a, b, c };
    for (int round = 0; round < 20; round++) {
        now += 100;
        for (int i = 0; i < 3; i++)
            gossip_tick(g[i], now);
        for (int i = 0; i < 3; i++)
            assert_true(exchange(g[i], g[(i + 1) % 3], now) >= 0);
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            assert_int_equal(gossip_generation(g[i], j), 1000 + j);
            assert_true(gossip_heartbeat(g[i], j) + 2 >= gossip_heartbeat(g[j], j));
            assert_int_equal(gossip_state(g[i], j), GOSSIP_ALIVE);
        }
    for (int i = 0; i < 3; i++)
        gossip_destroy(g[i]);
}

/* C falls silent; A and B keep gossiping.  Both judge C suspect just after
 * 3000 ms of silence and dead just after 8000 ms, once each.  Then C
 * restarts with a new generation and is alive again everywhere. */
static void test_failure_and_restart(void **state)
{
    (void)state;
    int64_t now = 0;
    struct recorder ra = { .clock = &now }, rb = { .clock = &now };
    struct gossip *a = gossip_create(nodes, 3, 0, 1000, now);
    struct gossip *b = gossip_create(nodes, 3, 1, 1001, now);
    struct gossip *c = gossip_create(nodes, 3, 2, 1002, now);
    gossip_on_change(a, record, &ra);
    gossip_on_change(b, record, &rb);

    /* C's first heartbeat reaches B (and through B, A) at t = 10. */
    now = 10;
    gossip_tick(c, now);
    assert_int_equal(exchange(c, b, now), 1);
    assert_int_equal(exchange(b, a, now), 2);
    for (now = 11; now <= 12000; now++) {
        gossip_tick(a, now);
        gossip_tick(b, now);
        assert_int_equal(exchange(a, b, now), 1); /* A's fresh heartbeat */
        assert_int_equal(exchange(b, a, now), 1);
        enum gossip_state want = now - 10 > 8000   ? GOSSIP_DEAD
                                 : now - 10 > 3000 ? GOSSIP_SUSPECT
                                                   : GOSSIP_ALIVE;
        assert_int_equal(gossip_state(a, 2), want);
        assert_int_equal(gossip_state(b, 2), want);
        assert_int_equal(gossip_silence_ms(a, 2, now), now - 10);
        assert_int_equal(gossip_state(a, 1), GOSSIP_ALIVE);
        assert_int_equal(gossip_state(b, 0), GOSSIP_ALIVE);
    }
    struct recorder *rs[2] = { &ra, &rb };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(rs[k]->n, 2);
        assert_change(rs[k], 0, 3011, 2, GOSSIP_ALIVE, GOSSIP_SUSPECT);
        assert_change(rs[k], 1, 8011, 2, GOSSIP_SUSPECT, GOSSIP_DEAD);
    }

    /* C restarts: new generation (its start time), heartbeat from 0. */
    gossip_destroy(c);
    now = 20000;
    c = gossip_create(nodes, 3, 2, 20000, now);
    assert_int_equal(exchange(c, a, now), 1);
    assert_int_equal(gossip_generation(a, 2), 20000);
    assert_int_equal(gossip_heartbeat(a, 2), 0);
    assert_int_equal(gossip_state(a, 2), GOSSIP_ALIVE);
    assert_int_equal(gossip_silence_ms(a, 2, now), 0);
    assert_int_equal(ra.n, 3);
    assert_change(&ra, 2, 20000, 2, GOSSIP_DEAD, GOSSIP_ALIVE);
    /* ... and B learns it from A, not from C. */
    now = 20100;
    assert_true(exchange(a, b, now) >= 1);
    assert_int_equal(gossip_generation(b, 2), 20000);
    assert_int_equal(gossip_state(b, 2), GOSSIP_ALIVE);
    assert_int_equal(rb.n, 3);
    assert_change(&rb, 2, 20100, 2, GOSSIP_DEAD, GOSSIP_ALIVE);

    /* The old incarnation's rows, however high their heartbeat, lose. */
    struct buf t;
    buf_init(&t);
    put_varint(&t, 1);
    put_row(&t, "n3", 1002, 1000000);
    struct snap s;
    snap_take(&s, a, now);
    assert_int_equal(gossip_merge(a, t.data, t.len, now), 0);
    assert_unchanged(&s, a, now);
    assert_int_equal(ra.n, 3);
    buf_fini(&s.enc);
    /* Same generation, lower or equal heartbeat: nothing either. */
    gossip_tick(c, now);
    gossip_tick(c, now);
    assert_int_equal(exchange(c, a, now), 1);
    buf_fini(&t);
    buf_init(&t);
    put_varint(&t, 2);
    put_row(&t, "n3", 20000, 1);
    put_row(&t, "n3", 20000, 2);
    snap_take(&s, a, now + 5);
    assert_int_equal(gossip_merge(a, t.data, t.len, now + 5), 0);
    assert_unchanged(&s, a, now + 5);
    buf_fini(&s.enc);
    buf_fini(&t);

    gossip_destroy(a);
    gossip_destroy(b);
    gossip_destroy(c);
}

/* Silence past dead_ms with no tick in between: one alive->dead change. */
static void test_timeouts(void **state)
{
    (void)state;
    int64_t now = 0;
    struct recorder r = { .clock = &now };
    struct gossip *g = gossip_create(nodes, 2, 0, 1, now);
    gossip_on_change(g, record, &r);
    gossip_set_timeouts(g, 100, 200);
    now = 100;
    gossip_tick(g, now);
    assert_int_equal(r.n, 0);
    now = 101;
    gossip_tick(g, now);
    now = 200;
    gossip_tick(g, now);
    now = 201;
    gossip_tick(g, now);
    gossip_tick(g, now);
    assert_int_equal(r.n, 2);
    assert_change(&r, 0, 101, 1, GOSSIP_ALIVE, GOSSIP_SUSPECT);
    assert_change(&r, 1, 201, 1, GOSSIP_SUSPECT, GOSSIP_DEAD);

    /* Jump straight past dead. */
    struct buf t;
    buf_init(&t);
    put_varint(&t, 1);
    put_row(&t, "n2", 7, 1);
    now = 300;
    assert_int_equal(gossip_merge(g, t.data, t.len, now), 1);
    assert_change(&r, 2, 300, 1, GOSSIP_DEAD, GOSSIP_ALIVE);
    now = 1000;
    gossip_tick(g, now);
    assert_int_equal(r.n, 4);
    assert_change(&r, 3, 1000, 1, GOSSIP_ALIVE, GOSSIP_DEAD);

    /* Nonsense timeouts are clamped to suspect 1, dead 1. */
    gossip_set_timeouts(g, 0, -5);
    buf_fini(&t);
    buf_init(&t);
    put_varint(&t, 1);
    put_row(&t, "n2", 7, 2);
    assert_int_equal(gossip_merge(g, t.data, t.len, now), 1);
    now = 1001;
    gossip_tick(g, now);
    assert_int_equal(gossip_state(g, 1), GOSSIP_ALIVE);
    now = 1002;
    gossip_tick(g, now);
    assert_int_equal(gossip_state(g, 1), GOSSIP_DEAD);

    /* Unregistering the callback. */
    gossip_on_change(g, NULL, NULL);
    int before = r.n;
    assert_int_equal(gossip_merge(g, t.data, t.len, now), 0);
    put_varint(&t, 0); /* now trailing garbage */
    assert_int_equal(gossip_merge(g, t.data, t.len, now), KV_EPROTO);
    t.len--;
    t.data[t.len - 1] = 3; /* heartbeat 3 */
    assert_int_equal(gossip_merge(g, t.data, t.len, now), 1);
    assert_int_equal(gossip_state(g, 1), GOSSIP_ALIVE);
    assert_int_equal(r.n, before);
    buf_fini(&t);
    gossip_destroy(g);
}

/* Rows naming unknown members are skipped; rows about self never change
 * self's row, whatever they claim. */
static void test_unknown_and_self(void **state)
{
    (void)state;
    int64_t now = 0;
    struct recorder r = { .clock = &now };
    struct gossip *a = gossip_create(nodes, 3, 0, 5000, now);
    struct gossip *b = gossip_create(nodes, 3, 1, 5001, now);
    gossip_on_change(a, record, &r);
    for (now = 1; now <= 5; now++)
        gossip_tick(a, now);

    struct buf t;
    buf_init(&t);
    put_varint(&t, 7);
    put_row(&t, "zz", 99, 99);
    put_row(&t, "n", 99, 99);      /* prefix of a member's name */
    put_row(&t, "n10", 99, 99);    /* extension of one */
    put_row(&t, "N1", 99, 99);     /* names are case-sensitive */
    put_row(&t, "n1", 5000, 1000); /* self: same generation, higher heartbeat */
    put_row(&t, "n1", 9999, 0);    /* self: higher generation */
    put_row(&t, "n1", 1, 1);       /* self: lower generation */
    struct snap s;
    snap_take(&s, a, now);
    assert_int_equal(gossip_merge(a, t.data, t.len, now), 0);
    assert_unchanged(&s, a, now);
    assert_int_equal(gossip_generation(a, 0), 5000);
    assert_int_equal(gossip_heartbeat(a, 0), 5);
    buf_fini(&s.enc);
    buf_fini(&t);

    /* B's stale view of A comes back to A: A keeps its own row. */
    assert_int_equal(exchange(a, b, now), 1);
    for (int i = 0; i < 10; i++)
        gossip_tick(a, now);
    assert_int_equal(exchange(b, a, now), 1); /* only B's row */
    assert_int_equal(gossip_heartbeat(a, 0), 15);
    assert_int_equal(gossip_state(a, 0), GOSSIP_ALIVE);

    /* Size limits on well-formed tables: 256 rows and 63-byte names pass,
     * 257 rows and 64-byte names do not. */
    char name63[64], name64[65];
    memset(name63, 'x', 63);
    name63[63] = '\0';
    memset(name64, 'x', 64);
    name64[64] = '\0';
    buf_init(&t);
    put_varint(&t, 256);
    for (int i = 0; i < 255; i++)
        put_row(&t, "n2", 5001, (uint64_t)i); /* 254 advancing rows, one member */
    put_row(&t, name63, 1, 1);
    assert_int_equal(gossip_merge(a, t.data, t.len, now), 1);
    assert_int_equal(gossip_heartbeat(a, 1), 254);
    buf_fini(&t);
    buf_init(&t);
    put_varint(&t, 256);
    for (int i = 0; i < 256; i++)
        put_row(&t, "n3", 1, (uint64_t)i + 1);
    assert_int_equal(gossip_merge(a, t.data, t.len, now), 1);
    assert_int_equal(gossip_heartbeat(a, 2), 256);
    buf_fini(&t);
    buf_init(&t);
    put_varint(&t, 257);
    for (int i = 0; i < 257; i++)
        put_row(&t, "n3", 1, 1000 + (uint64_t)i);
    assert_rejected(a, &r, t.data, t.len, now);
    buf_fini(&t);
    buf_init(&t);
    put_varint(&t, 1);
    put_row(&t, name64, 1, 1);
    assert_rejected(a, &r, t.data, t.len, now);
    buf_fini(&t);

    /* An empty table is well-formed. */
    assert_int_equal(gossip_merge(a, "\0", 1, now), 0);
    gossip_destroy(a);
    gossip_destroy(b);
}

static void test_malformed(void **state)
{
    (void)state;
    int64_t now = 0;
    struct recorder r = { .clock = &now };
    struct gossip *a = gossip_create(nodes, 3, 0, 1000, now);
    gossip_on_change(a, record, &r);
    now = 5000;
    gossip_tick(a, now); /* n2 and n3 suspect: applying any row would show */
    assert_int_equal(r.n, 2);

    /* A valid table that would advance both others, with multi-byte varints
     * so truncations fall inside them too. */
    struct buf v;
    buf_init(&v);
    put_varint(&v, 4);
    put_row(&v, "n1", 99999, 99999);
    put_row(&v, "n2", 5, 300);
    put_row(&v, "zz", 1, 1);
    put_row(&v, "n3", (uint64_t)1 << 40, UINT64_MAX);
    for (size_t len = 0; len < v.len; len++)
        assert_rejected(a, &r, v.data, len, now);
    assert_rejected(a, &r, NULL, 0, now);

    /* Trailing bytes, one or many. */
    struct buf t;
    buf_init(&t);
    buf_put(&t, v.data, v.len);
    buf_putc(&t, 0);
    assert_rejected(a, &r, t.data, t.len, now);
    put_row(&t, "n2", 6, 1);
    assert_rejected(a, &r, t.data, t.len, now);
    buf_fini(&t);

    /* Count disagreeing with the rows present. */
    v.data[0] = 3;
    assert_rejected(a, &r, v.data, v.len, now);
    v.data[0] = 5;
    assert_rejected(a, &r, v.data, v.len, now);
    v.data[0] = 4;

    /* Overlong and over-wide varints. */
    static const uint8_t overlong_count[] = { 0x80, 0x00 };
    static const uint8_t overlong_gen[] = { 1, 2, 'n', '2', 0x85, 0x00, 1 };
    static const uint8_t overlong_hb[] = { 1, 2, 'n', '2', 1, 0xff, 0x80, 0x00 };
    static const uint8_t eleven[] = { 1, 2, 'n', '2', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0x01, 1 };
    static const uint8_t wide[] = { 1, 2, 'n', '2', 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x02, 1 };
    static const uint8_t unterminated[] = { 1, 2, 'n', '2', 1, 0xff, 0xff };
    assert_rejected(a, &r, overlong_count, sizeof(overlong_count), now);
    assert_rejected(a, &r, overlong_gen, sizeof(overlong_gen), now);
    assert_rejected(a, &r, overlong_hb, sizeof(overlong_hb), now);
    assert_rejected(a, &r, eleven, sizeof(eleven), now);
    assert_rejected(a, &r, wide, sizeof(wide), now);
    assert_rejected(a, &r, unterminated, sizeof(unterminated), now);

    /* Huge counts, with and without the bytes to back them. */
    buf_init(&t);
    put_varint(&t, 10000);
    assert_rejected(a, &r, t.data, t.len, now);
    for (int i = 0; i < 10000; i++)
        put_row(&t, "n2", 7, (uint64_t)i + 1);
    assert_rejected(a, &r, t.data, t.len, now);
    buf_fini(&t);
    buf_init(&t);
    put_varint(&t, UINT64_MAX);
    put_row(&t, "n2", 7, 1);
    assert_rejected(a, &r, t.data, t.len, now);
    buf_fini(&t);

    /* Name lengths 0 and 200 (with 200 bytes present). */
    static const uint8_t name0[] = { 2, 0, 1, 1, 2, 'n', '2', 1, 1 };
    assert_rejected(a, &r, name0, sizeof(name0), now);
    buf_init(&t);
    put_varint(&t, 1);
    buf_putc(&t, (char)200);
    for (int i = 0; i < 200; i++)
        buf_putc(&t, 'x');
    put_varint(&t, 1);
    put_varint(&t, 1);
    assert_rejected(a, &r, t.data, t.len, now);
    buf_fini(&t);
    static const uint8_t name_past_end[] = { 1, 9, 'n', '2', 1, 1 };
    assert_rejected(a, &r, name_past_end, sizeof(name_past_end), now);

    /* Random garbage.  A random buffer is almost never a well-formed table;
     * the rare one that is may merge, every other one must change nothing. */
    uint8_t junk[300];
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rnd() % sizeof(junk));
        for (size_t i = 0; i < len; i++)
            junk[i] = (uint8_t)rnd();
        if (iter % 2 && len)
            junk[0] = (uint8_t)(1 + rnd() % 4); /* plausible counts reach the rows */
        struct snap s;
        snap_take(&s, a, now);
        int before = r.n;
        int rc = gossip_merge(a, junk, len, now);
        if (rc == KV_EPROTO) {
            assert_unchanged(&s, a, now);
            assert_int_equal(r.n, before);
        } else {
            assert_true(rc >= 0);
            accepted++;
        }
        buf_fini(&s.enc);
    }
    assert_true(accepted < 20);
    assert_int_equal(gossip_heartbeat(a, 1), 0);
    assert_int_equal(gossip_heartbeat(a, 2), 0);

    /* Single-byte corruptions of the valid table: rejected unchanged, or a
     * table that parses — never a regression of any row. */
    for (int iter = 0; iter < 5000; iter++) {
        buf_init(&t);
        buf_put(&t, v.data, v.len);
        t.data[rnd() % t.len] ^= (char)(1u << (rnd() % 8));
        uint64_t hb1 = gossip_heartbeat(a, 1), hb2 = gossip_heartbeat(a, 2);
        uint64_t g1 = gossip_generation(a, 1), g2 = gossip_generation(a, 2);
        struct snap s;
        snap_take(&s, a, now);
        int rc = gossip_merge(a, t.data, t.len, now);
        if (rc == KV_EPROTO)
            assert_unchanged(&s, a, now);
        assert_true(gossip_generation(a, 1) > g1 ||
                    (gossip_generation(a, 1) == g1 && gossip_heartbeat(a, 1) >= hb1));
        assert_true(gossip_generation(a, 2) > g2 ||
                    (gossip_generation(a, 2) == g2 && gossip_heartbeat(a, 2) >= hb2));
        assert_int_equal(gossip_generation(a, 0), 1000);
        assert_int_equal(gossip_heartbeat(a, 0), 1);
        buf_fini(&s.enc);
        buf_fini(&t);
    }

    /* The intact table still merges into a fresh node, extremes included. */
    struct gossip *f = gossip_create(nodes, 3, 0, 1000, 0);
    assert_int_equal(gossip_merge(f, v.data, v.len, 1), 2);
    assert_int_equal(gossip_generation(f, 1), 5);
    assert_int_equal(gossip_heartbeat(f, 1), 300);
    assert_int_equal(gossip_generation(f, 2), (uint64_t)1 << 40);
    assert_int_equal(gossip_heartbeat(f, 2), UINT64_MAX);
    assert_int_equal(gossip_heartbeat(f, 0), 0);
    gossip_destroy(f);
    buf_fini(&v);
    gossip_destroy(a);
}

static void test_pick(void **state)
{
    (void)state;
    for (int n = 1; n <= MAXN; n++) {
        for (int self = 0; self < n; self++) {
            struct gossip *g = gossip_create(nodes, n, self, 1, 0);
            if (n == 1) {
                assert_int_equal(gossip_pick(g, 0), -1);
                assert_int_equal(gossip_pick(g, UINT32_MAX), -1);
                gossip_destroy(g);
                continue;
            }
            /* Consecutive rnd values hit every other member equally often. */
            int hits[MAXN] = { 0 };
            for (uint32_t x = 0; x < (uint32_t)(n - 1) * 50; x++) {
                int p = gossip_pick(g, x);
                assert_true(p >= 0 && p < n);
                assert_int_not_equal(p, self);
                hits[p]++;
            }
            for (int i = 0; i < n; i++)
                assert_int_equal(hits[i], i == self ? 0 : 50);
            /* Arbitrary 32-bit values as well. */
            memset(hits, 0, sizeof(hits));
            for (int k = 0; k < 2000; k++) {
                int p = gossip_pick(g, (uint32_t)rnd());
                assert_true(p >= 0 && p < n && p != self);
                hits[p]++;
            }
            for (int i = 0; i < n; i++)
                if (i != self)
                    assert_true(hits[i] > 2000 / (n - 1) / 2);
            gossip_destroy(g);
        }
    }
}

int main(void)
{
    const char *env = getenv("KV_TEST_SEED");
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    print_message("test_gossip: seed %llu (set KV_TEST_SEED to change)\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_basics, setup),
        cmocka_unit_test_setup(test_transitive, setup),
        cmocka_unit_test_setup(test_failure_and_restart, setup),
        cmocka_unit_test_setup(test_timeouts, setup),
        cmocka_unit_test_setup(test_unknown_and_self, setup),
        cmocka_unit_test_setup(test_malformed, setup),
        cmocka_unit_test_setup(test_pick, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
