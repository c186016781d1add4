import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'

import { migrate, openDatabase } from '../../server/db/index.js'
import { postgresUnavailable, postgresUrl, sqliteUrl } from '../helpers/database.js'

const postgresMissing = await postgresUnavailable()
if (postgresMissing && process.env.CI === 'true') throw new Error(postgresMissing)

describe('database setup', () => {
  it('opens SQLite with WAL, full sync, foreign keys and a busy timeout', async () => {
    const database = await openDatabase(sqliteUrl())
    try {
      const pragma = async (name: string) => {
        const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(database.db)
        return Object.values(rows[0])[0]
      }

      expect(await pragma('journal_mode')).toBe('wal')
      expect(await pragma('synchronous')).toBe(2)
      expect(await pragma('foreign_keys')).toBe(1)
      expect(await pragma('busy_timeout')).toBeGreaterThan(0)
    } finally {
      await database.close()
    }
  })

  it.skipIf(postgresMissing !== null)('migrates two schemas of one PostgreSQL database', async () => {
    const first = await openDatabase(postgresUrl())
    const second = await openDatabase(postgresUrl())
    try {
      await migrate(first.db)
      await migrate(second.db)

      const users = await second.db.selectFrom('users').select('id').execute()

      expect(users).toEqual([])
    } finally {
      await first.close()
      await second.close()
    }
  })
})
