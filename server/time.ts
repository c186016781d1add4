/** Returns the current time as stored in the database: ISO 8601, UTC, with milliseconds. */
export function now(): string {
  return new Date().toISOString()
}

export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString()
}
