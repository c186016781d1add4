import { Flags } from '@oclif/core'

import { STATES } from '../shared/access-tokens.js'
import { parseDuration } from '../shared/duration.js'
import { usageError } from './errors.js'
import type { Column } from './output.js'

/** `--live` (the default) or `--test`, for commands that read one mode's rows. */
export const modeFlags = {
  live: Flags.boolean({ description: 'Read live-mode rows (the default)', exclusive: ['test'] }),
  test: Flags.boolean({ description: 'Read test-mode rows', exclusive: ['live'] }),
}

/** Filters shared by `logs list` and `logs tail`. */
export const logFilterFlags = {
  ...modeFlags,
  app: Flags.string({ description: 'Only rows of this application (id or name)', helpValue: '<id-or-name>' }),
  state: Flags.string({ description: 'Only rows in this state', options: [...STATES] }),
  endpoint: Flags.string({ description: 'Only rows for this payer endpoint (UUID or label)', helpValue: '<uuid-or-label>' }),
  'request-id': Flags.string({ description: 'Only the rows written by this request id', helpValue: '<id>' }),
  'external-user-id': Flags.string({
    description: "Only rows of this external user id of the application (a PHI field: needs phi:read)",
    helpValue: '<id>',
  }),
  since: Flags.string({ description: 'Only rows created at or after this ISO 8601 date or time, or this long ago (30m, 2h, 7d)' }),
  until: Flags.string({ description: 'Only rows created before this ISO 8601 date or time, or this long ago (30m, 2h, 7d)' }),
}

/** Parses `--since`/`--until`: an ISO 8601 date or date-time, or a duration back from now. */
export function parseTimeFlag(flag: string, value: string | undefined, time = Date.now()): string | undefined {
  if (value === undefined) return undefined
  const ago = parseDuration(value)
  if (ago !== null) return new Date(time - ago).toISOString()
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const parsed = Date.parse(value.trim().length === 10 ? `${value.trim()}T00:00:00Z` : value.trim())
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString()
  }
  throw usageError(`--${flag} "${value}" is neither an ISO 8601 date or time nor a duration such as 2h or 7d`)
}

export interface FilterFlags {
  live?: boolean
  test?: boolean
  app?: string
  state?: string
  endpoint?: string
  'request-id'?: string
  'external-user-id'?: string
  since?: string
  until?: string
}

/** Builds the HTTP query from the filters, resolving relative times against now. */
export function filterQuery(flags: FilterFlags): Record<string, string | undefined> {
  return {
    mode: flags.test ? 'test' : 'live',
    app: flags.app,
    state: flags.state,
    endpoint: flags.endpoint,
    request_id: flags['request-id'],
    external_user_id: flags['external-user-id'],
    since: parseTimeFlag('since', flags.since),
    until: parseTimeFlag('until', flags.until),
  }
}

export interface AccessToken {
  id: string
  application_id: string
  mode: string
  state: string
  endpoint: { id: string; label: string | null; payer: string | null }
  usage: string
  request_id: string
  external_user_id: string | null
  patient_id: string | null
  patient_name: string | null
  patient_birth_date: string | null
  phi_redacted: boolean
  error: { code: string; message: string } | null
  expires_at: string | null
  created_at: string
  updated_at: string
}

const REDACTED = '[redacted]'

function phi(row: AccessToken, value: string | null): string | null {
  return row.phi_redacted ? REDACTED : value
}

/** Columns of the table for people: PHI shows as [redacted] when it was withheld. */
export const TABLE_COLUMNS: Column<AccessToken>[] = [
  { header: 'ID', get: (row) => row.id },
  { header: 'Created', get: (row) => row.created_at },
  { header: 'State', get: (row) => row.state },
  { header: 'Endpoint', get: (row) => row.endpoint.label ?? row.endpoint.id },
  { header: 'Application', get: (row) => row.application_id },
  { header: 'External user', get: (row) => phi(row, row.external_user_id) },
  { header: 'Error', get: (row) => row.error?.code },
]

/** Columns of `--csv`: PHI fields are empty when redacted, and phi_redacted says so. */
export const CSV_COLUMNS: Column<AccessToken>[] = [
  { header: 'id', get: (row) => row.id },
  { header: 'created_at', get: (row) => row.created_at },
  { header: 'updated_at', get: (row) => row.updated_at },
  { header: 'mode', get: (row) => row.mode },
  { header: 'state', get: (row) => row.state },
  { header: 'application_id', get: (row) => row.application_id },
  { header: 'endpoint_id', get: (row) => row.endpoint.id },
  { header: 'endpoint_label', get: (row) => row.endpoint.label },
  { header: 'usage', get: (row) => row.usage },
  { header: 'request_id', get: (row) => row.request_id },
  { header: 'external_user_id', get: (row) => row.external_user_id },
  { header: 'patient_id', get: (row) => row.patient_id },
  { header: 'patient_name', get: (row) => row.patient_name },
  { header: 'patient_birth_date', get: (row) => row.patient_birth_date },
  { header: 'phi_redacted', get: (row) => String(row.phi_redacted) },
  { header: 'error_code', get: (row) => row.error?.code },
  { header: 'error_message', get: (row) => row.error?.message },
  { header: 'expires_at', get: (row) => row.expires_at },
]

/** One line for people per change in `logs tail`. */
export function tailLine(row: AccessToken): string {
  const parts = [row.updated_at, row.id, row.state.padEnd(11), row.endpoint.label ?? row.endpoint.id, row.application_id]
  if (row.error) parts.push(`${row.error.code}: ${row.error.message}`)
  if (!row.phi_redacted && row.external_user_id) parts.push(`user ${row.external_user_id}`)
  return parts.join('  ')
}
