// Generated specs run by the real runc, checked from inside the container, and the
// runtime driver against a detached container. Every container, its runc state and its
// cgroups (under a parent unique to this run) are removed even when a test fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, promises as fsp, readdirSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../src/util/errors.ts';
import { maskOf } from '../../src/runtime/capabilities.ts';
import { OciRuntimeCli, runtimeMessage } from '../../src/runtime/runtime.ts';
import { generateSpec, hostFacts } from '../../src/runtime/spec.ts';
import type { ContainerConfig, HostConfig, HostFacts } from '../../src/runtime/types.ts';

const RUNC = '/usr/sbin/runc';
const CGROUP_PARENT = `/berth-test-${process.pid}-${Date.now().toString(36)}`;

let dir: string;
let rootfs: string;
let stateRoot: string;
let host: HostFacts;
let seq = 0;
const created: string[] = [];

function runc(args: string[]) {
  return spawnSync(RUNC, ['--root', stateRoot, ...args], { encoding: 'utf8' });
}

/** Removes a cgroup directory tree bottom-up (rmdir is the only way to delete cgroups). */
function removeCgroupTree(path: string): void {
  if (!existsSync(path)) return;
  for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(path, e.name));
  rmdirSync(path);
}

function cgroupRoots(): string[] {
  const CGROUP2_SUPER_MAGIC = 0x63677270;
  if (statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC) return ['/sys/fs/cgroup'];
  return readdirSync('/sys/fs/cgroup').map((n) => join('/sys/fs/cgroup', n));
}

before(async () => {
  host = await hostFacts();
  dir = await fsp.mkdtemp(join(tmpdir(), 'berth-runtime-'));
  stateRoot = join(dir, 'state');
  rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'mnt', 'tmp', 'proc', 'sys', 'dev']) await fsp.mkdir(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.trim().split('\n');
  for (const a of applets) if (a && a !== 'busybox') await fsp.symlink('busybox', join(rootfs, 'bin', a));
  await fsp.writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await fsp.writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
});

after(() => {
  for (const id of created) runc(['delete', '--force', id]);
  for (const root of cgroupRoots()) {
    try {
      removeCgroupTree(join(root, CGROUP_PARENT));
    } catch {
      // a hierarchy runc did not use, or one we cannot write: nothing of ours there
    }
  }
  return fsp.rm(dir, { recursive: true, force: true });
});

/** Writes a bundle for a new container id; returns the id and bundle path. */
async function bundle(config: ContainerConfig, hostConfig: HostConfig = {}): Promise<{ id: string; path: string }> {
  const id = `berth-rt-${process.pid}-${++seq}`;
  const path = join(dir, 'bundles', id);
  await fsp.mkdir(path, { recursive: true });
  const spec = await generateSpec({ id, config, hostConfig, rootfs, cgroupsPath: `${CGROUP_PARENT}/${id}` }, host);
  await fsp.writeFile(join(path, 'config.json'), JSON.stringify(spec));
  created.push(id);
  return { id, path };
}

/** Runs a shell script in a new container to completion; returns its output. */
async function runScript(script: string, hostConfig: HostConfig = {}, config: ContainerConfig = {}) {
  const b = await bundle({ Cmd: ['sh', '-c', script], Hostname: 'berthbox', ...config }, hostConfig);
  const r = runc(['run', '--bundle', b.path, b.id]);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function field(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(status)?.[1] ?? '';
}

describe('generated specs under runc', () => {
  test('default container: Docker\'s capabilities, hostname, no mount, masked and read-only /proc', async () => {
    const script = [
      'cat /proc/self/status',
      'echo "HOST=$(hostname)"',
      'mount -t tmpfs t /mnt 2>/dev/null; echo "MOUNT=$?"',
      // masked paths are /dev/null binds: empty to read whatever the host has there
      'for p in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts; do [ -e $p ] && echo "SIZE $p $(cat $p 2>/dev/null | wc -c)"; done',
      '(echo h > /proc/sysrq-trigger) 2>/dev/null; echo "SYSRQ=$?"',
      '(echo berth > /proc/sys/kernel/domainname) 2>/dev/null; echo "PROCSYS=$?"',
    ].join('; ');
    const r = await runScript(script);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(field(r.stdout, 'CapEff'), '00000000a80425fb');
    assert.equal(field(r.stdout, 'CapBnd'), '00000000a80425fb');
    assert.equal(field(r.stdout, 'CapInh'), '0000000000000000');
    assert.match(r.stdout, /^HOST=berthbox$/m);
    assert.match(r.stdout, /^MOUNT=[1-9]\d*$/m);
    const sizes = [...r.stdout.matchAll(/^SIZE (\S+) (\d+)$/gm)];
    // Whichever of these the host kernel has, the container sees them empty.
    const onHost = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/interrupts'].filter((p) => existsSync(p));
    assert.deepEqual(sizes.map((m) => m[1]), onHost);
    for (const m of sizes) assert.equal(m[2], '0', `${m[1]} is not masked`);
    assert.match(r.stdout, /^SYSRQ=[1-9]\d*$/m);
    assert.match(r.stdout, /^PROCSYS=[1-9]\d*$/m, '/proc/sys is read-only');
  });

  test('-u nobody', async () => {
    const r = await runScript('id', {}, { User: 'nobody' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^uid=65534\b/);
    assert.match(r.stdout, /gid=65534/);
  });

  test('privileged: the host bounding set, mount works, /proc/sys writable', async () => {
    const r = await runScript(
      'cat /proc/self/status; mount -t tmpfs t /mnt && echo MOUNTED && umount /mnt; (echo berth > /proc/sys/kernel/domainname) && echo PROCSYS_OK',
      { Privileged: true },
    );
    assert.equal(r.status, 0, r.stderr);
    const hostBnd = field(spawnSync('cat', ['/proc/self/status'], { encoding: 'utf8' }).stdout, 'CapBnd');
    assert.equal(field(r.stdout, 'CapEff'), hostBnd);
    assert.equal(field(r.stdout, 'CapEff'), maskOf(host.capBounding));
    assert.match(r.stdout, /^MOUNTED$/m);
    assert.match(r.stdout, /^PROCSYS_OK$/m);
  });

  test('CapAdd SYS_ADMIN lifts the seccomp mount restriction too', async () => {
    const r = await runScript('mount -t tmpfs t /mnt && echo MOUNTED && umount /mnt', { CapAdd: ['SYS_ADMIN'] });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^MOUNTED$/m);
  });

  test('ulimits, sysctls and env reach the process', async () => {
    const r = await runScript(
      'ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; cat /proc/sys/kernel/shmmni; echo "TERM=$TERM"',
      { Ulimits: [{ Name: 'nofile', Soft: 321, Hard: 654 }], Sysctls: { 'kernel.shmmni': '1234' } },
      { Env: ['TERM=dumb'] },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['321', '654', '0', '1234', 'TERM=dumb']);
  });

  test('resources, read-only rootfs with --tmpfs, no-new-privileges', async () => {
    const files = host.cgroupVersion === 1
      ? ['memory/memory.limit_in_bytes', 'pids/pids.max', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us']
      : ['memory.max', 'pids.max', 'cpu.max'];
    const script = [
      ...files.map((f) => `cat /sys/fs/cgroup/${f}`),
      'grep NoNewPrivs /proc/self/status',
      '(touch /rootfile) 2>/dev/null; echo "ROOT=$?"',
      'touch /tmp/ok && echo TMP=0',
    ].join('; ');
    const r = await runScript(script, {
      Memory: 64 * 1024 * 1024, PidsLimit: 50, NanoCpus: 500_000_000,
      ReadonlyRootfs: true, Tmpfs: { '/tmp': 'size=1m' }, SecurityOpt: ['no-new-privileges'],
    });
    assert.equal(r.status, 0, r.stderr);
    const want = host.cgroupVersion === 1 ? ['67108864', '50', '50000', '100000'] : ['67108864', '50', '50000 100000'];
    assert.deepEqual(r.stdout.trim().split('\n'), [...want, 'NoNewPrivs:\t1', 'ROOT=1', 'TMP=0']);
  });
});

describe('runtime driver', () => {
  test('state, ps, pause/resume, kill, delete on a detached container', async () => {
    const driver = new OciRuntimeCli('runc', RUNC, stateRoot);
    const b = await bundle({ Cmd: ['sleep', '1000'], Hostname: 'sleeper' });
    const child = spawn(RUNC, ['--root', stateRoot, 'run', '-d', '--bundle', b.path, b.id], { stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);

    const running = await driver.state(b.id);
    assert.equal(running?.status, 'running');
    assert.ok(running.pid > 0);
    assert.deepEqual(await driver.ps(b.id), [running.pid]);

    await driver.pause(b.id);
    assert.equal((await driver.state(b.id))?.status, 'paused');
    await assert.rejects(driver.pause(b.id), (err: unknown) => err instanceof EngineError && err.status === 409);
    await driver.resume(b.id);
    assert.equal((await driver.state(b.id))?.status, 'running');

    await driver.kill(b.id, 9);
    // SIGKILL is asynchronous; wait for runc to see the process gone.
    let status = 'running';
    for (let i = 0; i < 1000 && status !== 'stopped'; i++) {
      status = (await driver.state(b.id))?.status ?? 'gone';
      if (status !== 'stopped') await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(status, 'stopped');
    await assert.rejects(driver.kill(b.id, 15), (err: unknown) => err instanceof EngineError && err.status === 409);

    await driver.delete(b.id);
    assert.equal(await driver.state(b.id), undefined);
    await driver.delete(b.id); // does not exist: ignored
    assert.ok(!existsSync(join(stateRoot, b.id)));
  });

  test('errors carry the runtime\'s message', async () => {
    const driver = new OciRuntimeCli('runc', RUNC, stateRoot);
    await assert.rejects(driver.kill('no-such-container', 9), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.status, 404);
      assert.equal(err.message, 'container does not exist');
      return true;
    });
    await assert.rejects(driver.ps('no-such-container'), /container does not exist/);
    const missing = new OciRuntimeCli('nope', join(dir, 'no-runtime'), stateRoot);
    await assert.rejects(missing.state('x'), (err: unknown) => err instanceof EngineError && err.status === 500 && /ENOENT/.test(err.message));
  });

  test('runtime messages from JSON, logfmt and plain stderr', () => {
    assert.equal(runtimeMessage('{"level":"warning","msg":"w"}\n{"level":"error","msg":"boom","time":"t"}\n'), 'boom');
    assert.equal(runtimeMessage('time="t" level=warning msg="w"\ntime="t" level=error msg="say \\"hi\\""\n'), 'say "hi"');
    assert.equal(runtimeMessage('crun: something broke\n'), 'crun: something broke');
  });
});
