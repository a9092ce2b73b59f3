// The human form of an explain report: one titled table per section, as the issue's tables
// lay the facts out. Pure: the CLI feeds it the API's JSON.
import { TabWriter } from '../cli/format/tabwriter.ts';
import type { ExplainReport, IdMapEntry, PathFact } from './types.ts';

function table(rows: string[][]): string {
  const tw = new TabWriter(0, 8, 3, ' ');
  for (const r of rows) tw.write(r.join('\t') + '\n');
  return tw.flush();
}

function pathRows(facts: readonly PathFact[]): string[][] {
  return [['PATH', 'STATE', 'HOW'], ...facts.map((f) => [f.Path, f.State, f.How || '-'])];
}

function idMap(m: readonly IdMapEntry[]): string {
  return m.length ? m.map((e) => `${e.ContainerId}->${e.HostId} (${e.Size})`).join(', ') : '-';
}

export function renderExplain(r: ExplainReport): string {
  const parts: string[] = [];
  parts.push(table([['Container:', `${r.Name} (${r.Id.slice(0, 12)})`], ['Pid on host:', String(r.Pid)]]));

  parts.push('NAMESPACES\n' + table([
    ['TYPE', 'CONTAINER', 'HOST', 'MODE'],
    ...r.Namespaces.map((n) => [n.Type, n.Inode ? String(n.Inode) : '-', n.HostInode ? String(n.HostInode) : '-', n.Mode === 'shared' ? `shared with ${n.SharedWith.map((s) => s.Name).join(', ')}` : n.Mode]),
  ]));

  const limitRows: string[][] = [['CONTROLLER', 'FILE', 'VALUE', 'MEANING']];
  for (const l of r.Cgroup.Limits) {
    const lines = l.Value === '' ? [''] : l.Value.split('\n');
    lines.forEach((line, i) => limitRows.push(i === 0 ? [l.Controller, l.File, line || '-', l.Meaning || '-'] : ['', '', line, '']));
  }
  parts.push(`CGROUP (v${r.Cgroup.Version}): ${r.Cgroup.Path}\n` + table(limitRows));

  const c = r.Capabilities;
  const caps = (l: string[]) => (l.length ? l.join(' ') : '-');
  parts.push('CAPABILITIES\n' + table([
    ['Effective:', caps(c.Effective)],
    ['Permitted:', caps(c.Permitted)],
    ['Inheritable:', caps(c.Inheritable)],
    ['Bounding:', caps(c.Bounding)],
    ['Ambient:', caps(c.Ambient)],
    ['NoNewPrivs:', String(r.NoNewPrivs)],
  ]));

  const s = r.Seccomp;
  parts.push('SECCOMP\n' + table([
    ['Mode:', `${s.Mode} (${s.ModeName})`],
    ['Profile:', s.Profile],
    ['Rules:', String(s.Rules)],
    ['Default action:', s.DefaultAction || '-'],
  ]));

  parts.push('MASKED PATHS\n' + table(pathRows(r.MaskedPaths)));
  parts.push('READ-ONLY PATHS\n' + table(pathRows(r.ReadonlyPaths)));

  const u = r.User;
  parts.push('USER\n' + table([
    ['Uid (real effective saved fs):', `${u.Uid.join(' ')}${u.Name ? ` (${u.Name})` : ''}`],
    ['Gid (real effective saved fs):', u.Gid.join(' ')],
    ['Groups:', u.Groups.length ? u.Groups.join(' ') : '-'],
    ['Uid map:', idMap(u.UidMap)],
    ['Gid map:', idMap(u.GidMap)],
  ]));

  const net = r.Network;
  parts.push('NETWORK\n' + table([
    ['INTERFACE', 'STATE', 'MAC', 'ADDRESSES', 'HOST END', 'BRIDGE'],
    ...net.Interfaces.map((i) => [i.Name, i.State || '-', i.Mac || '-', i.Addresses.join(' ') || '-', i.HostPeer || '-', i.Bridge || '-']),
  ]) + table([
    ['Routes:', net.Routes.map((x) => `${x.Destination}${x.Gateway ? ` via ${x.Gateway}` : ''}${x.Device ? ` dev ${x.Device}` : ''}`).join(', ') || '-'],
    ['Nameservers:', net.Nameservers.join(' ') || '-'],
    ['Published:', net.Published.map((p) => `${p.HostIp}:${p.HostPort}->${p.ContainerIp}:${p.ContainerPort}/${p.Proto}`).join(', ') || '-'],
  ]));

  parts.push('MOUNTS\n' + table([
    ['DESTINATION', 'TYPE', 'SOURCE', 'ROOT', 'OPTIONS', 'PROPAGATION'],
    ...r.Mounts.map((m) => [m.Destination, m.Type, m.Source, m.Root, m.Options, m.Propagation]),
  ]));
  return parts.join('\n');
}
