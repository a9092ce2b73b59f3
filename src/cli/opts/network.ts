// --network values: a name, or the long form name=…,alias=…,ip=…,ip6=…,mac-address=…,
// link-local-ip=…,driver-opt=k=v,gw-priority=N (docker's NetworkOpt).
import { readCsvRecord } from './csv.ts';

export interface NetworkAttachment {
  target: string;
  aliases: string[];
  driverOpts?: Record<string, string>;
  links: string[];
  ipv4: string;
  ipv6: string;
  linkLocalIPs: string[];
  macAddress: string;
  gwPriority: number;
}

export function newAttachment(target: string): NetworkAttachment {
  return { target, aliases: [], links: [], ipv4: '', ipv6: '', linkLocalIPs: [], macAddress: '', gwPriority: 0 };
}

export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return newAttachment(value);
  const n = newAttachment('');
  for (const field of readCsvRecord(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.target = val;
        break;
      case 'alias':
        n.aliases.push(val);
        break;
      case 'ip':
        n.ipv4 = val;
        break;
      case 'ip6':
        n.ipv6 = val;
        break;
      case 'mac-address':
        n.macAddress = val;
        break;
      case 'link-local-ip':
        n.linkLocalIPs.push(val);
        break;
      case 'driver-opt': {
        const e = val.indexOf('=');
        if (e <= 0) throw new Error('invalid key value pair format in driver options');
        (n.driverOpts ??= {})[val.slice(0, e).trim()] = val.slice(e + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?\d+$/.test(val)) throw new Error(`invalid gw-priority (${val}): invalid syntax`);
        n.gwPriority = Number(val);
        break;
      default:
        throw new Error('invalid field key ' + key);
    }
  }
  if (n.target.length === 0) throw new Error('network name/id is not specified');
  return n;
}
