// What `berth explain` reports about one running container: facts read back from the
// kernel (procfs, cgroupfs), so the answer shows what is in effect, not what was asked for.
// PascalCase like the rest of the Engine API, since GET /containers/{id}/explain returns it.

export type NamespaceType = 'mnt' | 'pid' | 'net' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface NamespaceFact {
  Type: NamespaceType;
  /** The container's namespace inode (readlink /proc/<pid>/ns/<type>); 0 when unreadable. */
  Inode: number;
  /** The host's (/proc/1/ns/<type>; berthd's own when /proc/1 is unreadable). */
  HostInode: number;
  /** private: its own; host: the host's; shared: another running container's too. */
  Mode: 'private' | 'host' | 'shared';
  /** The other running containers in the same namespace. */
  SharedWith: Array<{ Id: string; Name: string }>;
}

export interface CgroupLimit {
  /** The controller (v1 hierarchy) or the file's prefix (v2). */
  Controller: string;
  File: string;
  /** The file's content, trimmed; multi-line files (devices.list, io.max) keep their lines. */
  Value: string;
  /** A reading for people: "64MiB", "0.5 CPUs", "unlimited"... empty when the raw value says it all. */
  Meaning: string;
}

export interface CgroupFacts {
  Version: 1 | 2;
  /** The container's cgroup as the kernel reports it (/proc/<pid>/cgroup). */
  Path: string;
  /** Where each file was read (v1: one directory per hierarchy). */
  Dirs: Record<string, string>;
  Limits: CgroupLimit[];
}

export interface CapabilityFacts {
  Effective: string[];
  Permitted: string[];
  Inheritable: string[];
  Bounding: string[];
  Ambient: string[];
}

export interface SeccompFacts {
  /** /proc/<pid>/status Seccomp: 0 disabled, 1 strict, 2 filter. */
  Mode: number;
  ModeName: 'disabled' | 'strict' | 'filter' | 'unknown';
  /** Seccomp_filters: filters attached to the process. */
  Filters: number;
  /** The profile berth generated for the container. */
  Profile: 'default' | 'unconfined' | 'custom';
  /** Syscall rules in the generated filter (0 when none was generated). */
  Rules: number;
  /** The filter's default action (e.g. SCMP_ACT_ERRNO), empty without a filter. */
  DefaultAction: string;
}

export interface PathFact {
  Path: string;
  /** masked: a /dev/null bind or an empty read-only tmpfs over it; readonly: a read-only
   * mount at it; absent: nothing at that path in the container; none: present, not covered. */
  State: 'masked' | 'readonly' | 'absent' | 'none';
  /** How: "/dev/null bind", "read-only tmpfs", "read-only bind"... */
  How: string;
}

export interface IdMapEntry {
  ContainerId: number;
  HostId: number;
  Size: number;
}

export interface UserFacts {
  /** Real, effective, saved and filesystem uid (/proc/<pid>/status). */
  Uid: number[];
  Gid: number[];
  Groups: number[];
  /** The effective uid's name in the container's /etc/passwd, empty when it has none. */
  Name: string;
  UidMap: IdMapEntry[];
  GidMap: IdMapEntry[];
}

export interface MountFact {
  /** The mount point relative to the container's root. */
  Destination: string;
  Type: string;
  Source: string;
  /** The path inside the source filesystem that is mounted (a bind's origin). */
  Root: string;
  Options: string;
  ReadOnly: boolean;
  /** private, shared:N, master:N... */
  Propagation: string;
}

export interface NetworkFacts {
  /** In the container's network namespace; a veth's host end and its bridge when it has one. */
  Interfaces: Array<{ Name: string; Mac: string; State: string; Addresses: string[]; HostPeer: string; Bridge: string }>;
  Routes: Array<{ Destination: string; Gateway: string; Device: string }>;
  /** From the container's /etc/resolv.conf. */
  Nameservers: string[];
  /** berth's DNAT rules that lead to the container's addresses. */
  Published: Array<{ HostIp: string; HostPort: number; ContainerIp: string; ContainerPort: number; Proto: string }>;
}

export interface ExplainReport {
  Id: string;
  Name: string;
  Pid: number;
  Namespaces: NamespaceFact[];
  Cgroup: CgroupFacts;
  Capabilities: CapabilityFacts;
  NoNewPrivs: boolean;
  Seccomp: SeccompFacts;
  MaskedPaths: PathFact[];
  ReadonlyPaths: PathFact[];
  User: UserFacts;
  Network: NetworkFacts;
  Mounts: MountFact[];
}
