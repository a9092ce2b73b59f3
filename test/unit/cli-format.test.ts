// The formatting helpers behind docker's tables: Go's tabwriter, go-units sizes and
// durations, Go's %g float formatting, docker's port grouping and ellipsis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabulate, TabWriter } from '../../src/cli/format/tabwriter.ts';
import { bytesSize, fromHumanSize, humanDuration, humanSize, humanSizeWithPrecision, ramInBytes } from '../../src/cli/format/units.ts';
import { formatFloat } from '../../src/cli/format/go-float.ts';
import { displayablePorts, truncateID } from '../../src/cli/format/contexts.ts';
import { displayWidth, ellipsis } from '../../src/cli/format/width.ts';
import { jsonCompact, jsonIndent } from '../../src/cli/format/json-text.ts';
import { goQuote, sprintf } from '../../src/cli/format/gofmt.ts';

test('tabwriter: columns as wide as their widest cell plus padding, at least minwidth', () => {
  // docker's table settings: minwidth 10, tabwidth 1, padding 3, padded with spaces.
  assert.equal(tabulate('A\tB\tC\nlonger value\tx\ty\n', 10, 1, 3), 'A              B         C\nlonger value   x         y\n');
  // The last cell of a line (no tab after it) is never padded.
  assert.equal(tabulate('a\tb\n', 10, 1, 3), 'a         b\n');
  // Empty cells are padded too.
  assert.equal(tabulate('\tb\nx\t\n', 4, 1, 1), '    b\nx   \n');
  // A line without tabs ends the column block: the lines after it are aligned on their own.
  assert.equal(tabulate('aaaaaaaa\tb\nno tabs\nc\td\n', 1, 1, 1), 'aaaaaaaa b\nno tabs\nc d\n');
  // Columns span only consecutive lines that have them (elastic tabstops).
  assert.equal(tabulate('a\tb\tc\naaaa\tb\n', 1, 1, 1), 'a    b c\naaaa b\n');
  // Wide characters take two columns.
  assert.equal(tabulate('日本\tx\nab\ty\n', 1, 1, 1), '日本 x\nab   y\n');
  // Text after the last newline stays buffered until flush and is written as is.
  const w = new TabWriter(1, 1, 1);
  w.write('a\tb\nc');
  assert.equal(w.flush(), 'a b\nc');
});

test('sizes: decimal units with 3 significant digits (docker images/ps), binary for memory', () => {
  assert.equal(humanSizeWithPrecision(4260000, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(999, 3), '999B');
  assert.equal(humanSizeWithPrecision(12345, 3), '12.3kB');
  assert.equal(humanSizeWithPrecision(1.5e9, 3), '1.5GB');
  // Go's %.3g rounds exact ties to even and switches to exponent form at 1000.
  assert.equal(humanSizeWithPrecision(4125000, 3), '4.12MB');
  assert.equal(humanSizeWithPrecision(999500, 3), '1e+03kB');
  assert.equal(humanSize(123456789), '123.5MB');
  assert.equal(bytesSize(8241532928), '7.676GiB');
  assert.equal(bytesSize(536870912), '512MiB');
});

test('durations: go-units HumanDuration', () => {
  const s = 1000;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(5 * s), '5 seconds');
  assert.equal(humanDuration(59 * s), '59 seconds');
  assert.equal(humanDuration(60 * s), 'About a minute');
  assert.equal(humanDuration(119 * s), 'About a minute');
  assert.equal(humanDuration(2 * 60 * s), '2 minutes');
  assert.equal(humanDuration(59 * 60 * s), '59 minutes');
  assert.equal(humanDuration(60 * 60 * s), 'About an hour');
  assert.equal(humanDuration(89 * 60 * s), 'About an hour');
  assert.equal(humanDuration(90 * 60 * s), '2 hours');
  assert.equal(humanDuration(47 * 3600 * s), '47 hours');
  assert.equal(humanDuration(48 * 3600 * s), '2 days');
  assert.equal(humanDuration(14 * 24 * 3600 * s), '2 weeks');
  assert.equal(humanDuration(60 * 24 * 3600 * s), '2 months');
  assert.equal(humanDuration(2 * 365 * 24 * 3600 * s), '2 years');
});

test('size flags: go-units RAMInBytes (binary) and FromHumanSize (decimal)', () => {
  assert.equal(ramInBytes('512m'), 536870912);
  assert.equal(ramInBytes('1g'), 1073741824);
  assert.equal(ramInBytes('1GiB'), 1073741824);
  assert.equal(ramInBytes('1.5k'), 1536);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('10b'), 10);
  assert.equal(fromHumanSize('10k'), 10000);
  assert.throws(() => ramInBytes('12x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('m'), { message: "invalid size: 'm'" });
  assert.throws(() => ramInBytes('1mbb'), { message: "invalid suffix: 'mbb'" });
});

test("Go's float formatting (%g, %f, %e)", () => {
  assert.equal(formatFloat(1e6, 'g', -1), '1e+06');
  assert.equal(formatFloat(123456, 'g', -1), '123456');
  assert.equal(formatFloat(0.0001, 'g', -1), '0.0001');
  assert.equal(formatFloat(0.00001, 'g', -1), '1e-05');
  assert.equal(formatFloat(2.5, 'f', 0), '2');
  assert.equal(formatFloat(3.5, 'f', 0), '4');
  assert.equal(formatFloat(3.14159, 'f', 2), '3.14');
  assert.equal(formatFloat(1234.5678, 'e', 3), '1.235e+03');
  assert.equal(formatFloat(-0.5, 'g', 3), '-0.5');
  assert.equal(sprintf('%6.2f|%-5d|%05d|%+d|%x|%X|%o|%c|%t|%%|%T', [3.14159, 42, 42, 7, 255, 255, 8, 65, true, 'x']), '  3.14|42   |00042|+7|ff|FF|10|A|true|%|string');
  assert.equal(sprintf('%s %s', ['a']), 'a %!s(MISSING)');
  assert.equal(goQuote('a"b\n\t\x01é'), '"a\\"b\\n\\t\\x01é"');
});

test("docker's port display: ranges grouped, host mappings, IPv6 in brackets", () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 443, Type: 'tcp' },
      { PrivatePort: 444, Type: 'tcp' },
      { PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' },
      { PrivatePort: 80, PublicPort: 8080, IP: '::', Type: 'tcp' },
      { PrivatePort: 53, PublicPort: 53, IP: '127.0.0.1', Type: 'udp' },
      { PrivatePort: 54, PublicPort: 54, IP: '127.0.0.1', Type: 'udp' },
      { PrivatePort: 9000, Type: 'udp' },
    ]),
    '127.0.0.1:53-54->53-54/udp, 443-444/tcp, 9000/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
  );
  assert.equal(displayablePorts([]), '');
});

test('ids, ellipsis and display width', () => {
  assert.equal(truncateID('sha256:0123456789abcdef0123'), '0123456789ab');
  assert.equal(truncateID('abc'), 'abc');
  assert.equal(ellipsis('/docker-entrypoint.sh nginx', 20), '/docker-entrypoint.…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('日本語の長いコマンドラインです', 20), '日本語の長いコマン…');
  assert.equal(displayWidth('日本語abc'), 9);
});

test('JSON re-layout keeps the daemon\'s text (json.Indent / json.Compact)', () => {
  const raw = '[{"A":"x\\u003cy","B":[],"C":{},"D":[1, 2],"E":{"F":null}}]';
  assert.equal(jsonCompact(raw), '[{"A":"x\\u003cy","B":[],"C":{},"D":[1,2],"E":{"F":null}}]');
  assert.equal(jsonIndent(raw, '    '), '[\n    {\n        "A": "x\\u003cy",\n        "B": [],\n        "C": {},\n        "D": [\n            1,\n            2\n        ],\n        "E": {\n            "F": null\n        }\n    }\n]');
});
