// The command table: names, usage text and the module that implements each command. Only
// the chosen command's module is loaded, so starting the CLI stays cheap.

export interface Entry {
  /** Names it answers to (first is its own name). */
  names: string[];
  module: string;
  use: string;
  short: string;
  /** The help's description when it is longer than `short`. */
  long?: string;
  aliases?: string;
}

export interface Group {
  name: string;
  /** The usage an unknown subcommand's error shows, when not just the name (docker's Use). */
  use?: string;
  short: string;
  commands: Entry[];
}

const A = (s: string) => s.replace(/docker/g, 'berth');

const attach: Entry = { names: ['attach'], module: './commands/attach.ts', use: '[OPTIONS] CONTAINER', short: 'Attach local standard input, output, and error streams to a running container', aliases: A('docker container attach, docker attach') };
const commit: Entry = { names: ['commit'], module: './commands/commit.ts', use: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]', short: "Create a new image from a container's changes", aliases: A('docker container commit, docker commit') };
const run: Entry = { names: ['run'], module: './commands/run.ts', use: '[OPTIONS] IMAGE [COMMAND] [ARG...]', short: 'Create and run a new container from an image', aliases: A('docker container run, docker run') };
const create: Entry = { names: ['create'], module: './commands/create.ts', use: '[OPTIONS] IMAGE [COMMAND] [ARG...]', short: 'Create a new container', aliases: A('docker container create, docker create') };
const start: Entry = { names: ['start'], module: './commands/start.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Start one or more stopped containers', aliases: A('docker container start, docker start') };
const psAliases = A('docker container ls, docker container list, docker container ps, docker ps');
const stop: Entry = { names: ['stop'], module: './commands/stop.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Stop one or more running containers', aliases: A('docker container stop, docker stop') };
const kill: Entry = { names: ['kill'], module: './commands/kill.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Kill one or more running containers', aliases: A('docker container kill, docker kill') };
const rmAliases = A('docker container rm, docker container remove, docker rm');
const wait: Entry = { names: ['wait'], module: './commands/wait.ts', use: 'CONTAINER [CONTAINER...]', short: 'Block until one or more containers stop, then print their exit codes', aliases: A('docker container wait, docker wait') };
const logs: Entry = { names: ['logs'], module: './commands/logs.ts', use: '[OPTIONS] CONTAINER', short: 'Fetch the logs of a container', aliases: A('docker container logs, docker logs') };
const restart: Entry = { names: ['restart'], module: './commands/restart.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Restart one or more containers', aliases: A('docker container restart, docker restart') };
const imagesAliases = A('docker image ls, docker image list, docker images');
const tag: Entry = { names: ['tag'], module: './commands/tag.ts', use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', aliases: A('docker image tag, docker tag') };
const rmiAliases = A('docker image rm, docker image remove, docker rmi');
const history: Entry = { names: ['history'], module: './commands/history.ts', use: '[OPTIONS] IMAGE', short: 'Show the history of an image', aliases: A('docker image history, docker history') };
const importE: Entry = { names: ['import'], module: './commands/import.ts', use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]', short: 'Import the contents from a tarball to create a filesystem image', aliases: A('docker image import, docker import') };
const save: Entry = { names: ['save'], module: './commands/save.ts', use: '[OPTIONS] IMAGE [IMAGE...]', short: 'Save one or more images to a tar archive (streamed to STDOUT by default)', aliases: A('docker image save, docker save') };
const load: Entry = { names: ['load'], module: './commands/load.ts', use: '[OPTIONS]', short: 'Load an image from a tar archive or STDIN', aliases: A('docker image load, docker load') };
const exec: Entry = { names: ['exec'], module: './commands/exec.ts', use: '[OPTIONS] CONTAINER COMMAND [ARG...]', short: 'Execute a command in a running container', aliases: A('docker container exec, docker exec') };
const pause: Entry = { names: ['pause'], module: './commands/pause.ts', use: 'CONTAINER [CONTAINER...]', short: 'Pause all processes within one or more containers', aliases: A('docker container pause, docker pause') };
const unpause: Entry = { names: ['unpause'], module: './commands/unpause.ts', use: 'CONTAINER [CONTAINER...]', short: 'Unpause all processes within one or more containers', aliases: A('docker container unpause, docker unpause') };
const rename: Entry = { names: ['rename'], module: './commands/rename.ts', use: 'CONTAINER NEW_NAME', short: 'Rename a container', aliases: A('docker container rename, docker rename') };
const top: Entry = { names: ['top'], module: './commands/top.ts', use: 'CONTAINER [ps OPTIONS]', short: 'Display the running processes of a container', aliases: A('docker container top, docker top') };
const stats: Entry = { names: ['stats'], module: './commands/stats.ts', use: '[OPTIONS] [CONTAINER...]', short: 'Display a live stream of container(s) resource usage statistics', aliases: A('docker container stats, docker stats') };
const update: Entry = { names: ['update'], module: './commands/update.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Update configuration of one or more containers', aliases: A('docker container update, docker update') };
const port: Entry = { names: ['port'], module: './commands/port.ts', use: 'CONTAINER [PRIVATE_PORT[/PROTO]]', short: 'List port mappings or a specific mapping for the container', aliases: A('docker container port, docker port') };
const cp: Entry = { names: ['cp'], module: './commands/cp.ts', use: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH', short: 'Copy files/folders between a container and the local filesystem', long: "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.", aliases: A('docker container cp, docker cp') };
const diff: Entry = { names: ['diff'], module: './commands/diff.ts', use: 'CONTAINER', short: 'Inspect changes to files or directories on a container\'s filesystem', aliases: A('docker container diff, docker diff') };
const exportE: Entry = { names: ['export'], module: './commands/export.ts', use: '[OPTIONS] CONTAINER', short: 'Export a container\'s filesystem as a tar archive', aliases: A('docker container export, docker export') };
const login: Entry = { names: ['login'], module: './commands/login.ts', use: '[OPTIONS] [SERVER]', short: 'Authenticate to a registry', long: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.' };
const logout: Entry = { names: ['logout'], module: './commands/logout.ts', use: '[SERVER]', short: 'Log out from a registry', long: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.' };
const pull: Entry = { names: ['pull'], module: './commands/pull.ts', use: '[OPTIONS] NAME[:TAG|@DIGEST]', short: 'Download an image from a registry', aliases: A('docker image pull, docker pull') };
const push: Entry = { names: ['push'], module: './commands/push.ts', use: '[OPTIONS] NAME[:TAG]', short: 'Upload an image to a registry', aliases: A('docker image push, docker push') };
const events: Entry = { names: ['events'], module: './commands/events.ts', use: '[OPTIONS]', short: 'Get real time events from the server', aliases: A('docker system events, docker events') };

/** Top-level commands, in docker's help order. */
export const TOP: Entry[] = [
  attach,
  commit,
  cp,
  create,
  diff,
  events,
  exec,
  { names: ['explain'], module: './commands/explain.ts', use: '[OPTIONS] CONTAINER', short: 'Show how a running container is isolated, read from the kernel' },
  exportE,
  history,
  importE,
  { names: ['images'], module: './commands/images.ts', use: '[OPTIONS] [REPOSITORY[:TAG]]', short: 'List images', aliases: imagesAliases },
  { names: ['info'], module: './commands/info.ts', use: '[OPTIONS]', short: 'Display system-wide information', aliases: A('docker system info, docker info') },
  { names: ['inspect'], module: './commands/inspect.ts', use: '[OPTIONS] NAME|ID [NAME|ID...]', short: 'Return low-level information on Berth objects' },
  kill,
  load,
  login,
  logout,
  logs,
  pause,
  port,
  { names: ['ps'], module: './commands/ps.ts', use: '[OPTIONS]', short: 'List containers', aliases: psAliases },
  pull,
  push,
  rename,
  restart,
  { names: ['rm'], module: './commands/rm.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Remove one or more containers', aliases: rmAliases },
  { names: ['rmi'], module: './commands/rmi.ts', use: '[OPTIONS] IMAGE [IMAGE...]', short: 'Remove one or more images', aliases: rmiAliases },
  run,
  save,
  start,
  stats,
  stop,
  tag,
  top,
  unpause,
  update,
  { names: ['version'], module: './commands/version.ts', use: '[OPTIONS]', short: 'Show the Berth version information' },
  wait,
];

export const GROUPS: Group[] = [
  {
    name: 'container',
    short: 'Manage containers',
    commands: [
      attach,
      commit,
      cp,
      create,
      diff,
      exec,
      exportE,
      { names: ['inspect'], module: './commands/container-inspect.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Display detailed information on one or more containers' },
      kill,
      logs,
      { names: ['ls', 'list', 'ps'], module: './commands/ps.ts', use: '[OPTIONS]', short: 'List containers', aliases: psAliases },
      pause,
      port,
      { names: ['prune'], module: './commands/container-prune.ts', use: '[OPTIONS]', short: 'Remove all stopped containers' },
      rename,
      restart,
      { names: ['rm', 'remove'], module: './commands/rm.ts', use: '[OPTIONS] CONTAINER [CONTAINER...]', short: 'Remove one or more containers', aliases: rmAliases },
      run,
      start,
      stats,
      stop,
      top,
      unpause,
      update,
      wait,
    ],
  },
  {
    name: 'image',
    short: 'Manage images',
    commands: [
      history,
      importE,
      { names: ['inspect'], module: './commands/image-inspect.ts', use: '[OPTIONS] IMAGE [IMAGE...]', short: 'Display detailed information on one or more images' },
      load,
      { names: ['ls', 'list'], module: './commands/images.ts', use: '[OPTIONS] [REPOSITORY[:TAG]]', short: 'List images', aliases: imagesAliases },
      { names: ['prune'], module: './commands/image-prune.ts', use: '[OPTIONS]', short: 'Remove unused images' },
      pull,
      push,
      { names: ['rm', 'rmi', 'remove'], module: './commands/rmi.ts', use: '[OPTIONS] IMAGE [IMAGE...]', short: 'Remove one or more images', aliases: rmiAliases },
      save,
      tag,
    ],
  },
  {
    name: 'network',
    short: 'Manage networks',
    commands: [
      { names: ['connect'], module: './commands/network-connect.ts', use: '[OPTIONS] NETWORK CONTAINER', short: 'Connect a container to a network' },
      { names: ['create'], module: './commands/network-create.ts', use: '[OPTIONS] NETWORK', short: 'Create a network' },
      { names: ['disconnect'], module: './commands/network-disconnect.ts', use: '[OPTIONS] NETWORK CONTAINER', short: 'Disconnect a container from a network' },
      { names: ['inspect'], module: './commands/network-inspect.ts', use: '[OPTIONS] NETWORK [NETWORK...]', short: 'Display detailed information on one or more networks' },
      { names: ['ls', 'list'], module: './commands/network-ls.ts', use: '[OPTIONS]', short: 'List networks', aliases: A('docker network ls, docker network list') },
      { names: ['prune'], module: './commands/network-prune.ts', use: '[OPTIONS]', short: 'Remove all unused networks' },
      { names: ['rm', 'remove'], module: './commands/network-rm.ts', use: 'NETWORK [NETWORK...]', short: 'Remove one or more networks', aliases: A('docker network rm, docker network remove') },
    ],
  },
  {
    name: 'registry',
    use: 'registry COMMAND',
    short: "Run berth's own OCI registry",
    commands: [
      { names: ['gc'], module: './commands/registry-gc.ts', use: '[OPTIONS]', short: 'Remove registry blobs that no manifest references', long: 'Remove registry blobs that no manifest references (tagged or untagged).\n\nThe registry must be stopped meanwhile: gc refuses to run while a server holds --root.' },
      { names: ['serve'], module: './commands/registry-serve.ts', use: '[OPTIONS]', short: 'Serve an OCI Distribution registry from a directory' },
    ],
  },
  {
    name: 'system',
    short: 'Manage berth',
    commands: [
      { names: ['df'], module: './commands/system-df.ts', use: '[OPTIONS]', short: 'Show berth disk usage' },
      events,
      { names: ['info'], module: './commands/info.ts', use: '[OPTIONS]', short: 'Display system-wide information', aliases: A('docker system info, docker info') },
      { names: ['prune'], module: './commands/system-prune.ts', use: '[OPTIONS]', short: 'Remove unused data' },
    ],
  },
  {
    name: 'volume',
    use: 'volume COMMAND',
    short: 'Manage volumes',
    commands: [
      { names: ['create'], module: './commands/volume-create.ts', use: '[OPTIONS] [VOLUME]', short: 'Create a volume' },
      { names: ['inspect'], module: './commands/volume-inspect.ts', use: '[OPTIONS] VOLUME [VOLUME...]', short: 'Display detailed information on one or more volumes' },
      { names: ['ls', 'list'], module: './commands/volume-ls.ts', use: '[OPTIONS]', short: 'List volumes', aliases: A('docker volume ls, docker volume list') },
      { names: ['prune'], module: './commands/volume-prune.ts', use: '[OPTIONS]', short: 'Remove unused local volumes' },
      { names: ['rm', 'remove'], module: './commands/volume-rm.ts', use: '[OPTIONS] VOLUME [VOLUME...]', short: 'Remove one or more volumes', long: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.', aliases: A('docker volume rm, docker volume remove') },
    ],
  },
];

export function findTop(name: string): Entry | undefined {
  return TOP.find((e) => e.names.includes(name));
}

export function findGroup(name: string): Group | undefined {
  return GROUPS.find((g) => g.name === name);
}
