// Takes one kernel wait off the start of a container.
//
// Moving a process into a cgroup (a write to cgroup.procs) takes a global lock whose
// writer side, after a quiet spell, first waits out an RCU grace period: 8-15 ms on the
// hosts measured, for the first move only; moves that follow within about a grace period
// of the last one are immediate. The OCI runtime moves the container's init into its
// cgroups some 10 ms after berthd begins a start (after its own start-up), so it would
// pay that wait in full. berthd instead makes a move that changes nothing as a container
// is created (`docker run` starts it right after) and as it starts: it writes its own pid
// into the cgroup it already is in (the kernel takes the lock, finds the source and target
// equal and moves nothing). The grace period then runs while the runtime starts up. The write runs on libuv's thread pool, so only that
// thread waits. Whether it helps depends on kernel internals; it can never change what
// the container gets, and any error is ignored.
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cgroup.procs file of the cgroup this process is in (v2, or any v1 hierarchy). Only
 * a file that lists this process counts: with a cgroup namespace, or a hierarchy mounted
 * elsewhere, a path from /proc/self/cgroup can name another cgroup, and the write would
 * then move berthd. */
export function ownCgroupProcs(procSelfCgroup = '/proc/self/cgroup', cgroupRoot = '/sys/fs/cgroup'): string | undefined {
  let text: string;
  try {
    text = readFileSync(procSelfCgroup, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const [, controllers, path] = m as unknown as [string, string, string];
    // "0::/x" is the unified hierarchy: at the root on a v2 host, under unified/ on a hybrid one.
    const roots = controllers === '' ? [cgroupRoot, join(cgroupRoot, 'unified')] : [join(cgroupRoot, controllers.replace(/^name=/, ''))];
    for (const root of roots) {
      const procs = join(root, path, 'cgroup.procs');
      if (existsSync(procs) && lists(procs, process.pid)) return procs;
    }
  }
  return undefined;
}

function lists(procs: string, pid: number): boolean {
  try {
    return readFileSync(procs, 'utf8').split('\n').includes(String(pid));
  } catch {
    return false;
  }
}

export class CgroupWarmup {
  private readonly procs: string | undefined;
  private inFlight = false;

  constructor(procs: string | undefined = ownCgroupProcs()) {
    this.procs = procs;
  }

  /** Starts the no-op move unless one is under way; never waits, never throws. */
  kick(): void {
    if (!this.procs || this.inFlight) return;
    this.inFlight = true;
    fsp.writeFile(this.procs, String(process.pid)).then(
      () => (this.inFlight = false),
      () => (this.inFlight = false),
    );
  }
}
