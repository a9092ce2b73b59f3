// Method + path pattern routing. Patterns use {param} for one path segment and
// {param:*} for the rest of the path (image names contain slashes).
import type { Context } from './context.ts';

export type Handler = (ctx: Context) => Promise<void> | void;

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    const names: string[] = [];
    const source = pattern.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{(\w+)(:\*)?\}/g, (_m, name: string, rest?: string) => {
      names.push(name);
      return rest ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
  }

  /** The handler for a request; `methodAllowed` false when the path exists under another method. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { handler: undefined; pathExists: boolean } {
    let pathExists = false;
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      const effective = method === 'HEAD' && r.method === 'GET' ? 'GET' : method;
      if (r.method !== effective) {
        pathExists = true;
        continue;
      }
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      return { handler: r.handler, params };
    }
    return { handler: undefined, pathExists };
  }
}
