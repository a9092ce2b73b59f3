// Records turned into the JSON shapes of the Engine API (ContainerInspectResponse,
// ContainerSummary). Presentation only.
import type { ContainerRecord } from '../container/record.ts';
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
  const name = rec.HostConfig.NetworkMode || 'bridge';
  return {
    [name]: {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      MacAddress: '',
      DriverOpts: null,
      GwPriority: 0,
      NetworkID: '',
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: null,
    },
  };
}

/** What inspect shows besides the record: the container's running execs (ids). */
export interface InspectExtras {
  execIds?: string[];
}

export function containerInspect(rec: ContainerRecord, graph: Record<string, string>, size?: { rw: number; rootfs: number }, extras: InspectExtras = {}): Record<string, unknown> {
  // Bookkeeping dockerd keeps in its record but does not show.
  const { SnapshotParent: _parent, Runtime: _runtime, HasBeenManuallyStopped: _stopped, HasBeenStartedBefore: _started, ...shown } = rec;
  const out: Record<string, unknown> = {
    ...shown,
    State: { ...rec.State },
    ProcessLabel: '',
    MountLabel: '',
    AppArmorProfile: '',
    ExecIDs: extras.execIds?.length ? extras.execIds : null,
    GraphDriver: { Name: 'overlay2', Data: graph },
    Mounts: [],
    Config: rec.Config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      Ports: {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
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
    Ports: [],
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: containerStatusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(rec) },
    Mounts: [],
  };
  if (size) {
    out.SizeRw = size.rw;
    out.SizeRootFs = size.rootfs;
  }
  return out;
}
