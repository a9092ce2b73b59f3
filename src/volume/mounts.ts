// The local driver's mount side: `--opt type=… --opt device=… --opt o=…` become one
// mount(2) on the volume's _data at first use, as dockerd's local driver does (mount
// flags such as ro/bind/nosuid are split out of `o`; the rest is the filesystem's data).
import { readFile } from 'node:fs/promises';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MNT_DETACH, hasCode, mount, umount2 } from '../util/native.ts';

const MS_SYNCHRONOUS = 16;
const MS_NOATIME = 1024;
const MS_NODIRATIME = 2048;
const MS_RELATIME = 1 << 21;
const MS_STRICTATIME = 1 << 24;

// Flag words of mount(8); `clear` ones undo a default and add nothing.
const FLAGS: Record<string, number> = {
  ro: MS_RDONLY, rw: 0, bind: MS_BIND, rbind: MS_BIND | MS_REC, nosuid: MS_NOSUID, suid: 0, nodev: MS_NODEV, dev: 0,
  noexec: MS_NOEXEC, exec: 0, sync: MS_SYNCHRONOUS, async: 0, noatime: MS_NOATIME, atime: 0, nodiratime: MS_NODIRATIME,
  diratime: 0, relatime: MS_RELATIME, strictatime: MS_STRICTATIME, defaults: 0,
};

export interface MountSpec {
  source: string;
  fstype: string | null;
  flags: number;
  data: string;
}

/** Whether a volume's options ask for a mount (else _data is a plain directory). */
export function needsMount(opts: Record<string, string> | null): boolean {
  return !!opts && (!!opts.type || !!opts.device);
}

export function mountSpec(opts: Record<string, string>): MountSpec {
  let flags = 0;
  const data: string[] = [];
  for (const word of (opts.o ?? '').split(',')) {
    if (!word) continue;
    if (word in FLAGS) flags |= FLAGS[word]!;
    else data.push(word);
  }
  const type = opts.type ?? '';
  return { source: opts.device ?? '', fstype: type && type !== 'none' ? type : null, flags, data: data.join(',') };
}

export function mountVolume(spec: MountSpec, target: string): void {
  try {
    mount(spec.source || 'none', target, spec.fstype ?? 'none', spec.flags, spec.data || null);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`failed to mount local volume: mount ${spec.source}:${target}, flags: 0x${spec.flags.toString(16)}, data: ${spec.data}: ${e.code ?? e.message}`);
  }
}

/** Detaches every mount stacked on target; true when something was mounted. */
export function unmountAll(target: string): boolean {
  let any = false;
  for (let i = 0; i < 16; i++) {
    try {
      umount2(target, MNT_DETACH);
      any = true;
    } catch (err) {
      if (hasCode(err, 'EINVAL', 'ENOENT')) return any;
      throw err;
    }
  }
  return any;
}

/** Mount points of this mount namespace (octal escapes of /proc/self/mountinfo decoded). */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
}
