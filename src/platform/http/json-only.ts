// Routes that take JSON only: a form or text/plain body is what another site's page can send without a CORS
// preflight, so such a route refuses every other media type (a request with no body and no type passes).
import { AppError } from '../errors/app-error.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** A 415 problem for a body that is not application/json, or undefined. */
export function nonJsonRefusal(contentType: string | undefined): AppError | undefined {
  if (contentType === undefined || JSON_TYPE.test(contentType)) return undefined;
  return new AppError(415, 'unsupported_media_type', 'Send the body as application/json');
}
