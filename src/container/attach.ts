// The streams attached to one container: output fans out to every attached client; input
// from clients that asked for stdin goes to the container. Output is never buffered here
// for clients that are not attached (the log has it).

export interface AttachClient {
  stdout: boolean;
  stderr: boolean;
  /** Writes one chunk of container output (stream 1 = stdout, 2 = stderr). */
  write(stream: 1 | 2, data: Buffer): void;
  /** The container stopped: the client's stream ends. */
  end(): void;
  /** Input the client sends to the container's stdin, if it attached stdin. */
  stdin?: AsyncIterable<Buffer>;
}

export interface StdinSink {
  writeStdin(data: Buffer): void;
  closeStdin(): void;
}

export class AttachHub {
  private clients = new Set<AttachClient>();
  private sink: StdinSink | undefined;
  private pendingInput: AttachClient[] = [];
  /** Whether the container's stdin closes when the first attached client's input ends. */
  stdinOnce = false;

  get size(): number {
    return this.clients.size;
  }

  add(client: AttachClient): () => void {
    this.clients.add(client);
    if (client.stdin) {
      if (this.sink) this.pump(client, this.sink);
      else this.pendingInput.push(client);
    }
    return () => this.clients.delete(client);
  }

  /** The container (re)started: input can flow now. */
  connect(sink: StdinSink): void {
    this.sink = sink;
    for (const c of this.pendingInput.splice(0)) this.pump(c, sink);
  }

  output(stream: 1 | 2, data: Buffer): void {
    for (const c of this.clients) {
      if (stream === 1 ? c.stdout : c.stderr) c.write(stream, data);
    }
  }

  /** The container exited: every attach stream ends. */
  close(): void {
    this.sink = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.pendingInput = [];
  }

  private async pump(client: AttachClient, sink: StdinSink): Promise<void> {
    try {
      for await (const chunk of client.stdin!) {
        if (this.sink !== sink) return;
        sink.writeStdin(chunk);
      }
    } catch {
      // the client went away; its input simply ends
    }
    if (this.sink === sink && this.stdinOnce) sink.closeStdin();
  }
}
