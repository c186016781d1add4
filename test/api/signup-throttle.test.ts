import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'

const PASSWORD = 'correct battery horse staple'

describe.each(await dialects())('sign-up throttle on %s', (dialect) => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp(dialect)
  })
  afterAll(async () => {
    await test.close()
  })

  /** Signs up as a client at `address`, the way @hono/node-server passes the socket to the app. */
  async function signupFrom(address: string, email: string, password = PASSWORD) {
    const response = await test.app.request(
      '/v1/auth/signup',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, name: 'Probe', password }),
      },
      { incoming: { socket: { remoteAddress: address } } },
    )
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any }
  }

  it('throttles repeated attempts for one email', async () => {
    const statuses: number[] = []
    for (let attempt = 0; attempt < 5; attempt += 1) {
      statuses.push((await signupFrom(`10.1.0.${attempt}`, 'taken@example.com')).status)
    }

    const sixth = await signupFrom('10.1.0.99', 'taken@example.com')

    expect(statuses).toEqual([201, 409, 409, 409, 409])
    expect(sixth.status).toBe(429)
    expect(sixth.body.error.code).toBe('rate_limited')
    expect(sixth.body.error.message).toContain('too many sign-up attempts')
    expect(Number(sixth.retryAfter)).toBeGreaterThan(0)
  })

  it('throttles one client address across emails', async () => {
    const statuses: number[] = []
    for (let attempt = 0; attempt < 50; attempt += 1) {
      // A weak password fails after the throttle but before the expensive hash.
      statuses.push((await signupFrom('10.2.0.1', `probe${attempt}@example.com`, 'password')).status)
    }

    const over = await signupFrom('10.2.0.1', 'one-more@example.com')
    const elsewhere = await signupFrom('10.2.0.2', 'one-more@example.com')

    expect(statuses.every((status) => status === 422)).toBe(true)
    expect(over.status).toBe(429)
    expect(elsewhere.status).toBe(201)
  })

  it('shares the count through the database', async () => {
    const rows = await test.services.database.db.selectFrom('rate_limits').select(['key', 'count']).where('key', 'like', 'signup:%').execute()

    expect(rows.find((row) => row.key === 'signup:email:taken@example.com')?.count).toBe(6)
    expect(rows.find((row) => row.key === 'signup:address:10.2.0.1')?.count).toBe(51)
  })
})
