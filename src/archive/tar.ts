// berth's tar support, one import for callers: a streaming reader and writer (ustar, PAX,
// GNU long names and base-256 numbers), deterministic packing of directory trees and
// overlay diffs, and entry-name normalization.
export type { TarEntryType, TarHeader } from './tar-header.ts';
export type { TarEntry } from './tar-reader.ts';
export { readTar } from './tar-reader.ts';
export { TarWriter } from './tar-writer.ts';
export type { TarWriterHeader } from './tar-writer.ts';
export { packDir, packOverlayDiff, WHITEOUT_PREFIX, OPAQUE_MARKER } from './tar-pack.ts';
export type { PackOptions } from './tar-pack.ts';
export { normalizeEntryPath } from './entry-path.ts';
