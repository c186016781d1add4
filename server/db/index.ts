import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

import createDebug from 'debug'
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type LogEvent } from 'kysely'

import { migrations } from './migrations/index.js'
import type { Database } from './schema.js'

const debugQuery = createDebug('flexpa:sql')

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Kysely<Database>
  dialect: Dialect
  /** The SQLite file, or null on PostgreSQL. */
  file: string | null
  /** The PostgreSQL connection string with the schema applied, or null on SQLite. */
  postgresUrl: string | null
  close(): Promise<void>
}

export class DatabaseSetupError extends Error {}

function logQuery(event: LogEvent): void {
  if (!debugQuery.enabled) return
  const ms = event.queryDurationMillis.toFixed(1)
  if (event.level === 'error') debugQuery('failed after %sms: %s', ms, event.query.sql)
  else debugQuery('%sms: %s', ms, event.query.sql)
}

/**
 * Opens the database that `url` names: `sqlite:<file>` or `postgres://…`. On PostgreSQL a
 * `schema` query parameter sets the search path, which tests use to get a fresh schema.
 */
export async function openDatabase(url: string): Promise<DatabaseHandle> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length))
  return openPostgres(url)
}

/** Returns a database URL fit for messages and logs: the password, if any, removed. */
export function redactDatabaseUrl(url: string): string {
  if (!URL.canParse(url)) return url
  const parsed = new URL(url)
  if (parsed.password === '') return url
  parsed.password = ''
  return parsed.toString()
}

/** Explains an error code from the file system when creating the data directory. */
const DIRECTORY_PROBLEMS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a part of the path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
}

function createDataDirectory(file: string): void {
  const directory = dirname(file)
  try {
    mkdirSync(directory, { recursive: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    const reason = DIRECTORY_PROBLEMS[code] ? `${code}: ${DIRECTORY_PROBLEMS[code]}` : (error as Error).message
    throw new DatabaseSetupError(
      `cannot create the data directory ${directory} (${reason}); set FLEXPA_DATA_DIR or DATABASE_URL to a directory this user can write`,
    )
  }
}

async function openSqlite(file: string): Promise<DatabaseHandle> {
  const { default: SQLite } = await import('better-sqlite3')
  if (file !== ':memory:') createDataDirectory(file)
  let sqlite: import('better-sqlite3').Database | undefined
  try {
    sqlite = new SQLite(file)
    // WAL with synchronous=FULL makes every acknowledged commit durable, even across a power loss.
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
  } catch (error) {
    sqlite?.close()
    throw sqliteOpenError(error, file)
  }
  checkSqlitePragmas(sqlite, file)
  cacheStatements(sqlite)
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }), log: logQuery })
  return { db, dialect: 'sqlite', file, postgresUrl: null, close: () => db.destroy() }
}

function sqliteOpenError(error: unknown, file: string): unknown {
  const code = (error as { code?: string }).code ?? ''
  if (code === 'SQLITE_NOTADB') {
    return new DatabaseSetupError(
      `${file} is not a SQLite database; point DATABASE_URL (sqlite:<file>) or FLEXPA_DATA_DIR at a database file or at a path where a new one can be created`,
    )
  }
  if (code.startsWith('SQLITE_') || code === 'EACCES' || code === 'EISDIR') {
    return new DatabaseSetupError(
      `cannot open the SQLite database ${file} (${(error as Error).message}); check that this user can read and write the file and its directory`,
    )
  }
  return error
}

/** Prepared statements kept per SQLite connection; more distinct queries than this evict the oldest. */
const STATEMENT_CACHE_SIZE = 500

/**
 * Reuses prepared statements. Kysely's SQLite driver prepares every query it runs, which costs
 * more than running it for the short queries of a request. Reuse is safe because Kysely runs one
 * query at a time on its single connection.
 */
function cacheStatements(sqlite: import('better-sqlite3').Database): void {
  const prepare = sqlite.prepare.bind(sqlite)
  const cache = new Map<string, ReturnType<typeof prepare>>()
  sqlite.prepare = ((source: string) => {
    let statement = cache.get(source)
    if (statement) {
      // Move to the end, so the map's first key is the least recently used.
      cache.delete(source)
    } else {
      statement = prepare(source)
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!)
    }
    cache.set(source, statement)
    return statement
  }) as typeof sqlite.prepare
}

function checkSqlitePragmas(sqlite: import('better-sqlite3').Database, file: string): void {
  const expected: Record<string, string | number> = {
    journal_mode: file === ':memory:' ? 'memory' : 'wal',
    synchronous: 2,
    foreign_keys: 1,
    busy_timeout: 5000,
  }
  for (const [name, value] of Object.entries(expected)) {
    const actual = sqlite.pragma(name, { simple: true })
    if (actual !== value) {
      throw new DatabaseSetupError(`SQLite ${name} is ${String(actual)}, expected ${value} (${file})`)
    }
  }
}

async function openPostgres(url: string): Promise<DatabaseHandle> {
  const { default: pg } = await import('pg')
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema')
  parsed.searchParams.delete('schema')
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new DatabaseSetupError(`the schema parameter must be a lower-case SQL identifier, got "${schema}"`)
  }
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    options: schema ? `-c search_path=${schema}` : undefined,
  })
  // Connecting once here turns an unreachable server or a wrong role into one clear error.
  let client: import('pg').PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    await pool.end().catch(() => {})
    throw postgresConnectError(error, url)
  }
  try {
    if (schema) await client.query(`create schema if not exists ${schema}`)
  } finally {
    client.release()
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: logQuery })
  return { db, dialect: 'postgres', file: null, postgresUrl: url, close: () => db.destroy() }
}

/** SQLSTATE codes of failed PostgreSQL logins, with what to check. */
const POSTGRES_LOGIN_PROBLEMS: Record<string, string> = {
  '3D000': 'create the database (createdb) or correct its name in DATABASE_URL',
  '28000': 'create the role or correct the user name in DATABASE_URL',
  '28P01': 'correct the user name and password in DATABASE_URL',
}

/** Network error codes meaning no PostgreSQL server accepted a connection at the URL's host and port. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'])

function postgresConnectError(error: unknown, url: string): unknown {
  const where = redactDatabaseUrl(url)
  const code = (error as { code?: string }).code ?? ''
  // Node reports a refused connection to a host with several addresses as an AggregateError.
  const inner = error instanceof AggregateError ? (error.errors[0] as { code?: string; message?: string }) : undefined
  const networkCode = UNREACHABLE.has(code) ? code : (inner?.code ?? '')
  if (UNREACHABLE.has(networkCode)) {
    return new DatabaseSetupError(
      `cannot connect to PostgreSQL at ${where} (${networkCode}); check that PostgreSQL is running and that DATABASE_URL names its host and port`,
    )
  }
  const advice = POSTGRES_LOGIN_PROBLEMS[code]
  if (advice) return new DatabaseSetupError(`PostgreSQL at ${where} rejected the connection: ${(error as Error).message}; ${advice}`)
  if (/^[0-9A-Z]{5}$/.test(code)) return new DatabaseSetupError(`PostgreSQL at ${where} rejected the connection: ${(error as Error).message}`)
  return error
}

/**
 * Returns the schema that unqualified names resolve to on PostgreSQL, or undefined on SQLite.
 * Kysely's Migrator looks for its own tables in every schema unless it is given one, so a second
 * schema on the same server would otherwise make it skip creating them.
 */
async function postgresSchema(db: Kysely<Database>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return rows[0]?.schema
}

/** Runs every pending migration, and fails with the migration's own error if one fails. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: await postgresSchema(db),
  })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((result) => result.status === 'Error')
  if (error) {
    const name = failed ? ` ${failed.migrationName}` : ''
    throw new DatabaseSetupError(`migration${name} failed: ${String((error as Error).message ?? error)}`)
  }
}
