// The event bus (ring, replay, delivery), Docker's event filters, the message encoding,
// the service adapters, and GET /events served by a real API server on a unix socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, EVENTS_LIMIT, encodeEvent, type EventInput, type EventMessage } from '../../src/events/bus.ts';
import { FilterArgs, eventMatches } from '../../src/events/filter.ts';
import { containerEventSink, imageEventSink } from '../../src/events/sinks.ts';
import { eventsRoutes, parseEventTime } from '../../src/api/routes/events.ts';
import { ApiServer } from '../../src/api/server.ts';
import type { ContainerRecord } from '../../src/container/record.ts';
import { EngineError } from '../../src/util/errors.ts';
import { nowNanos } from '../../src/util/time.ts';

const cid = 'f'.repeat(64);

function containerEvent(action: string, attrs: Record<string, string> = {}, id = cid): EventInput {
  return { Type: 'container', Action: action, Actor: { ID: id, Attributes: { image: 'busybox:latest', name: 'web-1', ...attrs } } };
}

function matches(filters: string, ev: EventInput): boolean {
  const bus = new EventBus();
  return eventMatches(FilterArgs.fromJSON(filters), bus.emit(ev));
}

test('filters: both JSON forms; anything else is 400 "invalid filter"', () => {
  assert.deepEqual(FilterArgs.fromJSON('{"type":{"container":true}}').get('type'), ['container']);
  assert.deepEqual(FilterArgs.fromJSON('{"type":["image","container"]}').get('type'), ['image', 'container']);
  assert.equal(FilterArgs.fromJSON('null').size, 0);
  assert.equal(FilterArgs.fromJSON('').size, 0);
  for (const bad of ['{', '[]', '"x"', '{"type":"container"}', '{"type":[1]}', '{"type":{"a":"yes"}}']) {
    assert.throws(() => FilterArgs.fromJSON(bad), (e: EngineError) => e.status === 400 && e.message === 'invalid filter', bad);
  }
});

test('filters: type, event, container by id or name prefix, image with or without tag, labels, scope', () => {
  const ev = containerEvent('start', { 'com.example.tier': 'web', flag: '' });
  assert.ok(matches('{"type":["container"]}', ev));
  assert.ok(!matches('{"type":["image"]}', ev));
  assert.ok(matches('{"event":["start","stop"]}', ev));
  assert.ok(!matches('{"event":["sta"]}', ev), 'actions match exactly');
  assert.ok(matches('{"container":["fff"]}', ev), 'id prefix');
  assert.ok(matches('{"container":["web"]}', ev), 'name prefix, as dockerd');
  assert.ok(!matches('{"container":["db"]}', ev));
  assert.ok(matches('{"image":["busybox"]}', ev), 'tag stripped');
  assert.ok(matches('{"image":["busybox:latest"]}', ev));
  assert.ok(!matches('{"image":["alpine"]}', ev));
  assert.ok(matches('{"label":["com.example.tier"]}', ev));
  assert.ok(matches('{"label":["com.example.tier=web","flag"]}', ev));
  assert.ok(!matches('{"label":["com.example.tier=db"]}', ev));
  assert.ok(!matches('{"label":["com.example.tier","missing"]}', ev), 'every label filter must hold');
  assert.ok(matches('{"scope":["local"]}', ev));
  assert.ok(!matches('{"scope":["swarm"]}', ev));
  assert.ok(!matches('{"daemon":["x"]}', ev), 'another type\'s name filter applies to the actor too');
});

test('filters: a bare health_status / exec_start matches the detailed actions by prefix', () => {
  assert.ok(matches('{"event":["health_status"]}', containerEvent('health_status: healthy')));
  assert.ok(!matches('{"event":["health_status: unhealthy"]}', containerEvent('health_status: healthy')));
  assert.ok(matches('{"event":["exec_start"]}', containerEvent('exec_start: sh -c true')));
  assert.ok(!matches('{"event":["die"]}', containerEvent('health_status: healthy')));
});

test('filters: image events match the image id and name', () => {
  const ev: EventInput = { Type: 'image', Action: 'tag', Actor: { ID: 'sha256:' + 'a'.repeat(64), Attributes: { name: 'myrepo/app:v1' } } };
  assert.ok(matches('{"image":["myrepo/app"]}', ev));
  assert.ok(matches('{"image":["myrepo/app:v1"]}', ev));
  assert.ok(matches(`{"image":["sha256:${'a'.repeat(64)}"]}`, ev));
  assert.ok(!matches('{"image":["other"]}', ev));
  assert.ok(!matches('{"container":["zzz"]}', ev));
});

test('messages: legacy fields for container and image events, Go field order, exact timeNano', () => {
  const bus = new EventBus();
  const before = nowNanos();
  const ev = bus.emit(containerEvent('die', { exitCode: '0' }));
  const line = encodeEvent(ev);
  assert.ok(line.endsWith('\n'));
  const json = JSON.parse(line);
  assert.deepEqual(Object.keys(json), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  assert.equal(json.status, 'die');
  assert.equal(json.id, cid);
  assert.equal(json.from, 'busybox:latest');
  assert.deepEqual(Object.keys(json.Actor.Attributes), ['exitCode', 'image', 'name'], 'attributes sorted as Go encodes maps');
  assert.equal(json.scope, 'local');
  const nano = BigInt(/"timeNano":(\d+)/.exec(line)![1]!);
  assert.equal(nano, ev.timeNano);
  assert.ok(nano >= before);
  assert.equal(json.time, Number(nano / 1_000_000_000n));
  const other = JSON.parse(encodeEvent(bus.emit({ Type: 'network', Action: 'create', Actor: { ID: 'n1', Attributes: {} } })));
  assert.deepEqual(Object.keys(other), ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
});

test('bus: keeps the last 256 events; replays only with since/until; delivers live events until unsubscribed', () => {
  const bus = new EventBus();
  const first: EventMessage[] = [];
  for (let i = 0; i < EVENTS_LIMIT + 44; i++) first.push(bus.emit(containerEvent(`a${i}`)));
  assert.equal(bus.buffered().length, EVENTS_LIMIT);
  assert.equal(bus.buffered()[0]!.Action, 'a44');

  const none: string[] = [];
  const stopNone = bus.subscribe({}, (e) => none.push(e.Action));
  assert.deepEqual(none, [], 'no replay without since/until');

  const mid = first[100]!.timeNano;
  const got: string[] = [];
  const stop = bus.subscribe({ since: mid }, (e) => got.push(e.Action));
  assert.equal(got.length, EVENTS_LIMIT + 44 - 100);
  assert.equal(got[0], 'a100');

  const bounded: string[] = [];
  bus.subscribe({ since: first[50]!.timeNano, until: first[60]!.timeNano }, (e) => bounded.push(e.Action))();
  assert.deepEqual(bounded, ['a50', 'a51', 'a52', 'a53', 'a54', 'a55', 'a56', 'a57', 'a58', 'a59', 'a60']);

  const untilOnly: string[] = [];
  bus.subscribe({ until: first[45]!.timeNano }, (e) => untilOnly.push(e.Action))();
  assert.deepEqual(untilOnly, ['a44', 'a45'], 'until alone replays from the oldest buffered');

  const filtered: string[] = [];
  const stopFiltered = bus.subscribe({ since: 0n, filters: FilterArgs.fromJSON('{"event":["a299"]}') }, (e) => filtered.push(e.Action));
  assert.deepEqual(filtered, ['a299']);

  bus.emit(containerEvent('live'));
  assert.equal(got.at(-1), 'live');
  assert.equal(none.at(-1), 'live');
  assert.deepEqual(filtered, ['a299']);
  stop();
  stopNone();
  stopFiltered();
  bus.emit(containerEvent('after'));
  assert.notEqual(got.at(-1), 'after');
  assert.equal(bus.subscriberCount, 0);
});

test('sinks: container events carry attrs, then labels, image and name; image events their labels and name', () => {
  const bus = new EventBus();
  const rec = { Id: cid, Name: '/web-1', Config: { Image: 'busybox', Labels: { tier: 'web', exitCode: 'label-wins' } } } as unknown as ContainerRecord;
  const sink = containerEventSink(bus);
  sink('die', rec, { exitCode: '3', signal: '9' });
  const ev = bus.buffered().at(-1)!;
  assert.equal(ev.Type, 'container');
  assert.equal(ev.Actor.ID, cid);
  assert.deepEqual(ev.Actor.Attributes, { exitCode: 'label-wins', image: 'busybox', name: 'web-1', signal: '9', tier: 'web' });
  assert.equal(ev.from, 'busybox');

  const img = imageEventSink(bus, (id) => (id === 'sha256:1' ? { maintainer: 'me' } : undefined));
  img('tag', 'sha256:1', 'app:v2');
  assert.deepEqual(bus.buffered().at(-1)!.Actor, { ID: 'sha256:1', Attributes: { maintainer: 'me', name: 'app:v2' } });
  img('delete', 'sha256:2', 'sha256:2');
  const del = bus.buffered().at(-1)!;
  assert.deepEqual([del.status, del.id, del.from, del.Actor.Attributes.name], ['delete', 'sha256:2', undefined, 'sha256:2']);
});

test('since/until values: seconds with an optional fraction; Go\'s parse errors', () => {
  assert.equal(parseEventTime(undefined), undefined);
  assert.equal(parseEventTime(''), undefined);
  assert.equal(parseEventTime('1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime('1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime('1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.equal(parseEventTime('1700000000.1234567891'), 1_700_000_000_123_456_789n);
  assert.throws(() => parseEventTime('10m'), (e: EngineError) => e.status === 500 && e.message === 'strconv.ParseInt: parsing "10m": invalid syntax');
});

async function serve(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-events-'));
  const socket = join(dir, 'api.sock');
  const api = new ApiServer();
  const bus = new EventBus();
  eventsRoutes(api.router, { bus });
  await api.listen(`unix://${socket}`);
  t.after(async () => {
    await api.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return { bus, socket };
}

/** GET path; resolves with the status and the lines received once the response ends, or
 * (with stopAfter) once that many lines have come, closing the connection. */
function get(socket: string, path: string, opts: { stopAfter?: number; onHeaders?: () => void } = {}): Promise<{ status: number; lines: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path }, (res) => {
      opts.onHeaders?.();
      let body = '';
      const lines = () => body.split('\n').filter((l) => l !== '');
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (opts.stopAfter !== undefined && lines().length >= opts.stopAfter) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, lines: lines(), body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines: lines(), body }));
    });
    req.on('error', (err) => (opts.stopAfter !== undefined ? undefined : reject(err)));
    req.end();
  });
}

const secs = (ns: bigint) => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;

test('GET /events: since+until in the past replays and ends; a future until ends the stream at that time', async (t) => {
  const { bus, socket } = await serve(t);
  const a = bus.emit(containerEvent('create'));
  bus.emit(containerEvent('start'));
  const c = bus.emit({ Type: 'image', Action: 'tag', Actor: { ID: 'sha256:x', Attributes: { name: 'x:1' } } });
  const past = await get(socket, `/v1.50/events?since=${secs(a.timeNano)}&until=${secs(c.timeNano)}`);
  assert.equal(past.status, 200);
  assert.deepEqual(past.lines.map((l) => JSON.parse(l).Action), ['create', 'start', 'tag']);

  const typed = await get(socket, `/events?since=${secs(a.timeNano)}&until=${secs(c.timeNano)}&filters=${encodeURIComponent('{"type":["image"]}')}`);
  assert.deepEqual(typed.lines.map((l) => JSON.parse(l).Action), ['tag']);

  // A future until: live events flow until then, and the stream ends by itself.
  const until = nowNanos() + 600_000_000n;
  const live = get(socket, `/events?until=${secs(until)}`, { onHeaders: () => setImmediate(() => bus.emit(containerEvent('stop'))) });
  const r = await live;
  assert.ok(nowNanos() >= until);
  assert.ok(r.lines.map((l) => JSON.parse(l).Action).includes('stop'));
});

test('GET /events: a streaming subscriber gets new events; closing the connection unsubscribes', async (t) => {
  const { bus, socket } = await serve(t);
  const got = get(socket, '/events?filters=' + encodeURIComponent('{"event":["kill"]}'), {
    stopAfter: 1,
    onHeaders: () => setImmediate(() => {
      bus.emit(containerEvent('start'));
      bus.emit(containerEvent('kill', { signal: '15' }));
    }),
  });
  const r = await got;
  assert.equal(r.lines.length, 1);
  assert.equal(JSON.parse(r.lines[0]!).Actor.Attributes.signal, '15');
  for (let i = 0; i < 100 && bus.subscriberCount > 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(bus.subscriberCount, 0);
});

test('GET /events: Docker\'s errors for bad filters and times', async (t) => {
  const { socket } = await serve(t);
  const badFilter = await get(socket, '/events?filters=' + encodeURIComponent('{"type":"container"}'));
  assert.equal(badFilter.status, 400);
  assert.equal(JSON.parse(badFilter.body).message, 'invalid filter');
  const order = await get(socket, '/events?since=200&until=100');
  assert.equal(order.status, 400);
  assert.equal(JSON.parse(order.body).message, '`since` time (200) cannot be after `until` time (100)');
  const bad = await get(socket, '/events?since=yesterday');
  assert.equal(bad.status, 500);
  assert.equal(JSON.parse(bad.body).message, 'strconv.ParseInt: parsing "yesterday": invalid syntax');
});
