// POST /commit (docker commit): query container, repo, tag, comment, author, pause
// (default true), changes (repeated); an optional JSON body is a container config that
// replaces the container's own as the base of the new image's config. 201 {"Id": "sha256:..."}.
import type { Router } from '../router.ts';
import type { ContainerConfig } from '../../runtime/types.ts';
import { commitContainer, type CommitDeps } from '../../container/commit.ts';
import { repoTagReference } from '../../image/reference.ts';
import { badParameter } from '../../util/errors.ts';

export type CommitRouteDeps = CommitDeps;

/** The fields of a container config (container.Config): a body naming none of them has no config. */
const CONFIG_FIELDS = new Set([
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce',
  'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'NetworkDisabled', 'MacAddress',
  'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell',
]);

/**
 * The body as dockerd decodes it (a container create request, whose Config is embedded):
 * undefined when empty, null, or without any config field; 400 when it is not JSON, or
 * JSON sent under another Content-Type.
 */
export function commitBodyConfig(body: Buffer, contentType: string | undefined): ContainerConfig | undefined {
  if (body.length === 0 && !contentType) return undefined;
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mime !== 'application/json') throw badParameter(`unsupported Content-Type header (${contentType ?? ''}): must be 'application/json'`);
  if (body.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badParameter(`invalid JSON: ${(err as Error).message}`);
  }
  if (parsed === null) return undefined;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw badParameter('invalid JSON: cannot unmarshal into a container config');
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (CONFIG_FIELDS.has(k)) config[k] = v;
  return Object.keys(config).length ? (config as ContainerConfig) : undefined;
}

export function commitRoutes(r: Router, d: CommitRouteDeps): void {
  r.add('POST', '/commit', async (ctx) => {
    const config = commitBodyConfig(await ctx.bodyBuffer(), ctx.req.headers['content-type']);
    const reference = repoTagReference(ctx.str('repo') ?? '', ctx.str('tag') ?? '');
    const id = await commitContainer(d, {
      container: ctx.str('container') ?? '',
      reference,
      author: ctx.str('author') || undefined,
      comment: ctx.str('comment') || undefined,
      pause: ctx.bool('pause', true),
      changes: ctx.query.getAll('changes'),
      config,
    });
    ctx.send(201, { Id: id });
  });
}
