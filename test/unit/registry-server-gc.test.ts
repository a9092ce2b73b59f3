// Registry garbage collection: marking follows config, layers and index children; the
// sweep removes only unreferenced blobs (dry-run removes nothing) and their repository links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '../../src/registry/server/storage.ts';
import { collectGarbage, mark } from '../../src/registry/server/gc.ts';
import { digestBytes, parseDigest } from '../../src/registry/server/digests.ts';
import { MEDIA, parseManifest } from '../../src/registry/server/manifest.ts';

const D = (c: string) => `sha256:${c.repeat(64)}`;

test('mark: a manifest keeps itself, its config, layers and index children', () => {
  const live = mark([
    { digest: D('1'), info: { mediaType: MEDIA.ociManifest, blobs: [{ mediaType: 'c', digest: D('a'), size: 1 }, { mediaType: 'l', digest: D('b'), size: 1 }], manifests: [] } },
    { digest: D('2'), info: { mediaType: MEDIA.ociIndex, blobs: [], manifests: [{ mediaType: MEDIA.ociManifest, digest: D('1'), size: 1 }] } },
  ]);
  assert.deepEqual([...live].sort(), [D('1'), D('2'), D('a'), D('b')]);
});

test('collectGarbage: dry run lists, a real run removes unreferenced blobs only', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-reggc-'));
  try {
    const storage = new Storage(root);
    await storage.init();
    const blob = async (repo: string, text: string) => {
      const bytes = Buffer.from(text);
      const d = parseDigest(digestBytes('sha256', bytes))!;
      await storage.putSmallBlob(bytes, d);
      await storage.linkBlob(repo, d);
      return { mediaType: 'application/octet-stream', digest: d.digest, size: bytes.length };
    };
    const config = await blob('app', '{}');
    const layer = await blob('app', 'layer bytes');
    const orphan = await blob('app', 'pushed but never used');
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] }));
    const md = parseDigest(digestBytes('sha256', manifest))!;
    await storage.putSmallBlob(manifest, md);
    await storage.linkManifest('app', md, parseManifest(manifest, MEDIA.ociManifest).mediaType);
    // An untagged revision counts as much as a tagged one: no tag is set at all here.
    const reported: string[] = [];
    const dry = await collectGarbage(storage, { dryRun: true, report: (d) => reported.push(d), warn: assert.fail });
    assert.deepEqual(dry.removed, [orphan.digest]);
    assert.deepEqual(reported, [orphan.digest]);
    assert.equal(await storage.blobSize(parseDigest(orphan.digest)!), orphan.size);
    const real = await collectGarbage(storage, { dryRun: false, report: () => {}, warn: assert.fail });
    assert.deepEqual(real.removed, [orphan.digest]);
    assert.equal(real.marked, 3);
    assert.equal(await storage.blobSize(parseDigest(orphan.digest)!), undefined);
    assert.equal(await storage.repoBlobSize('app', parseDigest(orphan.digest)!), undefined);
    for (const kept of [config.digest, layer.digest, md.digest]) assert.ok(existsSync(storage.blobPath(parseDigest(kept)!)), kept);
    assert.deepEqual((await storage.repoBlobLinks('app')).sort(), [config.digest, layer.digest].sort());
    // Once the manifest is gone, everything it held goes too.
    await storage.unlinkManifest('app', md);
    const after = await collectGarbage(storage, { dryRun: false, report: () => {}, warn: assert.fail });
    assert.deepEqual(after.removed, [config.digest, layer.digest, md.digest].sort());
    assert.deepEqual(await storage.allBlobs(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
