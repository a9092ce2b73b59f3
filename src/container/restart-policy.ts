// Restart policies as dockerd applies them: validation with Docker's messages, and the
// decision after an exit with its back-off (moby's restartmanager). Pure logic; the
// container service keeps the per-container state and runs the timers.
import type { RestartPolicy } from '../runtime/types.ts';
import { badParameter } from '../util/errors.ts';

export const POLICY_NAMES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;

/** The first back-off; it doubles per restart up to MAX_BACKOFF_MS. */
export const FIRST_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 60_000;
/** A run at least this long resets the back-off to its first step. */
export const STABLE_RUN_MS = 10_000;

export function isNonePolicy(p: RestartPolicy | null | undefined): boolean {
  return !p || !p.Name || p.Name === 'no';
}

/** Throws Docker's 400 for a policy it would refuse (create and update alike). */
export function validateRestartPolicy(p: RestartPolicy | null | undefined): void {
  if (!p) return;
  const name = p.Name ?? '';
  const max = p.MaximumRetryCount ?? 0;
  switch (name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (max !== 0) {
        let msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
        if (max < 0) msg += ' and cannot be negative';
        throw badParameter(msg);
      }
      return;
    case 'on-failure':
      if (max < 0) throw badParameter('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      // Engines before v25 stored an empty name for "no"; Docker still accepts it.
      return;
    default:
      throw badParameter(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/** What is known about a run that just ended. */
export interface ExitFacts {
  exitCode: number;
  /** Stopped or killed by a user (or the daemon is shutting down). */
  manuallyStopped: boolean;
  /** Policy restarts since the last manual start. */
  restartCount: number;
  /** How long the run lasted. */
  ranMs: number;
}

/** The back-off before the next restart: the first step after a stable run, doubling otherwise. */
export function nextBackoff(previousMs: number, ranMs: number): number {
  let t = ranMs >= STABLE_RUN_MS ? 0 : previousMs;
  if (t === 0) t = FIRST_BACKOFF_MS;
  else if (t < MAX_BACKOFF_MS) t *= 2;
  return Math.min(t, MAX_BACKOFF_MS);
}

/** Whether the policy restarts the container after this exit (ignoring back-off). */
export function policyRestarts(p: RestartPolicy | null | undefined, f: ExitFacts): boolean {
  if (isNonePolicy(p)) return false;
  switch (p!.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !f.manuallyStopped;
    case 'on-failure': {
      // A maximum of 0 means no maximum.
      const max = p!.MaximumRetryCount ?? 0;
      return (max === 0 || f.restartCount < max) && f.exitCode !== 0;
    }
    default:
      return false;
  }
}

/**
 * The decision after an exit and the back-off state to keep. As in moby, the back-off
 * advances on every evaluated exit of a container with a policy, restarted or not.
 */
export function decideRestart(p: RestartPolicy | null | undefined, f: ExitFacts, backoffMs: number): { restart: boolean; delayMs: number; backoffMs: number } {
  if (isNonePolicy(p)) return { restart: false, delayMs: 0, backoffMs };
  const next = nextBackoff(backoffMs, f.ranMs);
  const restart = policyRestarts(p, f);
  return { restart, delayMs: restart ? next : 0, backoffMs: next };
}
