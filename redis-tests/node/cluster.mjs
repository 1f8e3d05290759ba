// node-redis (npm "redis" v4) createCluster against a dynamo-node cluster.
//
//   node redis-tests/node/cluster.mjs host:port [nkeys]
//
// Discovers the cluster through host:port (CLUSTER SLOTS), writes nkeys
// keys (default 300) and reads them back, then MSET/MGET over keys that
// share a hash tag.  Prints "ok <check>" per check, or "FAIL <check>: ...";
// exits 0 only if every check passed.  Keys are prefixed "ncl:<pid>:".
// redis-tests/test_cluster_clients.py runs it.
import assert from 'node:assert/strict';
import { check, clusterClient, failed, startWatchdog } from './lib.mjs';

const [addr, nkeysArg] = process.argv.slice(2);
if (!addr) {
  console.error('usage: node cluster.mjs host:port [nkeys]');
  process.exit(2);
}
const nkeys = Number(nkeysArg || 300);
const P = `ncl:${process.pid}:`;

const watchdog = startWatchdog(60);

const cluster = clusterClient(addr);

await cluster.connect();
await check('discovers three masters', async () => {
  const ports = new Set(cluster.masters.map((m) => m.port));
  assert.equal(ports.size, 3);
});
await check('set and get many keys', async () => {
  for (let i = 0; i < nkeys; i++) assert.equal(await cluster.set(`${P}k${i}`, `v${i}`), 'OK');
  for (let i = 0; i < nkeys; i++) assert.equal(await cluster.get(`${P}k${i}`), `v${i}`);
});
await check('hash tag mset mget', async () => {
  const tag = `{${P}user}`;
  assert.equal(await cluster.mSet([[`${tag}a`, '1'], [`${tag}b`, '2'], [`${tag}c`, '3']]), 'OK');
  assert.deepEqual(await cluster.mGet([`${tag}a`, `${tag}b`, `${tag}c`, `${tag}none`]),
                   ['1', '2', '3', null]);
  assert.equal(await cluster.del([`${tag}a`, `${tag}b`]), 2);
  assert.deepEqual(await cluster.mGet([`${tag}a`, `${tag}c`]), [null, '3']);
});
await cluster.quit();
clearTimeout(watchdog);
process.exit(failed() ? 1 : 0);
