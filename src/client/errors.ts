// Errors the API client raises, worded as the docker CLI words them.

/** The daemon answered with an error status; the message is docker's "Error response from daemon: ...". */
export class ApiError extends Error {
  readonly status: number;
  /** The daemon's own message, without the prefix. */
  readonly daemonMessage: string;
  constructor(status: number, daemonMessage: string) {
    super(`Error response from daemon: ${daemonMessage}`);
    this.status = status;
    this.daemonMessage = daemonMessage;
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  constructor(hostUrl: string, cause?: NodeJS.ErrnoException) {
    if (cause?.code === 'EACCES') {
      super(`permission denied while trying to connect to the berth daemon socket at ${hostUrl}: ${cause.message}`);
    } else {
      super(`Cannot connect to the Berth daemon at ${hostUrl}. Is the berth daemon running?`);
    }
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? '';
}
