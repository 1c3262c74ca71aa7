/**
 * Credentials can travel in a query string (`?token=` on WebSocket routes); logs keep the path and
 * the other parameters but never their values.
 * @module
 */

const SECRET_PARAMETERS = /([?&](?:token|access_token|api_key|key)=)[^&#]*/gi;

/** The URL with the values of credential parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMETERS, '$1[redacted]');
}
