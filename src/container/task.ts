// The contract between container records and what runs them: snapshots, the OCI bundle,
// the monitor and the runtime. The implementation is task-runner.ts.
import type { ContainerRecord } from './record.ts';
import type { NamespaceJoins } from './namespace-join.ts';

export interface ExitStatus {
  exitCode: number;
  finishedAt: string;
  oomKilled?: boolean;
}

/** One run of a container, held by its monitor. */
export interface Task {
  readonly pid: number;
  /** Resolves once when the container's process has exited. */
  readonly exit: Promise<ExitStatus>;
  kill(signal: number): Promise<void>;
  /** False when the caller should await stdinDrained() before writing more. */
  writeStdin(data: Buffer): boolean;
  stdinDrained(): Promise<void>;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
}

export interface OutputSink {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /**
   * Whether anyone wants the output now, with `onChange` called whenever that changes.
   * Without it the output always flows to the sink; with it, only while wanted (the
   * monitor writes the log either way).
   */
  subscribe?(onChange: (wanted: boolean) => void): boolean;
}

export interface TaskRunner {
  /** Throws 400 when the runtime name is unknown. */
  checkRuntime(name: string): void;
  /** Creates the writable snapshot and the per-container files; undone by discard(). */
  prepare(rec: ContainerRecord): Promise<void>;
  /** Mounts, writes the bundle and starts the container under a new monitor. */
  start(rec: ContainerRecord, out: OutputSink, joins?: NamespaceJoins): Promise<Task>;
  /** Releases what a finished run held: runtime state, mounts. Idempotent. */
  cleanup(rec: ContainerRecord): Promise<void>;
  /** Removes everything prepare() made. Idempotent. */
  discard(id: string): Promise<void>;
  /** Reconnects to a container that kept running while the daemon was down. */
  reattach(rec: ContainerRecord, out?: OutputSink): Promise<Task | undefined>;
  /** The exit recorded by a monitor, if any. */
  exitStatus(id: string): Promise<ExitStatus | undefined>;
  /** Removes runtime leftovers (bundles, snapshots) that belong to no known container;
   * `active`: containers recorded as running, whose runtime state is left to them. */
  cleanupOrphans(known: Set<string>, active?: Set<string>): Promise<void>;
  /** Bytes in the container's writable layer. */
  usageRw(rec: ContainerRecord): Promise<number>;
}
