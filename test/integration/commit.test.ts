// docker commit through the real docker CLI (and berth's own) against berthd: a container's
// changes (an added file, a deleted one, a recreated directory) become one more layer on its
// image, with --change, -m and -a in the image config; running and paused containers; the
// commit event; Docker's errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, sharedDaemon } from '../helpers/daemon.ts';

const { daemon: d, ok } = sharedDaemon(before, after);
const tag = randomBytes(3).toString('hex');
const n = (s: string) => `cm-${tag}-${s}`;
const ID = /^sha256:[0-9a-f]{64}$/;

async function inspectImage(ref: string): Promise<any> {
  return JSON.parse(await ok(['image', 'inspect', ref]))[0];
}

/** The entries of an image's top layer, read from `docker save` (tar's own listing). */
async function topLayerEntries(ref: string): Promise<string[]> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-commit-'));
  try {
    await ok(['save', '-o', join(dir, 'img.tar'), ref]);
    const x = await run('tar', ['-xf', join(dir, 'img.tar'), '-C', dir]);
    assert.equal(x.code, 0, x.stderr);
    const manifest = JSON.parse(await fsp.readFile(join(dir, 'manifest.json'), 'utf8'));
    const layers: string[] = manifest[0].Layers;
    const t = await run('tar', ['-tf', join(dir, layers[layers.length - 1])]);
    assert.equal(t.code, 0, t.stderr);
    return t.stdout.trim().split('\n').filter(Boolean).sort();
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

test('commit: added and deleted files and a recreated directory go into a new layer; --change, -m, -a in the config', async (t) => {
  const c = n('fs');
  const img = `${n('img')}:v1`;
  t.after(async () => {
    await d().docker(['rm', '-f', c]);
    await d().docker(['rmi', img]);
  });
  await ok(['run', '--name', c, 'busybox', 'sh', '-c', 'mkdir -p /new && echo hello > /new/f && rm /etc/group && rm -rf /var && mkdir -p /var/only']);
  const out = await ok(['commit', '-c', 'CMD ["cat", "/new/f"]', '-c', 'ENV A=b', '-m', 'a message', '-a', 'Someone <s@example.com>', c, img]);
  const id = out.trim();
  assert.match(id, ID);

  // Only the container's own changes: none of the runtime's mount targets (/etc/hosts, /dev, ...).
  assert.deepEqual(await topLayerEntries(img), ['etc/', 'etc/.wh.group', 'new/', 'new/f', 'var/', 'var/.wh..wh..opq', 'var/only/']);

  // A container of the new image sees the file added and not the one deleted.
  assert.equal((await ok(['run', '--rm', img])).trim(), 'hello');
  assert.equal((await ok(['run', '--rm', img, 'sh', '-c', 'test -e /etc/group && echo present || echo absent; ls /var; echo $A'])).trim(), 'absent\nonly\nb');

  const info = await inspectImage(img);
  const base = await inspectImage('busybox');
  assert.equal(info.Id, id);
  assert.deepEqual(info.RepoTags, [img]);
  assert.deepEqual(info.Config.Cmd, ['cat', '/new/f']);
  assert.ok(info.Config.Env.includes('A=b'), JSON.stringify(info.Config.Env));
  assert.ok(info.Config.Env.some((e: string) => e.startsWith('PATH=')), 'the container\'s Env stays');
  assert.equal(info.Comment, 'a message');
  assert.equal(info.Author, 'Someone <s@example.com>');
  assert.equal(info.Parent, base.Id);
  assert.deepEqual(info.RootFS.Layers.slice(0, -1), base.RootFS.Layers);
  assert.equal(info.RootFS.Layers.length, base.RootFS.Layers.length + 1);

  // The history entry: the container's command as created_by, and the message.
  const hist = (await ok(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', img])).trim().split('\n');
  assert.equal(hist[0], `${id}|sh -c mkdir -p /new && echo hello > /new/f && rm /etc/group && rm -rf /var && mkdir -p /var/only|a message`);

  // A commit without a repository makes a dangling image; nothing changed since the
  // container ran, so the layer is the same (same diff id).
  const again = (await ok(['commit', c])).trim();
  t.after(() => d().docker(['rmi', again]));
  assert.match(again, ID);
  const bare = await inspectImage(again);
  assert.deepEqual(bare.RepoTags, []);
  assert.equal(bare.RootFS.Layers.at(-1), info.RootFS.Layers.at(-1));
  assert.deepEqual(bare.Config.Cmd, ['sh', '-c', 'mkdir -p /new && echo hello > /new/f && rm /etc/group && rm -rf /var && mkdir -p /var/only']);
  assert.equal(bare.Comment, '');
});

test('commit: a container that changed nothing adds no layer, only a history entry', async (t) => {
  const c = n('empty');
  t.after(() => d().docker(['rm', '-f', c]));
  await ok(['create', '--name', c, 'busybox', 'true']);
  const id = (await ok(['commit', c])).trim();
  t.after(() => d().docker(['rmi', id]));
  const info = await inspectImage(id);
  const base = await inspectImage('busybox');
  assert.deepEqual(info.RootFS.Layers, base.RootFS.Layers);
  const hist = await ok(['history', '-q', '--no-trunc', id]);
  assert.equal(hist.trim().split('\n')[0], id);
});

test('commit of a running container: paused for the copy, running after; a paused one stays paused', async (t) => {
  const c = n('live');
  const img1 = `${n('live')}:1`;
  const img2 = `${n('live')}:2`;
  const img3 = `${n('live')}:3`;
  t.after(async () => {
    await d().docker(['rm', '-f', c]);
    await d().docker(['rmi', img1, img2, img3]);
  });
  await ok(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo live > /live; exec sleep 600']);
  for (let i = 0; i < 50 && (await d().docker(['exec', c, 'test', '-e', '/live'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));

  const since = Math.floor(Date.now() / 1000) - 1;
  const id1 = (await ok(['commit', '-m', 'hot', c, img1])).trim();
  assert.match(id1, ID);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', c])).trim(), 'running');
  assert.equal((await ok(['run', '--rm', img1, 'cat', '/live'])).trim(), 'live');

  // --pause=false: no pause around it.
  const id2 = (await ok(['commit', '--pause=false', c, img2])).trim();
  assert.match(id2, ID);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', c])).trim(), 'running');

  // Paused before: paused after, and no unpause in between.
  await ok(['pause', c]);
  const id3 = (await ok(['commit', c, img3])).trim();
  assert.match(id3, ID);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', c])).trim(), 'paused');
  await ok(['unpause', c]);
  const until = Math.floor(Date.now() / 1000) + 1;

  const ev = await ok(['events', '--since', String(since), '--until', String(until), '--filter', `container=${c}`, '--format', '{{json .}}']);
  // (--since has whole seconds: the run's own events may be in the window too.)
  const events = ev.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.Type === 'container' && ['pause', 'unpause', 'commit'].includes(e.Action));
  const actions = events.map((e) => e.Action);
  assert.deepEqual(actions, ['pause', 'commit', 'unpause', 'commit', 'pause', 'commit', 'unpause'], ev);
  const first = events[1].Actor.Attributes;
  assert.equal(first.comment, 'hot');
  assert.equal(first.imageID, id1);
  assert.equal(first.imageRef, img1);
  assert.equal(first.name, c);
  assert.equal(first.image, 'busybox');
  const img = await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
  assert.ok(img.includes(`create ${id1} ${id1}`), img);
  assert.ok(img.includes(`tag ${id1} ${img1}`), img);
});

test('commit errors as Docker words them', async (t) => {
  const c = n('err');
  t.after(() => d().docker(['rm', '-f', c]));
  await ok(['create', '--name', c, 'busybox', 'true']);

  const missing = await d().docker(['commit', n('nope')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), `Error response from daemon: No such container: ${n('nope')}`);

  const bad = await d().docker(['commit', '-c', 'FOO bar', c]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), 'Error response from daemon: foo is not a valid change command');

  const upper = await d().docker(['commit', c, 'Bad']);
  assert.equal(upper.code, 1);
  assert.equal(upper.stderr.trim(), 'invalid reference format: repository name (library/Bad) must be lowercase');

  const api = await d().api('POST', `/v1.50/commit?container=${c}&repo=ok&tag=${encodeURIComponent('no good')}`);
  assert.equal(api.status, 400);
  assert.equal(api.json().message, 'invalid tag format');
  const apiRepo = await d().api('POST', `/v1.50/commit?container=${c}&repo=Bad`);
  assert.equal(apiRepo.status, 400);
  assert.match(apiRepo.json().message, /^invalid reference format/);
  const api404 = await d().api('POST', `/v1.50/commit?container=${n('nope')}`);
  assert.equal(api404.status, 404);
  assert.equal(api404.json().message, `No such container: ${n('nope')}`);

  // The body is a config that replaces the container's as the base of the image's.
  const withBody = await d().api('POST', `/v1.50/commit?container=${c}&changes=${encodeURIComponent('ENV X=1')}`, { Cmd: ['echo', 'from-body'], Labels: { k: 'v' } });
  assert.equal(withBody.status, 201, withBody.body);
  const newId = withBody.json().Id;
  assert.match(newId, ID);
  t.after(() => d().docker(['rmi', newId]));
  const info = await inspectImage(newId);
  assert.deepEqual(info.Config.Cmd, ['echo', 'from-body']);
  assert.deepEqual(info.Config.Labels, { k: 'v' });
  assert.ok(info.Config.Env.includes('X=1') && info.Config.Env.some((e: string) => e.startsWith('PATH=')), JSON.stringify(info.Config.Env));
});

test('berth commit gives what docker commit gives', async (t) => {
  const c = n('cli');
  const viaDocker = `${n('cli')}:docker`;
  const viaBerth = `${n('cli')}:berth`;
  t.after(async () => {
    await d().docker(['rm', '-f', c]);
    await d().docker(['rmi', viaDocker, viaBerth]);
  });
  await ok(['run', '--name', c, 'busybox', 'sh', '-c', 'echo x > /x && rm /etc/passwd']);
  const args = ['-c', 'ENTRYPOINT ["cat"]', '-c', 'LABEL a=b', '-c', 'EXPOSE 8080', '-m', 'same', '-a', 'me', c];
  const dk = await d().docker(['commit', ...args, viaDocker]);
  const bt = await d().berth(['commit', ...args, viaBerth]);
  assert.equal(bt.code, 0, bt.stderr);
  assert.match(dk.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.match(bt.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(bt.stderr, '');
  const a = await inspectImage(viaDocker);
  const b = await inspectImage(viaBerth);
  for (const k of ['Config', 'Comment', 'Author', 'Parent', 'RootFS', 'Architecture', 'Os']) assert.deepEqual(b[k], a[k], k);
  assert.deepEqual(a.Config.Entrypoint, ['cat']);
  assert.equal(a.Config.Cmd, undefined, 'a new ENTRYPOINT drops the inherited CMD');
  assert.deepEqual(a.Config.ExposedPorts, { '8080/tcp': {} });

  for (const bad of [['commit', n('nope')], ['commit', c, 'Bad'], ['commit', '-c', 'FOO bar', c], ['commit'], ['commit', c, 'x@sha256:' + 'a'.repeat(64)]]) {
    const x = await d().docker(bad);
    const y = await d().berth(bad);
    assert.equal(y.code, x.code, bad.join(' '));
    assert.equal(y.stderr.replace(/berth/g, 'docker'), x.stderr, bad.join(' '));
  }
});
