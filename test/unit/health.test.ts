// The health-check state machine, driven by a fake probe runner and mocked timers.
import { test, mock, afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, goDuration, probeCommand, type HealthState } from '../../src/container/health.ts';
import { initialState, type ContainerRecord } from '../../src/container/record.ts';
import type { HealthConfig } from '../../src/runtime/types.ts';

const MS = 1_000_000; // ns per ms
const BASE = Date.parse('2024-01-01T00:00:00Z');

interface Fake {
  hm: HealthMonitor;
  rec: ContainerRecord;
  calls: { id: string; cmd: string[]; timeoutMs: number }[];
  events: string[];
  saves: number;
  advance(ms: number): Promise<void>;
  /** Results the runner hands out in order (the last one repeats). */
  results: Array<{ exitCode: number; output: string; timedOut?: boolean } | Error>;
}

let clock = BASE;

beforeEach(() => {
  clock = BASE;
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => mock.timers.reset());

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function health(rec: ContainerRecord): HealthState | undefined {
  return (rec.State as { Health?: HealthState }).Health;
}

function makeRec(check: HealthConfig | null, shell?: string[]): ContainerRecord {
  const state = { ...initialState(), Status: 'running' as const, Running: true, StartedAt: new Date(clock).toISOString() };
  return {
    Id: 'c'.repeat(64),
    Created: '',
    Path: 'sleep',
    Args: ['1000'],
    State: state,
    Image: 'sha256:x',
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: '',
    Name: '/h',
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    Runtime: 'runc',
    Config: { Healthcheck: check, Shell: shell },
    HostConfig: {},
  } as ContainerRecord;
}

function fake(check: HealthConfig | null, shell?: string[]): Fake {
  const f: Fake = {
    rec: makeRec(check, shell),
    calls: [],
    events: [],
    saves: 0,
    results: [{ exitCode: 0, output: 'ok' }],
    hm: undefined as unknown as HealthMonitor,
    advance: async (ms: number) => {
      clock += ms;
      mock.timers.tick(ms);
      await settle();
    },
  };
  let next = 0;
  f.hm = new HealthMonitor({
    exec: {
      run: async (id, cmd, opts) => {
        f.calls.push({ id, cmd, timeoutMs: opts.timeoutMs });
        const r = f.results[Math.min(next++, f.results.length - 1)]!;
        if (r instanceof Error) throw r;
        return r;
      },
    },
    save: async () => {
      f.saves++;
    },
    events: (action, rec) => {
      assert.equal(rec, f.rec);
      f.events.push(action);
    },
    now: () => clock,
  });
  return f;
}

test('a passing probe makes the container healthy after the first interval', async () => {
  const f = fake({ Test: ['CMD', 'true'], Interval: 1000 * MS });
  f.hm.start(f.rec);
  assert.deepEqual(health(f.rec), { Status: 'starting', FailingStreak: 0, Log: [] });
  await f.advance(999);
  assert.equal(f.calls.length, 0);
  await f.advance(1);
  assert.deepEqual(f.calls, [{ id: f.rec.Id, cmd: ['true'], timeoutMs: 30_000 }]);
  const h = health(f.rec)!;
  assert.equal(h.Status, 'healthy');
  assert.equal(h.FailingStreak, 0);
  assert.equal(h.Log.length, 1);
  assert.equal(h.Log[0]!.ExitCode, 0);
  assert.equal(h.Log[0]!.Output, 'ok');
  assert.match(h.Log[0]!.Start, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(f.events, ['health_status: healthy']);
  assert.equal(f.saves, 1);
  // Staying healthy is no new event.
  await f.advance(1000);
  assert.equal(f.calls.length, 2);
  assert.deepEqual(f.events, ['health_status: healthy']);
  f.hm.stop(f.rec.Id);
});

test('Retries consecutive failures make it unhealthy; one success heals it', async () => {
  const f = fake({ Test: ['CMD-SHELL', 'exit 1'], Interval: 100 * MS, Retries: 2 });
  f.results = [{ exitCode: 1, output: 'bad' }, { exitCode: 1, output: 'bad' }, { exitCode: 0, output: '' }, { exitCode: 2, output: 'x' }];
  f.hm.start(f.rec);
  await f.advance(100);
  assert.deepEqual(f.calls[0]!.cmd, ['/bin/sh', '-c', 'exit 1']);
  assert.equal(health(f.rec)!.Status, 'starting');
  assert.equal(health(f.rec)!.FailingStreak, 1);
  await f.advance(100);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  assert.equal(health(f.rec)!.FailingStreak, 2);
  await f.advance(100);
  assert.equal(health(f.rec)!.Status, 'healthy');
  assert.equal(health(f.rec)!.FailingStreak, 0);
  await f.advance(100);
  assert.equal(health(f.rec)!.Status, 'healthy', 'one failure is below Retries');
  assert.equal(health(f.rec)!.FailingStreak, 1);
  assert.deepEqual(f.events, ['health_status: unhealthy', 'health_status: healthy']);
  f.hm.stop(f.rec.Id);
});

test('default retries is 3', async () => {
  const f = fake({ Test: ['CMD', 'false'], Interval: 10 * MS });
  f.results = [{ exitCode: 1, output: '' }];
  f.hm.start(f.rec);
  await f.advance(10);
  await f.advance(10);
  assert.equal(health(f.rec)!.Status, 'starting');
  await f.advance(10);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  assert.equal(health(f.rec)!.FailingStreak, 3);
  f.hm.stop(f.rec.Id);
});

test('failures inside the start period do not count, and probes come at StartInterval there', async () => {
  const f = fake({ Test: ['CMD', 'false'], Interval: 1000 * MS, StartPeriod: 300 * MS, StartInterval: 100 * MS, Retries: 1 });
  f.results = [{ exitCode: 1, output: '' }];
  f.hm.start(f.rec);
  await f.advance(100);
  await f.advance(100);
  await f.advance(100 - 1);
  assert.equal(f.calls.length, 2, 'two probes at the start interval');
  assert.equal(health(f.rec)!.Status, 'starting');
  assert.equal(health(f.rec)!.FailingStreak, 0);
  assert.equal(health(f.rec)!.Log.length, 2, 'the failures are logged all the same');
  // The third probe starts at 300ms: the period is over, so it counts.
  await f.advance(1);
  assert.equal(f.calls.length, 3);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  f.hm.stop(f.rec.Id);
});

test('a probe that passed ends the starting phase: later failures count even within the start period', async () => {
  const f = fake({ Test: ['CMD', 'x'], Interval: 50 * MS, StartPeriod: 10_000 * MS, StartInterval: 50 * MS, Retries: 1 });
  f.results = [{ exitCode: 0, output: '' }, { exitCode: 1, output: '' }];
  f.hm.start(f.rec);
  await f.advance(50);
  assert.equal(health(f.rec)!.Status, 'healthy');
  await f.advance(50);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  f.hm.stop(f.rec.Id);
});

test('the log keeps the last five results', async () => {
  const f = fake({ Test: ['CMD', 'x'], Interval: 10 * MS });
  f.results = [0, 1, 2, 3, 4, 5, 6].map((n) => ({ exitCode: 0, output: `run ${n}` }));
  f.hm.start(f.rec);
  for (let i = 0; i < 7; i++) await f.advance(10);
  assert.deepEqual(health(f.rec)!.Log.map((e) => e.Output), ['run 2', 'run 3', 'run 4', 'run 5', 'run 6']);
  f.hm.stop(f.rec.Id);
});

test('a timeout and a runner error count as failures with exit code -1', async () => {
  const f = fake({ Test: ['CMD', 'sleep', '9'], Interval: 10 * MS, Timeout: 1500 * MS });
  f.results = [{ exitCode: -1, output: '', timedOut: true }, { exitCode: -1, output: 'partial', timedOut: true }, new Error('container x is not running')];
  f.hm.start(f.rec);
  await f.advance(10);
  assert.equal(f.calls[0]!.timeoutMs, 1500);
  await f.advance(10);
  await f.advance(10);
  const log = health(f.rec)!.Log;
  assert.deepEqual(log.map((e) => [e.ExitCode, e.Output]), [
    [-1, 'Health check exceeded timeout (1.5s)'],
    [-1, 'Health check exceeded timeout (1.5s): partial'],
    [-1, 'container x is not running'],
  ]);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  f.hm.stop(f.rec.Id);
});

test('stop ends probing, reads unhealthy, and drops the result of a probe in flight', async () => {
  const f = fake({ Test: ['CMD', 'x'], Interval: 10 * MS });
  let release!: (v: { exitCode: number; output: string }) => void;
  const hm = new HealthMonitor({
    exec: { run: () => new Promise((r) => (release = r)) },
    save: async () => void f.saves++,
    events: (a) => f.events.push(a),
    now: () => clock,
  });
  hm.start(f.rec);
  await f.advance(10);
  assert.ok(release, 'the probe is running');
  hm.stop(f.rec.Id);
  assert.equal(hm.watching(f.rec.Id), false);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  release({ exitCode: 0, output: 'late' });
  await settle();
  assert.equal(health(f.rec)!.Log.length, 0);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  assert.equal(f.saves, 0);
  assert.deepEqual(f.events, []);
});

test('a restart resets the status to starting but keeps the log', async () => {
  const f = fake({ Test: ['CMD', 'x'], Interval: 10 * MS });
  f.hm.start(f.rec);
  await f.advance(10);
  f.hm.stop(f.rec.Id);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  f.hm.start(f.rec);
  assert.equal(health(f.rec)!.Status, 'starting');
  assert.equal(health(f.rec)!.Log.length, 1);
  f.hm.stop(f.rec.Id);
});

test('resume continues without resetting', async () => {
  const f = fake({ Test: ['CMD', 'x'], Interval: 10 * MS });
  f.hm.start(f.rec);
  await f.advance(10);
  f.hm.stop(f.rec.Id); // paused
  f.hm.resume(f.rec);
  assert.equal(health(f.rec)!.Status, 'unhealthy');
  await f.advance(10);
  assert.equal(health(f.rec)!.Status, 'healthy');
  assert.equal(f.calls.length, 2);
  f.hm.stop(f.rec.Id);
});

test('no probe: no healthcheck, NONE, an empty test, or an unknown type', async () => {
  for (const check of [null, { Test: ['NONE'] }, { Test: [] }, { Test: ['BOGUS', 'x'] }]) {
    const f = fake(check);
    f.hm.start(f.rec);
    assert.equal(health(f.rec), undefined);
    assert.equal(f.hm.watching(f.rec.Id), false);
    await f.advance(60_000);
    assert.equal(f.calls.length, 0);
  }
});

test('defaults: a 30s interval and a 30s timeout', async () => {
  const f = fake({ Test: ['CMD', 'x'] });
  f.hm.start(f.rec);
  await f.advance(29_999);
  assert.equal(f.calls.length, 0);
  await f.advance(1);
  assert.equal(f.calls.length, 1);
  assert.equal(f.calls[0]!.timeoutMs, 30_000);
  f.hm.stop(f.rec.Id);
});

test('probeCommand: CMD, CMD-SHELL with the default or the configured shell', () => {
  assert.deepEqual(probeCommand({ Test: ['CMD', 'a', 'b'] }), ['a', 'b']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'a b'] }), ['/bin/sh', '-c', 'a b']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'a b'] }, ['/bin/ash', '-xc']), ['/bin/ash', '-xc', 'a b']);
  assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
  assert.equal(probeCommand(undefined), undefined);
});

test('goDuration formats as Go does', () => {
  assert.equal(goDuration(30e9), '30s');
  assert.equal(goDuration(1.5e9), '1.5s');
  assert.equal(goDuration(500e6), '500ms');
  assert.equal(goDuration(1.25e6), '1.25ms');
  assert.equal(goDuration(90e9), '1m30s');
  assert.equal(goDuration(60e9), '1m0s');
  assert.equal(goDuration(3600e9), '1h0m0s');
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(1500), '1.5µs');
  assert.equal(goDuration(7), '7ns');
});
