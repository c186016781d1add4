import { invalid } from './errors.js'

/**
 * Opaque positions in lists ordered newest first by (created_at, id): the last row's time and id,
 * so a page never skips or repeats a row when rows are added in between.
 */
export function encodeCursor(row: { created_at: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url')
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return { createdAt: value[0], id: value[1] }
    }
  } catch {
    // Reported below, like any other malformed cursor.
  }
  throw invalid('cursor', 'is not a cursor returned by this list; start again without it')
}
