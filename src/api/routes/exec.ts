// Exec routes: create an exec in a running container, start it (a hijacked stream like
// attach, or detached), resize its terminal, inspect it.
import type { Readable } from 'node:stream';
import type { Router } from '../router.ts';
import type { ExecCreateRequest, ExecService } from '../../container/exec.ts';
import { frame, hijack, MULTIPLEXED, RAW_STREAM } from '../streams.ts';
import { drainedOf } from '../../util/drained.ts';
import { badParameter } from '../../util/errors.ts';
import type { Context } from '../context.ts';

export interface ExecRouteDeps {
  exec: ExecService;
}

interface ExecStartRequest {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: number[] | null;
}

/** httputils.Uint32Value: empty is 0; anything else must be a uint32. */
function uint32(ctx: Context, name: string, what: string): number {
  const v = ctx.str(name) ?? '';
  if (v === '') return 0;
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw badParameter(`invalid resize ${what} ${JSON.stringify(v)}: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

export function execRoutes(r: Router, d: ExecRouteDeps): void {
  const svc = d.exec;

  r.add('POST', '/containers/{name}/exec', async (ctx) => {
    const body = await ctx.json<ExecCreateRequest>();
    if (!ctx.versionAtLeast('1.42')) body.ConsoleSize = null;
    const id = await svc.create(ctx.params.name, body);
    ctx.send(201, { Id: id });
  });

  r.add('POST', '/exec/{id}/start', async (ctx) => {
    const body = await ctx.json<ExecStartRequest>();
    const id = ctx.params.id;
    svc.check(id); // 404 / 409 as HTTP errors, before the connection is taken over
    const consoleSize = body.Tty && ctx.versionAtLeast('1.42') ? body.ConsoleSize : null;
    if (body.Detach) {
      await svc.start(id, { consoleSize });
      ctx.send(200);
      return;
    }
    // As dockerd: the start request's Tty picks the framing.
    const tty = !!body.Tty;
    const contentType = ctx.upgrade && !tty && ctx.versionAtLeast('1.42') ? MULTIPLEXED : RAW_STREAM;
    const sock = hijack(ctx, contentType);
    const write = (stream: 1 | 2, data: Buffer): boolean => {
      if (!sock.destroyed && sock.writable) return sock.write(tty ? data : frame(stream, data));
      return true;
    };
    let endSession!: () => void;
    const sessionEnded = new Promise<void>((resolve) => (endSession = resolve));
    try {
      const { exited } = await svc.start(id, {
        consoleSize,
        io: {
          stdout: (data) => write(1, data),
          stderr: (data) => write(2, data),
          drained: () => drainedOf(sock),
          // Iterating must not destroy the socket at stdin's end: output still flows back.
          stdin: (sock as Readable).iterator({ destroyOnReturn: false }),
          end: endSession,
        },
      });
      await Promise.race([exited, sessionEnded]);
    } catch (err) {
      // After the hijack the error can only travel in the stream, as dockerd writes it.
      write(1, Buffer.from(`${err instanceof Error ? err.message : String(err)}\r\n`));
    }
    sock.end();
  });

  r.add('POST', '/exec/{id}/resize', async (ctx) => {
    const h = uint32(ctx, 'h', 'height');
    const w = uint32(ctx, 'w', 'width');
    await svc.resize(ctx.params.id, h, w);
    ctx.send(200);
  });

  r.add('GET', '/exec/{id}/json', (ctx) => {
    ctx.send(200, svc.inspect(ctx.params.id));
  });
}
