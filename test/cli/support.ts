import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { expect } from 'vitest'

import { openDatabase } from '../../server/db/index.js'
import { issueKeyPair } from '../../server/keys.js'
import type { CliResult, CliUser } from '../helpers/cli.js'
import { ROOT } from '../helpers/server.js'

/** Lists the object keys, at any depth, that are not snake_case. */
export function nonSnakeCaseKeys(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => nonSnakeCaseKeys(item, `${path}[${index}]`))
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, child]) => [
    ...(/^[a-z][a-z0-9_]*$/.test(key) ? [] : [`${path}.${key}`]),
    ...nonSnakeCaseKeys(child, `${path}.${key}`),
  ])
}

/** Asserts a successful `--json` run: exit 0, one snake_case JSON document on stdout. Returns it. */
export function expectJson(result: CliResult, stderr: string | RegExp = ''): any {
  expect(result.exitCode, result.stderr).toBe(0)
  const document = result.json()
  expect(nonSnakeCaseKeys(document)).toEqual([])
  if (typeof stderr === 'string') expect(result.stderr).toBe(stderr)
  else expect(result.stderr).toMatch(stderr)
  return document
}

/** Asserts a failed run: the exit code, nothing on stdout and a message on stderr matching `message`. */
export function expectFailure(result: CliResult, exitCode: number, message: string | RegExp): void {
  expect(result.exitCode, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(exitCode)
  expect(result.stdout).toBe('')
  expect(result.stderr).toMatch(message)
  expect(result.stderr).not.toMatch(/^\s+at /m)
}

/** Asserts a failed `--json` run: one error document on stdout and the message on stderr. Returns the error. */
export function expectJsonFailure(result: CliResult, exitCode: number, message: string | RegExp): any {
  expect(result.exitCode, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(exitCode)
  const document = result.json()
  expect(Object.keys(document)).toEqual(['error'])
  expect(document.error.message).toMatch(message)
  expect(document.error.exit_code).toBe(exitCode)
  expect(typeof document.error.code).toBe('string')
  expect(nonSnakeCaseKeys(document)).toEqual([])
  expect(result.stderr).toMatch(message)
  expect(result.stderr).not.toMatch(/^\s+at /m)
  return document.error
}

/** Reads the session token that a file-store CLI user holds for `apiUrl`. */
export function storedToken(user: CliUser, apiUrl: string): string {
  const stored = JSON.parse(readFileSync(join(user.configDir, 'credentials.json'), 'utf8')) as Record<string, string>
  const token = stored[apiUrl]
  if (!token) throw new Error(`no token for ${apiUrl} in ${user.configDir}/credentials.json`)
  return token
}

/** Adds an existing user to a workspace through the server's data layer (invitations come later). */
export async function addMembership(databaseUrl: string, workspaceId: string, userId: string, role: 'admin' | 'member') {
  const database = await openDatabase(databaseUrl)
  try {
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: workspaceId, user_id: userId, role, created_at: new Date().toISOString() })
      .execute()
  } finally {
    await database.close()
  }
}

/**
 * Issues live keys for an application through the data layer, standing in for a finished go-live
 * checklist. Returns the id of the live secret.
 */
export async function issueLiveKeys(databaseUrl: string, workspaceId: string, applicationId: string): Promise<string> {
  const database = await openDatabase(databaseUrl)
  try {
    const keys = await issueKeyPair(database.db, applicationId, workspaceId, 'live')
    return keys.secret_key_id
  } finally {
    await database.close()
  }
}

export interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  examples?: (string | { command: string; description: string })[]
  hidden?: boolean
  flags: Record<string, { name: string; type: 'boolean' | 'option'; description?: string; char?: string; required?: boolean; multiple?: boolean; exclusive?: string[]; dependsOn?: string[]; options?: string[]; default?: unknown; helpValue?: string }>
  args: Record<string, { name: string; description?: string; required?: boolean; options?: string[] }>
}

/** Reads oclif.manifest.json, which `npm run build` writes from the compiled commands. */
export function readManifest(): { version: string; commands: Record<string, ManifestCommand> } {
  const path = join(ROOT, 'oclif.manifest.json')
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(`cannot read ${path}; run npm run build first (${(error as Error).message})`)
  }
}
