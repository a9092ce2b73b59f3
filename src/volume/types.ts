// Volume records and the Engine API shapes around them (API v1.50: Volume,
// VolumeCreateOptions, VolumeListResponse, VolumePruneResponse).

/** What is stored per volume, in <root>/<name>/volume.json. */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  /** RFC 3339, second precision, as dockerd formats it. */
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

export interface VolumeUsage {
  /** Bytes under _data (each inode once); -1 when it could not be measured. */
  Size: number;
  /** Containers referencing it. */
  RefCount: number;
}

/** The API view of a volume. */
export interface Volume extends VolumeRecord {
  Mountpoint: string;
  Scope: 'local';
  UsageData?: VolumeUsage;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Label dockerd puts on volumes created without a name; prune without all=true removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** Volume events as dockerd sends them (Type "volume", Actor.ID = the name). */
export type VolumeEventSink = (action: 'create' | 'destroy' | 'mount' | 'unmount', volume: { Name: string; Driver: string }, attributes?: Record<string, string>) => void;
