// validateSecurityConfig (what create refuses before anything is stored) and the lookup
// of the --init binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CAPABILITIES } from '../../src/runtime/capabilities.ts';
import { findInitBinary } from '../../src/runtime/init-binary.ts';
import { validateSecurityConfig } from '../../src/runtime/validate.ts';
import type { HostConfig, HostFacts } from '../../src/runtime/types.ts';
import { EngineError } from '../../src/util/errors.ts';

const HOST: HostFacts = {
  capBounding: CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE'),
  rlimitHard: { nofile: 20000n },
  cgroupVersion: 1,
  kernel: { release: '6.18.0-test', major: 6, minor: 18 },
  arch: 'amd64',
  apparmor: false,
  swapLimit: true,
  extraMaskedPaths: [],
  defaultNetSysctls: {},
};

function refused(hc: HostConfig, message: string): void {
  assert.throws(() => validateSecurityConfig(hc, HOST), (err: unknown) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.status, 400);
    assert.equal(err.message, message);
    return true;
  });
}

test('good settings pass', () => {
  validateSecurityConfig({}, HOST);
  validateSecurityConfig({
    CapAdd: ['NET_ADMIN'], CapDrop: ['chown'], SecurityOpt: ['no-new-privileges', 'label=disable', 'seccomp=unconfined'],
    Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 20000 }], Sysctls: { 'kernel.shmmax': '1', 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'x' },
  }, HOST);
  // A joined network namespace is another container's: net.* is allowed there.
  validateSecurityConfig({ NetworkMode: 'container:abc', Sysctls: { 'net.ipv4.ip_forward': '1' } }, HOST);
  validateSecurityConfig({ Privileged: true }, HOST);
});

test('each kind of bad setting is refused with its text', () => {
  refused({ CapAdd: ['BOGUS'] }, 'unknown capability: "CAP_BOGUS"');
  refused({ CapAdd: ['SYS_RESOURCE'] }, 'capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"');
  refused({ SecurityOpt: ['nonsense'] }, 'invalid --security-opt 1: "nonsense"');
  refused({ SecurityOpt: ['seccomp={'] }, `Decoding seccomp profile failed: ${jsonError('{')}`);
  refused({ SecurityOpt: ['seccomp={"syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}],"defaultAction":"SCMP_ACT_ERRNO"}'] },
    "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
  refused({ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 20001 }] }, "ulimit nofile: hard limit 20001 exceeds the daemon's hard limit 20000");
  refused({ Sysctls: { 'vm.swappiness': '1' } }, 'sysctl "vm.swappiness" is not in a separate kernel namespace');
  refused({ Sysctls: { 'kernel.hostname': 'x' } }, 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field');
  refused({ NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '1' } }, 'sysctl "net.core.somaxconn" is not allowed in the hosts network namespace');
  refused({ IpcMode: 'host', Sysctls: { 'fs.mqueue.msg_max': '1' } }, 'sysctl "fs.mqueue.msg_max" is not allowed in the hosts ipc namespace');
  refused({ UTSMode: 'host', Sysctls: { 'kernel.domainname': 'x' } }, 'sysctl "kernel.domainname" is not in a separate kernel namespace');
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

test('the init binary: the configured one, else docker-init or tini-static on PATH', async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-init-'));
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await fsp.mkdir(a);
    await fsp.mkdir(b);
    const path = `${a}:${b}`;
    assert.equal(findInitBinary(undefined, path), undefined);
    await fsp.writeFile(join(b, 'tini-static'), '', { mode: 0o755 });
    assert.equal(findInitBinary(undefined, path), join(b, 'tini-static'));
    await fsp.writeFile(join(b, 'docker-init'), '', { mode: 0o755 });
    assert.equal(findInitBinary(undefined, path), join(b, 'docker-init'));
    await fsp.writeFile(join(a, 'docker-init'), '', { mode: 0o644 });
    assert.equal(findInitBinary(undefined, path), join(b, 'docker-init'), 'not executable: skipped');
    assert.equal(findInitBinary('/opt/my-init', path), '/opt/my-init');
    assert.equal(findInitBinary('tini-static', path), join(b, 'tini-static'));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
