// Restart policies: Docker's validation texts, the decision after an exit, and moby's
// back-off (100 ms doubling to a minute, back to the start after a 10 s run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, nextBackoff, policyRestarts, validateRestartPolicy, FIRST_BACKOFF_MS, MAX_BACKOFF_MS } from '../../src/container/restart-policy.ts';
import { checkResources, mergeResourceUpdate, normalizeHostConfig } from '../../src/container/create-config.ts';
import type { RestartPolicy } from '../../src/runtime/types.ts';

const facts = (o: Partial<{ exitCode: number; manuallyStopped: boolean; restartCount: number; ranMs: number }> = {}) => ({
  exitCode: 1,
  manuallyStopped: false,
  restartCount: 0,
  ranMs: 50,
  ...o,
});

test('validation: the texts dockerd gives', () => {
  for (const ok of [{ Name: 'no' }, { Name: 'always' }, { Name: 'unless-stopped' }, { Name: 'on-failure', MaximumRetryCount: 3 }, { Name: '' }, { Name: '', MaximumRetryCount: 5 }] as RestartPolicy[]) {
    assert.doesNotThrow(() => validateRestartPolicy(ok), JSON.stringify(ok));
  }
  assert.throws(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }), {
    status: 400,
    message: "invalid restart policy: maximum retry count can only be used with 'on-failure'",
  });
  assert.throws(() => validateRestartPolicy({ Name: 'no', MaximumRetryCount: -1 }), {
    message: "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative",
  });
  assert.throws(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -2 }), {
    message: 'invalid restart policy: maximum retry count cannot be negative',
  });
  assert.throws(() => validateRestartPolicy({ Name: 'sometimes' as never }), {
    message: "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
  });
  // AutoRemove is checked first, as dockerd does.
  assert.throws(() => normalizeHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'sometimes' as never } }), /can't create 'AutoRemove' container with restart policy/);
  assert.deepEqual(normalizeHostConfig({ RestartPolicy: { Name: '' } }).RestartPolicy, { Name: 'no' });
});

test('which exits restart under which policy', () => {
  assert.equal(policyRestarts({ Name: 'no' }, facts()), false);
  assert.equal(policyRestarts(undefined, facts()), false);
  assert.equal(policyRestarts({ Name: 'always' }, facts({ exitCode: 0, manuallyStopped: true })), true);
  assert.equal(policyRestarts({ Name: 'unless-stopped' }, facts({ exitCode: 0 })), true);
  assert.equal(policyRestarts({ Name: 'unless-stopped' }, facts({ manuallyStopped: true })), false);
  assert.equal(policyRestarts({ Name: 'on-failure' }, facts({ exitCode: 0 })), false);
  assert.equal(policyRestarts({ Name: 'on-failure' }, facts({ exitCode: 3, restartCount: 100 })), true, 'no maximum');
  assert.equal(policyRestarts({ Name: 'on-failure', MaximumRetryCount: 2 }, facts({ restartCount: 1 })), true);
  assert.equal(policyRestarts({ Name: 'on-failure', MaximumRetryCount: 2 }, facts({ restartCount: 2 })), false);
  // on-failure ignores a manual stop: the exit code decides (a SIGTERM'd process exits 143).
  assert.equal(policyRestarts({ Name: 'on-failure' }, facts({ exitCode: 143, manuallyStopped: true })), true);
});

test('back-off: 100 ms doubling to a minute, reset by a run of 10 s', () => {
  const steps: number[] = [];
  let b = 0;
  for (let i = 0; i < 12; i++) steps.push((b = nextBackoff(b, 10)));
  assert.deepEqual(steps.slice(0, 5), [100, 200, 400, 800, 1600]);
  assert.equal(steps[9], 51_200);
  assert.equal(steps[10], MAX_BACKOFF_MS);
  assert.equal(steps[11], MAX_BACKOFF_MS);
  assert.equal(nextBackoff(MAX_BACKOFF_MS, 10_000), FIRST_BACKOFF_MS);
  assert.equal(nextBackoff(800, 9_999), 1600);
});

test('decideRestart: delay only when restarting; back-off advances on every evaluated exit', () => {
  const first = decideRestart({ Name: 'on-failure', MaximumRetryCount: 1 }, facts(), 0);
  assert.deepEqual(first, { restart: true, delayMs: 100, backoffMs: 100 });
  const second = decideRestart({ Name: 'on-failure', MaximumRetryCount: 1 }, facts({ restartCount: 1 }), first.backoffMs);
  assert.deepEqual(second, { restart: false, delayMs: 0, backoffMs: 200 });
  assert.deepEqual(decideRestart({ Name: 'no' }, facts(), 400), { restart: false, delayMs: 0, backoffMs: 400 });
});

test('resource checks at create and update, with dockerd texts', () => {
  // A host whose cgroups support every limit, with CPUs 0-1 (not this host's: the texts depend on it).
  const support = {
    version: 1 as const, swappiness: true, oomKillDisable: true, pids: true, cpuShares: true, cfs: true, cpuset: true, cpus: '0-1', mems: '0',
    blkioWeight: true, blkioWeightDevice: true, readBps: true, writeBps: true, readIOps: true, writeIOps: true,
  };
  const opts = { update: false, swapLimit: true, cpus: 2, support };
  assert.throws(() => checkResources({ Memory: 1024 * 1024 }, opts), { status: 400, message: 'Minimum memory limit allowed is 6MB' });
  assert.throws(() => checkResources({ Memory: 64 << 20, MemorySwap: 32 << 20 }, opts), /Minimum memoryswap limit should be larger than memory limit, see usage/);
  assert.throws(() => checkResources({ MemorySwap: 64 << 20 }, opts), /You should always set the Memory limit when using Memoryswap limit/);
  assert.doesNotThrow(() => checkResources({ MemorySwap: 64 << 20 }, { ...opts, update: true }));
  assert.throws(() => checkResources({ NanoCpus: 3e9 }, opts), /range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/);
  assert.throws(() => checkResources({ CpuPeriod: 10 }, opts), /CPU cfs period can not be less than 1ms/);
  assert.throws(() => checkResources({ CpusetCpus: '0-5' }, opts), /Requested CPUs are not available - requested 0-5, available: 0-1/);
  assert.throws(() => checkResources({ BlkioWeight: 5 }, opts), /Range of blkio weight is from 10 to 1000/);
  const noSwap = { Memory: 64 << 20 };
  assert.deepEqual(checkResources(noSwap, { ...opts, swapLimit: false }), ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.']);
  assert.equal((noSwap as { MemorySwap?: number }).MemorySwap, -1);
});

test('update merge: only given fields change; dockerd conflicts', () => {
  const cur = { Memory: 64 << 20, MemorySwap: 128 << 20, CpuShares: 512, NanoCpus: 1e9 };
  const next = mergeResourceUpdate(cur, { CpuShares: 0, Memory: 100 << 20 });
  assert.equal(next.Memory, 100 << 20);
  assert.equal(next.CpuShares, 512);
  assert.equal(cur.Memory, 64 << 20, 'the current config is not modified');
  assert.throws(() => mergeResourceUpdate(cur, { Memory: 256 << 20 }), {
    status: 409,
    message: 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
  });
  assert.throws(() => mergeResourceUpdate(cur, { CpuPeriod: 100000 }), /CPU Period cannot be updated as NanoCPUs has already been set/);
  assert.equal(mergeResourceUpdate({}, { PidsLimit: 0 }).PidsLimit, 0);
});
