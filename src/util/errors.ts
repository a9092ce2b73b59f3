// Errors the engine raises, each carrying the HTTP status Docker gives for it.
// The API layer turns them into {"message": ...} bodies; anything else is a 500.

export class EngineError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const badParameter = (message: string) => new EngineError(400, message);
export const forbidden = (message: string) => new EngineError(403, message);
export const notFound = (message: string) => new EngineError(404, message);
export const conflict = (message: string) => new EngineError(409, message);
export const notModified = (message = '') => new EngineError(304, message);
export const systemError = (message: string) => new EngineError(500, message);

export function statusOf(err: unknown): number {
  return err instanceof EngineError ? err.status : 500;
}
