// -v strings, --mount objects and --volumes-from entries parsed as dockerd's Linux parser
// does: types, modes, propagation, copy, and its error texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertTmpfsOptions, isAnonymous, mountPointView, parseBind, parseMountSpec, parseVolumesFrom, validMountMode } from '../../src/volume/mount-point.ts';

test('-v forms: named volume, host path with modes, anonymous', () => {
  const named = parseBind('data:/srv');
  assert.equal(named.Type, 'volume');
  assert.equal(named.Name, 'data');
  assert.equal(named.Destination, '/srv');
  assert.equal(named.RW, true);
  assert.equal(named.CopyData, true);
  assert.equal(isAnonymous(named), false);

  const bind = parseBind('/host/dir/:/c/./d:ro,rslave');
  assert.deepEqual(
    { t: bind.Type, s: bind.Source, d: bind.Destination, rw: bind.RW, p: bind.Propagation, m: bind.Mode },
    { t: 'bind', s: '/host/dir', d: '/c/d', rw: false, p: 'rslave', m: 'ro,rslave' },
  );
  assert.equal(parseBind('/a:/b').Propagation, 'rprivate');
  assert.equal(parseBind('v:/x:nocopy').CopyData, false);

  const anon = parseBind('/only');
  assert.equal(anon.Type, 'volume');
  assert.equal(anon.Name, undefined);
  assert.equal(isAnonymous(anon), true);
});

test('-v errors carry the spec and the cause', () => {
  assert.throws(() => parseBind(':/x'), { message: "invalid volume specification: ':/x'" });
  assert.throws(() => parseBind('/x:rw'), { message: "invalid volume specification: '/x:rw'" });
  assert.throws(() => parseBind('/a:/b:bogus'), { message: 'invalid mode: bogus' });
  assert.throws(() => parseBind('/a:/b:ro,rw'), { message: 'invalid mode: ro,rw' });
  assert.throws(() => parseBind('/a:rel'), { message: `invalid volume specification: '/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute` });
  assert.throws(() => parseBind('/a:/'), { message: `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'` });
  assert.throws(() => parseBind('a:b:c:d:e'), { message: "invalid volume specification: 'a:b:c:d:e'" });
});

test('--mount specs: checks in dockerd order and texts', () => {
  const exists = (p: string) => p === '/there';
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/nope', Target: '/x' }, exists), {
    message: 'invalid mount config for type "bind": bind source path does not exist: /nope',
  });
  assert.equal(parseMountSpec({ Type: 'bind', Source: '/nope', Target: '/x', BindOptions: { CreateMountpoint: true } }, exists).Source, '/nope');
  assert.throws(() => parseMountSpec({ Type: 'bind', Target: '/x' }), { message: 'invalid mount config for type "bind": field Source must not be empty' });
  assert.throws(() => parseMountSpec({ Type: 'volume', Target: '' }), { message: 'invalid mount config for type "volume": field Target must not be empty' });
  assert.throws(() => parseMountSpec({ Type: 'volume', Target: '/x', ReadOnly: true }), {
    message: 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes',
  });
  assert.throws(() => parseMountSpec({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: '../up' } }), {
    message: 'invalid mount config for type "volume": subpath must be a relative path within the volume',
  });
  assert.throws(() => parseMountSpec({ Type: 'tmpfs', Source: 'x', Target: '/t' }), { message: 'invalid mount config for type "tmpfs": field Source must not be specified' });
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/there', Target: '/x', BindOptions: { Propagation: 'weird' } }, exists), {
    message: 'invalid mount config for type "bind": invalid propagation mode: weird',
  });
  assert.throws(() => parseMountSpec({ Type: 'npipe', Target: '/x' }), { message: 'invalid mount config for type "npipe": mount type unknown' });
  const nocopy = parseMountSpec({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { NoCopy: true } });
  assert.equal(nocopy.CopyData, false);
});

test('tmpfs options become mount data with the largest exact unit', () => {
  assert.equal(convertTmpfsOptions({ Type: 'tmpfs', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } }), 'mode=1777,size=1m');
  assert.equal(convertTmpfsOptions({ Type: 'tmpfs', ReadOnly: true, TmpfsOptions: { SizeBytes: 1000, Options: [['exec']] } }), 'ro,size=1000,exec');
  assert.throws(() => convertTmpfsOptions({ Type: 'tmpfs', TmpfsOptions: { Options: [['suid']] } }), { message: 'invalid mount config for type "tmpfs": invalid option: suid' });
});

test('--volumes-from: rw by default; no propagation or copy modes', () => {
  assert.deepEqual(parseVolumesFrom('c1'), { id: 'c1', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('c1:ro'), { id: 'c1', mode: 'ro' });
  assert.throws(() => parseVolumesFrom('c1:rshared'), { message: 'invalid mode: rshared' });
  assert.throws(() => parseVolumesFrom('c1:nocopy'), { message: 'invalid mode: nocopy' });
  assert.throws(() => parseVolumesFrom(''), { message: 'volumes-from specification cannot be an empty string' });
});

test('mode words: one of each kind at most', () => {
  assert.equal(validMountMode('ro,Z,rshared,nocopy,cached'), true);
  assert.equal(validMountMode('z,Z'), false);
  assert.equal(validMountMode('shared,slave'), false);
});

test('the inspect view leaves out Name and Driver of binds', () => {
  assert.deepEqual(Object.keys(mountPointView(parseBind('/a:/b'))), ['Type', 'Source', 'Destination', 'Mode', 'RW', 'Propagation']);
});
