// node-redis (npm "redis" v4, RESP2) and the hash commands of dynamo-node.
//
//   node redis-tests/node/hash.mjs host:port [host:port ...]
//
// Writes through the first address and reads back through every address
// (the other nodes of a cluster: their commands are forwarded to the key's
// coordinator).  Each check prints "ok <name>" or "FAIL <name>: <what>";
// the exit status is 0 only if every check passed.  Keys are prefixed
// "nhash:<pid>:".  redis-tests/test_hash_clients.py runs it.
import assert from 'node:assert/strict';
import { createClient, ErrorReply } from 'redis';
import { runChecks, startWatchdog } from './lib.mjs';

const addrs = process.argv.slice(2);
if (addrs.length === 0) {
  console.error('usage: node hash.mjs host:port [host:port ...]');
  process.exit(2);
}
const P = `nhash:${process.pid}:`;
const k = (name) => P + name;

const watchdog = startWatchdog(60);

async function connect(addr) {
  const i = addr.lastIndexOf(':');
  const client = createClient({
    socket: { host: addr.slice(0, i), port: Number(addr.slice(i + 1)), connectTimeout: 10000,
              reconnectStrategy: false },
  });
  client.on('error', (err) => console.log(`client error (${addr}): ${err.message}`));
  await client.connect();
  return client;
}

const clients = [];
for (const a of addrs) clients.push({ addr: a, client: await connect(a) });
const main = clients[0].client;

async function everywhere(fn) {
  for (const { addr, client } of clients) await fn(client, addr);
}

async function rejects(promise, pattern, what) {
  try {
    const v = await promise;
    assert.fail(`${what}: expected an error reply, got ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof ErrorReply, `${what}: ${err?.message}`);
    assert.match(err.message, pattern, what);
  }
}

const checks = {
  async hset_hget() {
    assert.equal(await main.hSet(k('h'), { name: 'alice', age: '30' }), 2);
    assert.equal(await main.hSet(k('h'), 'name', 'bob'), 0);
    assert.equal(await main.hSetNX(k('h'), 'name', 'x'), false);
    assert.equal(await main.hSetNX(k('h'), 'city', 'Paris'), true);
    await everywhere(async (c, addr) => {
      assert.equal(await c.hGet(k('h'), 'name'), 'bob', `HGET through ${addr}`);
      assert.deepEqual({ ...await c.hGetAll(k('h')) }, { name: 'bob', age: '30', city: 'Paris' },
                       `HGETALL through ${addr}`);
      assert.equal(await c.hLen(k('h')), 3);
      assert.deepEqual(await c.hmGet(k('h'), ['age', 'nope']), ['30', null]);
      assert.equal(await c.hExists(k('h'), 'city'), true);
      assert.equal(await c.hStrLen(k('h'), 'city'), 5);
      assert.deepEqual((await c.hKeys(k('h'))).sort(), ['age', 'city', 'name']);
      assert.deepEqual((await c.hVals(k('h'))).sort(), ['30', 'Paris', 'bob']);
    });
  },

  async hincr() {
    assert.equal(await main.hIncrBy(k('c'), 'n', 5), 5);
    assert.equal(await main.hIncrByFloat(k('c'), 'f', 1.23), '1.23');
    let n = 5;
    for (const { client } of clients) assert.equal(await client.hIncrBy(k('c'), 'n', 1), ++n);
    await everywhere(async (c) => assert.equal(await c.hGet(k('c'), 'n'), String(n)));
    await rejects(main.hIncrBy(k('c'), 'f', 1), /hash value is not an integer/, 'HINCRBY on 1.23');
  },

  async hdel_hrandfield_hscan() {
    const fields = {};
    for (let i = 0; i < 40; i++) fields[`f${i}`] = `v${i}`;
    assert.equal(await main.hSet(k('r'), fields), 40);
    const picked = await main.hRandFieldCount(k('r'), 10);
    assert.equal(new Set(picked).size, 10);
    for (const f of picked) assert.ok(f in fields, f);
    const seen = {};
    let cursor = 0;
    do {
      const r = await clients[clients.length - 1].client.hScan(k('r'), cursor, { COUNT: 7 });
      cursor = r.cursor;
      for (const { field, value } of r.tuples) seen[field] = value;
    } while (cursor !== 0);
    assert.deepEqual(seen, fields);
    assert.equal(await main.hDel(k('r'), Object.keys(fields)), 40);
    await everywhere(async (c) => assert.equal(await c.exists(k('r')), 0));
  },

  async wrongtype() {
    assert.equal(await main.set(k('s'), 'str'), 'OK');
    await rejects(main.hGet(k('s'), 'f'), /^WRONGTYPE/, 'HGET on a string');
    assert.equal(await main.hSet(k('w'), 'f', 'v'), 1);
    await rejects(main.get(k('w')), /^WRONGTYPE/, 'GET on a hash');
  },
};

const failed = await runChecks(checks);
clearTimeout(watchdog);
await Promise.all(clients.map(({ client }) => client.quit().catch(() => {})));
process.exit(failed ? 1 : 0);
