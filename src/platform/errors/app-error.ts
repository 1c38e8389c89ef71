// The one error type that crosses layers and roles: an HTTP-like status, a stable code and a human message.
// It becomes an RFC 9457 problem at the HTTP edge and `{ status, code, message }` on the wire.

export interface FieldProblem {
  field: string;
  message: string;
}

export interface WireError {
  status: number;
  code: string;
  message: string;
  errors?: FieldProblem[];
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldProblem[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toWire(): WireError {
    return {
      status: this.status,
      code: this.code,
      message: this.message,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }

  static fromWire(w: unknown): AppError {
    if (w && typeof w === 'object' && typeof (w as WireError).status === 'number') {
      const e = w as WireError;
      return new AppError(e.status, String(e.code ?? 'error'), String(e.message ?? 'Error'), e.errors);
    }
    const message =
      w && typeof w === 'object' && 'message' in w ? String((w as { message: unknown }).message) : String(w);
    return new AppError(502, 'upstream_error', message);
  }
}

export const badRequest = (message: string, errors?: FieldProblem[]) =>
  new AppError(400, 'bad_request', message, errors);
export const unprocessable = (message: string, code = 'unprocessable', errors?: FieldProblem[]) =>
  new AppError(422, code, message, errors);
export const notFound = (message = 'Not found') => new AppError(404, 'not_found', message);
export const unauthorized = (message = 'Unauthorized', code = 'unauthorized') =>
  new AppError(401, code, message);
export const forbidden = (message = 'Forbidden') => new AppError(403, 'forbidden', message);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const serviceUnavailable = (message: string, code = 'unavailable') => new AppError(503, code, message);
