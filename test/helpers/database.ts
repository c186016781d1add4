import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import pg from 'pg'

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

let postgresChecked: Promise<string | null> | undefined

/** Returns why PostgreSQL cannot be used, or null when it responds. */
export function postgresUnavailable(): Promise<string | null> {
  postgresChecked ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 })
    try {
      await client.connect()
      await client.query('select 1')
      return null
    } catch (error) {
      return `PostgreSQL at ${POSTGRES_URL} is not reachable: ${(error as Error).message}`
    } finally {
      await client.end().catch(() => undefined)
    }
  })()
  return postgresChecked
}

export function sqliteUrl(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'flexpa-test-')), 'flexpa.db')}`
}

/** A URL for a fresh PostgreSQL schema, created on first connection. */
export function postgresUrl(): string {
  const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('schema', schema)
  return url.toString()
}

export type DialectName = 'sqlite' | 'postgres'

/**
 * The dialects a database test runs on. PostgreSQL is skipped with its reason printed when it is
 * missing, except under CI=true, where a missing component fails the run.
 */
export async function dialects(): Promise<DialectName[]> {
  const reason = await postgresUnavailable()
  if (reason === null) return ['sqlite', 'postgres']
  if (process.env.CI === 'true') throw new Error(reason)
  console.warn(`skipping PostgreSQL tests: ${reason}`)
  return ['sqlite']
}

export function databaseUrl(dialect: DialectName): string {
  return dialect === 'sqlite' ? sqliteUrl() : postgresUrl()
}
