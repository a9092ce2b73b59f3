// --userns-remap USER: a daemon whose containers run in a user namespace mapped onto the
// user's subordinate ranges, checked from the host and from inside.
import { execFile } from 'node:child_process';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO, cleanupRoots, run, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { DEFAULT_REMAP_USER, RANGE_SIZE, nextRangeStart, parseSubIds, userExists } from '../../src/runtime/userns.ts';

const user = `berthut${randomBytes(3).toString('hex')}`;
let start = 0;
let base = '';
let d: TestDaemon | undefined;
let userMade = false;

function subIdText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

before(async () => {
  const made = await run('useradd', ['-r', '-U', '-M', '-s', '/bin/false', user]);
  assert.equal(made.code, 0, made.stderr);
  userMade = true;
  start = Math.max(nextRangeStart(parseSubIds(subIdText('/etc/subuid'))), nextRangeStart(parseSubIds(subIdText('/etc/subgid'))));
  const range = `${start}-${start + RANGE_SIZE - 1}`;
  const ranges = await run('usermod', ['-v', range, '-w', range, user]);
  assert.equal(ranges.code, 0, ranges.stderr);
  // Every directory above the data and exec roots must let the remapped root through.
  base = await fsp.mkdtemp(join(tmpdir(), 'berth-userns-'));
  await fsp.chmod(base, 0o711);
  d = await startDaemon({
    loadBusybox: true,
    extraArgs: ['--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'), '--userns-remap', user],
  });
});

after(async () => {
  const cgroupParent = d?.cgroupParent;
  if (d) {
    await d.docker(['rm', '-f', 'remapped']);
    await d.cleanup();
  }
  if (base) await cleanupRoots(base, join(base, 'exec'), cgroupParent ?? '/berth-userns-none');
  if (userMade) {
    const range = `${start}-${start + RANGE_SIZE - 1}`;
    await run('usermod', ['-V', range, '-W', range, user]);
    await run('userdel', [user]);
    await run('groupdel', [user]);
  }
  assert.ok(!subIdText('/etc/subuid').includes(`${user}:`), 'subuid range removed');
  assert.ok(!subIdText('/etc/subgid').includes(`${user}:`), 'subgid range removed');
});

test('info reports userns and the remapped data root', async () => {
  const r = await d!.docker(['info', '--format', '{{json .SecurityOptions}} {{.DockerRootDir}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"name=userns"/);
  assert.equal(r.stdout.trim().split(' ').at(-1), join(base, 'data', `${start}.${start}`));
});

test('root inside is the first uid of the range on the host; its files land shifted in the upper dir', async () => {
  const id = await d!.docker(['run', '--rm', 'busybox', 'id', '-u']);
  assert.equal(id.code, 0, id.stderr);
  assert.equal(id.stdout.trim(), '0');

  const r = await d!.docker(['run', '-d', '--name', 'remapped', 'busybox', 'sh', '-c', 'echo hi > /made-inside && echo 127.0.0.2 x >> /etc/hosts && sleep 60']);
  assert.equal(r.code, 0, r.stderr);
  const info = await d!.docker(['inspect', '--format', '{{.State.Pid}} {{.GraphDriver.Data.UpperDir}} {{.HostsPath}}', 'remapped']);
  const [pid, upper, hostsPath] = info.stdout.trim().split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, new RegExp(`^Uid:\\t${start}\\t${start}\\t${start}\\t${start}$`, 'm'));
  assert.match(status, new RegExp(`^Gid:\\t${start}\\t`, 'm'));
  const map = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number);
  assert.deepEqual(map, [0, start, RANGE_SIZE]);

  let st;
  for (let i = 0; i < 100 && !st; i++) {
    st = await fsp.stat(join(upper!, 'made-inside')).catch(() => undefined);
    if (!st) await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(st, 'the file written inside is in the upper dir');
  assert.equal(st.uid, start);
  assert.equal(st.gid, start);
  // /etc/hosts is the container's own file: root inside could write it.
  assert.match(readFileSync(hostsPath!, 'utf8'), /127\.0\.0\.2 x/);
  assert.equal((await fsp.stat(hostsPath!)).uid, start);

  const ex = await d!.docker(['exec', 'remapped', 'id', '-u']);
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(ex.stdout.trim(), '0');
  // Joining its network namespace means joining its user namespace as well.
  const joined = await d!.docker(['run', '--rm', '--network', 'container:remapped', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; readlink /proc/self/ns/user']);
  assert.equal(joined.code, 0, joined.stderr);
  const [mapLine, nsLink] = joined.stdout.trim().split('\n');
  assert.deepEqual(mapLine!.trim().split(/\s+/).map(Number), [0, start, RANGE_SIZE]);
  assert.equal(nsLink, await fsp.readlink(`/proc/${pid}/ns/user`));
});

test('a user without subordinate ranges stops the daemon at start with dockerd\'s message', async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-userns-bad-'));
  try {
    const r = await run(join(REPO, 'bin', 'berthd'), ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${join(dir, 's.sock')}`, '--config-file', join(dir, 'none.json'), '--userns-remap', 'nobody:nogroup']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'failed to start daemon: Can\'t create ID mappings: no subuid ranges found for user "nobody"');
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test("the image's files are root's inside (shifted on disk) and readable", async () => {
  const r = await d!.docker(['run', '--rm', 'busybox', 'sh', '-c', 'stat -c "%u:%g" /bin/busybox /etc; cat /etc/passwd | head -n1']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['0:0', '0:0']);
  assert.match(lines[2]!, /^root:/);
});

test("a volume's directory belongs to the remapped root: root inside writes to it, and the image's content copies in", async () => {
  const r = await d!.docker(['run', '--rm', '-v', 'remapvol:/v', '-v', 'remapetc:/etc', 'busybox', 'sh', '-c', 'echo w > /v/f && stat -c "%u:%g" /v /v/f /etc/passwd']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['0:0', '0:0', '0:0']);
  const [v] = JSON.parse((await d!.docker(['volume', 'inspect', 'remapvol'])).stdout);
  const st = await fsp.stat(join(v.Mountpoint, 'f'));
  assert.equal(st.uid, start);
  assert.equal((await d!.docker(['volume', 'rm', 'remapvol', 'remapetc'])).code, 0);
});

test('docker cp shows and takes the container\'s ids, not the host\'s shifted ones', async () => {
  const c = 'remapcp';
  assert.equal((await d!.docker(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'touch /made; sleep 600'])).code, 0);
  try {
    const tar = await new Promise<Buffer>((resolve, reject) =>
      execFile('docker', ['-H', d!.host, 'cp', `${c}:/made`, '-'], { encoding: 'buffer' }, (err, out) => (err ? reject(err) : resolve(out))),
    );
    const octal = (from: number) => parseInt(tar.subarray(from, from + 8).toString().replace(/\0.*$/s, '').trim(), 8);
    assert.deepEqual([octal(108), octal(116)], [0, 0], 'uid and gid in the tar');
    const local = join(base, 'cp-in');
    await fsp.writeFile(local, 'x');
    await fsp.chown(local, 0, 0);
    assert.equal((await d!.docker(['cp', local, `${c}:/in`])).code, 0);
    assert.equal((await d!.docker(['exec', c, 'stat', '-c', '%u:%g', '/in'])).stdout, '0:0\n');
  } finally {
    await d!.docker(['rm', '-f', c]);
  }
});

test('--userns host runs unmapped; privileged needs it', async () => {
  const host = await d!.docker(['run', '--rm', '--userns', 'host', 'busybox', 'cat', '/proc/self/uid_map']);
  assert.equal(host.code, 0, host.stderr);
  assert.deepEqual(host.stdout.trim().split(/\s+/).map(Number), [0, 0, 4294967295]);

  const priv = await d!.docker(['run', '--rm', '--privileged', 'busybox', 'true']);
  assert.notEqual(priv.code, 0);
  assert.match(priv.stderr, /privileged mode is incompatible with user namespaces\.  You must run the container in the host namespace when running privileged mode/);
  const netHost = await d!.docker(['create', '--network', 'host', 'busybox', 'true']);
  assert.notEqual(netHost.code, 0);
  assert.match(netHost.stderr, /cannot share the host's network namespace when user namespaces are enabled/);

  const privHost = await d!.docker(['run', '--rm', '--privileged', '--userns', 'host', 'busybox', 'id', '-u']);
  assert.equal(privHost.code, 0, privHost.stderr);
  assert.equal(privHost.stdout.trim(), '0');
});

test('commit: the layer carries the ids as the container sees them, and its image runs with them', async (t) => {
  const c = 'remapped-commit';
  const img = 'remapped-commit:1';
  t.after(async () => {
    await d!.docker(['rm', '-f', c]);
    await d!.docker(['rmi', img]);
  });
  const r = await d!.docker(['run', '--name', c, 'busybox', 'sh', '-c', 'echo x > /owned && chown 1000:2000 /owned && echo y > /root-file']);
  assert.equal(r.code, 0, r.stderr);
  const cm = await d!.docker(['commit', c, img]);
  assert.equal(cm.code, 0, cm.stderr);
  const st = await d!.docker(['run', '--rm', img, 'stat', '-c', '%u:%g', '/owned', '/root-file']);
  assert.equal(st.code, 0, st.stderr);
  assert.deepEqual(st.stdout.trim().split('\n'), ['1000:2000', '0:0']);
});

// Only where berthremap does not exist yet: the test removes the user and ranges it made.
test('daemon.json "userns-remap": "default" creates berthremap with 65536 subordinate ids', { skip: userExists(DEFAULT_REMAP_USER) && 'berthremap exists on this host' }, async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-userns-default-'));
  await fsp.chmod(dir, 0o711);
  let dd: TestDaemon | undefined;
  try {
    dd = await startDaemon({ loadBusybox: true, daemonJson: { 'userns-remap': 'default' }, extraArgs: ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec')] });
    const own = (path: string) => parseSubIds(subIdText(path)).filter((e) => e.name === DEFAULT_REMAP_USER);
    const [uids, gids] = [own('/etc/subuid'), own('/etc/subgid')];
    assert.equal(uids.length, 1);
    assert.equal(uids[0]!.count, RANGE_SIZE);
    assert.equal(gids.length, 1);
    assert.ok(readFileSync('/etc/passwd', 'utf8').includes(`${DEFAULT_REMAP_USER}:`));
    const r = await dd.docker(['run', '--rm', 'busybox', 'cat', '/proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, uids[0]!.start, RANGE_SIZE]);
  } finally {
    const cgroupParent = dd?.cgroupParent;
    await dd?.cleanup();
    await cleanupRoots(dir, join(dir, 'exec'), cgroupParent ?? '/berth-userns-none');
    for (const e of parseSubIds(subIdText('/etc/subuid')).filter((x) => x.name === DEFAULT_REMAP_USER)) await run('usermod', ['-V', `${e.start}-${e.start + e.count - 1}`, DEFAULT_REMAP_USER]);
    for (const e of parseSubIds(subIdText('/etc/subgid')).filter((x) => x.name === DEFAULT_REMAP_USER)) await run('usermod', ['-W', `${e.start}-${e.start + e.count - 1}`, DEFAULT_REMAP_USER]);
    if (userExists(DEFAULT_REMAP_USER)) await run('userdel', [DEFAULT_REMAP_USER]);
    await run('groupdel', [DEFAULT_REMAP_USER]);
  }
  assert.ok(!userExists(DEFAULT_REMAP_USER), 'berthremap removed');
  assert.ok(!subIdText('/etc/subuid').includes(`${DEFAULT_REMAP_USER}:`), 'its ranges removed');
});
