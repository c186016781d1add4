import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { batchedWrite } from '../../server/db/batch.js'
import { migrate, openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { SharedThrottle } from '../../server/throttle.js'
import { sqliteUrl } from '../helpers/database.js'

const MINUTE = 60_000

/** Waits until every write queued on `database` so far has committed. */
function settled(database: DatabaseHandle): Promise<void> {
  return batchedWrite(database, async () => undefined)
}

describe('shared throttle', () => {
  let first: DatabaseHandle
  let second: DatabaseHandle

  beforeAll(async () => {
    // Two connections to one file stand for two server processes.
    const url = sqliteUrl()
    first = await openDatabase(url)
    await migrate(first.db)
    second = await openDatabase(url)
  })
  afterAll(async () => {
    await first.close()
    await second.close()
  })

  it('admits exactly the limit of concurrent hits in one process', async () => {
    const throttle = new SharedThrottle(first)

    const results = await Promise.all(Array.from({ length: 7 }, () => throttle.hit('concurrent', 5, MINUTE)))

    expect(results.filter((result) => result.allowed)).toHaveLength(5)
  })

  it('admits exactly the limit of sequential hits in one process', async () => {
    const throttle = new SharedThrottle(first)

    const allowed: boolean[] = []
    for (let i = 0; i < 6; i++) allowed.push((await throttle.hit('sequential', 4, MINUTE)).allowed)

    expect(allowed).toEqual([true, true, true, true, false, false])
  })

  it('writes the hits it admitted without waiting, in the next commit', async () => {
    const throttle = new SharedThrottle(first)
    for (let i = 0; i < 5; i++) await throttle.hit('written', 100, MINUTE)
    await settled(first)

    const row = await second.db.selectFrom('rate_limits').select('count').where('key', '=', 'written').executeTakeFirstOrThrow()

    expect(row.count).toBe(5)
  })

  it('shares counts with another process', async () => {
    const here = new SharedThrottle(first)
    const elsewhere = new SharedThrottle(second)
    for (let i = 0; i < 3; i++) expect((await here.hit('shared', 4, MINUTE)).allowed).toBe(true)
    await settled(first)

    const fromElsewhere = [(await elsewhere.hit('shared', 4, MINUTE)).allowed, (await elsewhere.hit('shared', 4, MINUTE)).allowed]
    await settled(second)
    // This process still counts from its last read (3), so it admits one more hit and reads 6 back.
    const lastHere = (await here.hit('shared', 4, MINUTE)).allowed
    await settled(first)
    const afterRead = (await here.hit('shared', 4, MINUTE)).allowed

    expect(fromElsewhere).toEqual([true, false])
    expect(lastHere).toBe(true)
    expect(afterRead).toBe(false)
  })
})
