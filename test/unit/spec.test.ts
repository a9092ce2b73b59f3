// The spec generator against Docker 28's behaviour, with a fixed HostFacts so results do
// not depend on the machine, and a temp rootfs holding only /etc/passwd and /etc/group.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../src/util/errors.ts';
import { CAPABILITIES, DEFAULT_CAPABILITIES, capsFromMask, maskOf } from '../../src/runtime/capabilities.ts';
import { parseCapBnd, parseCpuList, parseLimits } from '../../src/runtime/host.ts';
import { mergeTmpfsOptions } from '../../src/runtime/mounts.ts';
import { mergeEnv } from '../../src/runtime/process.ts';
import { resolveInRoot } from '../../src/runtime/rootpath.ts';
import { DEFAULT_SECCOMP_PROFILE } from '../../src/runtime/seccomp-default-profile.ts';
import { parseSignal, signalName } from '../../src/runtime/signals.ts';
import { generateSpec, type SpecInput } from '../../src/runtime/spec.ts';
import type { ContainerConfig, HostConfig, HostFacts, OciSpec } from '../../src/runtime/types.ts';

// This machine's shape: everything but CAP_SYS_RESOURCE, nofile capped at 20000, cgroup v1.
const HOST: HostFacts = {
  capBounding: CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE'),
  rlimitHard: { nofile: 20000n, nproc: 96365n, core: 'unlimited', memlock: 8388608n },
  cgroupVersion: 1,
  kernel: { release: '6.18.0-test', major: 6, minor: 18 },
  arch: 'amd64',
  apparmor: false,
  swapLimit: true,
  extraMaskedPaths: [],
  defaultNetSysctls: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' },
};

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  'bob:x:1001:1001::/home/bob:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  '',
].join('\n');
const GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'wheel:x:10:alice,bob',
  'audio:x:29:alice',
  'alice:x:1000:',
  'bob:x:1001:',
  'staff:x:50:',
  'nogroup:x:65534:',
  '',
].join('\n');

let dir: string;
let rootfs: string;

before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'berth-spec-'));
  rootfs = join(dir, 'rootfs');
  await fsp.mkdir(join(rootfs, 'etc'), { recursive: true });
  await fsp.writeFile(join(rootfs, 'etc/passwd'), PASSWD);
  await fsp.writeFile(join(rootfs, 'etc/group'), GROUP);
});

after(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function input(config: ContainerConfig = {}, hostConfig: HostConfig = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'f00dbabe0123456789abcdef',
    config: { Cmd: ['sh'], ...config },
    hostConfig,
    rootfs,
    cgroupsPath: '/berth/f00dbabe0123456789abcdef',
    ...extra,
  };
}

function spec(config?: ContainerConfig, hostConfig?: HostConfig, extra?: Partial<SpecInput>, host: HostFacts = HOST): Promise<OciSpec> {
  return generateSpec(input(config, hostConfig, extra), host);
}

async function rejects400(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof EngineError, `not an EngineError: ${String(err)}`);
    assert.equal(err.status, 400);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

function allowedSyscalls(s: OciSpec): Set<string> {
  return new Set((s.linux.seccomp?.syscalls ?? []).filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
}

describe('defaults', () => {
  test('process', async () => {
    const s = await spec({ Cmd: ['echo', 'hi'], Entrypoint: ['/entry'], Hostname: 'web' });
    assert.deepEqual(s.process.args, ['/entry', 'echo', 'hi']);
    assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=web']);
    assert.equal(s.process.cwd, '/');
    assert.equal(s.process.terminal, false);
    assert.deepEqual(s.process.user, { uid: 0, gid: 0, additionalGids: [0] });
    assert.equal(s.process.oomScoreAdj, 0);
    assert.equal(s.process.noNewPrivileges, undefined);
    assert.equal(s.process.rlimits, undefined);
    assert.equal(s.hostname, 'web');
    assert.deepEqual(s.root, { path: rootfs, readonly: false });
    assert.equal(s.linux.cgroupsPath, '/berth/f00dbabe0123456789abcdef');
  });

  test('hostname defaults to the short id', async () => {
    const s = await spec({});
    assert.equal(s.hostname, 'f00dbabe0123');
  });

  test('capabilities are Docker\'s 14, bounding = effective = permitted, no inheritable', async () => {
    const s = await spec();
    const caps = s.process.capabilities!;
    assert.deepEqual(caps.bounding, [
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
      'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
    ]);
    assert.deepEqual(caps.effective, caps.bounding);
    assert.deepEqual(caps.permitted, caps.bounding);
    assert.deepEqual(caps.inheritable, []);
    assert.equal(maskOf(caps.bounding), '00000000a80425fb');
  });

  test('masked and readonly paths', async () => {
    const s = await spec();
    assert.deepEqual(s.linux.maskedPaths, [
      '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
      '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    const withThermal = await spec({}, {}, {}, { ...HOST, extraMaskedPaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'] });
    assert.equal(withThermal.linux.maskedPaths!.at(-1), '/sys/devices/system/cpu/cpu0/thermal_throttle');
  });

  test('mounts', async () => {
    const s = await spec();
    assert.deepEqual(s.mounts, [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    ]);
  });

  test('namespaces: cgroup namespace only on cgroup v2; netns path joined', async () => {
    const v1 = await spec();
    assert.deepEqual(v1.linux.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]);
    const v2 = await spec({}, {}, {}, { ...HOST, cgroupVersion: 2 });
    assert.deepEqual(v2.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup']);
    const hostCg = await spec({}, { CgroupnsMode: 'host' }, {}, { ...HOST, cgroupVersion: 2 });
    assert.ok(!hostCg.linux.namespaces.some((n) => n.type === 'cgroup'));
    const joined = await spec({}, {}, { netnsPath: '/run/netns/x' });
    assert.deepEqual(joined.linux.namespaces[1], { type: 'network', path: '/run/netns/x' });
  });

  test('host namespaces', async () => {
    const s = await spec({ Hostname: 'h' }, { NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host' });
    assert.deepEqual(s.linux.namespaces, [{ type: 'mount' }]);
    assert.equal(s.hostname, undefined);
    assert.equal(s.linux.sysctl, undefined, 'no net sysctls in the host network namespace');
    const shm = s.mounts.find((m) => m.destination === '/dev/shm')!;
    assert.deepEqual(shm, { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
    await rejects400(spec({}, { PidMode: 'bogus' }), 'invalid PID mode: bogus');
  });

  test('devices cgroup: deny all plus Docker\'s allow list', async () => {
    const s = await spec();
    assert.deepEqual(s.linux.devices, []);
    assert.deepEqual(s.linux.resources.devices, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
  });

  test('network sysctls are set for a private network namespace', async () => {
    const s = await spec();
    assert.deepEqual(s.linux.sysctl, HOST.defaultNetSysctls);
  });

  test('no command specified', async () => {
    await rejects400(spec({ Cmd: [], Entrypoint: null }), 'no command specified');
    await rejects400(spec({ Cmd: null, Entrypoint: [''] }), 'no command specified');
  });

  test('working directory must be absolute', async () => {
    assert.equal((await spec({ WorkingDir: '/srv/app/' })).process.cwd, '/srv/app/');
    await rejects400(spec({ WorkingDir: 'rel' }), /needs to be an absolute path/);
  });
});

describe('process', () => {
  test('Tty sets terminal and TERM=xterm', async () => {
    const s = await spec({ Tty: true, Hostname: 'h' }, { ConsoleSize: [40, 120] });
    assert.equal(s.process.terminal, true);
    assert.ok(s.process.env.includes('TERM=xterm'));
    assert.deepEqual(s.process.consoleSize, { height: 40, width: 120 });
    const image = await spec({ Tty: true, Env: ['TERM=vt100'] });
    assert.deepEqual(image.process.env.filter((e) => e.startsWith('TERM=')), ['TERM=vt100']);
  });

  test('env: image PATH replaces the default, last duplicate wins, bare name unsets', async () => {
    const s = await spec({ Hostname: 'h', Env: ['PATH=/opt/bin', 'A=1', 'B=2', 'A=3', 'HOSTNAME'] });
    assert.deepEqual(s.process.env, ['PATH=/opt/bin', 'A=3', 'B=2']);
    assert.deepEqual(mergeEnv(['X=1'], ['X', 'X=2']), ['X=2']);
  });
});

describe('user', () => {
  const cases: Array<[string, string[], { uid: number; gid: number; additionalGids: number[] }]> = [
    ['', [], { uid: 0, gid: 0, additionalGids: [0] }],
    ['root', [], { uid: 0, gid: 0, additionalGids: [0] }],
    ['alice', [], { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] }],
    ['1000', [], { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] }],
    ['bob:staff', [], { uid: 1001, gid: 50, additionalGids: [50] }],
    ['alice:0', [], { uid: 1000, gid: 0, additionalGids: [0] }],
    ['1001:1001', [], { uid: 1001, gid: 1001, additionalGids: [1001] }],
    ['4242', [], { uid: 4242, gid: 0, additionalGids: [0] }],
    ['4242:4343', [], { uid: 4242, gid: 4343, additionalGids: [4343] }],
    ['nobody', [], { uid: 65534, gid: 65534, additionalGids: [65534] }],
    ['bob', ['audio', '777', 'staff'], { uid: 1001, gid: 1001, additionalGids: [1001, 10, 29, 777, 50] }],
  ];
  for (const [user, groupAdd, want] of cases) {
    test(`-u ${JSON.stringify(user)}${groupAdd.length ? ` --group-add ${groupAdd.join(',')}` : ''}`, async () => {
      const s = await spec({ User: user }, { GroupAdd: groupAdd });
      assert.deepEqual(s.process.user, want);
    });
  }

  test('unknown names are refused with Docker\'s text', async () => {
    await rejects400(spec({ User: 'foo' }), 'unable to find user foo: no matching entries in passwd file');
    await rejects400(spec({ User: 'alice:nogrp' }), 'unable to find group nogrp: no matching entries in group file');
    await rejects400(spec({}, { GroupAdd: ['nogrp'] }), 'unable to find group nogrp: no matching entries in group file');
  });

  test('a rootfs without /etc/passwd still takes numeric ids', async () => {
    const empty = join(dir, 'empty-rootfs');
    await fsp.mkdir(empty, { recursive: true });
    const s = await spec({ User: '12:34' }, {}, { rootfs: empty });
    assert.deepEqual(s.process.user, { uid: 12, gid: 34, additionalGids: [34] });
    await rejects400(spec({ User: 'alice' }, {}, { rootfs: empty }), 'unable to find user alice: no matching entries in passwd file');
  });

  test('a symlinked /etc/passwd pointing outside the rootfs is resolved inside it', async () => {
    // A host file the link names, holding a user the container must not see.
    const outside = join(dir, 'outside');
    await fsp.mkdir(outside, { recursive: true });
    await fsp.writeFile(join(outside, 'passwd'), 'escapee:x:4711:4711::/:/bin/sh\n');
    const evil = join(dir, 'evil-rootfs');
    await fsp.mkdir(join(evil, 'etc'), { recursive: true });
    await fsp.symlink(join(outside, 'passwd'), join(evil, 'etc/passwd'));
    await rejects400(spec({ User: 'escapee' }, {}, { rootfs: evil }), 'unable to find user escapee: no matching entries in passwd file');
    // Relative escapes stop at the rootfs's root as well.
    await fsp.rm(join(evil, 'etc/passwd'));
    await fsp.symlink('../../../../../../../..' + join(outside, 'passwd'), join(evil, 'etc/passwd'));
    await rejects400(spec({ User: 'escapee' }, {}, { rootfs: evil }), 'unable to find user escapee: no matching entries in passwd file');
    // The same absolute target placed inside the rootfs is what gets read.
    await fsp.mkdir(join(evil, outside), { recursive: true });
    await fsp.writeFile(join(evil, outside, 'passwd'), 'inside:x:4712:4712::/:/bin/sh\n');
    const s = await spec({ User: 'inside' }, {}, { rootfs: evil });
    assert.equal(s.process.user.uid, 4712);
  });

  test('resolveInRoot clamps .. and absolute links', async () => {
    const r = join(dir, 'links');
    await fsp.mkdir(join(r, 'a/b'), { recursive: true });
    await fsp.symlink('/a', join(r, 'abs'));
    await fsp.symlink('../../../..', join(r, 'a/b/up'));
    assert.equal(await resolveInRoot(r, '/abs/b'), join(r, 'a/b'));
    assert.equal(await resolveInRoot(r, '/a/b/up/etc/passwd'), join(r, 'etc/passwd'));
    assert.equal(await resolveInRoot(r, '/../../x'), join(r, 'x'));
    await fsp.symlink('loop', join(r, 'loop'));
    await assert.rejects(resolveInRoot(r, '/loop'), /too many levels of symbolic links/);
  });
});

describe('capabilities', () => {
  const caps = async (hc: HostConfig) => (await spec({}, hc)).process.capabilities!.bounding;

  test('CapAdd / CapDrop, with or without CAP_, any case', async () => {
    const c = await caps({ CapAdd: ['net_admin', 'CAP_SYS_TIME'], CapDrop: ['Mknod', 'CAP_NET_RAW'] });
    assert.ok(c.includes('CAP_NET_ADMIN') && c.includes('CAP_SYS_TIME'));
    assert.ok(!c.includes('CAP_MKNOD') && !c.includes('CAP_NET_RAW'));
    assert.equal(c.length, 14);
  });

  test('ALL', async () => {
    assert.deepEqual(await caps({ CapDrop: ['ALL'], CapAdd: ['chown'] }), ['CAP_CHOWN']);
    assert.deepEqual(await caps({ CapDrop: ['all'] }), []);
    const all = await caps({ CapAdd: ['ALL'], CapDrop: ['SYS_ADMIN'] });
    assert.deepEqual(all, HOST.capBounding.filter((c) => c !== 'CAP_SYS_ADMIN'));
  });

  test('privileged gets the whole bounding set and never more', async () => {
    const c = await caps({ Privileged: true });
    assert.deepEqual(c, HOST.capBounding);
    assert.ok(!c.includes('CAP_SYS_RESOURCE'));
    const narrow = await spec({}, { Privileged: true }, {}, { ...HOST, capBounding: ['CAP_CHOWN', 'CAP_KILL'] });
    assert.deepEqual(narrow.process.capabilities!.bounding, ['CAP_CHOWN', 'CAP_KILL']);
  });

  test('refusals', async () => {
    await rejects400(spec({}, { CapAdd: ['FOO'] }), 'unknown capability: "CAP_FOO"');
    await rejects400(spec({}, { CapAdd: ['SYS_RESOURCE'] }), /not available in the current environment: "CAP_SYS_RESOURCE"/);
  });

  test('masks', () => {
    assert.deepEqual(capsFromMask('00000000a80425fb'), DEFAULT_CAPABILITIES.toSorted((a, b) => CAPABILITIES.indexOf(a) - CAPABILITIES.indexOf(b)));
    assert.equal(parseCapBnd('Name:\tx\nCapBnd:\t000001fffeffffff\n').length, 40);
  });
});

describe('security options', () => {
  test('no-new-privileges, label and apparmor', async () => {
    assert.equal((await spec({}, { SecurityOpt: ['no-new-privileges'] })).process.noNewPrivileges, true);
    assert.equal((await spec({}, { SecurityOpt: ['no-new-privileges:true'] })).process.noNewPrivileges, true);
    assert.equal((await spec({}, { SecurityOpt: ['no-new-privileges=false'] })).process.noNewPrivileges, undefined);
    const s = await spec({}, { SecurityOpt: ['label=disable', 'label=type:svirt_t', 'apparmor=docker-default'] });
    assert.equal(s.process.apparmorProfile, undefined);
  });

  test('unknown options are refused as Docker does', async () => {
    await rejects400(spec({}, { SecurityOpt: ['foo=bar'] }), 'invalid --security-opt 2: "foo=bar"');
    await rejects400(spec({}, { SecurityOpt: ['foo'] }), 'invalid --security-opt 1: "foo"');
    await rejects400(spec({}, { SecurityOpt: ['no-new-privileges=maybe'] }), 'invalid --security-opt 2: "no-new-privileges=maybe"');
  });

  test('privileged: no masked/readonly paths, rw /sys and cgroup, all devices', async () => {
    const s = await spec({}, { Privileged: true });
    assert.equal(s.linux.maskedPaths, undefined);
    assert.equal(s.linux.readonlyPaths, undefined);
    assert.ok(!s.mounts.find((m) => m.destination === '/sys')!.options.includes('ro'));
    assert.ok(!s.mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options.includes('ro'));
    assert.deepEqual(s.linux.resources.devices.at(-1), { allow: true, access: 'rwm' });
    assert.ok(s.linux.devices.some((d) => d.path === '/dev/null' && d.major === 1 && d.minor === 3));
  });

  test('--security-opt systempaths=unconfined shape: explicit empty lists win', async () => {
    const s = await spec({}, { MaskedPaths: [], ReadonlyPaths: [] });
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
  });
});

describe('seccomp', () => {
  test('the default profile for default capabilities', async () => {
    const s = await spec();
    const sc = s.linux.seccomp!;
    assert.equal(sc.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(sc.defaultErrnoRet, 1);
    assert.deepEqual(sc.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const allowed = allowedSyscalls(s);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'bpf', 'clone3']) assert.ok(!allowed.has(name), name);
    for (const name of ['read', 'arch_prctl', 'modify_ldt', 'ptrace', 'chroot', 'clone']) assert.ok(allowed.has(name), name);
    for (const name of ['s390_runtime_instr', 'riscv_flush_icache', 'cacheflush']) assert.ok(!allowed.has(name), name);
    // clone3 answers ENOSYS without CAP_SYS_ADMIN so libcs fall back to clone.
    assert.ok(sc.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 38));
    const clone = sc.syscalls!.find((r) => r.names.includes('clone') && r.action === 'SCMP_ACT_ALLOW')!;
    assert.deepEqual(clone.args, [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }]);
  });

  test('CAP_SYS_ADMIN allows mount and unrestricted clone', async () => {
    const s = await spec({}, { CapAdd: ['SYS_ADMIN'] });
    const allowed = allowedSyscalls(s);
    assert.ok(allowed.has('mount') && allowed.has('umount2') && allowed.has('clone3') && allowed.has('setns'));
    assert.ok(!s.linux.seccomp!.syscalls!.some((r) => r.names.includes('clone') && r.args));
  });

  test('minKernel conditions follow the host kernel', async () => {
    const old = await spec({}, {}, {}, { ...HOST, kernel: { release: '4.4.0', major: 4, minor: 4 } });
    assert.ok(!allowedSyscalls(old).has('ptrace'));
  });

  test('unconfined, privileged, custom', async () => {
    assert.equal((await spec({}, { SecurityOpt: ['seccomp=unconfined'] })).linux.seccomp, undefined);
    assert.equal((await spec({}, { SecurityOpt: ['seccomp:unconfined'] })).linux.seccomp, undefined);
    assert.equal((await spec({}, { Privileged: true })).linux.seccomp, undefined);
    const custom = JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { names: ['chmod', 'fchmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { name: 'mkdir', action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN'] } },
      ],
    });
    for (const hc of [{ SecurityOpt: [`seccomp=${custom}`] }, { SecurityOpt: [`seccomp=${custom}`], Privileged: true }]) {
      const s = await spec({}, hc);
      assert.equal(s.linux.seccomp!.defaultAction, 'SCMP_ACT_ALLOW');
      assert.deepEqual(s.linux.seccomp!.architectures, ['SCMP_ARCH_X86_64']);
      const mkdir = s.linux.seccomp!.syscalls!.some((r) => r.names.includes('mkdir'));
      assert.equal(mkdir, hc.Privileged === true, 'the caps condition follows the container');
      assert.deepEqual(s.linux.seccomp!.syscalls![0], { names: ['chmod', 'fchmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    }
    await rejects400(spec({}, { SecurityOpt: ['seccomp={not json'] }), /^Decoding seccomp profile failed/);
  });

  test('the embedded default profile matches the reference', async (t) => {
    const ref = '/work/shared/reference/seccomp-default.json';
    if (!existsSync(ref)) return t.skip('reference profile not present');
    assert.deepEqual(JSON.parse(JSON.stringify(DEFAULT_SECCOMP_PROFILE)), JSON.parse(await fsp.readFile(ref, 'utf8')));
  });
});

describe('limits and resources', () => {
  test('ulimits within the host hard limit', async () => {
    const s = await spec({}, { Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 20000 }, { Name: 'core', Soft: -1, Hard: -1 }] });
    assert.deepEqual(s.process.rlimits![0], { type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 });
    // uint64 "unlimited" survives JSON.stringify exactly.
    assert.match(JSON.stringify(s.process.rlimits![1]), /^\{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615\}$/);
  });

  test('ulimits above the host hard limit are refused', async () => {
    await rejects400(spec({}, { Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 30000 }] }), /ulimit nofile: hard limit 30000 exceeds the daemon's hard limit 20000/);
    await rejects400(spec({}, { Ulimits: [{ Name: 'nofile', Soft: -1, Hard: -1 }] }), /hard limit unlimited exceeds/);
    await rejects400(spec({}, { Ulimits: [{ Name: 'nofile', Soft: 20, Hard: 10 }] }), /soft limit must be less than or equal to hard limit/);
    await rejects400(spec({}, { Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }), 'invalid ulimit type: bogus');
  });

  test('sysctls: namespaced keys allowed, others refused', async () => {
    const s = await spec({ Domainname: 'example.org' }, { Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '20', 'kernel.msgmax': '9', 'kernel.sem': '1 2 3 4', 'net.ipv4.ping_group_range': '1 1' } });
    assert.equal(s.linux.sysctl!['net.ipv4.ip_forward'], '1');
    assert.equal(s.linux.sysctl!['kernel.shmmax'], '1000');
    assert.equal(s.linux.sysctl!['net.ipv4.ping_group_range'], '1 1', 'the user overrides the default');
    assert.equal(s.linux.sysctl!['kernel.domainname'], 'example.org');
    await rejects400(spec({}, { Sysctls: { 'kernel.pid_max': '100' } }), 'sysctl "kernel.pid_max" is not in a separate kernel namespace');
    await rejects400(spec({}, { Sysctls: { 'vm.swappiness': '1' } }), 'sysctl "vm.swappiness" is not in a separate kernel namespace');
    await rejects400(spec({}, { Sysctls: { 'net.ipv4.ip_forward': '1' }, NetworkMode: 'host' }), 'sysctl "net.ipv4.ip_forward" is not allowed in the hosts network namespace');
    await rejects400(spec({}, { Sysctls: { 'kernel.shmmax': '1' }, IpcMode: 'host' }), 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace');
  });

  test('memory, cpu, pids', async () => {
    const s = await spec({}, { Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, NanoCpus: 1_500_000_000, CpuShares: 512, CpusetCpus: '0', PidsLimit: 100 });
    assert.deepEqual(s.linux.resources.memory, { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 });
    assert.deepEqual(s.linux.resources.cpu, { shares: 512, cpus: '0', period: 100000, quota: 150000 });
    assert.deepEqual(s.linux.resources.pids, { limit: 100 });
    assert.deepEqual((await spec({}, { PidsLimit: 0 })).linux.resources.pids, { limit: -1 });
    assert.deepEqual((await spec({}, { CpuQuota: 50000, CpuPeriod: 200000 })).linux.resources.cpu, { quota: 50000, period: 200000 });
    const none = await spec();
    assert.equal(none.linux.resources.memory, undefined);
    assert.equal(none.linux.resources.cpu, undefined);
    assert.equal(none.linux.resources.pids, undefined);
    await rejects400(spec({}, { NanoCpus: 1e9, CpuPeriod: 1000 }), /Nano CPUs and CPU Period/);
  });

  test('oom score adj', async () => {
    assert.equal((await spec({}, { OomScoreAdj: 500 })).process.oomScoreAdj, 500);
    await rejects400(spec({}, { OomScoreAdj: 2000 }), /range for oom score adj is \[-1000, 1000\]/);
  });

  test('device mappings and cgroup rules', async () => {
    const s = await spec({}, { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }], DeviceCgroupRules: ['c 42:* rmw'] });
    assert.deepEqual(s.linux.devices.map((d) => [d.type, d.path, d.major, d.minor]), [['c', '/dev/mynull', 1, 3]]);
    assert.deepEqual(s.linux.resources.devices.slice(-2), [
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'c', major: 42, minor: -1, access: 'rmw' },
    ]);
    await rejects400(spec({}, { DeviceCgroupRules: ['x 1:1 r'] }), "invalid device cgroup rule format: 'x 1:1 r'");
    await rejects400(spec({}, { Devices: [{ PathOnHost: join(dir, 'nope') }] }), /error gathering device information/);
  });
});

describe('mounts', () => {
  test('etc files, tmpfs, extra mounts; parents before children', async () => {
    const s = await spec({}, { Tmpfs: { '/run': 'size=1m,exec', '/run/lock': '' }, ShmSize: 1 << 20 }, {
      etcFiles: { hostname: '/x/hostname', hosts: '/x/hosts', resolvConf: '/x/resolv.conf' },
      extraMounts: [
        { destination: '/data/sub', type: 'bind', source: '/srv/b', options: ['rbind', 'rprivate'] },
        { destination: '/data', type: 'bind', source: '/srv/a', options: ['rbind', 'rprivate'] },
      ],
    });
    const user = s.mounts.slice(7);
    assert.deepEqual(user.map((m) => m.destination), ['/run', '/data', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/run/lock', '/data/sub']);
    assert.deepEqual(user.find((m) => m.destination === '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/x/hosts', options: ['rbind', 'rprivate'] });
    assert.deepEqual(user[0], { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'size=1m', 'exec'] });
    assert.deepEqual(s.mounts.find((m) => m.destination === '/dev/shm')!.options.at(-1), 'size=1048576');
  });

  test('a user mount replaces the default at its destination; IpcMode none drops /dev/shm', async () => {
    const s = await spec({}, { Tmpfs: { '/dev/shm': 'size=2m' } });
    const shm = s.mounts.filter((m) => m.destination === '/dev/shm');
    assert.equal(shm.length, 1);
    assert.equal(shm[0]!.source, 'tmpfs');
    const none = await spec({}, { IpcMode: 'none' });
    assert.ok(!none.mounts.some((m) => m.destination === '/dev/shm'));
  });

  test('read-only rootfs', async () => {
    const s = await spec({}, { ReadonlyRootfs: true }, { etcFiles: { hosts: '/x/hosts' } });
    assert.equal(s.root.readonly, true);
    assert.deepEqual(s.mounts.find((m) => m.destination === '/etc/hosts')!.options, ['rbind', 'ro', 'rprivate']);
    assert.ok(!s.mounts.find((m) => m.destination === '/dev/shm')!.options.includes('ro'));
  });

  test('tmpfs option merging and validation', async () => {
    assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'size=1', 'exec', 'size=2', 'ro']), ['nosuid', 'exec', 'size=2', 'ro']);
    assert.throws(() => mergeTmpfsOptions(['bogus=1']), /invalid tmpfs option/);
    await rejects400(spec({}, { Tmpfs: { 'rel/path': '' } }), /must be absolute/);
  });

  test('init', async () => {
    const s = await spec({ Cmd: ['sleep', '1'] }, { Init: true }, { initPath: '/usr/libexec/berth-init' });
    assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sleep', '1']);
    assert.deepEqual(s.mounts.at(-1), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/libexec/berth-init', options: ['bind', 'ro'] });
  });
});

describe('host facts parsing', () => {
  test('limits, cpu lists', () => {
    const limits = parseLimits([
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max open files            20000                20000                files     ',
      'Max core file size        0                    unlimited            bytes     ',
      'Max nice priority         0                    0                    ',
    ].join('\n'));
    assert.deepEqual(limits, { nofile: 20000n, core: 'unlimited', nice: 0n });
    assert.deepEqual(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
  });
});

describe('signals', () => {
  test('parse', () => {
    assert.equal(parseSignal('TERM'), 15);
    assert.equal(parseSignal('SIGTERM'), 15);
    assert.equal(parseSignal('15'), 15);
    assert.equal(parseSignal('sigkill'), 9);
    assert.equal(parseSignal('hup'), 1);
    assert.equal(parseSignal('RTMIN+3'), 37);
    assert.equal(parseSignal('SIGRTMAX-1'), 63);
    for (const bad of ['FOO', '0', '65', 'SIG', 'RTMIN-1', '']) {
      assert.throws(() => parseSignal(bad), (err: unknown) => err instanceof EngineError && err.status === 400 && err.message === `Invalid signal: ${bad}`);
    }
  });

  test('names', () => {
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(9), 'SIGKILL');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(17), 'SIGCHLD');
    assert.equal(signalName(36), 'SIGRTMIN+2');
    assert.equal(signalName(64), 'SIGRTMAX');
  });
});
