import { readFile } from 'node:fs/promises'

import { EXIT } from '../shared/errors.js'
import { ROLES, type Role } from '../shared/permissions.js'
import type { ApiClient } from './client.js'
import { CliError } from './errors.js'
import { readStdin } from './input.js'

export interface ProvisioningRow {
  email: string
  role: Role
}

/**
 * Parses a provisioning file: one `email,role` per line, where the role may be left out to use
 * `defaultRole`. Blank lines, lines starting with # and an `email,role` header are skipped. Fails
 * with exit 2 and the line number on a line of another shape; addresses are checked by the server.
 */
export function parseProvisioningFile(text: string, source: string, defaultRole: Role): ProvisioningRow[] {
  const rows: ProvisioningRow[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  lines.forEach((line, index) => {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    const fields = trimmed.split(',').map((field) => field.trim())
    if (rows.length === 0 && fields[0].toLowerCase() === 'email' && (fields[1] ?? 'role').toLowerCase() === 'role') return
    const where = `${source}, line ${index + 1}`
    if (fields.length > 2 || fields[0] === '') {
      throw new CliError(`${where}: expected "email,role", got "${trimmed}"`, EXIT.usage, { code: 'invalid_file' })
    }
    const role = (fields[1] || defaultRole).toLowerCase()
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new CliError(`${where}: role "${fields[1]}" is not one of ${ROLES.join(', ')}`, EXIT.usage, { code: 'invalid_file' })
    }
    rows.push({ email: fields[0], role: role as Role })
  })
  if (rows.length === 0) {
    throw new CliError(`${source} lists no addresses; write one "email,role" per line`, EXIT.usage, { code: 'invalid_file' })
  }
  return rows
}

/** Reads a provisioning file, or stdin when the path is `-`. */
export async function readProvisioningFile(path: string): Promise<string> {
  if (path === '-') return readStdin()
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    throw new CliError(`cannot read ${path}: ${reason}`, EXIT.usage, { code: 'invalid_file' })
  }
}

/** Fetches every page of a cursor-paginated list. */
export async function fetchAll<T>(client: ApiClient, path: string): Promise<T[]> {
  const rows: T[] = []
  let cursor: string | undefined
  do {
    const { body } = await client.request<{ data: T[]; next_cursor: string | null }>('GET', path, {
      query: { limit: 200, cursor },
    })
    rows.push(...body.data)
    cursor = body.next_cursor ?? undefined
  } while (cursor)
  return rows
}

export interface MemberView {
  id: string
  email: string
  name: string
  role: Role
  phi_read: boolean
  joined_at: string
}

export interface InvitationView {
  id: string
  email: string
  role: Role
  status: string
  invited_by: string | null
  created_at: string
  sent_at: string
  expires_at: string
}
