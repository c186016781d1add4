import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { batchedWrite } from '../../server/db/batch.js'
import { migrate, openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { sqliteUrl } from '../helpers/database.js'

describe('batched writes on SQLite', () => {
  let database: DatabaseHandle

  beforeAll(async () => {
    database = await openDatabase(sqliteUrl())
    await migrate(database.db)
  })
  afterAll(async () => {
    await database.close()
  })

  it('commits concurrent writes together', async () => {
    const writes = Array.from({ length: 20 }, (_, index) =>
      batchedWrite(database, async (trx) => {
        await trx.insertInto('rate_limits').values({ key: `k${index}`, window_start: 'w', count: index }).execute()
        return index
      }),
    )

    const results = await Promise.all(writes)

    expect(results).toEqual(Array.from({ length: 20 }, (_, index) => index))
    const rows = await database.db.selectFrom('rate_limits').select('key').where('key', 'like', 'k%').execute()
    expect(rows).toHaveLength(20)
  })

  it('fails only the write that failed', async () => {
    await database.db.insertInto('rate_limits').values({ key: 'taken', window_start: 'w', count: 1 }).execute()
    const insert = (key: string) =>
      batchedWrite(database, (trx) => trx.insertInto('rate_limits').values({ key, window_start: 'w', count: 1 }).execute())

    const results = await Promise.allSettled([insert('before'), insert('taken'), insert('after')])

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const keys = await database.db.selectFrom('rate_limits').select('key').where('key', 'in', ['before', 'after']).execute()
    expect(keys).toHaveLength(2)
  })
})
