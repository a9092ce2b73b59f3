// Removes every container of a daemon at once (a stop would wait out each one's timeout:
// `sleep` as pid 1 ignores SIGTERM).
import { run } from '../../test/helpers/daemon.ts';

export async function removeAll(env: NodeJS.ProcessEnv): Promise<void> {
  const ids = (await run('docker', ['ps', '-aq'], { env })).stdout.split('\n').filter(Boolean);
  if (ids.length) await run('docker', ['rm', '-f', ...ids], { env, timeoutMs: 600_000 });
}
