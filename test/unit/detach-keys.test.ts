// The detach-key parser and scanner (moby/term's ToBytes and escape proxy rules) and how
// the attach hub ends a client's session: detach, end of input, StdinOnce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { AttachHub, DetachKeyScanner, parseDetachKeys, scanDetachKeys, invalidDetachKeysMessage, type AttachClient, type StdinSink } from '../../src/container/attach.ts';

test('parseDetachKeys: single bytes, ctrl-<c>, DEL; anything else refused with moby\'s text', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,b,c')], [97, 98, 99]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 1, 26, 27, 28, 29, 30, 31]);
  assert.deepEqual([...parseDetachKeys('DEL,x')], [127, 120]);
  for (const bad of ['ctrl-P', ' ctrl-p', 'ctrl-1', 'ctrl-', 'ab', 'é', ',', 'ctrl-p,', 'del']) {
    const key = bad === ',' || bad === 'ctrl-p,' ? '' : bad;
    assert.throws(() => parseDetachKeys(bad), { message: `Unknown character: '${key}'` }, bad);
  }
  assert.equal(invalidDetachKeysMessage('ctrl-P'), 'Invalid detach keys (ctrl-P) provided');
});

/** Feeds chunks to a scanner; returns what passed and whether it detached. */
function scan(keys: string | undefined, chunks: Array<string | number[]>): { out: number[]; detached: boolean } {
  const s = new DetachKeyScanner(keys ? parseDetachKeys(keys) : undefined);
  const out: number[] = [];
  let detached = false;
  for (const c of chunks) {
    const r = s.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    out.push(...r.data);
    if (r.detached) {
      detached = true;
      break;
    }
  }
  return { out, detached };
}

test('scanner: the default ctrl-p ctrl-q detaches; what came before it passes, nothing after', () => {
  assert.deepEqual(scan(undefined, [[104, 105, 16, 17, 120]]), { out: [104, 105], detached: true });
  // Split across reads: the ctrl-p is held back, then the sequence completes.
  assert.deepEqual(scan(undefined, ['ab', [16], [17], 'never']), { out: [97, 98], detached: true });
  assert.deepEqual(scan(undefined, ['plain text\n']), { out: [...Buffer.from('plain text\n')], detached: false });
});

test('scanner: a broken sequence is passed on, held bytes first, in order', () => {
  // ctrl-p then x: both go to the container.
  assert.deepEqual(scan(undefined, [[16], 'x']), { out: [16, 120], detached: false });
  assert.deepEqual(scan(undefined, [[16, 120, 16, 17]]), { out: [16, 120], detached: true });
  // As moby's proxy: the byte that breaks a partial match does not begin a new one.
  assert.deepEqual(scan(undefined, [[16, 16, 17]]), { out: [16, 16, 17], detached: false });
  // A held prefix is not shown until it is known not to be the sequence.
  const s = new DetachKeyScanner(parseDetachKeys('a,b,c'));
  assert.deepEqual([...s.push(Buffer.from('xab')).data], [120]);
  assert.equal(s.pending, 2);
  assert.deepEqual([...s.push(Buffer.from('d')).data], [97, 98, 100]);
  assert.equal(s.pending, 0);
});

test('scanner: custom keys, single-key sequences, and the empty key list meaning the default', () => {
  assert.deepEqual(scan('ctrl-x', ['ab', [24], 'c']), { out: [97, 98], detached: true });
  assert.deepEqual(scan('a,b,c', ['xxa', 'b', 'cyy']), { out: [120, 120], detached: true });
  // ctrl-p ctrl-q is no detach sequence when other keys were chosen.
  assert.deepEqual(scan('ctrl-a', [[16, 17]]), { out: [16, 17], detached: false });
  assert.deepEqual(new DetachKeyScanner(Buffer.alloc(0)).push(Buffer.from([16, 17])), { data: Buffer.alloc(0), detached: true });
});

test('scanDetachKeys: yields the passed bytes and stops at the sequence, once', async () => {
  const input = new PassThrough();
  let detaches = 0;
  const got: Buffer[] = [];
  const done = (async () => {
    for await (const b of scanDetachKeys(input, undefined, () => detaches++)) got.push(b);
  })();
  input.write('ls\r');
  input.write(Buffer.from([16]));
  input.write(Buffer.from([17, 0x41]));
  await done;
  assert.equal(Buffer.concat(got).toString(), 'ls\r');
  assert.equal(detaches, 1);
});

/** Resolves once cond() holds; fails the test after 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}

/** A sink that records what the container got. */
function sink(): StdinSink & { data: Buffer[]; closed: number } {
  const s = {
    data: [] as Buffer[],
    closed: 0,
    writeStdin: (d: Buffer) => void s.data.push(d),
    closeStdin: () => void s.closed++,
  };
  return s;
}

/** A hub client whose input is a PassThrough; `ended` resolves when its session ends. */
function client(o: Partial<AttachClient> = {}): { c: AttachClient; input: PassThrough; out: string[]; ended: Promise<void>; detached: () => number } {
  const input = new PassThrough();
  const out: string[] = [];
  let detaches = 0;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const c: AttachClient = {
    stdout: true,
    stderr: true,
    write: (stream, d) => void out.push(`${stream}:${d}`),
    end: resolveEnded,
    stdin: input,
    onDetach: () => void detaches++,
    ...o,
  };
  return { c, input, out, ended, detached: () => detaches };
}

test('hub: a TTY client that types the keys detaches; the container keeps its stdin for the next one', async () => {
  const hub = new AttachHub();
  const s = sink();
  hub.connect(s);
  const a = client({ tty: true });
  hub.add(a.c);
  a.input.write('echo hi\r');
  a.input.write(Buffer.from([16, 17]));
  await a.ended;
  assert.equal(a.detached(), 1);
  assert.equal(Buffer.concat(s.data).toString(), 'echo hi\r');
  assert.equal(s.closed, 0);
  assert.equal(hub.size, 0);
  // Output after the detach no longer reaches it; a new client gets input through.
  const b = client({ tty: true, detachKeys: parseDetachKeys('ctrl-x') });
  hub.add(b.c);
  hub.output(1, Buffer.from('prompt'));
  assert.deepEqual(a.out, []);
  assert.deepEqual(b.out, ['1:prompt']);
  b.input.write(Buffer.from([16, 17, 0x0a]));
  b.input.write(Buffer.from([24]));
  await b.ended;
  assert.deepEqual([...Buffer.concat(s.data).subarray(8)], [16, 17, 0x0a]);
});

test('hub: end of input closes stdin only for StdinOnce without a TTY; otherwise it ends that session', async () => {
  const hub = new AttachHub();
  const s = sink();
  hub.connect(s);
  const once = client({ closeStdin: true });
  hub.add(once.c);
  once.input.end('data');
  await until(() => s.closed === 1);
  assert.equal(hub.size, 1); // it still gets the output until the container stops
  hub.output(2, Buffer.from('late'));
  assert.deepEqual(once.out, ['2:late']);

  const plain = client({ closeStdin: false });
  hub.add(plain.c);
  plain.input.end();
  await plain.ended;
  assert.equal(s.closed, 1);

  const ttyOnce = client({ tty: true, closeStdin: true });
  hub.add(ttyOnce.c);
  ttyOnce.input.end();
  await ttyOnce.ended;
  assert.equal(s.closed, 1);
  assert.equal(ttyOnce.detached(), 0);

  hub.close();
  await once.ended;
  assert.equal(hub.size, 0);
});

test('hub: a non-TTY client\'s ctrl-p ctrl-q is plain input; input waits for the start', async () => {
  const hub = new AttachHub();
  const a = client({ tty: false });
  hub.add(a.c);
  a.input.write(Buffer.from([16, 17]));
  const s = sink();
  hub.connect(s);
  a.input.end();
  await a.ended;
  assert.deepEqual([...Buffer.concat(s.data)], [16, 17]);
  assert.equal(a.detached(), 0);
});
