// Entry names as archives spell them ("./etc/", "etc//passwd", "a/../b") reduced to one
// canonical relative form, or refused when they point outside the extraction root.

/**
 * "./a/b/" -> "a/b"; "." and "./" -> "" (the root). null when the name is absolute or a
 * ".." climbs above the root (even if it comes back down: "../root/x"); callers decide
 * whether that is an error.
 */
export function normalizeEntryPath(name: string): string | null {
  if (name.startsWith('/') || name.includes('\0')) return null;
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return null;
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}
