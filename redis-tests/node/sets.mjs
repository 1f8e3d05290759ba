// node-redis (npm "redis" v4) createCluster: the set commands against a
// dynamo-node cluster (issue 14).
//
//   node redis-tests/node/sets.mjs host:port
//
// Keys are spread over the cluster's slots (so over every coordinator);
// multi-key commands use keys that share a hash tag, as node-redis routes
// them by slot.  Prints "ok <check>" per check, or "FAIL <check>: ...";
// exits 0 only if every check passed.  Keys are prefixed "nset:<pid>:".
// redis-tests/test_set_cluster.py runs it.
import assert from 'node:assert/strict';
import { check, clusterClient, failed, startWatchdog } from './lib.mjs';

const [addr] = process.argv.slice(2);
if (!addr) {
  console.error('usage: node sets.mjs host:port');
  process.exit(2);
}
const P = `nset:${process.pid}:`;

const watchdog = startWatchdog(60);

const cluster = clusterClient(addr);

const sorted = (a) => [...a].sort();

await cluster.connect();
await check('sadd smembers sismember srem scard on many keys', async () => {
  for (let i = 0; i < 60; i++) {
    const k = `${P}s${i}`;
    assert.equal(await cluster.sAdd(k, ['a', 'b', `m${i}`]), 3);
    assert.deepEqual(sorted(await cluster.sMembers(k)), sorted(['a', 'b', `m${i}`]));
    assert.equal(await cluster.sIsMember(k, 'a'), true);
    assert.deepEqual(await cluster.smIsMember(k, ['a', 'zz']), [true, false]);
    assert.equal(await cluster.sRem(k, ['a', 'zz']), 1);
    assert.equal(await cluster.sCard(k), 2);
  }
});
await check('spop srandmember', async () => {
  const k = `${P}pop`;
  await cluster.sAdd(k, ['x', 'y', 'z']);
  const r = await cluster.sRandMemberCount(k, 2);
  assert.equal(new Set(r).size, 2);
  const p = await cluster.sPop(k);
  assert.ok(['x', 'y', 'z'].includes(p));
  assert.equal(await cluster.sCard(k), 2);
  assert.equal(await cluster.sPop(`${P}none`), null);
});
await check('smove sinter sunion sdiff stores sintercard sscan (hash tag)', async () => {
  const a = `${P}{t}a`, b = `${P}{t}b`, d = `${P}{t}d`;
  await cluster.sAdd(a, ['1', '2', '3', '4']);
  await cluster.sAdd(b, ['3', '4', '5']);
  assert.equal(await cluster.sMove(a, b, '1'), true);
  assert.deepEqual(sorted(await cluster.sInter([a, b])), ['3', '4']);
  assert.deepEqual(sorted(await cluster.sUnion([a, b])), ['1', '2', '3', '4', '5']);
  assert.deepEqual(sorted(await cluster.sDiff([a, b])), ['2']);
  assert.equal(await cluster.sInterStore(d, [a, b]), 2);
  assert.equal(await cluster.sUnionStore(d, [a, b]), 5);
  assert.equal(await cluster.sDiffStore(d, [b, a]), 2);
  assert.equal(await cluster.sInterCard([a, b]), 2);
  const seen = [];
  let cursor = 0;
  do {
    const r = await cluster.sScan(b, cursor, { COUNT: 1 });
    cursor = r.cursor;
    seen.push(...r.members);
  } while (cursor !== 0);
  assert.deepEqual(sorted(seen), ['1', '3', '4', '5']);
});
clearTimeout(watchdog);
await cluster.quit();
process.exit(failed() ? 1 : 0);
