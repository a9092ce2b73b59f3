// Wires the engine services together for one daemon: content store, snapshotter, image
// store, runtimes, the task runner and the container service.
import { promises as fsp, accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { DaemonConfig } from './config.ts';
import { ContentStore } from '../content/store.ts';
import { OverlaySnapshotter } from '../snapshot/overlay.ts';
import { ImageStore } from '../image/store.ts';
import { ContainerStore } from '../container/store.ts';
import { ContainerService, type ImageSource } from '../container/service.ts';
import { ContainerTaskRunner } from '../container/task-runner.ts';
import { ExecService } from '../container/exec.ts';
import { HealthMonitor } from '../container/health.ts';
import { isActive, type ContainerEventSink, type ContainerRecord } from '../container/record.ts';
import { EventBus } from '../events/bus.ts';
import { containerEventSink, imageEventSink, networkEventSink } from '../events/sinks.ts';
import { OciRuntimeCli, type RuntimeDriver } from '../runtime/runtime.ts';
import { hostFacts, type HostFacts } from '../runtime/spec.ts';
import { rootPair, shifter } from '../runtime/userns.ts';
import { newId } from '../util/ids.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { log } from '../util/log.ts';
import { NetworkService } from '../network/service.ts';
import { VolumeService } from '../volume/service.ts';
import { volumeEventSink } from '../volume/events.ts';
import { anonymousVolumes, containersUsing, registerMountPoints, removeVolumes } from '../container/mount-points.ts';
import { ContainerMounts } from '../container/mount-setup.ts';
import { ContainerNetworking } from '../network/container-networking.ts';
import { hostAwareAllocator } from '../network/default-bridge.ts';
import { parseBip } from '../network/ipam.ts';
import { createRegistryClient } from '../registry/client/index.ts';
import type { RegistryClient } from '../registry/client/types.ts';

export class Engine {
  readonly config: DaemonConfig;
  readonly id: string;
  readonly content: ContentStore;
  readonly snapshotter: OverlaySnapshotter;
  readonly images: ImageStore;
  /** The distribution client pulls (and pushes) go through. */
  readonly registry: RegistryClient;
  readonly containers: ContainerService;
  readonly exec: ExecService;
  readonly health: HealthMonitor;
  /** Every event of this daemon, for GET /events. */
  readonly events = new EventBus();
  readonly containerEvents: ContainerEventSink;
  readonly runtimes: Map<string, RuntimeDriver>;
  readonly host: HostFacts;
  readonly networks: NetworkService;
  readonly networking: ContainerNetworking;
  /** Named and anonymous volumes. */
  readonly volumes: VolumeService;
  private readonly tasks: ContainerTaskRunner;

  private constructor(config: DaemonConfig, id: string, host: HostFacts, networks: NetworkService, volumes: VolumeService) {
    this.config = config;
    this.id = id;
    this.host = host;
    this.networks = networks;
    this.volumes = volumes;
    this.content = new ContentStore(join(config.dataRoot, 'content'));
    this.snapshotter = new OverlaySnapshotter(join(config.dataRoot, 'overlay2'), { mapIds: config.idMapping && shifter(config.idMapping) });
    this.images = new ImageStore(join(config.dataRoot, 'image'), this.content, this.snapshotter);
    this.registry = createRegistryClient({ insecureRegistries: config.insecureRegistries, mirrors: config.registryMirrors, userAgent: 'berth/0.1.0' });
    this.runtimes = new Map();
    for (const [name, rt] of Object.entries(config.runtimes)) {
      this.runtimes.set(name, new OciRuntimeCli(name, resolveBinary(rt.path), join(config.execRoot, 'runtime', name), rt.runtimeArgs));
    }
    const store = new ContainerStore(join(config.dataRoot, 'containers'));
    const networkEvents = networkEventSink(this.events);
    const networking = (this.networking = new ContainerNetworking({ networks, containers: store, execRoot: config.execRoot, defaultBridge: config.bridge, bip: config.bip, events: networkEvents }));
    const tasks = (this.tasks = new ContainerTaskRunner({
      execRoot: config.execRoot,
      snapshotter: this.snapshotter,
      runtimes: this.runtimes,
      host,
      cgroupParent: config.cgroupParent,
      idMapping: config.idMapping,
      init: config.init,
      initPath: config.initPath,
      networking,
      mounts: new ContainerMounts({ volumes, execRoot: config.execRoot }),
    }));
    const source: ImageSource = this.images;
    this.containers = new ContainerService(store, source, tasks);
    this.containers.networkAtCreate = (rec, endpoints) => networking.atCreate(rec, endpoints);
    this.containers.onRenamed = (rec) => networking.renamed(rec);
    // A volume is in use while any container (a stopped one too) names it.
    volumes.inUse = (name) => containersUsing(store, name);
    volumes.events = volumeEventSink(this.events);
    this.containers.mountsAtCreate = async (rec) => {
      const reg = await registerMountPoints(rec, { volumes, store });
      rec.MountPoints = reg.mountPoints;
      return () => removeVolumes({ volumes }, reg.createdVolumes);
    };
    this.containers.mountsRemoved = (rec, removeAnonymous) => (removeAnonymous ? removeVolumes({ volumes }, anonymousVolumes(rec)) : Promise.resolve());
    networks.onCreated = async (n) => {
      await networking.networkCreated(n.Id);
      networkEvents('create', n);
    };
    networks.onRemoved = async (n) => {
      await networking.networkRemoving(n);
      networkEvents('destroy', n);
    };
    this.containers.defaultRuntime = config.defaultRuntime;
    this.containers.logDefault = config.logDefault;
    this.containers.runtimes = this.runtimes;
    this.containers.swapLimit = host.swapLimit;
    // Wired before anything runs, so the events of the restore at start are seen too.
    const events = (this.containerEvents = containerEventSink(this.events));
    this.containers.events = events;
    this.images.onEvent = imageEventSink(this.events, (id) => this.images.get(id)?.config.config?.Labels ?? undefined);
    const exec = (this.exec = new ExecService({ execRoot: config.execRoot, runtimes: this.runtimes, containers: this.containers.store, host, events }));
    const health = (this.health = new HealthMonitor({ exec, save: (rec) => store.save(rec), events }));
    // Health checks follow the runs; execs go with their container.
    this.containers.onRunning = (rec) => health.start(rec);
    this.containers.onStopped = (rec) => {
      health.stop(rec.Id);
      exec.containerStopped(rec.Id);
    };
    // As dockerd: a paused container's checks stop (it reads unhealthy) and resume after.
    this.containers.onPauseChange = (rec, paused) => (paused ? health.stop(rec.Id) : health.resume(rec));
  }

  static async open(config: DaemonConfig): Promise<Engine> {
    await fsp.mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
    await fsp.mkdir(config.execRoot, { recursive: true, mode: 0o700 });
    const idFile = join(config.dataRoot, 'engine-id');
    let id = await fsp.readFile(idFile, 'utf8').catch(() => '');
    if (!id) {
      id = newId();
      await writeFileAtomic(idFile, id, 0o600);
    }
    const networks = await NetworkService.open(join(config.dataRoot, 'network'), hostAwareAllocator);
    if (config.bip) parseBip(config.bip); // a bad --bip stops the daemon, as dockerd's
    const volumes = await VolumeService.open(join(config.dataRoot, 'volumes'), { dataOwner: config.idMapping && rootPair(config.idMapping) });
    const engine = new Engine(config, id.trim(), await hostFacts(), networks, volumes);
    await engine.content.init();
    await engine.snapshotter.init();
    await engine.images.init();
    await engine.containers.init(() => engine.networking.init());
    await engine.exec.init();
    // Snapshots left by images force-removed while containers used them, or by a crash.
    await engine.collectLayers();
    engine.containers.onRemoved = (rec) => {
      engine.exec.containerRemoved(rec.Id);
      void engine.collectLayers();
    };
    return engine;
  }

  /** Daemon stop, after the containers' own shutdown. */
  async shutdown(): Promise<void> {
    await this.networking.shutdown().catch((err) => log.warn('network shutdown failed', { error: err }));
    await this.volumes.close().catch((err) => log.warn('unmounting volumes failed', { error: err }));
  }

  /** Waits for background work (runtime deletes, removals) before the daemon exits. */
  async settled(): Promise<void> {
    await Promise.all([this.tasks.settled(), this.snapshotter.settled(), this.networking.settled()]);
  }

  /** Removes image layers that no image and no container needs any more. */
  async collectLayers(): Promise<void> {
    const inUse = this.containers.store.list().flatMap((c) => (c.SnapshotParent ? [c.SnapshotParent] : []));
    await this.images.gcLayers(inUse).catch((err) => log.warn('layer collection failed', { error: err }));
  }

  /** Containers using an image, for rmi and prune. */
  usedBy(imageId: string): { id: string; running: boolean }[] {
    return this.containers.store
      .list()
      .filter((c) => c.Image === imageId)
      .map((c) => ({ id: c.Id, running: isActive(c) }));
  }

  matchesImage(rec: ContainerRecord, ref: string): boolean {
    try {
      return this.images.resolve(ref).id === rec.Image;
    } catch {
      return false;
    }
  }

  graphData(rec: ContainerRecord): Record<string, string> {
    const upper = this.snapshotter.upperDir(rec.Id);
    return {
      MergedDir: join(this.config.execRoot, 'containers', rec.Id, 'rootfs'),
      UpperDir: upper,
      WorkDir: join(upper, '..', 'work'),
    };
  }

  runtimeVersion(): string {
    const rt = this.runtimes.get(this.config.defaultRuntime);
    if (!rt) return '';
    try {
      const out = execFileSync(rt.path, ['--version'], { encoding: 'utf8' });
      return /version\s+(\S+)/.exec(out)?.[1] ?? '';
    } catch {
      return '';
    }
  }
}

/** A runtime given by name is looked up on PATH once, at start. */
function resolveBinary(path: string): string {
  if (path.includes('/')) return path;
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(join(dir, path), constants.X_OK);
      return join(dir, path);
    } catch {
      // not here
    }
  }
  return path;
}
