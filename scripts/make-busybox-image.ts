// Builds busybox:latest from the host's static busybox as a `docker save` archive that
// both `docker load` and `berth load` read:
//   node dist/scripts/make-busybox-image.js OUT.tar [--busybox PATH] [--tag NAME:TAG]
// (it also runs from source on Node 26). The root filesystem is /bin/busybox, one symlink
// per applet of `busybox --list` in /bin, /etc/passwd and /etc/group with the usual system
// accounts, and the empty directories a container expects. Every entry has the busybox
// binary's mtime and root ownership, so the same binary always gives the same image id.
import { execFileSync } from 'node:child_process';
import { createWriteStream, promises as fsp, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TarWriter } from '../src/archive/tar.ts';
import type { TarEntryType } from '../src/archive/tar.ts';
import { digestOf } from '../src/content/digest.ts';
import { writeArchive } from '../src/image/archive.ts';
import { hostPlatform } from '../src/image/platform.ts';
import { parseReference, withDefaultTag } from '../src/image/reference.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

// No account has a usable password.
const SHADOW = PASSWD.split('\n').filter(Boolean).map((l) => `${l.split(':')[0]}:*:10933:0:99999:7:::`).join('\n') + '\n';

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Entry {
  name: string;
  type: TarEntryType;
  mode: number;
  linkname?: string;
  body?: Buffer;
}

function rootfsEntries(busybox: Buffer, applets: string[]): Entry[] {
  const dir = (name: string, mode = 0o755): Entry => ({ name: `${name}/`, type: 'dir', mode });
  const file = (name: string, body: string | Buffer, mode = 0o644): Entry => ({ name, type: 'file', mode, body: Buffer.from(body) });
  const entries: Entry[] = [
    dir('bin'),
    ...[
      file('bin/busybox', busybox, 0o755),
      ...applets.map((a): Entry => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' })),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    dir('dev'),
    dir('etc'),
    file('etc/group', GROUP),
    file('etc/nsswitch.conf', 'hosts: files dns\nnetworks: files\n'),
    file('etc/passwd', PASSWD),
    file('etc/shadow', SHADOW, 0o600),
    dir('home'),
    dir('proc'),
    dir('root', 0o700),
    dir('sys'),
    dir('tmp', 0o1777),
    dir('usr'),
    dir('usr/sbin'),
    dir('var'),
    dir('var/spool'),
    dir('var/spool/mail'),
    dir('var/www'),
  ];
  return entries;
}

async function layerTar(entries: Entry[], mtime: Date): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const done = finished(out);
  const tar = new TarWriter(out);
  for (const e of entries) {
    await tar.add({ name: e.name, type: e.type, mode: e.mode, uid: 0, gid: 0, mtime, linkname: e.linkname ?? '', size: e.body?.length ?? 0 }, e.body);
  }
  await tar.finish();
  await done;
  return Buffer.concat(parts);
}

export async function makeBusyboxImage(outPath: string, opts: { busybox?: string; tag?: string } = {}): Promise<string> {
  const binary = opts.busybox ?? '/bin/busybox';
  const st = statSync(binary);
  const mtime = new Date(Math.floor(st.mtimeMs / 1000) * 1000);
  const applets = execFileSync(binary, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((a) => a && a !== 'busybox' && /^[A-Za-z0-9_.[\]-]+$/.test(a));
  const version = /BusyBox v[^\s]+/.exec(execFileSync(binary, [], { encoding: 'utf8' }).split('\n')[0])?.[0] ?? 'BusyBox';
  const layer = await layerTar(rootfsEntries(await fsp.readFile(binary), [...new Set(applets)]), mtime);
  const diffId = digestOf(layer);
  const created = mtime.toISOString().replace('.000Z', 'Z');
  const platform = hostPlatform();
  const config = {
    architecture: platform.architecture,
    config: { Env: [PATH_ENV], Cmd: ['sh'] },
    created,
    history: [
      { created, created_by: `ADD ${version} (${binary}) with ${applets.length} applets in /bin` },
      { created, created_by: 'CMD ["sh"]', empty_layer: true },
    ],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [diffId] },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const tag = withDefaultTag(parseReference(opts.tag ?? 'busybox:latest'));
  const out = createWriteStream(outPath);
  await writeArchive(out, [{ config: configBytes, layers: [{ digest: diffId, size: layer.length, open: async function* () { yield layer; } }], tags: [tag] }]);
  await finished(out);
  return digestOf(configBytes);
}

async function main(argv: string[]): Promise<void> {
  let out: string | undefined;
  const opts: { busybox?: string; tag?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--busybox') opts.busybox = argv[++i];
    else if (a === '--tag') opts.tag = argv[++i];
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else out = a;
  }
  if (!out) throw new Error('usage: make-busybox-image OUT.tar [--busybox PATH] [--tag NAME:TAG]');
  const id = await makeBusyboxImage(out, opts);
  process.stdout.write(`${id}\n`);
}

const invoked = process.argv[1] ?? '';
if (/make-busybox-image\.(ts|js)$/.test(invoked)) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`make-busybox-image: ${err.message}\n`);
    process.exit(1);
  });
}
