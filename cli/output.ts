/** Writes one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function useColor(): boolean {
  return !process.env.NO_COLOR && process.stdout.isTTY === true && process.env.TERM !== 'dumb'
}

export interface Column<T> {
  header: string
  get: (row: T) => unknown
}

/**
 * C0 and C1 control characters, DEL, and the Unicode bidirectional formatting characters (marks,
 * embeddings, overrides and isolates), any of which can move the cursor, clear the screen or
 * reorder what a terminal shows.
 */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Replaces characters a terminal would act on with a visible escape such as `\x1b` or `\u202e`,
 * so that a name or a server message cannot rewrite the screen. With `keepNewlines`, line feeds
 * stay, for messages of several lines. JSON and CSV output do not pass through this.
 */
export function terminalSafe(text: string, keepNewlines = false): string {
  return text.replace(UNSAFE_CHARACTERS, (character) => {
    if (keepNewlines && character === '\n') return character
    const code = character.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return terminalSafe(value.join(', '))
  return terminalSafe(String(value))
}

/** Prints rows as a table for people. */
export async function printTable<T>(rows: T[], columns: Column<T>[]): Promise<void> {
  const { default: Table } = await import('cli-table3')
  const color = useColor()
  const table = new Table({
    head: columns.map((column) => column.header),
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  })
  for (const row of rows) table.push(columns.map((column) => cell(column.get(row))))
  process.stdout.write(`${table.toString()}\n`)
}

function csvField(value: string): string {
  // A leading =, +, - or @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** Prints rows as CSV (RFC 4180) with a header line. */
export function printCsv<T>(rows: T[], columns: Column<T>[], header = true): void {
  const lines = header ? [columns.map((column) => csvField(column.header)).join(',')] : []
  for (const row of rows) lines.push(columns.map((column) => csvField(cell(column.get(row)))).join(','))
  process.stdout.write(`${lines.join('\r\n')}\r\n`)
}

/** Writes a line for people on stderr: hints, warnings and progress never go to stdout. */
export function note(message: string): void {
  process.stderr.write(`${terminalSafe(message, true)}\n`)
}

export function warn(message: string): void {
  process.stderr.write(`${useColorErr() ? '\u001b[33mWarning:\u001b[0m' : 'Warning:'} ${terminalSafe(message, true)}\n`)
}

/** Whether stderr is a terminal that takes colour, for messages written there. */
export function useColorErr(): boolean {
  return !process.env.NO_COLOR && process.stderr.isTTY === true && process.env.TERM !== 'dumb'
}
