import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  CLASS_IN, DnsFormatError, RCODE, TYPE, decodeMessage, emptyFlags, encodeMessage,
} from '../../src/network/dns-codec.ts';
import type { DnsMessage } from '../../src/network/dns-codec.ts';
import { DnsServer } from '../../src/network/dns-server.ts';
import type { DnsResolver } from '../../src/network/dns-server.ts';

function query(name: string, type: number, id = 0x1234, edns = false): DnsMessage {
  return {
    id, flags: { ...emptyFlags(), rd: true }, questions: [{ name, type, class: CLASS_IN }],
    answers: [], authority: [],
    additional: edns ? [{ name: '', type: TYPE.OPT, class: 4096, ttl: 0, data: Buffer.from([0, 10, 0, 2, 0xab, 0xcd]) }] : [],
  };
}

function udpAsk(port: number, msg: Buffer | DnsMessage, timeoutMs = 5000): Promise<Buffer> {
  const bytes = Buffer.isBuffer(msg) ? msg : encodeMessage(msg);
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error('no reply')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(m); });
    s.send(bytes, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, msg: DnsMessage): Promise<Buffer> {
  const bytes = encodeMessage(msg);
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    c.on('error', reject);
    c.on('connect', () => { const l = Buffer.alloc(2); l.writeUInt16BE(bytes.length); c.write(Buffer.concat([l, bytes])); });
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d as Buffer]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { c.destroy(); resolve(buf.subarray(2, 2 + buf.readUInt16BE(0))); }
    });
  });
}

const containers: Record<string, string[]> = { web: ['10.88.0.2'], db: ['10.88.0.3', '10.99.0.3'], 'my-alias': ['10.88.0.2'] };
const resolver: DnsResolver = {
  lookup: (scope, name) => (scope === 'c1' ? containers[name] ?? [] : []),
  reverse: (_scope, ip) => (ip === '10.88.0.2' ? ['web'] : []),
};

// ---------- codec ----------

test('codec round-trips questions and A/AAAA/PTR/CNAME/raw records with compression', () => {
  const m: DnsMessage = {
    id: 42, flags: { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: true, rcode: RCODE.NXDOMAIN },
    questions: [{ name: 'www.Example.com', type: TYPE.A, class: CLASS_IN }],
    answers: [
      { name: 'www.example.com', type: TYPE.CNAME, class: CLASS_IN, ttl: 30, data: 'host.example.com' },
      { name: 'host.example.com', type: TYPE.A, class: CLASS_IN, ttl: 30, data: '192.0.2.7' },
      { name: 'host.example.com', type: TYPE.AAAA, class: CLASS_IN, ttl: 30, data: '2001:db8:0:0:0:0:0:1' },
    ],
    authority: [{ name: '7.2.0.192.in-addr.arpa', type: TYPE.PTR, class: CLASS_IN, ttl: 5, data: 'host.example.com' }],
    additional: [{ name: '', type: TYPE.OPT, class: 1232, ttl: 0, data: Buffer.from([1, 2, 3]) }],
  };
  const wire = encodeMessage(m);
  const back = decodeMessage(wire);
  assert.deepEqual(back, m);
  // compression: "example.com" is spelled out once, so the message is far smaller than naive
  assert.equal(wire.toString('latin1').split('example').length - 1, 1);
  assert.equal(encodeMessage({ ...m, id: 43 }).length, wire.length);
  assert.equal(decodeMessage(encodeMessage(query('a.b.', TYPE.A))).questions[0]!.name, 'a.b');
});

test('codec rejects malformed input with DnsFormatError and never anything else', () => {
  const good = encodeMessage(query('web.example.com', TYPE.A));
  assert.throws(() => decodeMessage(good.subarray(0, 11)), DnsFormatError);
  assert.throws(() => decodeMessage(good.subarray(0, good.length - 1)), DnsFormatError);
  // a pointer to itself must not loop forever
  const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.throws(() => decodeMessage(loop), /loop/);
  assert.throws(() => encodeMessage(query('x'.repeat(64) + '.com', TYPE.A)), DnsFormatError);
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(good);
    for (let k = 0; k < 1 + (rnd() % 4); k++) b[rnd() % b.length] = rnd() & 0xff;
    const sample = i % 3 === 0 ? Buffer.from(Array.from({ length: rnd() % 64 }, () => rnd() & 0xff)) : b;
    try { decodeMessage(sample); } catch (err) { assert.ok(err instanceof DnsFormatError, String(err)); rejected++; }
  }
  assert.ok(rejected > 0);
});

// ---------- server ----------

async function withServer(opts: Partial<ConstructorParameters<typeof DnsServer>[0]>, fn: (port: number) => Promise<void>): Promise<void> {
  const server = new DnsServer({ resolver, scope: 'c1', upstreams: [], ...opts });
  const { udpPort } = await server.listen('127.0.0.1', 0);
  try { await fn(udpPort); } finally { await server.close(); }
}

test('answers container names and aliases, case-insensitively with trailing dots', async () => {
  await withServer({}, async (port) => {
    const r = decodeMessage(await udpAsk(port, query('WEB.', TYPE.A, 7)));
    assert.equal(r.id, 7);
    assert.equal(r.flags.qr, true);
    assert.equal(r.flags.rcode, RCODE.NOERROR);
    assert.equal(r.questions[0]!.name, 'WEB');
    assert.deepEqual(r.answers.map((a) => a.data), ['10.88.0.2']);
    const db = decodeMessage(await udpAsk(port, query('db', TYPE.A)));
    assert.deepEqual(db.answers.map((a) => a.data), ['10.88.0.3', '10.99.0.3']);
    const alias = decodeMessage(await tcpAsk(port, query('My-Alias', TYPE.A)));
    assert.deepEqual(alias.answers.map((a) => a.data), ['10.88.0.2']);
    // AAAA for a known name: NODATA (NOERROR, no answers)
    const aaaa = decodeMessage(await udpAsk(port, query('web', TYPE.AAAA)));
    assert.equal(aaaa.flags.rcode, RCODE.NOERROR);
    assert.equal(aaaa.answers.length, 0);
    const ptr = decodeMessage(await udpAsk(port, query('2.0.88.10.in-addr.arpa', TYPE.PTR)));
    assert.deepEqual(ptr.answers.map((a) => [a.type, a.data]), [[TYPE.PTR, 'web']]);
    // EDNS queries get an OPT record back
    const edns = decodeMessage(await udpAsk(port, query('web', TYPE.A, 9, true)));
    assert.equal(edns.additional[0]?.type, TYPE.OPT);
  });
});

test('unknown names without upstreams are NXDOMAIN; other scopes see nothing; garbage gets FORMERR', async () => {
  await withServer({}, async (port) => {
    assert.equal(decodeMessage(await udpAsk(port, query('nope', TYPE.A))).flags.rcode, RCODE.NXDOMAIN);
    assert.equal(decodeMessage(await udpAsk(port, query('9.9.9.9.in-addr.arpa', TYPE.PTR))).flags.rcode, RCODE.NXDOMAIN);
    const bad = Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61]);
    const r = decodeMessage(await udpAsk(port, bad));
    assert.equal(r.id, 0xabcd);
    assert.equal(r.flags.rcode, RCODE.FORMERR);
  });
  await withServer({ scope: 'other' }, async (port) => {
    assert.equal(decodeMessage(await udpAsk(port, query('web', TYPE.A))).flags.rcode, RCODE.NXDOMAIN);
  });
});

test('server survives random garbage and keeps answering', async () => {
  await withServer({}, async (port) => {
    const server = new DnsServer({ resolver, scope: 'c1', upstreams: [] });
    const good = encodeMessage(query('web', TYPE.A));
    let seed = 777;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 1 + (rnd() % 4); k++) b[rnd() % b.length] = rnd() & 0xff;
      const reply = await server.handle(b, { address: '127.0.0.1', port: 1, transport: 'udp' });
      if (reply) assert.equal(decodeMessage(reply).flags.qr, true);
    }
    const s = dgram.createSocket('udp4');
    for (let i = 0; i < 50; i++) s.send(randomBytes(rnd() % 40), port, '127.0.0.1');
    await new Promise<void>((r) => s.close(() => r()));
    assert.deepEqual(decodeMessage(await udpAsk(port, query('web', TYPE.A))).answers.map((a) => a.data), ['10.88.0.2']);
  });
});

/** A fake upstream: UDP answers are truncated when `truncate`, TCP answers are full. */
async function fakeUpstream(truncate: boolean): Promise<{ port: number; seen: Buffer[]; close: () => Promise<void> }> {
  const seen: Buffer[] = [];
  const tcp = net.createServer();
  await new Promise<void>((r) => tcp.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()));
  const reply = (raw: Buffer, full: boolean): Buffer => {
    const q = decodeMessage(raw);
    const count = full ? 60 : 0;
    return encodeMessage({
      id: q.id, flags: { ...q.flags, qr: true, ra: true, tc: !full },
      questions: q.questions, authority: [], additional: [],
      answers: Array.from({ length: count }, (_, i) => ({ name: q.questions[0]!.name, type: TYPE.A, class: CLASS_IN, ttl: 60, data: `203.0.113.${i}` })),
    });
  };
  udp.on('message', (m, rinfo) => {
    seen.push(m);
    const q = decodeMessage(m);
    const r = truncate ? reply(m, false) : encodeMessage({
      id: q.id, flags: { ...q.flags, qr: true, ra: true }, questions: q.questions, authority: [], additional: [],
      answers: [{ name: q.questions[0]!.name, type: TYPE.A, class: CLASS_IN, ttl: 60, data: '198.51.100.1' }],
    });
    udp.send(r, rinfo.port, rinfo.address);
  });
  tcp.on('connection', (c) => {
    c.on('data', (d: Buffer) => {
      const m = d.subarray(2, 2 + d.readUInt16BE(0));
      const r = reply(m, true);
      const l = Buffer.alloc(2); l.writeUInt16BE(r.length);
      c.end(Buffer.concat([l, r]));
    });
  });
  return {
    port, seen,
    close: async () => { await new Promise<void>((r) => udp.close(() => r())); await new Promise<void>((r) => tcp.close(() => r())); },
  };
}

test('forwards other names upstream unchanged (EDNS passes through)', async () => {
  const up = await fakeUpstream(false);
  try {
    await withServer({ upstreams: [{ address: '127.0.0.1', port: up.port }] }, async (port) => {
      const sent = encodeMessage(query('example.org', TYPE.A, 77, true));
      const r = decodeMessage(await udpAsk(port, sent));
      assert.equal(r.id, 77);
      assert.deepEqual(r.answers.map((a) => a.data), ['198.51.100.1']);
      assert.deepEqual(up.seen[0], sent);
      // local names are still answered locally
      assert.deepEqual(decodeMessage(await udpAsk(port, query('web', TYPE.A))).answers.map((a) => a.data), ['10.88.0.2']);
      assert.equal(up.seen.length, 1);
    });
  } finally { await up.close(); }
});

test('retries over TCP when the upstream truncates; re-truncates for small UDP clients', async () => {
  const up = await fakeUpstream(true);
  try {
    await withServer({ upstreams: [{ address: '127.0.0.1', port: up.port }] }, async (port) => {
      const big = decodeMessage(await udpAsk(port, query('big.example', TYPE.A, 5, true)));
      assert.equal(big.flags.tc, false);
      assert.equal(big.answers.length, 60);
      // 60 answers exceed 512 bytes: a plain UDP client gets TC and asks again over TCP
      const small = decodeMessage(await udpAsk(port, query('big.example', TYPE.A, 6)));
      assert.equal(small.flags.tc, true);
      assert.equal(small.answers.length, 0);
      const overTcp = decodeMessage(await tcpAsk(port, query('big.example', TYPE.A, 8)));
      assert.equal(overTcp.answers.length, 60);
    });
  } finally { await up.close(); }
});

test('upstream timeout gives SERVFAIL', async () => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  try {
    await withServer({ upstreams: [{ address: '127.0.0.1', port: silent.address().port }], upstreamTimeoutMs: 200 }, async (port) => {
      const r = decodeMessage(await udpAsk(port, query('slow.example', TYPE.A, 11)));
      assert.equal(r.id, 11);
      assert.equal(r.flags.rcode, RCODE.SERVFAIL);
    });
  } finally { await new Promise<void>((r) => silent.close(() => r())); }
});


// ---------- inside a network namespace ----------
