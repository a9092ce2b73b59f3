// The Go text/template engine behind --format: outputs and errors as Go (and docker's
// template functions) produce them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Template, TemplateExecError, TemplateSyntaxError, HEADER_FUNCTIONS } from '../../src/cli/format/template.ts';
import { HeaderContext, renderFormatted, finalFormat } from '../../src/cli/format/formatter.ts';
import { ContainerContext } from '../../src/cli/format/contexts.ts';

const data = {
  Id: 'abc',
  Name: '/web',
  Config: { Env: ['A=1', 'B=2'], Labels: { b: '2', a: '1' }, Cmd: null, Image: 'busybox' },
  State: { Running: true, Pid: 42, ExitCode: 0, Health: null },
  Mounts: [{ Source: '/h', Destination: '/c' }, { Source: '/x', Destination: '/y' }],
  Empty: [],
  Num: 1.5,
  Big: 536870912,
  Html: '<a&b>',
};

function run(tmpl: string, d: unknown = data): string {
  return Template.parse(tmpl).execute(d);
}

test('fields, chains and Go value printing', () => {
  assert.equal(run('{{.Name}}'), '/web');
  assert.equal(run('{{.Config.Image}}'), 'busybox');
  assert.equal(run('{{.Config.Env}}'), '[A=1 B=2]');
  assert.equal(run('{{.Config.Labels}}'), 'map[a:1 b:2]');
  assert.equal(run('{{.State.Pid}} {{.Num}} {{.Big}}'), '42 1.5 536870912');
  assert.equal(run('{{.State.Running}}'), 'true');
  assert.equal(run('{{.Missing}}'), '<no value>');
  assert.equal(run('{{.Config.Cmd}}'), '<no value>');
  assert.equal(run('{{.Missing.Deeper}}'), '<no value>');
  assert.equal(run('{{.}}', 'plain'), 'plain');
});

test('actions trim white space with {{- and -}}', () => {
  assert.equal(run('a  {{- .Name -}}  \n b'), 'a/webb');
  assert.equal(run('{{- /* comment */ -}} x'), 'x');
  assert.equal(run('{{-3}}'), '-3');
});

test('if / else if / else, with, range with else, variables', () => {
  assert.equal(run('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(run('{{if .Empty}}x{{else if .Name}}name{{else}}none{{end}}'), 'name');
  assert.equal(run('{{with .State}}{{.Pid}}{{end}}'), '42');
  assert.equal(run('{{with .Missing}}x{{else}}nothing{{end}}'), 'nothing');
  assert.equal(run('{{range .Config.Env}}[{{.}}]{{end}}'), '[A=1][B=2]');
  assert.equal(run('{{range .Empty}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(run('{{range $i, $e := .Mounts}}{{$i}}:{{$e.Source}}->{{.Destination}} {{end}}'), '0:/h->/c 1:/x->/y ');
  assert.equal(run('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'a=1;b=2;');
  assert.equal(run('{{$n := .Name}}{{range .Mounts}}{{$n}}{{end}}'), '/web/web');
  assert.equal(run('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}'), '2');
  assert.equal(run('{{range .Mounts}}{{if eq .Source "/x"}}{{break}}{{end}}{{.Source}}{{end}}'), '/h');
  assert.equal(run('{{range .Mounts}}{{if eq .Source "/h"}}{{continue}}{{end}}{{.Source}}{{end}}'), '/x');
  assert.equal(run('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(run('{{$}}', 7), '7');
});

test('builtin functions', () => {
  assert.equal(run('{{len .Config.Env}} {{len .Name}} {{len .Config.Labels}}'), '2 4 2');
  assert.equal(run('{{index .Config.Labels "a"}} {{index .Config.Env 1}} {{index .Config.Labels "zz"}}'), '1 B=2 <no value>');
  assert.equal(run('{{slice .Name 1 3}}'), 'we');
  assert.equal(run('{{and 1 0 2}} {{or 0 "" "x"}} {{not .Empty}}'), '0 x true');
  assert.equal(run('{{eq .State.Pid 42}} {{ne .Name "/web"}} {{lt 1 2}} {{ge 2 2}} {{eq "a" "b" "a"}}'), 'true false true true true');
  assert.equal(run('{{print "a" 1 2 "b"}}|{{println "x" 1}}|'), 'a1 2b|x 1\n|');
  assert.equal(run('{{printf "%s=%d %q %5.2f|%-4s|%x %v" "k" 7 "q" 3.14159 "ab" 255 .Config.Env}}'), 'k=7 "q"  3.14|ab  |ff [A=1 B=2]');
  assert.equal(run('{{printf "%d" "x"}}'), '%!d(string=x)');
  assert.equal(run('{{html .Html}} {{js "it\'s"}} {{urlquery "a b&c"}}'), '&lt;a&amp;b&gt; it\\\'s a+b%26c');
  assert.equal(run('{{.Name | printf "%s!"}}'), '/web!');
  assert.equal(run('{{"x" | printf "%s-%s" "y"}}'), 'y-x');
});

test("docker's functions: json, join, split, upper, lower, title, pad, truncate", () => {
  assert.equal(run('{{json .Config.Labels}}'), '{"a":"1","b":"2"}');
  assert.equal(run('{{json .Config.Env}} {{json .Name}} {{json .Html}} {{json .State.Health}}'), '["A=1","B=2"] "/web" "<a&b>" null');
  assert.equal(run('{{join .Config.Env ","}}'), 'A=1,B=2');
  assert.equal(run('{{split "a:b:c" ":"}} {{index (split "a:b" ":") 1}}'), '[a b c] b');
  assert.equal(run('{{upper .Name}} {{lower "ABC"}} {{title "hello world-wide"}}'), '/WEB abc Hello World-Wide');
  assert.equal(run('[{{pad .Name 2 1}}] [{{pad "" 2 1}}]'), '[  /web ] []');
  assert.equal(run('{{truncate "abcdef" 3}} {{truncate "ab" 3}}'), 'abc ab');
  assert.equal(run('{{upper .Name | lower}}'), '/web');
});

test('parse errors are worded as Go words them', () => {
  const parseErr = (t: string) => {
    try {
      Template.parse(t);
    } catch (e) {
      assert.ok(e instanceof TemplateSyntaxError);
      return (e as Error).message;
    }
    assert.fail(`no error for ${t}`);
  };
  assert.equal(parseErr('{{.ID'), 'template: :1: unclosed action');
  assert.equal(parseErr('{{foo .ID}}'), 'template: :1: function "foo" not defined');
  assert.equal(parseErr('{{if .A}}'), 'template: :1: unexpected EOF');
  assert.equal(parseErr('{{end}}'), 'template: :1: unexpected {{end}}');
  assert.equal(parseErr('{{.A | "x"}}'), 'template: :1: non executable command in pipeline stage 2');
  assert.equal(parseErr('{{$x}}'), 'template: :1: undefined variable "$x"');
  assert.equal(parseErr('a\n{{if}}{{end}}'), 'template: :2: missing value for if');
});

test('execution errors carry the position of the failing node', () => {
  const t = Template.parse('{{.ID}} {{.State.ExitCode}}').forInspect();
  assert.throws(() => t.execute({ ID: 'x' }), (e: Error) => e instanceof TemplateExecError && e.message === 'template: :1:16: executing "" at <.State.ExitCode>: map has no entry for key "State"');
  const ctx = new ContainerContext({ Id: 'x' }, true);
  assert.throws(() => Template.parse('x {{.Foo}}').execute(ctx), { message: 'template: :1:4: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext' });
  assert.throws(() => run('{{join .Name ","}}'), { message: 'template: :1:2: executing "" at <join>: error calling join: wrong type for value; expected []string; got string' });
  // Inspect templates print JSON nulls as nil pointers.
  assert.equal(Template.parse('{{.State.Health}}').forInspect().execute(data), '<nil>');
});

test('table formats: "\\t" escapes, the header row from the same template, column alignment', () => {
  assert.equal(finalFormat('table {{.ID}}\\t{{.Name}}'), '{{.ID}}\t{{.Name}}');
  assert.equal(finalFormat('json'), '{{json .}}');
  const header = new HeaderContext({ ID: 'CONTAINER ID', Names: 'NAMES' });
  const rows = [new ContainerContext({ Id: '0123456789abcdef', Names: ['/a'], Labels: { 'com.x.y': 'v' } }, true), new ContainerContext({ Id: 'fedcba9876543210', Names: ['/longer-name'] }, true)];
  assert.equal(renderFormatted('table {{.ID}}\\t{{.Names}}\\t{{.Label "com.x.y"}}', rows, header), 'CONTAINER ID   NAMES         y\n0123456789ab   a             v\nfedcba987654   longer-name   \n');
  // Without "table" there is no header and no alignment.
  assert.equal(renderFormatted('{{.Names}}\\t{{.ID}}', rows, header), 'a\t0123456789ab\nlonger-name\tfedcba987654\n');
  // A header template failure keeps what was rendered before it (docker ignores the error).
  assert.equal(renderFormatted('table {{.Names}}\\t{{json .}}', rows.slice(0, 1), header).split('\n')[0], 'NAMES     ');
  assert.equal(Template.parse('{{json .ID}}').withFuncs(HEADER_FUNCTIONS).execute(header), 'CONTAINER ID');
});

test('{{json .}} of a formatter row: every field, keys sorted, HTML escaped', () => {
  const row = new ContainerContext({ Id: 'abc', Names: ['/n'], Command: 'a > b', Created: 0, Labels: { x: 'y' } }, false, 0);
  const out = JSON.parse(Template.parse('{{json .}}').execute(row));
  assert.deepEqual(Object.keys(out), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
  assert.equal(out.Command, '"a > b"');
  assert.ok(Template.parse('{{json .}}').execute(row).includes('\\u003e'));
  assert.equal(out.Platform, null);
});
