// The OCI runtime is a setting: daemon.json `runtimes` + `default-runtime`, and --runtime per container.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let dir: string;
let calls: string;
before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'berth-rt-'));
  calls = join(dir, 'calls.log');
  // Another "OCI runtime": a wrapper that records how it was called and hands over to runc.
  const wrapper = join(dir, 'wrapped-runc');
  await fsp.writeFile(wrapper, `#!/bin/sh\necho "$@" >> ${calls}\nexec runc "$@"\n`, { mode: 0o755 });
  d = await startDaemon({ daemonJson: { runtimes: { wrapped: { path: wrapper } }, 'default-runtime': 'runc' } });
});
after(async () => {
  await d?.cleanup();
  await fsp.rm(dir, { recursive: true, force: true });
});

test('a container runs under the runtime it names; others under the default', async () => {
  const info = await d.docker(['info', '--format', '{{.DefaultRuntime}} {{range $k, $v := .Runtimes}}{{$k}} {{end}}']);
  assert.equal(info.stdout.trim(), 'runc runc wrapped');
  const r = await d.docker(['run', '--rm', '--runtime', 'wrapped', 'busybox', 'echo', 'via wrapper']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'via wrapper\n');
  const log = await fsp.readFile(calls, 'utf8');
  assert.match(log, / create /);
  assert.match(log, / (start|run) /);
  await fsp.writeFile(calls, '');
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
  assert.equal(await fsp.readFile(calls, 'utf8'), '');
  const rec = await d.docker(['create', '--runtime', 'wrapped', 'busybox', 'true']);
  const id = rec.stdout.trim();
  assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.Runtime}}', id])).stdout.trim(), 'wrapped');
  await d.docker(['rm', id]);
});
