// --gpus values (docker's GpuOpts): "all", a count, or device=…,driver=…,capabilities=….
import { readCsvRecord } from './csv.ts';

export interface DeviceRequest {
  Driver: string;
  Count: number;
  DeviceIDs: string[] | null;
  Capabilities: string[][] | null;
  Options: Record<string, string> | null;
}

function parseCount(s: string): number {
  if (s === 'all') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`count must be an integer: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

export function parseGpus(value: string): DeviceRequest {
  const req: DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: null, Options: null };
  const seen = new Set<string>();
  for (const field of readCsvRecord(value)) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = parseCount(key);
      continue;
    }
    switch (key) {
      case 'driver':
        req.Driver = val;
        break;
      case 'count':
        req.Count = parseCount(val);
        break;
      case 'device':
        req.DeviceIDs = val.split(',');
        break;
      case 'capabilities':
        req.Capabilities = [[...val.split(','), 'gpu']];
        break;
      case 'options': {
        const opts: Record<string, string> = {};
        for (const kv of readCsvRecord(val)) {
          const e = kv.indexOf('=');
          opts[e < 0 ? kv : kv.slice(0, e)] = e < 0 ? '' : kv.slice(e + 1);
        }
        req.Options = opts;
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  req.Options ??= {};
  req.Capabilities ??= [['gpu']];
  return req;
}
