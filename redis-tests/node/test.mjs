// node-redis (npm "redis" v4, RESP2) against dynamo-node.
//
//   node redis-tests/node/test.mjs [--only check,...] host:port [host:port ...]
//   DYNAMO_ADDRS=host:port,host:port node redis-tests/node/test.mjs
//
// Every check runs against the first address; values written there are read
// back through every further address (the other nodes of a cluster).  Each
// check prints "ok <name>" or "FAIL <name>: <what>"; the exit status is 0
// only if every check passed.  Keys are prefixed "node:<pid>:".
// redis-tests/test_node.py runs this against each node of a 3-node cluster.
import assert from 'node:assert/strict';
import { commandOptions, createClient, ErrorReply } from 'redis';
import { runChecks, startWatchdog } from './lib.mjs';

const argv = process.argv.slice(2);
let only = null;
const addrs = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--only') only = new Set(argv[++i].split(','));
  else addrs.push(argv[i]);
}
if (addrs.length === 0 && process.env.DYNAMO_ADDRS) {
  addrs.push(...process.env.DYNAMO_ADDRS.split(',').filter(Boolean));
}
if (addrs.length === 0) {
  console.error('usage: node test.mjs [--only check,...] host:port [host:port ...] ' +
                '(or DYNAMO_ADDRS=host:port,...)');
  process.exit(2);
}

const P = `node:${process.pid}:`;
const k = (name) => P + name;

const watchdog = startWatchdog(60);

function parseAddr(a) {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

async function connect(addr) {
  const { host, port } = parseAddr(addr);
  const client = createClient({
    socket: { host, port, connectTimeout: 10000, reconnectStrategy: false },
  });
  client.on('error', (err) => console.log(`client error (${addr}): ${err.message}`));
  await client.connect();
  return client;
}

const main = await connect(addrs[0]);
const others = [];
for (const a of addrs.slice(1)) others.push({ addr: a, client: await connect(a) });

// GET key through every other node; want null for "absent".
async function readBackElsewhere(key, want) {
  for (const { addr, client } of others) {
    assert.equal(await client.get(key), want, `GET ${key} through ${addr}`);
  }
}

async function rejectsWithReply(promise, pattern, what) {
  try {
    const v = await promise;
    assert.fail(`${what}: expected a rejected promise (error reply), got ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof ErrorReply,
              `${what}: expected an ErrorReply, got ${err?.constructor?.name}: ${err?.message}`);
    assert.match(err.message, pattern, what);
  }
}

const checks = {
  async ping() {
    assert.equal(await main.ping(), 'PONG');
    assert.equal(await main.echo('hi there'), 'hi there');
  },

  async strings() {
    assert.equal(await main.set(k('a'), 'hello'), 'OK');
    assert.equal(await main.get(k('a')), 'hello');
    assert.equal(await main.get(k('missing')), null);
    await readBackElsewhere(k('a'), 'hello');
    assert.equal(await main.set(k('a'), 'hello again'), 'OK');
    assert.equal(await main.get(k('a')), 'hello again');
    assert.equal(await main.exists([k('a'), k('missing')]), 1);
    assert.equal(await main.del([k('a'), k('missing')]), 1);
    assert.equal(await main.get(k('a')), null);
    assert.equal(await main.del(k('a')), 0);
    await readBackElsewhere(k('a'), null);
    // a unicode value round-trips as UTF-8
    assert.equal(await main.set(k('u'), 'grüße, 世界'), 'OK');
    assert.equal(await main.get(k('u')), 'grüße, 世界');
  },

  async binary() {
    const value = Buffer.from([0, 1, 2, 13, 10, 255, 254, 0, 42]);
    assert.equal(await main.set(k('bin'), value), 'OK');
    const got = await main.get(commandOptions({ returnBuffers: true }), k('bin'));
    assert.ok(Buffer.isBuffer(got), 'GET with returnBuffers gives a Buffer');
    assert.deepEqual(got, value);
    const big = Buffer.alloc(2 * 1024 * 1024, 'xyz');
    assert.equal(await main.set(k('big'), big), 'OK');
    assert.deepEqual(await main.get(commandOptions({ returnBuffers: true }), k('big')), big);
    assert.equal(await main.del([k('bin'), k('big')]), 2);
  },

  async mset_mget() {
    assert.equal(await main.mSet([[k('m1'), 'one'], [k('m2'), 'two'], [k('m3'), 'three']]), 'OK');
    assert.deepEqual(await main.mGet([k('m1'), k('missing'), k('m2'), k('m3')]),
                     ['one', null, 'two', 'three']);
    assert.equal(await main.mSet({ [k('m1')]: 'uno', [k('m4')]: 'quattro' }), 'OK');
    assert.deepEqual(await main.mGet([k('m1'), k('m4')]), ['uno', 'quattro']);
    for (const { addr, client } of others) {
      assert.deepEqual(await client.mGet([k('m1'), k('m2'), k('m3'), k('m4')]),
                       ['uno', 'two', 'three', 'quattro'], `MGET through ${addr}`);
    }
  },

  async incr() {
    for (let i = 1; i <= 5; i++) assert.equal(await main.incr(k('ctr')), i);
    assert.equal(await main.get(k('ctr')), '5');
    await readBackElsewhere(k('ctr'), '5');
    if (others.length) assert.equal(await others[0].client.incr(k('ctr')), 6, 'INCR elsewhere');
    assert.equal(await main.set(k('nan'), 'abc'), 'OK');
    await rejectsWithReply(main.incr(k('nan')), /not an integer/, 'INCR on a non-integer');
  },

  async expire_ttl() {
    assert.equal(await main.set(k('e'), 'v'), 'OK');
    assert.equal(await main.ttl(k('e')), -1, 'TTL of a key without expiry');
    assert.equal(await main.ttl(k('missing')), -2, 'TTL of a missing key');
    assert.equal(await main.expire(k('e'), 100), true, 'EXPIRE on an existing key');
    const ttl = await main.ttl(k('e'));
    assert.ok(ttl > 90 && ttl <= 100, `TTL after EXPIRE 100: ${ttl}`);
    for (const { addr, client } of others) {
      const t = await client.ttl(k('e'));
      assert.ok(t > 90 && t <= 100, `TTL through ${addr}: ${t}`);
    }
    assert.equal(await main.expire(k('missing'), 100), false, 'EXPIRE on a missing key');
    // SET without KEEPTTL clears the expiry
    assert.equal(await main.set(k('e'), 'w'), 'OK');
    assert.equal(await main.ttl(k('e')), -1, 'TTL after a plain SET');
    // SET ... EX sets it
    assert.equal(await main.set(k('ex'), 'v', { EX: 50 }), 'OK');
    const t2 = await main.ttl(k('ex'));
    assert.ok(t2 > 40 && t2 <= 50, `TTL after SET EX 50: ${t2}`);
  },

  // Commands issued in the same tick are auto-pipelined by node-redis (one
  // write); Redis runs a connection's commands in order.
  async pipeline_promise_all() {
    const n = 300;
    const sets = await Promise.all(
      Array.from({ length: n }, (_, i) => main.set(k(`p:${i}`), `v${i}`)));
    assert.deepEqual(sets, Array(n).fill('OK'));
    const gets = await Promise.all(Array.from({ length: n }, (_, i) => main.get(k(`p:${i}`))));
    assert.deepEqual(gets, Array.from({ length: n }, (_, i) => `v${i}`));
    await readBackElsewhere(k(`p:${n - 1}`), `v${n - 1}`);
  },

  async pipeline_write_then_read() {
    // SET, then GET of the same key, in one batch: the GET sees the SET.
    const got = await Promise.all([main.set(k('wr'), 'first'), main.get(k('wr')),
                                   main.set(k('wr'), 'second'), main.get(k('wr')),
                                   main.del(k('wr')), main.get(k('wr'))]);
    assert.deepEqual(got, ['OK', 'first', 'OK', 'second', 1, null]);
  },

  async pipeline_exec_as_pipeline() {
    // multi().execAsPipeline(): a plain pipeline, no MULTI/EXEC
    const replies = await main.multi()
      .set(k('x1'), '1')
      .set(k('x2'), '2')
      .mGet([k('x1'), k('x2')])
      .del([k('x1'), k('x2')])
      .execAsPipeline();
    assert.deepEqual(replies, ['OK', 'OK', ['1', '2'], 2]);
  },

  async multi_exec() {
    const replies = await main.multi()
      .set(k('t1'), 'a')
      .incr(k('t2'))
      .get(k('t1'))
      .exec();
    assert.deepEqual(replies, ['OK', 1, 'a']);
    await readBackElsewhere(k('t1'), 'a');
  },

  async errors() {
    await rejectsWithReply(main.sendCommand(['NOSUCHCOMMAND', 'x']), /unknown command/i,
                           'unknown command');
    await rejectsWithReply(main.sendCommand(['GET']), /wrong number of arguments/i,
                           'GET without a key');
    await rejectsWithReply(main.sendCommand(['SET', k('e1'), 'v', 'BOGUS']), /syntax error/i,
                           'SET with an unknown option');
    // a pipeline with an error in the middle: only that command's promise
    // rejects, the others are answered
    const settled = await Promise.allSettled([main.set(k('e2'), 'v'),
                                              main.sendCommand(['NOSUCHCOMMAND']),
                                              main.ping()]);
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(settled[0].value, 'OK');
    assert.ok(settled[1].reason instanceof ErrorReply);
    assert.match(settled[1].reason.message, /unknown command/i);
    assert.equal(settled[2].value, 'PONG');
    // multi().execAsPipeline() rejects with the error reply
    await rejectsWithReply(main.multi().set(k('e3'), 'v').addCommand(['NOSUCHCOMMAND'])
                             .ping().execAsPipeline(),
                           /unknown command/i, 'execAsPipeline with an unknown command');
    assert.equal(await main.get(k('e3')), 'v', 'the SET before the error was applied');
    // the connection is still fine
    assert.equal(await main.ping(), 'PONG');
  },

  async resp2() {
    // node-redis v4 speaks RESP2: CONFIG GET comes back as a flat array
    // (RESP3 would make it a map).
    const { port } = parseAddr(addrs[0]);
    assert.deepEqual(await main.sendCommand(['CONFIG', 'GET', 'port']), ['port', String(port)]);
    assert.deepEqual({ ...await main.configGet('port') }, { port: String(port) });
    assert.equal(await main.sendCommand(['GET', k('missing')]), null);
    assert.equal(typeof await main.sendCommand(['EXISTS', k('missing')]), 'number');
  },

  async zset() {
    const z = k('zset');
    assert.equal(await main.zAdd(z, [{ score: 1, value: 'a' }, { score: 2.5, value: 'b' },
                                     { score: -1, value: 'c' }]), 3);
    assert.equal(await main.zScore(z, 'b'), 2.5);
    assert.equal(await main.zIncrBy(z, 2, 'a'), 3);
    assert.deepEqual(await main.zRangeWithScores(z, 0, -1),
                     [{ value: 'c', score: -1 }, { value: 'b', score: 2.5 },
                      { value: 'a', score: 3 }]);
    assert.equal(await main.zRank(z, 'a'), 2);
    assert.deepEqual(await main.zPopMin(z), { value: 'c', score: -1 });
    for (const { addr, client } of others) {
      assert.deepEqual(await client.zRange(z, 0, -1), ['b', 'a'], `ZRANGE through ${addr}`);
      assert.equal(await client.zCard(z), 2, `ZCARD through ${addr}`);
    }
    assert.equal(await main.set(k('zstr'), 'x'), 'OK');
    await rejectsWithReply(main.zAdd(k('zstr'), { score: 1, value: 'a' }), /^WRONGTYPE/,
                           'ZADD on a string');
    assert.equal(await main.del(z), 1);
  },
};

const failed = await runChecks(checks, only);
clearTimeout(watchdog);
await Promise.all([main, ...others.map((o) => o.client)].map((c) => c.quit().catch(() => {})));
process.exit(failed ? 1 : 0);
