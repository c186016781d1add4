const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Parses a duration such as `90s`, `15m`, `2h` or `7d` into milliseconds, or returns null. */
export function parseDuration(value: string): number | null {
  const match = /^(\d{1,6})([smhd])$/.exec(value.trim())
  if (!match) return null
  return Number(match[1]) * UNITS[match[2] as keyof typeof UNITS]
}

/** Formats milliseconds with the largest unit that divides them evenly. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`
  }
  return `${Math.round(ms / 1000)}s`
}
