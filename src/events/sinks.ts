// Adapters from the services' event callbacks to the bus, with the attributes dockerd
// puts on each event: for containers the caller's attributes, then the container's labels
// (a label wins over an attribute of the same name, as in dockerd), its image and name;
// for images the image's labels and the reference the event is about.
import type { ContainerEventSink, ContainerRecord } from '../container/record.ts';
import type { ImageEventListener } from '../image/store.ts';
import type { EventBus } from './bus.ts';

/** Docker's attribute set for a container event. */
export function containerAttributes(rec: ContainerRecord, attrs: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { ...attrs, ...(rec.Config.Labels ?? {}) };
  if (rec.Config.Image) out.image = rec.Config.Image;
  out.name = rec.Name.replace(/^\/+/, '');
  return out;
}

export function containerEventSink(bus: EventBus): ContainerEventSink {
  return (action, rec, attrs) => {
    bus.emit({ Type: 'container', Action: action, Actor: { ID: rec.Id, Attributes: containerAttributes(rec, attrs) } });
  };
}

/**
 * For ImageStore.onEvent. `labelsOf` gives an image's labels while it still exists (a
 * `delete` event comes after the image is gone, and then has none).
 */
export function imageEventSink(bus: EventBus, labelsOf?: (id: string) => Record<string, string> | undefined): ImageEventListener {
  return (action, id, name) => {
    const attributes: Record<string, string> = { ...(labelsOf?.(id) ?? {}) };
    if (name) attributes.name = name;
    bus.emit({ Type: 'image', Action: action, Actor: { ID: id, Attributes: attributes } });
  };
}

/** Network events as dockerd sends them: create/destroy, connect/disconnect (with the container). */
export type NetworkEventSink = (action: 'create' | 'destroy' | 'connect' | 'disconnect', network: { Id: string; Name: string; Driver: string }, containerId?: string) => void;

export function networkEventSink(bus: EventBus): NetworkEventSink {
  return (action, n, containerId) => {
    const attributes: Record<string, string> = { name: n.Name, type: n.Driver };
    if (containerId) attributes.container = containerId;
    bus.emit({ Type: 'network', Action: action, Actor: { ID: n.Id, Attributes: attributes } });
  };
}
