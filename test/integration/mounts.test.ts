// Volumes, binds and tmpfs in containers through the real docker CLI: data in a named
// volume outlives its container, a read-only bind refuses writes, a tmpfs has the asked
// size, the image's VOLUME paths get anonymous volumes filled from the image, rm -v,
// --volumes-from, volume-subpath kept inside its volume, inspect's Mounts, and dockerd's
// errors with nothing left behind by a failed create.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { until } from '../helpers/until.ts';
import { dockerOk, run as exec, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

async function run(cmd: string, args: string[]): Promise<void> {
  const r = await exec(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

let d: TestDaemon;
let host: string;
const tag = randomBytes(3).toString('hex');
const n = (s: string) => `mnt-${tag}-${s}`;

before(async () => {
  d = await startDaemon();
  host = await fsp.mkdtemp(join(tmpdir(), 'berth-mounts-'));
  // An image whose /etc is a VOLUME: the export of a busybox container imported with a change.
  await ok(['create', '--name', n('src'), 'busybox']);
  const tar = join(host, 'bb.tar');
  await ok(['export', '-o', tar, n('src')]);
  await ok(['import', '--change', 'VOLUME /etc', '--change', 'CMD ["sh"]', tar, n('volimg')]);
  await ok(['rm', n('src')]);
  await fsp.rm(tar);
});
after(async () => {
  if (d) {
    const ids = (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await d.docker(['rm', '-f', '-v', ...ids]);
    await d.docker(['volume', 'prune', '-a', '-f']);
  }
  await d?.cleanup();
  if (host) await fsp.rm(host, { recursive: true, force: true });
});

const ok = (args: string[]) => dockerOk(d, args);

async function volumeNames(): Promise<string[]> {
  return (await ok(['volume', 'ls', '-q'])).trim().split('\n').filter(Boolean);
}

test('a named volume keeps its data after its container is removed and the next container sees it', async () => {
  const vol = n('data');
  await ok(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo kept > /data/f']);
  assert.ok((await volumeNames()).includes(vol), 'run --rm keeps a named volume');
  assert.equal(await ok(['run', '--rm', '-v', `${vol}:/d`, 'busybox', 'cat', '/d/f']), 'kept\n');
  const viaBerth = await d.berth(['run', '--rm', '-v', `${vol}:/d`, 'busybox', 'cat', '/d/f']);
  assert.deepEqual([viaBerth.code, viaBerth.stdout], [0, 'kept\n']);
  // The same through --mount, read-only: reads work, writes do not.
  const ro = await d.docker(['run', '--rm', '--mount', `type=volume,src=${vol},dst=/d,readonly`, 'busybox', 'sh', '-c', 'cat /d/f; touch /d/g']);
  assert.equal(ro.code, 1);
  assert.equal(ro.stdout, 'kept\n');
  assert.match(ro.stderr, /Read-only file system/);
  // In use (by a stopped container too): refused; free again after rm.
  const holder = (await ok(['create', '-v', `${vol}:/data`, 'busybox'])).trim();
  const rm = await d.docker(['volume', 'rm', vol]);
  assert.equal(rm.code, 1);
  assert.equal(rm.stderr, `Error response from daemon: remove ${vol}: volume is in use - [${holder}]\n`);
  const dangling = (await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n');
  assert.ok(!dangling.includes(vol));
  assert.equal(await ok(['ps', '-aq', '--no-trunc', '--filter', `volume=${vol}`]), `${holder}\n`);
  await ok(['rm', '-v', holder]); // -v keeps named volumes
  assert.ok((await volumeNames()).includes(vol));
  assert.equal(await ok(['volume', 'rm', vol]), `${vol}\n`);
});

test('binds: read-only refuses writes, read-write writes land on the host, a missing -v source is made', async () => {
  const dir = join(host, 'bind');
  await fsp.mkdir(dir);
  await fsp.writeFile(join(dir, 'in'), 'from host\n');
  const ro = await d.docker(['run', '--rm', '-v', `${dir}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/in; echo x > /h/out']);
  assert.equal(ro.code, 1);
  assert.equal(ro.stdout, 'from host\n');
  assert.match(ro.stderr, /Read-only file system/);
  await assert.rejects(fsp.stat(join(dir, 'out')));
  await ok(['run', '--rm', '--mount', `type=bind,source=${dir},target=/h`, 'busybox', 'sh', '-c', 'echo written > /h/out']);
  assert.equal(await fsp.readFile(join(dir, 'out'), 'utf8'), 'written\n');
  const made = join(host, 'made', 'deep');
  await ok(['run', '--rm', '-v', `${made}:/m`, 'busybox', 'true']);
  assert.ok((await fsp.stat(made)).isDirectory());
});

test('bind propagation: rslave needs a shared or slave host mount, and then reaches the container', async () => {
  const dir = join(host, 'prop');
  await fsp.mkdir(dir);
  await run('mount', ['--bind', dir, dir]);
  try {
    await run('mount', ['--make-private', dir]);
    const refused = await d.docker(['run', '--rm', '-v', `${dir}:/h:rslave`, 'busybox', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, new RegExp(`path ${dir} is mounted on ${dir} but it is not a shared or slave mount`));
    await run('mount', ['--make-shared', dir]);
    const info = await ok(['run', '--rm', '-v', `${dir}:/h:rslave`, 'busybox', 'grep', ' /h ', '/proc/self/mountinfo']);
    assert.match(info, /master:\d+/);
  } finally {
    await run('umount', [dir]);
  }
});

test('tmpfs mounts have the size asked for', async () => {
  const out = await ok(['run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', '--tmpfs', '/u:size=2m', 'busybox', 'sh', '-c', 'grep -E " /(t|u) " /proc/mounts; stat -c %a /t']);
  const lines = out.trim().split('\n');
  assert.match(lines.find((l) => l.includes(' /t '))!, /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770/);
  assert.match(lines.find((l) => l.includes(' /u '))!, /^tmpfs \/u tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k/);
  assert.equal(lines.at(-1), '1770');
});

test("the image's VOLUME gets an anonymous volume filled from the image; rm -v removes it", async () => {
  const before = await volumeNames();
  const id = (await ok(['create', n('volimg'), 'cat', '/etc/passwd'])).trim();
  const [c] = JSON.parse(await ok(['inspect', id]));
  assert.equal(c.Mounts.length, 1);
  const m = c.Mounts[0];
  assert.deepEqual(Object.keys(m), ['Type', 'Name', 'Source', 'Destination', 'Driver', 'Mode', 'RW', 'Propagation']);
  assert.deepEqual({ ...m, Name: '', Source: '' }, { Type: 'volume', Name: '', Source: '', Destination: '/etc', Driver: 'local', Mode: '', RW: true, Propagation: '' });
  assert.match(m.Name, /^[0-9a-f]{64}$/);
  assert.equal(m.Source, join(d.dataRoot, 'volumes', m.Name, '_data'));
  await ok(['start', '-a', id]).then((out) => assert.match(out, /^root:x:0:0:/));
  // The copy is the volume's now: it is on the host under the volume's directory.
  assert.match(await fsp.readFile(join(m.Source, 'passwd'), 'utf8'), /^root:x:0:0:/);
  await ok(['rm', '-v', id]);
  assert.deepEqual(await volumeNames(), before);
});

test('an empty named volume takes in the image content at its path, unless volume-nocopy', async () => {
  const vol = n('copy');
  assert.match(await ok(['run', '--rm', '-v', `${vol}:/etc`, 'busybox', 'cat', '/etc/group']), /^root:x:0:/);
  // Not empty any more: a second use over another path copies nothing in.
  assert.equal(await ok(['run', '--rm', '-v', `${vol}:/bin2`, 'busybox', 'ls', '/bin2/group']), '/bin2/group\n');
  // Only what the runtime itself mounts over /etc (as with Docker), nothing of the image's.
  const empty = n('nocopy');
  assert.equal(await ok(['run', '--rm', '--mount', `type=volume,src=${empty},dst=/etc,volume-nocopy`, 'busybox', 'ls', '-A', '/etc']), 'hostname\nhosts\nresolv.conf\n');
  await ok(['volume', 'rm', vol, empty]);
});

test('run --rm removes its anonymous volumes, and --volumes-from shares a container\'s volumes', async () => {
  const before = await volumeNames();
  await ok(['run', '--rm', '-v', '/scratch', 'busybox', 'touch', '/scratch/x']);
  assert.deepEqual(await volumeNames(), before);

  const donor = n('donor');
  await ok(['create', '--name', donor, '-v', '/shared', '-v', `${n('named')}:/named`, 'busybox']);
  await ok(['run', '--rm', '--volumes-from', donor, 'busybox', 'sh', '-c', 'echo a > /shared/a; echo b > /named/b']);
  assert.equal(await ok(['run', '--rm', '--volumes-from', donor, 'busybox', 'cat', '/shared/a', '/named/b']), 'a\nb\n');
  const ro = await d.docker(['run', '--rm', '--volumes-from', `${donor}:ro`, 'busybox', 'touch', '/shared/c']);
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /Read-only file system/);
  const [c] = JSON.parse(await ok(['inspect', donor]));
  assert.deepEqual(c.Mounts.map((m: { Destination: string; Mode: string }) => [m.Destination, m.Mode]), [['/named', 'z'], ['/shared', '']]);
  await ok(['rm', '-v', donor]);
  assert.deepEqual((await volumeNames()).filter((v) => !before.includes(v)), [n('named')]);
  await ok(['volume', 'rm', n('named')]);
});

test('volume-subpath mounts a directory of the volume, and a link in it cannot lead out', async () => {
  const vol = n('sub');
  await ok(['run', '--rm', '-v', `${vol}:/v`, 'busybox', 'sh', '-c', 'mkdir -p /v/a/b && echo inside > /v/a/b/f && ln -s / /v/esc && ln -s ../../.. /v/a/up']);
  assert.equal(await ok(['run', '--rm', '--mount', `type=volume,src=${vol},dst=/s,volume-subpath=a/b`, 'busybox', 'cat', '/s/f']), 'inside\n');
  // "/" and ".." inside the volume are the volume's own root, never the host's.
  for (const sub of ['esc', 'a/up']) {
    const ls = (await ok(['run', '--rm', '--mount', `type=volume,src=${vol},dst=/s,volume-subpath=${sub}`, 'busybox', 'ls', '/s'])).split('\n');
    assert.ok(ls.includes('a') && ls.includes('esc'), `${sub}: ${ls}`);
    assert.ok(!ls.includes('etc') && !ls.includes('proc'), `${sub} reached outside the volume: ${ls}`);
  }
  const missing = await d.docker(['run', '--rm', '--mount', `type=volume,src=${vol},dst=/s,volume-subpath=nope`, 'busybox', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /cannot access path .*nope/);
  assert.equal((await fsp.readdir(join(d.execRoot, 'subpaths')).catch(() => [])).length, 0);
  await ok(['volume', 'rm', vol]);
});

test("dockerd's errors for bad mounts, and a failed create leaves no volume behind", async () => {
  const before = await volumeNames();
  const missing = await d.docker(['create', '--mount', 'type=bind,src=/nonexistent-berth,dst=/x', 'busybox']);
  assert.equal(missing.code, 1, missing.stderr); // docker create's exit code for a daemon error
  assert.equal(missing.stderr, 'Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /nonexistent-berth\n');
  const dup = await d.docker(['create', '-v', `${n('d1')}:/x`, '-v', `${host}:/x`, 'busybox']);
  assert.equal(dup.code, 1);
  assert.equal(dup.stderr, 'Error response from daemon: Duplicate mount point: /x\n');
  const dupTmpfs = await d.docker(['create', '-v', `${host}:/t`, '--tmpfs', '/t', 'busybox']);
  assert.equal(dupTmpfs.stderr, 'Error response from daemon: Duplicate mount point: /t\n');
  const relative = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: 'rel' }] } });
  assert.equal(relative.status, 400);
  assert.equal(relative.json().message, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
  const badMode = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Binds: ['/tmp:/x:bogus'] } });
  assert.equal(badMode.status, 400);
  assert.equal(badMode.json().message, 'invalid mode: bogus');
  // The volume is made before the security check fails: the create takes it back.
  const late = await d.docker(['create', '-v', `${n('late')}:/x`, '--cap-add', 'BOGUS', 'busybox']);
  assert.equal(late.code, 1);
  assert.deepEqual(await volumeNames(), before);
});

test('inspect shows binds, volumes and tmpfs mounts as dockerd does', async () => {
  const id = (await ok(['create', '-v', `${host}:/b:ro,rshared`, '-v', `${n('i')}:/v`, '--mount', 'type=tmpfs,dst=/t', 'busybox'])).trim();
  const [c] = JSON.parse(await ok(['inspect', id]));
  assert.deepEqual(c.Mounts, [
    { Type: 'bind', Source: host, Destination: '/b', Mode: 'ro,rshared', RW: false, Propagation: 'rshared' },
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
    { Type: 'volume', Name: n('i'), Source: join(d.dataRoot, 'volumes', n('i'), '_data'), Destination: '/v', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
  ]);
  const [ps] = JSON.parse((await d.api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ id: [id] }))}`)).body);
  assert.deepEqual(ps.Mounts, c.Mounts);
  await ok(['rm', '-v', id]);
  await ok(['volume', 'rm', n('i')]);
});

/** The files of a tar stream: name → content (regular files only). */
function tarFiles(tar: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString().replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString().replace(/\0.*$/s, '').trim() || '0', 8);
    if (h[156] === 0x30 || h[156] === 0) out.set(name, tar.subarray(off + 512, off + 512 + size).toString());
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function cpOut(container: string, path: string): Promise<Map<string, string>> {
  const r = await run2('docker', ['-H', d.host, 'cp', `${container}:${path}`, '-']);
  return tarFiles(r);
}

function run2(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)));
  });
}

test('docker cp reaches volumes and binds of running and stopped containers, never the host through a link', async () => {
  const vol = n('cpv');
  const dir = join(host, 'cpbind');
  await fsp.mkdir(dir);
  const local = join(host, 'cp-in.txt');
  await fsp.writeFile(local, 'copied in\n');
  const c = n('cp');
  await ok(['run', '-d', '--name', c, '-v', `${vol}:/data`, '-v', `${dir}:/h`, '--mount', `type=volume,src=${vol},dst=/ro,readonly`, 'busybox', 'sh', '-c', 'echo container > /etc/marker; ln -s / /data/esc; sleep 600']);
  const [v] = JSON.parse(await ok(['volume', 'inspect', vol]));
  // Running: into the volume and the bind, out of both.
  await ok(['cp', local, `${c}:/data/`]);
  await ok(['cp', local, `${c}:/h/`]);
  assert.equal(await fsp.readFile(join(v.Mountpoint, 'cp-in.txt'), 'utf8'), 'copied in\n');
  assert.equal(await fsp.readFile(join(dir, 'cp-in.txt'), 'utf8'), 'copied in\n');
  assert.equal((await cpOut(c, '/data/cp-in.txt')).get('cp-in.txt'), 'copied in\n');
  // The volume's link to "/" is the container's root, not the host's.
  await until('the marker and the link', async () => (await d.docker(['exec', c, 'sh', '-c', 'test -L /data/esc && cat /etc/marker'])).stdout === 'container\n');
  assert.equal((await cpOut(c, '/data/esc/etc/marker')).get('marker'), 'container\n');
  const roRun = await d.docker(['cp', local, `${c}:/ro/`]);
  assert.equal(roRun.code, 1);
  assert.match(roRun.stderr, /mounted volume is marked read-only/);
  await ok(['stop', '-t', '0', c]);
  // Stopped: the same paths reach the same places.
  await fsp.writeFile(local, 'second\n');
  await ok(['cp', local, `${c}:/h/second.txt`]);
  await ok(['cp', local, `${c}:/data/second.txt`]);
  assert.equal(await fsp.readFile(join(dir, 'second.txt'), 'utf8'), 'second\n');
  assert.equal(await fsp.readFile(join(v.Mountpoint, 'second.txt'), 'utf8'), 'second\n');
  const files = await cpOut(c, '/data');
  assert.equal(files.get('data/cp-in.txt'), 'copied in\n');
  assert.equal((await cpOut(c, '/data/esc/etc/marker')).get('marker'), 'container\n');
  // Writing through the link lands in the container's root, not the host's /etc.
  await ok(['cp', local, `${c}:/data/esc/etc/berth-cp-escape`]);
  await assert.rejects(fsp.stat('/etc/berth-cp-escape'));
  assert.equal((await cpOut(c, '/etc/berth-cp-escape')).get('berth-cp-escape'), 'second\n');
  // The temporary root goes once the last copy is done (just after its response ends).
  await until('the temporary root to go', async () => (await fsp.readdir(join(d.execRoot, 'cp'))).length === 0);
  await ok(['rm', c]);
  await ok(['volume', 'rm', vol]);
});

test('a read-only root still takes a copy into a writable volume', async () => {
  const c = n('rocp');
  await ok(['run', '-d', '--name', c, '--read-only', '-v', '/scratch', 'busybox', 'sleep', '600']);
  const local = join(host, 'ro-in.txt');
  await fsp.writeFile(local, 'ok\n');
  await ok(['cp', local, `${c}:/scratch/`]);
  assert.equal(await ok(['exec', c, 'cat', '/scratch/ro-in.txt']), 'ok\n');
  const refused = await d.docker(['cp', local, `${c}:/`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /container rootfs is marked read-only/);
  await ok(['rm', '-f', '-v', c]);
});

test('after kill -9 of berthd a running container keeps its mounted volume, and its exit releases it', async () => {
  const vol = n('tmpfsvol');
  await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=4m', vol]);
  const c = n('keeper');
  await ok(['run', '-d', '--name', c, '-v', `${vol}:/t`, 'busybox', 'sh', '-c', 'echo one > /t/f; sleep 600']);
  const [v] = JSON.parse(await ok(['volume', 'inspect', vol]));
  const mounted = async () => (await exec('findmnt', ['-n', v.Mountpoint])).code === 0;
  await until('the write', async () => (await d.docker(['exec', c, 'cat', '/t/f'])).stdout === 'one\n');
  assert.ok(await mounted());
  await d.stop('SIGKILL');
  await d.restart();
  // The same tmpfs, not a fresh one: what the running container wrote is there.
  assert.equal(await ok(['run', '--rm', '-v', `${vol}:/t`, 'busybox', 'cat', '/t/f']), 'one\n');
  assert.ok(await mounted(), 'still held by the running container');
  await ok(['stop', '-t', '0', c]);
  await until('the release', async () => !(await mounted()));
  await ok(['rm', c]);
  await ok(['volume', 'rm', vol]);
});
