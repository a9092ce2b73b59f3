// berth commit against the real docker CLI (28.x), both against the same scripted daemon:
// the POST /commit they send (query and body), what they print, their errors, help and
// usage texts. Skipped when docker is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asBerth, canned, compareWithDocker, DOCKER, requestLines, type Comparison } from './cli-harness.ts';

const skip = DOCKER ? false : 'the docker CLI (28.x) is not installed';
const NEW_ID = 'sha256:' + 'c'.repeat(64);

function assertSame(c: Comparison, label: string, opts: { helpText?: boolean } = {}): void {
  assert.equal(c.berth.code, c.docker.code, `${label}: exit status`);
  assert.equal(c.berth.stdout, opts.helpText ? asBerth(c.docker.stdout) : c.docker.stdout, `${label}: stdout`);
  assert.equal(c.berth.stderr, asBerth(c.docker.stderr), `${label}: stderr`);
  assert.deepEqual(requestLines(c.berth.requests), requestLines(c.docker.requests), `${label}: requests`);
  const bodies = (r: Comparison['docker']) => r.requests.filter((q) => q.url.includes('/commit')).map((q) => q.body.toString());
  assert.deepEqual(bodies(c.berth), bodies(c.docker), `${label}: bodies`);
}

test('commit: the request, the printed id and the errors as docker', { skip }, async () => {
  const handlers = [
    (r: { method: string; url: string }) => {
      if (!r.url.includes('/commit')) return undefined;
      const q = new URL(r.url, 'http://x').searchParams;
      if (q.get('container') === 'nope') return { status: 404, body: { message: 'No such container: nope' } };
      if (q.getAll('changes').includes('FOO bar')) return { status: 400, body: { message: 'foo is not a valid change command' } };
      return { status: 201, body: { Id: NEW_ID } };
    },
    canned({}),
  ];
  const cases: string[][] = [
    ['commit', 'web'],
    ['commit', 'web', 'myrepo/app'],
    ['commit', '-a', 'Me <me@x>', '-m', 'a message', '-c', 'CMD ["sh"]', '--change', 'ENV A=b c=d', '-p=false', 'web', 'localhost:5000/x/y:v1'],
    ['container', 'commit', '--pause=false', '-c', 'EXPOSE 80', 'web', 'busybox:tag'],
    ['commit', 'nope'],
    ['commit', '-c', 'FOO bar', 'web'],
    ['commit', 'web', 'Bad'],
    ['commit', 'web', 'x@sha256:' + '1'.repeat(64)],
    ['commit', 'web', 'a'.repeat(64)],
    ['commit', 'web', 'x:bad tag'],
    ['commit', ' '],
    ['commit'],
    ['commit', 'a', 'b', 'c'],
    ['commit', '--bogus', 'web'],
  ];
  for (const args of cases) assertSame(await compareWithDocker(args, handlers), args.join(' '));
  const ok = await compareWithDocker(['commit', 'web'], handlers);
  assert.equal(ok.berth.stdout, `${NEW_ID}\n`);
});

test('commit --help as docker prints it', { skip }, async () => {
  for (const cmd of [['commit'], ['container', 'commit']]) {
    assertSame(await compareWithDocker([...cmd, '--help'], []), `${cmd.join(' ')} --help`, { helpText: true });
  }
});
