import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { POSTGRES_URL, postgresUnavailable } from '../helpers/database.js'
import { ROOT } from '../helpers/server.js'

/** Runs `bin/server.js` (built by `npm run build`) until it exits, with a fresh data directory. */
function runServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/server.js')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      FLEXPA_DATA_DIR: mkdtempSync(join(tmpdir(), 'flexpa-startup-')),
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve) => {
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function expectOneLineFailure(result: { code: number | null; stdout: string; stderr: string }) {
  expect(result.code).toBe(1)
  expect(result.stdout).toBe('')
  expect(result.stderr).toMatch(/^flexpa-server: failed to start: [^\n]+\n$/)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

function postgresAt(user: string, database: string): string {
  const url = new URL(POSTGRES_URL)
  url.username = user
  url.pathname = `/${database}`
  return url.toString()
}

const postgresMissing = (await postgresUnavailable()) !== null

describe('server start-up failures', () => {
  it('names an unreachable PostgreSQL', async () => {
    const result = await runServer({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5999/x' })

    expectOneLineFailure(result)
    expect(result.stderr).toContain('cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:5999/x (ECONNREFUSED)')
    expect(result.stderr).toContain('check that PostgreSQL is running')
  })

  it('leaves the password out of the message', async () => {
    const result = await runServer({ DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:5999/x' })

    expectOneLineFailure(result)
    expect(result.stderr).toContain('postgres://postgres@127.0.0.1:5999/x')
    expect(result.stderr).not.toContain('hunter2')
  })

  it.skipIf(postgresMissing)('names a missing database', async () => {
    const url = postgresAt('postgres', 'flexpa_no_such_database')

    const result = await runServer({ DATABASE_URL: url })

    expectOneLineFailure(result)
    expect(result.stderr).toContain('database "flexpa_no_such_database" does not exist')
    expect(result.stderr).toContain('create the database')
  })

  it.skipIf(postgresMissing)('names a missing role', async () => {
    const url = postgresAt('flexpa_no_such_role', 'test')

    const result = await runServer({ DATABASE_URL: url })

    expectOneLineFailure(result)
    expect(result.stderr).toContain('flexpa_no_such_role')
    expect(result.stderr).toContain('DATABASE_URL')
  })

  it('names a file that is not a SQLite database', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flexpa-startup-')), 'notes.txt')
    writeFileSync(file, 'These are not the pages of a SQLite database. '.repeat(200))

    const result = await runServer({ DATABASE_URL: `sqlite:${file}` })

    expectOneLineFailure(result)
    expect(result.stderr).toContain(`${file} is not a SQLite database`)
  })

  it('names a data directory under a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flexpa-startup-')), 'plain-file')
    writeFileSync(file, '')

    const result = await runServer({ FLEXPA_DATA_DIR: join(file, 'data') })

    expectOneLineFailure(result)
    expect(result.stderr).toContain(`cannot create the data directory ${join(file, 'data')} (ENOTDIR`)
    expect(result.stderr).toContain('FLEXPA_DATA_DIR')
  })

  // The superuser passes every permission check, so this case runs only as another user.
  it.skipIf(process.getuid?.() === 0)('names a data directory without permission', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'flexpa-startup-'))
    mkdirSync(join(parent, 'locked'))
    chmodSync(join(parent, 'locked'), 0o500)

    const result = await runServer({ FLEXPA_DATA_DIR: join(parent, 'locked', 'data') })

    expectOneLineFailure(result)
    expect(result.stderr).toContain('(EACCES: permission denied)')
  })
})
