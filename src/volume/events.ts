// Volume events for the daemon's bus, with dockerd's attributes (driver; container,
// destination and read/write for mount/unmount, passed by the caller).
import type { EventBus } from '../events/bus.ts';
import type { VolumeEventSink } from './types.ts';

export function volumeEventSink(bus: EventBus): VolumeEventSink {
  return (action, v, attrs) => {
    bus.emit({ Type: 'volume', Action: action, Actor: { ID: v.Name, Attributes: { driver: v.Driver, ...(attrs ?? {}) } } });
  };
}
