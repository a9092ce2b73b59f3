// A container's persistent record: what `docker inspect` shows, stored as
// <data-root>/containers/<id>/config.v2.json (written atomically).
import type { ContainerConfig, HostConfig } from '../runtime/types.ts';
import type { HealthState } from './health.ts';
import type { ContainerNetworkSettings } from '../network/endpoint.ts';
import type { MountPoint } from '../volume/mount-point.ts';
import { ZERO_TIME } from '../util/time.ts';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Present once a container with a health check has started. */
  Health?: HealthState;
}

export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** Image id, "sha256:<hex>" */
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  /** "/name" */
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  /** The OCI runtime that runs it (a key of the daemon's runtimes). */
  Runtime: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** Its networks: asked at create, filled in while it runs. */
  NetworkSettings?: ContainerNetworkSettings;
  /** Volumes, binds and --mount tmpfs by destination, decided at create (inspect's Mounts). */
  MountPoints?: Record<string, MountPoint>;
  /** The image's top layer chain id: the parent of the container's writable snapshot. */
  SnapshotParent?: string;
  /** Stopped or killed by a user since its last start: `unless-stopped` stays down, also
   * across daemon restarts (not shown by inspect, as in Docker). */
  HasBeenManuallyStopped?: boolean;
  /** Started at least once: only such containers are restarted at daemon start. */
  HasBeenStartedBefore?: boolean;
}

/** Where the container service reports lifecycle events (Docker's actions and attributes). */
export type ContainerEventSink = (action: string, rec: ContainerRecord, attrs?: Record<string, string>) => void;

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

/** Whether a container has a process (running, paused, or between restarts). */
export function isActive(rec: ContainerRecord): boolean {
  const s = rec.State.Status;
  return s === 'running' || s === 'paused' || s === 'restarting';
}
