// What every command gets: the output streams, the API client (created on first use, so
// commands that fail on their flags never connect), and the exit-status error type.
import type { Readable, Writable } from 'node:stream';
import { ApiClient } from '../client/api-client.ts';
import type { DaemonAddress } from '../client/host.ts';

export const BIN = 'berth';
export const VERSION = '0.1.0';

/** An error with the process exit status docker uses for it; an empty message prints nothing. */
export class StatusError extends Error {
  readonly status: number;
  constructor(status: number, message = '') {
    super(message);
    this.status = status;
  }
}

export interface CliStreams {
  out: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  err: Writable & { isTTY?: boolean };
  in: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void; fd?: number };
}

export class Cli {
  readonly out: CliStreams['out'];
  readonly err: CliStreams['err'];
  readonly in: CliStreams['in'];
  readonly address: DaemonAddress;
  private apiClient: ApiClient | undefined;

  constructor(address: DaemonAddress, streams: CliStreams) {
    this.address = address;
    this.out = streams.out;
    this.err = streams.err;
    this.in = streams.in;
  }

  get client(): ApiClient {
    this.apiClient ??= new ApiClient(this.address);
    return this.apiClient;
  }

  get outIsTerminal(): boolean {
    return Boolean(this.out.isTTY);
  }

  get inIsTerminal(): boolean {
    return Boolean(this.in.isTTY);
  }

  /** Rows and columns of the output terminal; [0, 0] when it is not one. */
  ttySize(): [number, number] {
    if (!this.out.isTTY) return [0, 0];
    return [this.out.rows ?? 0, this.out.columns ?? 0];
  }

  print(text: string): void {
    this.out.write(text);
  }

  println(text = ''): void {
    this.out.write(text + '\n');
  }

  eprintln(text = ''): void {
    this.err.write(text + '\n');
  }

  close(): void {
    this.apiClient?.close();
  }
}
