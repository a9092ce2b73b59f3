// An image of about `totalMiB` in several layers for push/pull figures, as a `docker save`
// archive both engines load: `layers` layers of 1 MiB files (no runnable content) whose
// content compresses about as a real image's does (half random text, half repetition), so
// gzip on push and gunzip on pull cost what they cost in practice.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TarWriter } from '../../src/archive/tar.ts';
import { digestOf } from '../../src/content/digest.ts';
import { writeArchive } from '../../src/image/archive.ts';
import { hostPlatform } from '../../src/image/platform.ts';
import { parseReference, withDefaultTag } from '../../src/image/reference.ts';

const FILE = 1 << 20;

function fileBody(): Buffer {
  const random = randomBytes((FILE / 2) * 0.75).toString('base64');
  const repeated = 'berth bench layer content '.repeat(Math.ceil(FILE / 2 / 26)).slice(0, FILE - random.length);
  return Buffer.from(random + repeated);
}

async function layerTar(index: number, files: number): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const done = finished(out);
  const tar = new TarWriter(out);
  const mtime = new Date(0);
  await tar.add({ name: `data${index}/`, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime, size: 0 });
  for (let i = 0; i < files; i++) {
    const body = fileBody();
    await tar.add({ name: `data${index}/f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, size: body.length }, body);
  }
  await tar.finish();
  await done;
  return Buffer.concat(parts);
}

/** Writes the archive to outPath; the image is tagged `tag`. */
export async function makeBulkImage(outPath: string, opts: { totalMiB: number; layers: number; tag: string }): Promise<void> {
  const perLayer = Math.max(1, Math.floor(opts.totalMiB / opts.layers));
  const layers: Buffer[] = [];
  for (let i = 0; i < opts.layers; i++) layers.push(await layerTar(i, perLayer));
  const created = new Date(0).toISOString();
  const config = {
    architecture: hostPlatform().architecture,
    os: 'linux',
    created,
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l)) },
    history: layers.map(() => ({ created, created_by: 'bench layer' })),
  };
  const out = createWriteStream(outPath);
  await writeArchive(out, [
    {
      config: Buffer.from(JSON.stringify(config)),
      tags: [withDefaultTag(parseReference(opts.tag))],
      layers: layers.map((l) => ({ digest: digestOf(l), size: l.length, open: async function* () { yield l; } })),
    },
  ]);
  await finished(out);
}
