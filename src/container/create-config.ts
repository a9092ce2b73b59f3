// Turns a create request into the stored configuration: the image's defaults merged in
// the way dockerd merges them, Docker's defaults filled in, bad values refused with
// Docker's messages.
import type { ContainerConfig, HostConfig } from '../runtime/types.ts';
import { badParameter } from '../util/errors.ts';

/** The parts of an image config a container inherits. */
export interface ImageDefaults {
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: unknown;
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
}

const envKey = (e: string) => e.split('=', 1)[0];

/** The API accepts a bare string where a list of strings is expected (strslice). */
function strSlice(v: string[] | string | null | undefined): string[] | null | undefined {
  return typeof v === 'string' ? [v] : v;
}

export function mergeImageDefaults(user: ContainerConfig, image: ImageDefaults): ContainerConfig & { Cmd?: string[] | null; Entrypoint?: string[] | null } {
  const c = { ...user, Cmd: strSlice(user.Cmd), Entrypoint: strSlice(user.Entrypoint) };
  if (!c.User) c.User = image.User ?? '';
  if (!c.WorkingDir) c.WorkingDir = image.WorkingDir ?? '';
  if (!c.StopSignal && image.StopSignal) c.StopSignal = image.StopSignal;
  if (!c.Healthcheck && image.Healthcheck) c.Healthcheck = image.Healthcheck as ContainerConfig['Healthcheck'];
  const env = [...(c.Env ?? [])];
  const userKeys = new Set(env.map(envKey));
  for (const e of image.Env ?? []) if (!userKeys.has(envKey(e))) env.push(e);
  c.Env = env;
  c.Labels = { ...(image.Labels ?? {}), ...(c.Labels ?? {}) };
  if (image.ExposedPorts || c.ExposedPorts) c.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...(c.ExposedPorts ?? {}) };
  if (image.Volumes || c.Volumes) c.Volumes = { ...(image.Volumes ?? {}), ...(c.Volumes ?? {}) };
  if (!c.Entrypoint || c.Entrypoint.length === 0) {
    if (!c.Cmd || c.Cmd.length === 0) c.Cmd = image.Cmd ?? null;
    if (!c.Entrypoint) c.Entrypoint = image.Entrypoint ?? null;
  }
  // `--entrypoint ""` arrives as [""]: it clears the image's entrypoint.
  if (c.Entrypoint && c.Entrypoint.length === 1 && c.Entrypoint[0] === '') c.Entrypoint = null;
  if (c.OnBuild === undefined) c.OnBuild = null;
  return c;
}

export function commandOf(c: { Cmd?: string[] | null; Entrypoint?: string[] | null }): { path: string; args: string[] } {
  const all = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (all.length === 0) throw badParameter('no command specified');
  return { path: all[0], args: all.slice(1) };
}

const DEFAULT_SHM = 64 * 1024 * 1024;
const NETWORK_MODES_NOW = new Set(['', 'default', 'bridge', 'none']);

export function normalizeHostConfig(h: HostConfig | undefined): HostConfig {
  const hc: HostConfig = { ...(h ?? {}) } as HostConfig;
  if (!hc.NetworkMode || hc.NetworkMode === 'default') hc.NetworkMode = 'bridge';
  if (!NETWORK_MODES_NOW.has(hc.NetworkMode)) {
    throw badParameter(`network mode "${hc.NetworkMode}" is not supported yet (berth supports bridge and none)`);
  }
  if (!hc.ShmSize) hc.ShmSize = DEFAULT_SHM;
  else if (hc.ShmSize < 0) throw badParameter('SHM size can not be less than 0');
  if (!hc.RestartPolicy) hc.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
  else if (!hc.RestartPolicy.Name) hc.RestartPolicy = { ...hc.RestartPolicy, Name: 'no' };
  const valid = ['no', 'always', 'on-failure', 'unless-stopped'];
  if (!valid.includes(hc.RestartPolicy.Name ?? '')) throw badParameter(`invalid restart policy: unknown policy '${hc.RestartPolicy.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  if (hc.AutoRemove && hc.RestartPolicy.Name !== 'no') {
    throw badParameter("can't create 'AutoRemove' container with restart policy");
  }
  if (!hc.LogConfig || !hc.LogConfig.Type) hc.LogConfig = { Type: 'json-file', Config: hc.LogConfig?.Config ?? {} };
  if (!['json-file', 'none'].includes(hc.LogConfig.Type ?? '')) {
    throw badParameter(`failed to create task for container: logging driver "${hc.LogConfig.Type}" is not supported yet`);
  }
  return hc;
}
