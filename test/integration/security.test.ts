// Docker's security defaults and options, proven from inside a busybox container: what a
// process can and cannot do (capabilities, seccomp, masked and read-only paths, devices,
// users, limits, sysctls, --init), and the bad settings refused at create with nothing left.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

// Docker's default capabilities with their bit numbers from linux/capability.h, kept here
// apart from the engine's own table so the check does not restate the code under test.
const CAP_BITS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7,
  CAP_SETPCAP: 8, CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18, CAP_MKNOD: 27,
  CAP_AUDIT_WRITE: 29, CAP_SETFCAP: 31,
};
const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** The /proc/<pid>/status form of a set of capabilities. */
function maskOf(names: readonly string[]): string {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt(CAP_BITS[n]!);
  return mask.toString(16).padStart(16, '0');
}

let d: TestDaemon;
let dir: string;
/** A static program that tries the syscalls named on its command line and prints "name=ok" or "name=errno". */
let probe: string;

const PROBE_C = `
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r = -1;
    if (!strcmp(argv[i], "keyctl")) r = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 1);
    else if (!strcmp(argv[i], "unshare")) r = unshare(CLONE_NEWNS | CLONE_NEWUTS);
    else if (!strcmp(argv[i], "mount")) r = mount("none", "/dev/shm", "tmpfs", 0, 0);
    if (r < 0) printf("%s=%d\\n", argv[i], errno); else printf("%s=ok\\n", argv[i]);
  }
  return 0;
}
`;

before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'berth-security-'));
  await fsp.writeFile(join(dir, 'probe.c'), PROBE_C);
  probe = join(dir, 'probe');
  execFileSync('gcc', ['-static', '-O1', '-o', probe, join(dir, 'probe.c')]);
  d = await startDaemon({ loadBusybox: true });
});

after(async () => {
  await d?.cleanup();
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Runs the probe in a container (sent on stdin: the binary is copied in, then run). */
async function runProbe(opts: string[], calls: string): Promise<string> {
  const bin = await fsp.readFile(probe);
  const r = await d.docker(['run', '--rm', '-i', ...opts, 'busybox', 'sh', '-c', `cat > /probe && chmod +x /probe && grep Seccomp: /proc/self/status && /probe ${calls}`], { input: bin });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** `docker run --rm [opts] busybox sh -c script`, asserting success; its stdout. */
async function sh(opts: string[], script: string): Promise<string> {
  const r = await d.docker(['run', '--rm', ...opts, 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, `${opts.join(' ')} ${script}: ${r.stderr}`);
  return r.stdout;
}

function statusField(status: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(\\S+)$`, 'm').exec(status);
  assert.ok(m, `no ${field} in ${status}`);
  return m[1]!;
}

async function containerCount(): Promise<number> {
  const r = await d.docker(['ps', '-aq']);
  return r.stdout.split('\n').filter((l) => l !== '').length;
}

/** A create refused with 400 (the CLI prints the daemon's message) that leaves no container. */
async function refusedAtCreate(opts: string[], message: string | RegExp): Promise<void> {
  const beforeCount = await containerCount();
  const r = await d.docker(['create', ...opts, 'busybox', 'true']);
  assert.notEqual(r.code, 0, `${opts.join(' ')} was accepted`);
  if (typeof message === 'string') assert.ok(r.stderr.includes(message), `${opts.join(' ')}: ${r.stderr}`);
  else assert.match(r.stderr, message);
  assert.equal(await containerCount(), beforeCount, 'nothing is left behind');
}

describe('defaults', () => {
  test("capabilities are Docker's default set, seccomp filters, no_new_privs off", async () => {
    const status = await sh([], 'cat /proc/self/status');
    const mask = maskOf(DEFAULT_CAPABILITIES);
    assert.equal(mask, '00000000a80425fb');
    assert.equal(statusField(status, 'CapEff'), mask);
    assert.equal(statusField(status, 'CapBnd'), mask);
    assert.equal(statusField(status, 'CapPrm'), mask);
    assert.equal(statusField(status, 'CapInh'), '0000000000000000');
    assert.equal(statusField(status, 'Seccomp'), '2');
    assert.equal(statusField(status, 'NoNewPrivs'), '0');
  });

  test('mount, unshare and keyctl are refused; the shell tools fail too', async () => {
    const out = await runProbe([], 'keyctl unshare mount');
    assert.match(out, /^keyctl=1\nunshare=1\nmount=1\n$/m, 'EPERM for each');
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'mkdir /m; mount -t tmpfs none /m || echo mount-failed; unshare -m true || echo unshare-failed']);
    assert.equal(r.stdout, 'mount-failed\nunshare-failed\n');
  });

  test('seccomp, not a capability, is what refuses keyctl', async () => {
    const out = await runProbe(['--security-opt', 'seccomp=unconfined'], 'keyctl mount');
    assert.match(out, /^Seccomp:\s+0$/m);
    assert.match(out, /^keyctl=ok$/m);
    assert.match(out, /^mount=1$/m, 'mount still needs CAP_SYS_ADMIN');
  });

  test('masked paths read empty, read-only paths refuse writes', async () => {
    // This kernel has no /proc/kcore; where it exists it is masked like the others.
    const out = await sh([], [
      'echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c)',
      'echo keys=$(wc -c < /proc/keys)',
      'echo timer_list=$(wc -c < /proc/timer_list)',
      'echo firmware=$(ls -A /sys/firmware | wc -l)',
      'echo h > /proc/sysrq-trigger && echo sysrq-written || echo sysrq-refused',
      'echo 1 > /proc/sys/kernel/domainname && echo sys-written || echo sys-refused',
    ].join('; '));
    assert.equal(out, 'kcore=0\nkeys=0\ntimer_list=0\nfirmware=0\nsysrq-refused\nsys-refused\n');
  });

  test('/dev holds only the default devices', async () => {
    const out = await sh([], 'ls -A /dev');
    const names = out.split('\n').filter((n) => n !== '').sort();
    // runc adds /dev/core only where the host has /proc/kcore, /dev/console only with a tty.
    assert.deepEqual(names.filter((n) => n !== 'core'), ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
    for (const absent of ['kmsg', 'mem', 'loop-control']) assert.ok(!names.includes(absent), `${absent} is not in the container`);
    // A node made inside is still refused by the devices cgroup.
    const r = await sh([], 'mknod /tmp/lc c 10 237 && (exec 3</tmp/lc) 2>/dev/null && echo opened || echo refused');
    assert.equal(r, 'refused\n');
  });

  test('--security-opt systempaths=unconfined lifts the masks', async () => {
    const out = await sh(['--security-opt', 'systempaths=unconfined'], 'echo timer_list=$(head -c 1 /proc/timer_list | wc -c); grep " /proc/sys " /proc/self/mountinfo | wc -l');
    assert.equal(out, 'timer_list=1\n0\n');
  });

  test('--security-opt no-new-privileges sets NoNewPrivs', async () => {
    assert.match(await sh(['--security-opt', 'no-new-privileges'], 'grep NoNewPrivs /proc/self/status'), /^NoNewPrivs:\s+1$/m);
    assert.match(await sh(['--security-opt', 'no-new-privileges=true'], 'grep NoNewPrivs /proc/self/status'), /^NoNewPrivs:\s+1$/m);
  });
});

describe('privileged', () => {
  test("every capability of the daemon's bounding set, no seccomp, host devices, mount works", async () => {
    const host = await fsp.readFile('/proc/self/status', 'utf8');
    const status = await sh(['--privileged'], 'cat /proc/self/status');
    assert.equal(statusField(status, 'CapEff'), statusField(host, 'CapBnd'));
    assert.equal(statusField(status, 'Seccomp'), '0');
    const out = await sh(['--privileged'], 'ls /dev/kmsg /dev/loop-control >/dev/null && echo devices; mkdir /m && mount -t tmpfs none /m && touch /m/x && echo mounted');
    assert.equal(out, 'devices\nmounted\n');
  });
});

describe('capabilities', () => {
  test('--cap-drop ALL makes chown fail; --cap-add brings one back', async () => {
    const r = await d.docker(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'sh', '-c', 'touch /f && chown 1 /f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
    const status = await sh(['--cap-drop', 'ALL', '--cap-add', 'CHOWN'], 'touch /f && chown 1 /f && grep CapEff /proc/self/status');
    assert.match(status, new RegExp(`CapEff:\\s+${maskOf(['CAP_CHOWN'])}`));
  });

  test('--cap-add NET_ADMIN shows in CapEff and allows it', async () => {
    const status = await sh(['--cap-add', 'NET_ADMIN'], 'ip link set lo down && grep CapEff /proc/self/status');
    assert.match(status, new RegExp(`CapEff:\\s+${maskOf([...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN'])}`));
    const r = await d.docker(['run', '--rm', 'busybox', 'ip', 'link', 'set', 'lo', 'down']);
    assert.notEqual(r.code, 0, 'refused without NET_ADMIN');
  });

  test('--cap-drop of a default removes it', async () => {
    const status = await sh(['--cap-drop', 'chown', '--cap-drop', 'CAP_KILL'], 'grep CapEff /proc/self/status');
    assert.match(status, new RegExp(`CapEff:\\s+${maskOf(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL'))}`));
  });

  test('--cap-add ALL grants the whole bounding set; --cap-drop then removes from it', async () => {
    const host = await fsp.readFile('/proc/self/status', 'utf8');
    const all = BigInt('0x' + statusField(host, 'CapBnd'));
    const status = await sh(['--cap-add', 'ALL', '--cap-drop', 'NET_RAW'], 'cat /proc/self/status');
    assert.equal(BigInt('0x' + statusField(status, 'CapEff')), all & ~(1n << BigInt(CAP_BITS.CAP_NET_RAW!)));
    assert.equal(statusField(status, 'Seccomp'), '2', 'not privileged: the default profile still applies');
  });

  test('an unknown capability is refused at create', async () => {
    await refusedAtCreate(['--cap-add', 'BOGUS'], 'unknown capability: "CAP_BOGUS"');
  });
});

describe('security options', () => {
  test('a seccomp profile from a file applies', async () => {
    const profile = join(dir, 'no-mkdir.json');
    await fsp.writeFile(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }));
    const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stderr, /Operation not permitted/);
  });

  test('an invalid seccomp profile is refused at create', async () => {
    // The CLI itself refuses a file that is not JSON; a profile the daemon cannot use reaches it.
    const bad = join(dir, 'bad.json');
    await fsp.writeFile(bad, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: 'six' } }] }));
    await refusedAtCreate(['--security-opt', `seccomp=${bad}`], 'invalid kernel version: "six"');
    const before = await containerCount();
    const r = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: ['seccomp={"defaultAction": '] } });
    assert.equal(r.status, 400);
    assert.match(r.json().message, /^Decoding seccomp profile failed/);
    assert.equal(await containerCount(), before);
  });

  test('label options and an AppArmor profile are accepted and ignored where neither exists', async () => {
    assert.equal(await sh(['--security-opt', 'label=disable', '--security-opt', 'label=user:u', '--security-opt', 'apparmor=unconfined'], 'echo ran'), 'ran\n');
  });

  test('a malformed security option is refused at create', async () => {
    await refusedAtCreate(['--security-opt', 'bogus=1'], 'invalid --security-opt 2: "bogus=1"');
    await refusedAtCreate(['--security-opt', 'no-new-privileges=maybe'], 'invalid --security-opt 2: "no-new-privileges=maybe"');
  });
});

describe('filesystem', () => {
  test('--read-only refuses writes outside tmpfs mounts; /dev/shm stays writable', async () => {
    const out = await sh(['--read-only', '--tmpfs', '/run:rw,size=1m'], [
      'touch /x 2>/dev/null && echo root-written || echo root-refused',
      'touch /run/x && echo tmpfs-written',
      'touch /dev/shm/x && echo shm-written',
    ].join('; '));
    assert.equal(out, 'root-refused\ntmpfs-written\nshm-written\n');
  });

  test('--shm-size sets the size of /dev/shm', async () => {
    const out = await sh(['--shm-size', '8m'], 'df -k /dev/shm | tail -n 1');
    assert.match(out, /^shm\s+8192\s/);
  });

  test('--device brings a host device in, with its cgroup permission', async () => {
    const out = await sh(['--device', '/dev/loop-control:/dev/lc'], '(exec 3</dev/lc) && echo opened');
    assert.equal(out, 'opened\n');
    const ro = await sh(['--device', '/dev/loop-control:/dev/lc:r'], '(exec 3<>/dev/lc) 2>/dev/null && echo rw || echo write-refused; (exec 3</dev/lc) && echo read-ok');
    assert.equal(ro, 'write-refused\nread-ok\n');
  });
});

describe('users', () => {
  test('-u by name from the image, by uid:gid, and --group-add', async () => {
    assert.equal(await sh(['-u', 'nobody'], 'id -u; id -g'), '65534\n65534\n');
    assert.equal(await sh(['-u', '1000:1001'], 'id -u; id -g'), '1000\n1001\n');
    const groups = (await sh(['--group-add', '1234', '--group-add', 'daemon'], 'id -G')).trim().split(' ');
    assert.ok(groups.includes('1234') && groups.includes('0'), groups.join(' '));
    assert.ok(groups.length >= 3, `daemon's gid too: ${groups.join(' ')}`);
  });

  test('an unknown user name fails at start with runc-like text', async () => {
    const r = await d.docker(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unable to find user nosuchuser/);
  });
});

describe('limits and sysctls', () => {
  test('--ulimit nofile reaches the process; above the host hard limit is refused at create', async () => {
    assert.equal(await sh(['--ulimit', 'nofile=1024:2048'], 'ulimit -n; ulimit -Hn'), '1024\n2048\n');
    await refusedAtCreate(['--ulimit', 'nofile=30000:30000'], "ulimit nofile: hard limit 30000 exceeds the daemon's hard limit 20000");
  });

  test('namespaced sysctls are set; others refused at create with runc\'s text', async () => {
    const out = await sh(['--sysctl', 'kernel.shmmax=123456789', '--sysctl', 'fs.mqueue.msg_max=20', '--sysctl', 'net.ipv4.ip_forward=1'], 'cat /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward');
    assert.equal(out, '123456789\n20\n1\n');
    await refusedAtCreate(['--ipc', 'host', '--sysctl', 'kernel.shmmax=1'], 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace');
    // The CLI refuses keys outside its own list (vm.*, kernel.domainname) before asking; API clients reach the daemon.
    const before = await containerCount();
    const refused = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Sysctls: { 'vm.swappiness': '10' } } });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().message, 'sysctl "vm.swappiness" is not in a separate kernel namespace');
    assert.equal(await containerCount(), before);
    const created = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['cat', '/proc/sys/kernel/domainname'], HostConfig: { Sysctls: { 'kernel.domainname': 'example.test' } } });
    assert.equal(created.status, 201, created.body);
    const id = created.json().Id as string;
    try {
      const r = await d.docker(['start', '-a', id]);
      assert.equal(r.stdout, 'example.test\n', r.stderr);
    } finally {
      await d.docker(['rm', '-f', id]);
    }
  });
});

describe('--init', () => {
  test('pid 1 is docker-init and reaps orphaned zombies', async () => {
    const out = await sh(['--init'], [
      'cat /proc/1/comm',
      // The subshell exits at once: its background sleep is re-parented to pid 1.
      '(sleep 0.1 &)',
      'sleep 1',
      'ps -o stat,comm | grep -c "^Z" || true',
    ].join('; '));
    assert.equal(out, 'docker-init\n0\n');
  });

  test('the init forwards SIGTERM to the process, which ends by it; without it pid 1 ignores SIGTERM', async () => {
    const plain = (await d.docker(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
    try {
      assert.equal((await d.docker(['stop', '-t', '1', plain])).code, 0);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', plain])).stdout.trim(), '137', 'killed after the timeout');
    } finally {
      await d.docker(['rm', '-f', plain]);
    }
    const id = (await d.docker(['run', '-d', '--init', 'busybox', 'sleep', '300'])).stdout.trim();
    assert.match((await d.docker(['top', id])).stdout, /docker-init -- sleep 300/);
    try {
      assert.equal((await d.docker(['stop', '-t', '60', id])).code, 0);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', id])).stdout.trim(), '143');
    } finally {
      await d.docker(['rm', '-f', id]);
    }
  });

  test('daemon --init gives every container the init unless it says --init=false; daemon.json init-path names the binary', async () => {
    const di = await startDaemon({ loadBusybox: true, extraArgs: ['--init'] });
    try {
      const on = await di.docker(['run', '--rm', 'busybox', 'cat', '/proc/1/comm']);
      assert.equal(on.stdout, 'docker-init\n', on.stderr);
      const off = await di.docker(['run', '--rm', '--init=false', 'busybox', 'cat', '/proc/1/comm']);
      assert.equal(off.stdout, 'cat\n', off.stderr);
    } finally {
      await di.cleanup();
    }
    // The init is mounted at /sbin/docker-init whatever its name: a path that does not exist
    // shows that the configured one is the one used.
    const dp = await startDaemon({ loadBusybox: true, daemonJson: { 'init-path': '/nonexistent/berth-init' } });
    try {
      const r = await dp.docker(['run', '--rm', '--init', 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /berth-init/);
      assert.equal((await dp.docker(['run', '--rm', 'busybox', 'true'])).code, 0, 'no init asked, none needed');
    } finally {
      await dp.cleanup();
    }
  });
});
