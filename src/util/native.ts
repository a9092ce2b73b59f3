// Typed access to build/berth_native.node (native/addon.c): the syscalls Node has no API
// for. The addon is loaded on first use, so modules that merely import this one work
// before the native build exists. Errors thrown are shaped like Node's fs errors:
// { code: 'ENOENT', errno: -2, syscall: 'mknod', path }.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './repo-root.ts';

interface Addon {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Uint8Array): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  lremovexattr(path: string, name: string): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  [constant: string]: unknown;
}

// Linux ABI values (stable forever); the addon exports the kernel headers' values too and
// the tests compare them.
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MNT_FORCE = 1;
export const MNT_DETACH = 2;

let addon: Addon | undefined;


/** Path of the addon file: $BERTH_NATIVE, else <repo>/build/berth_native.node. */
export function addonPath(): string {
  return process.env.BERTH_NATIVE || join(repoRoot(), 'build', 'berth_native.node');
}

/** The raw addon (loads it on first call). */
export function nativeAddon(): Addon {
  if (!addon) {
    const path = addonPath();
    if (!existsSync(path)) throw new Error(`berth native addon not built: ${path} is missing (run make -C native)`);
    addon = createRequire(import.meta.url)(path) as Addon;
  }
  return addon;
}

/** mknod(2). mode holds the file type (fs.constants.S_IFCHR/S_IFBLK/S_IFIFO) and permissions
 * (the process umask applies, as for the syscall). */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  nativeAddon().mknod(path, mode, major, minor);
}

/** lsetxattr(2): sets an extended attribute on the path itself (symlinks not followed). */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  nativeAddon().lsetxattr(path, name, value);
}

/** lgetxattr(2): the value, or null when the attribute is not set. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return nativeAddon().lgetxattr(path, name);
}

/** llistxattr(2): the attribute names of the path itself. */
export function llistxattr(path: string): string[] {
  return nativeAddon().llistxattr(path);
}

/** lremovexattr(2) */
export function lremovexattr(path: string, name: string): void {
  nativeAddon().lremovexattr(path, name);
}

/** mount(2). An empty or null data string passes NULL to the kernel. */
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  nativeAddon().mount(source, target, fstype, flags, data);
}

/** umount2(2) */
export function umount2(target: string, flags = 0): void {
  nativeAddon().umount2(target, flags);
}

/** Whether err is a Node-style error with one of the given codes (e.g. 'ENOENT'). EOPNOTSUPP
 * and ENOTSUP are the same errno on Linux but are named either way; both names match. */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return false;
  if (codes.includes(code)) return true;
  const alias = code === 'ENOTSUP' ? 'EOPNOTSUPP' : code === 'EOPNOTSUPP' ? 'ENOTSUP' : undefined;
  return alias !== undefined && codes.includes(alias);
}
