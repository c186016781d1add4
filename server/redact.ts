/** Hides the secret part of invitation, reset and verification links in logged paths. */
export function redactPath(path: string): string {
  return path.replace(/\b(fx[ivr]_)[0-9A-Za-z]+/g, '$1[redacted]')
}
