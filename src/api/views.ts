// Records turned into the JSON shapes of the Engine API (ContainerInspectResponse,
// ContainerSummary). Presentation only.
import type { ContainerRecord } from '../container/record.ts';
import { portMap } from '../network/ports.ts';
import { mountPointView } from '../volume/mount-point.ts';
import { humanDuration, isZeroTime } from '../util/time.ts';

export function containerStatusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  switch (s.Status) {
    case 'created':
      return 'Created';
    case 'running': {
      const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
      const health = s.Health?.Status;
      if (!health) return up;
      return `${up} (${health === 'starting' ? 'health: starting' : health})`;
    }
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return isZeroTime(s.FinishedAt) ? `Exited (${s.ExitCode})` : `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  }
}

function networks(rec: ContainerRecord): Record<string, unknown> {
  // container:<id> modes have no network of their own (dockerd shows none).
  return structuredClone(rec.NetworkSettings?.Networks ?? {});
}

/** NetworkSettings.Ports: while it runs, every exposed or published port; else empty. */
function ports(rec: ContainerRecord): Record<string, unknown> {
  if (!rec.NetworkSettings?.SandboxKey) return {};
  return portMap(rec.Config.ExposedPorts, rec.NetworkSettings.Published ?? []);
}

/** The summary's Ports (docker ps): published ones with their host side, exposed ones bare. */
function summaryPorts(rec: ContainerRecord): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const published = rec.NetworkSettings?.SandboxKey ? rec.NetworkSettings.Published ?? [] : [];
  for (const p of published) out.push({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto });
  for (const key of Object.keys(rec.Config.ExposedPorts ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    if (published.some((p) => p.containerPort === Number(port) && p.proto === proto)) continue;
    out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
}

/** The deprecated top-level fields: the default bridge's endpoint, as dockerd fills them. */
function legacyEndpoint(rec: ContainerRecord): Record<string, unknown> {
  const e = rec.NetworkSettings?.Networks.bridge;
  return {
    EndpointID: e?.EndpointID ?? '',
    Gateway: e?.Gateway ?? '',
    IPAddress: e?.IPAddress ?? '',
    IPPrefixLen: e?.IPPrefixLen ?? 0,
    MacAddress: e?.IPAddress ? e.MacAddress : '',
  };
}

/** inspect's and ps's Mounts: the mount points by destination. */
function mountsView(rec: ContainerRecord): Record<string, unknown>[] {
  return Object.values(rec.MountPoints ?? {})
    .sort((a, b) => (a.Destination < b.Destination ? -1 : a.Destination > b.Destination ? 1 : 0))
    .map(mountPointView);
}

/** What inspect shows besides the record: the container's running execs (ids). */
export interface InspectExtras {
  execIds?: string[];
}

export function containerInspect(rec: ContainerRecord, graph: Record<string, string>, size?: { rw: number; rootfs: number }, extras: InspectExtras = {}): Record<string, unknown> {
  // Bookkeeping dockerd keeps in its record but does not show.
  const { SnapshotParent: _parent, Runtime: _runtime, HasBeenManuallyStopped: _stopped, HasBeenStartedBefore: _started, MountPoints: _mounts, ...shown } = rec;
  const out: Record<string, unknown> = {
    ...shown,
    State: { ...rec.State },
    ProcessLabel: '',
    MountLabel: '',
    AppArmorProfile: '',
    ExecIDs: extras.execIds?.length ? extras.execIds : null,
    GraphDriver: { Name: 'overlay2', Data: graph },
    Mounts: mountsView(rec),
    Config: rec.Config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: rec.NetworkSettings?.SandboxID ?? '',
      SandboxKey: rec.NetworkSettings?.SandboxKey ?? '',
      Ports: ports(rec),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPv6Gateway: '',
      ...legacyEndpoint(rec),
      Networks: networks(rec),
    },
  };
  if (size) {
    out.SizeRw = size.rw;
    out.SizeRootFs = size.rootfs;
  }
  return out;
}

export function containerSummary(rec: ContainerRecord, size?: { rw: number; rootfs: number }): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image,
    ImageID: rec.Image,
    Command: [rec.Path, ...rec.Args].join(' '),
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: summaryPorts(rec),
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: containerStatusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(rec) },
    Mounts: mountsView(rec),
  };
  if (size) {
    out.SizeRw = size.rw;
    out.SizeRootFs = size.rootfs;
  }
  return out;
}
