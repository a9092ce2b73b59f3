// berthd: parses its settings, opens the engine, serves the Engine API until SIGTERM.
import { parseDaemonArgs, USAGE, UsageError, withUsernsRemap } from './config.ts';
import { promises as fsp } from 'node:fs';
import { Engine } from './engine.ts';
import { claimPidFile } from './pidfile.ts';
import { ApiServer } from '../api/server.ts';
import { systemRoutes, BERTH_VERSION } from '../api/routes/system.ts';
import { registryInfo } from '../registry/client/endpoints.ts';
import { containerRoutes } from '../api/routes/containers.ts';
import { attachRoutes } from '../api/routes/attach.ts';
import { imageRoutes } from '../api/routes/images.ts';
import { registryRoutes } from '../api/routes/registry.ts';
import { DistributionMetadata } from '../registry/distribution-metadata.ts';
import { execRoutes } from '../api/routes/exec.ts';
import { statsRoutes } from '../api/routes/stats.ts';
import { eventsRoutes } from '../api/routes/events.ts';
import { explainRoutes } from '../api/routes/explain.ts';
import { networkRoutes } from '../api/routes/networks.ts';
import { archiveRoutes } from '../api/routes/archive.ts';
import { containerRootAccess } from '../container/archive-root.ts';
import { filesystemRoutes } from '../api/routes/filesystem.ts';
import { lowerDirs } from '../container/changes.ts';
import { volumeRoutes } from '../api/routes/volumes.ts';
import { commitRoutes } from '../api/routes/commit.ts';
import { archiveIdMaps, unshifter, usernsFor } from '../runtime/userns.ts';
import { diskUsageRoutes } from '../api/routes/disk-usage.ts';
import { diskUsageSource } from './disk-usage.ts';
import { ContainerStatsService } from '../container/stats.ts';
import { detectCgroupLayout } from '../cgroup/layout.ts';
import { cgroupProcs } from '../cgroup/procs.ts';
import { log, setLogLevel } from '../util/log.ts';
import { cgroupInfo, containerCgroupPath, hostCgroupSupport } from '../runtime/resources.ts';

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseDaemonArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`berthd: ${err.message}\nSee 'berthd --help'.\n`);
      return 125;
    }
    throw err;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed === 'version') {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return 0;
  }
  setLogLevel(parsed.logLevel);
  if (process.getuid?.() !== 0) {
    log.error('berthd needs to be started as root');
    return 1;
  }
  // --userns-remap moves the data root to <data-root>/<uid>.<gid>, as dockerd.
  let config;
  try {
    config = await withUsernsRemap(parsed);
  } catch (err) {
    process.stderr.write(`failed to start daemon: ${(err as Error).message}\n`);
    return 1;
  }
  await fsp.mkdir(config.execRoot, { recursive: true, mode: 0o700 });
  const pidFile = await claimPidFile(config.execRoot);
  const engine = await Engine.open(config);
  const api = new ApiServer();
  systemRoutes(api.router, {
    id: engine.id,
    dataRoot: config.dataRoot,
    runtimes: config.runtimes,
    defaultRuntime: config.defaultRuntime,
    cgroupVersion: engine.host.cgroupVersion === 2 ? '2' : '1',
    liveRestore: config.liveRestore,
    userns: config.idMapping !== undefined,
    cgroup: cgroupInfo(hostCgroupSupport(), engine.host.swapLimit),
    loggingDriver: config.logDefault.Type,
    registryConfig: registryInfo(config.insecureRegistries, config.registryMirrors),
    runtimeVersion: () => engine.runtimeVersion(),
    counts: () => {
      const all = engine.containers.store.list();
      const running = all.filter((c) => c.State.Status === 'running').length;
      const paused = all.filter((c) => c.State.Status === 'paused').length;
      return { containers: all.length, running, paused, stopped: all.length - running - paused, images: engine.images.list({}).length };
    },
  });
  containerRoutes(api.router, {
    containers: engine.containers,
    matchesImage: (rec, ref) => engine.matchesImage(rec, ref),
    graphData: (rec) => engine.graphData(rec),
    execIdsOf: (id) => engine.exec.execIdsOf(id),
  });
  const withRoot = containerRootAccess({
    store: engine.containers.store,
    execRoot: config.execRoot,
    snapshotter: engine.snapshotter,
    exclusive: (id, fn) => engine.containers.withLock(id, fn),
    volumes: engine.volumes,
  });
  const remap = config.idMapping;
  archiveRoutes(api.router, {
    withRoot,
    // A remapped container's files carry host ids: docker cp shows and takes the container's.
    idMapsOf: (rec) => (remap && usernsFor(rec.HostConfig, remap) ? archiveIdMaps(remap) : undefined),
  });
  const layers = async (ref: string) => {
    const rec = engine.containers.store.get(ref);
    const mounts = await engine.snapshotter.mounts(rec.Id);
    return { upper: engine.snapshotter.upperDir(rec.Id), lowers: lowerDirs(mounts[0]?.options ?? []) };
  };
  filesystemRoutes(api.router, { withRoot, layers });
  commitRoutes(api.router, {
    containers: engine.containers,
    images: engine.images,
    layers,
    events: engine.containerEvents,
    dockerVersion: BERTH_VERSION,
    toLayerIds: config.idMapping && unshifter(config.idMapping),
  });
  execRoutes(api.router, { exec: engine.exec });
  attachRoutes(api.router, { containers: engine.containers });
  imageRoutes(api.router, { images: engine.images, usedBy: (id) => engine.usedBy(id), containerCount: (id) => engine.usedBy(id).length, registry: engine.registry });
  const pushChunk = Number(process.env.BERTH_PUSH_CHUNK_SIZE) || undefined;
  registryRoutes(api.router, { images: engine.images, registry: engine.registry, metadata: new DistributionMetadata(engine.images.root), chunkSize: pushChunk });
  const cgroupLayout = await detectCgroupLayout();
  statsRoutes(api.router, {
    stats: new ContainerStatsService({ store: engine.containers.store, cgroupParent: config.cgroupParent, layout: cgroupLayout }),
    top: { store: engine.containers.store, pids: (rec) => cgroupProcs(cgroupLayout, containerCgroupPath(config.cgroupParent, rec.HostConfig, rec.Id)), events: engine.containerEvents },
  });
  eventsRoutes(api.router, { bus: engine.events });
  explainRoutes(api.router, { store: engine.containers.store, layout: cgroupLayout, cgroupParent: config.cgroupParent, host: engine.host, execRoot: config.execRoot, portsTable: engine.networking.ports.table });
  networkRoutes(api.router, {
    networks: engine.networks,
    findContainer: (ref) => {
      const c = engine.containers.store.find(ref);
      return c && { id: c.Id, name: c.Name };
    },
    connect: (ref, network, req) => engine.containers.changeRecord(ref, (rec) => engine.networking.connect(rec, network, req)),
    disconnect: (ref, network, force) => engine.containers.changeRecord(ref, (rec) => engine.networking.disconnect(rec, network, force)),
  });
  volumeRoutes(api.router, { volumes: engine.volumes });
  diskUsageRoutes(api.router, diskUsageSource(engine));
  for (const host of config.hosts) {
    await api.listen(host);
    log.info('API listen on ' + host.replace(/^unix:\/\//, ''));
  }
  log.info('Daemon has completed initialization', { version: BERTH_VERSION, dataRoot: config.dataRoot });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('Processing signal', { signal });
    await api.close();
    if (!config.liveRestore) await engine.containers.shutdown();
    await engine.settled();
    await engine.shutdown();
    await pidFile.release();
    log.info('Daemon shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('terminated'));
  process.on('SIGINT', () => void stop('interrupt'));
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    log.error('berthd failed to start', { error: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exit(1);
  },
);
