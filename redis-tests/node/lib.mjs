// lib.mjs — what the node-redis scripts here share (test.mjs, hash.mjs,
// cluster.mjs, sets.mjs): the watchdog that keeps a run from hanging, the
// check runner with its "ok <name>" / "FAIL <name>: <what>" lines (which
// the Python tests read), and a cluster-aware client.
import { createCluster } from 'redis';

// Whatever is still pending after `seconds` fails the run (exit 3).
export function startWatchdog(seconds = 60) {
  return setTimeout(() => {
    console.log(`FAIL watchdog: the run did not finish within ${seconds} s`);
    process.exit(3);
  }, seconds * 1000);
}

let failures = 0;

// Runs one check, prints its line; failed() counts the ones that threw.
export async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${err?.stack ?? err?.message ?? err}`.replace(/\n+/g, ' | '));
  }
}

export function failed() {
  return failures;
}

// Runs the checks of an object {name: async fn} in order (only: a Set of
// names to run, or null for all) and prints the "<n> failed" summary.
export async function runChecks(checks, only = null) {
  for (const [name, fn] of Object.entries(checks)) {
    if (!only || only.has(name)) await check(name, fn);
  }
  console.log(`${failures} failed`);
  return failures;
}

// A node-redis cluster client seeded with one node's address, failing fast.
export function clusterClient(addr) {
  const cluster = createCluster({
    rootNodes: [{ url: `redis://${addr}` }],
    defaults: { socket: { connectTimeout: 10000, reconnectStrategy: false } },
  });
  cluster.on('error', (err) => console.log(`cluster error: ${err.message}`));
  return cluster;
}
