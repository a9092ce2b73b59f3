// `docker cp` through the real docker CLI (and the raw archive API) against running and
// stopped containers, including a hostile rootfs whose links point at the host's /.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { readTar } from '../../src/archive/tar.ts';
import { buildTar } from '../unit/snapshotter-suite.ts';

let d: TestDaemon;
let host: string;
before(async () => {
  d = await startDaemon({ loadBusybox: true });
  host = await fsp.mkdtemp(join(tmpdir(), 'berth-cp-'));
});
after(async () => {
  await d?.cleanup();
  if (host) await fsp.rm(host, { recursive: true, force: true });
});

async function running(name: string, script: string, extra: string[] = []): Promise<void> {
  const r = await d.docker(['run', '-d', '--name', name, ...extra, 'busybox', 'sh', '-c', `${script}; touch /tmp/ready; sleep 300`]);
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 100; i++) {
    if ((await d.docker(['exec', name, 'test', '-e', '/tmp/ready'])).code === 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${name} did not get ready`);
}

async function execOut(name: string, cmd: string): Promise<string> {
  const r = await d.docker(['exec', name, 'sh', '-c', cmd]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** A raw request with a binary body over the daemon's socket. */
function raw(method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}


async function untarOne(data: Buffer): Promise<Array<{ name: string; body: string }>> {
  const out: Array<{ name: string; body: string }> = [];
  for await (const e of readTar((async function* () {
    yield data;
  })())) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ name: e.header.name, body: Buffer.concat(parts).toString() });
  }
  return out;
}

test('running container: files and directories out and in, -L, and errors as docker prints them', async () => {
  const name = 'cp-run';
  await running(name, 'mkdir -p /data/sub && echo hello > /data/f && chmod 640 /data/f && echo s > /data/sub/s && ln -s /data/f /data/link');
  try {
    let r = await d.docker(['cp', `${name}:/data/f`, join(host, 'f')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fsp.readFile(join(host, 'f'), 'utf8'), 'hello\n');
    assert.equal((await fsp.stat(join(host, 'f'))).mode & 0o777, 0o640);

    r = await d.docker(['cp', `${name}:/data`, join(host, 'dataout')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fsp.readFile(join(host, 'dataout', 'sub', 's'), 'utf8'), 's\n');
    assert.equal(await fsp.readlink(join(host, 'dataout', 'link')), '/data/f');

    r = await d.docker(['cp', `${name}:/data/link`, join(host, 'l')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fsp.readlink(join(host, 'l')), '/data/f');
    r = await d.docker(['cp', '-L', `${name}:/data/link`, join(host, 'l2')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fsp.readFile(join(host, 'l2'), 'utf8'), 'hello\n');

    await fsp.writeFile(join(host, 'in.txt'), 'in\n', { mode: 0o600 });
    r = await d.docker(['cp', join(host, 'in.txt'), `${name}:/data/in.txt`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await execOut(name, 'cat /data/in.txt; stat -c %a:%u:%g /data/in.txt'), 'in\n600:0:0\n');

    await fsp.mkdir(join(host, 'dirin', 'deep'), { recursive: true });
    await fsp.writeFile(join(host, 'dirin', 'deep', 'a'), 'a\n');
    r = await d.docker(['cp', join(host, 'dirin'), `${name}:/dirin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await execOut(name, 'cat /dirin/deep/a'), 'a\n');

    r = await d.docker(['cp', `${name}:/nope`, join(host, 'nope')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: Could not find the file \/nope in container cp-run/);
    r = await d.docker(['cp', join(host, 'in.txt'), `${name}:/nope/dir/`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such directory/);
    // "file/" is not a directory: nothing is written over the file.
    const passwd = await execOut(name, 'cat /etc/passwd');
    r = await d.docker(['cp', join(host, 'in.txt'), `${name}:/etc/passwd/`]);
    assert.equal(r.code, 1);
    assert.equal(await execOut(name, 'cat /etc/passwd'), passwd);

    // A directory's contents with "dir/.", into an existing directory.
    r = await d.docker(['cp', `${name}:/data/sub/.`, join(host, 'dataout')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await fsp.readdir(join(host, 'dataout'))).sort(), ['f', 'link', 's', 'sub']);

    // HEAD's stat header, decoded.
    const head = await raw('HEAD', `/containers/${name}/archive?path=/data/link`);
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
    assert.equal(stat.name, 'link');
    assert.equal(stat.linkTarget, '/data/f');
    assert.equal(stat.mode, 2 ** 27 + 0o777);
  } finally {
    await d.docker(['rm', '-f', name]);
  }
});

test('a stopped container is copied from and to, and its temporary mount goes away', async () => {
  const name = 'cp-stopped';
  const c = await d.docker(['create', '--name', name, 'busybox', 'cat', '/in.txt']);
  assert.equal(c.code, 0, c.stderr);
  try {
    await fsp.writeFile(join(host, 'stopped.txt'), 'for the stopped one\n');
    let r = await d.docker(['cp', join(host, 'stopped.txt'), `${name}:/in.txt`]);
    assert.equal(r.code, 0, r.stderr);
    r = await d.docker(['cp', `${name}:/in.txt`, join(host, 'back.txt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fsp.readFile(join(host, 'back.txt'), 'utf8'), 'for the stopped one\n');
    const mountinfo = await fsp.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mountinfo.includes(join(d.execRoot, 'cp')), 'temporary mount left behind');
    r = await d.docker(['start', '-a', name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'for the stopped one\n');
  } finally {
    await d.docker(['rm', '-f', name]);
  }
});

test('-a gives the files to the container user', async () => {
  const name = 'cp-user';
  await running(name, 'true', ['--user', '1000:1000']);
  try {
    await fsp.writeFile(join(host, 'a.txt'), 'a\n');
    let r = await d.docker(['cp', '-a', join(host, 'a.txt'), `${name}:/tmp/a.txt`]);
    assert.equal(r.code, 0, r.stderr);
    r = await d.docker(['cp', join(host, 'a.txt'), `${name}:/tmp/b.txt`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await execOut(name, 'stat -c %u:%g /tmp/a.txt /tmp/b.txt'), '1000:1000\n0:0\n');
  } finally {
    await d.docker(['rm', '-f', name]);
  }
});

test('a rootfs with /evil -> /: reads and writes stay in the container', async () => {
  const name = 'cp-evil';
  const marker = `berth-cp-${randomBytes(4).toString('hex')}`;
  await running(name, 'ln -s / /evil && ln -s ../../../../.. /up && echo container-only >> /etc/passwd');
  try {
    const r = await d.docker(['cp', `${name}:/evil/etc/passwd`, '-']);
    assert.equal(r.code, 0, r.stderr);
    const entries = await untarOne(Buffer.from(r.stdout, 'latin1'));
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.name, 'passwd');
    assert.equal(entries[0]!.body, await execOut(name, 'cat /etc/passwd'));
    assert.notEqual(entries[0]!.body, await fsp.readFile('/etc/passwd', 'utf8'));

    await fsp.writeFile(join(host, 'x'), 'inside\n');
    let w = await d.docker(['cp', join(host, 'x'), `${name}:/evil/${marker}`]);
    assert.equal(w.code, 0, w.stderr);
    w = await d.docker(['cp', join(host, 'x'), `${name}:/up/${marker}-up`]);
    assert.equal(w.code, 0, w.stderr);
    await assert.rejects(fsp.stat(`/${marker}`), { code: 'ENOENT' });
    await assert.rejects(fsp.stat(`/${marker}-up`), { code: 'ENOENT' });
    assert.equal(await execOut(name, `cat /${marker} /${marker}-up`), 'inside\ninside\n');

    // An uploaded tar with absolute names, links out and a hardlink: all inside.
    const tar = await buildTar([
      { name: `/${marker}-abs`, type: 'file', body: 'abs\n' },
      { name: 'lnk', type: 'symlink', linkname: '/' },
      { name: `lnk/${marker}-via-link`, type: 'file', body: 'via\n' },
      { name: `${marker}-hard`, type: 'hardlink', linkname: `/${marker}-abs` },
    ]);
    const put = await raw('PUT', `/containers/${name}/archive?path=/tmp`, tar);
    assert.equal(put.status, 200, put.body.toString());
    assert.equal(await execOut(name, `cat /tmp/${marker}-abs /${marker}-via-link /tmp/${marker}-hard`), 'abs\nvia\nabs\n');
    for (const p of [`/${marker}-abs`, `/${marker}-via-link`, `/tmp/${marker}-abs`, `/tmp/${marker}-hard`]) {
      await assert.rejects(fsp.stat(p), { code: 'ENOENT' }, p);
    }

    const climb = await raw('PUT', `/containers/${name}/archive?path=/tmp`, await buildTar([{ name: `../../../../${marker}-climb`, type: 'file', body: 'x' }]));
    assert.equal(climb.status, 500);
    assert.match(JSON.parse(climb.body.toString()).message, /is outside of/);
    await assert.rejects(fsp.stat(`/${marker}-climb`), { code: 'ENOENT' });
    assert.notEqual((await d.docker(['exec', name, 'test', '-e', `/${marker}-climb`])).code, 0);

    const notDir = await raw('PUT', `/containers/${name}/archive?path=/etc/passwd`, tar);
    assert.equal(notDir.status, 400);
    assert.equal(JSON.parse(notDir.body.toString()).message, 'extraction point is not a directory');
    const missing = await raw('PUT', `/containers/${name}/archive?path=/nope`, tar);
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body.toString()).message, `Could not find the file /nope in container ${name}`);
  } finally {
    await d.docker(['rm', '-f', name]);
    await fsp.rm(`/${marker}`, { force: true });
    await fsp.rm(`/${marker}-up`, { force: true });
  }
});

test('a client that hangs up mid-download leaves berthd well and the container free', async () => {
  const name = `cp-hangup-${randomBytes(3).toString('hex')}`;
  const made = await d.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'mkdir -p /big && for i in 1 2 3 4 5 6 7 8; do dd if=/dev/zero of=/big/f$i bs=1M count=4 2>/dev/null; done']);
  assert.equal(made.code, 0, made.stderr);
  for (let round = 0; round < 3; round++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'GET', path: `/containers/${name}/archive?path=/big` }, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => {
          req.destroy(); // gone after the first chunk, with megabytes still to come
          resolve();
        });
      });
      const timer = setTimeout(() => reject(new Error('no data')), 10_000);
      req.on('error', () => undefined);
      req.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      req.end();
    });
  }
  // The stopped container's temporary mount is released and its lock free: it starts.
  for (let i = 0; i < 100 && (await fsp.readdir(join(d.execRoot, 'cp')).catch(() => [])).length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await fsp.readdir(join(d.execRoot, 'cp')).catch(() => []), []);
  const again = await d.docker(['start', '-a', name]);
  assert.equal(again.code, 0, again.stderr);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(d.proc.exitCode, null, 'berthd still runs');
  assert.equal((await d.docker(['rm', name])).code, 0);
});
