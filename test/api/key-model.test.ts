import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'

type Operation = { kind: 'rotate'; grace: number } | { kind: 'expire'; pick: number }

/** What the server should hold for one application's test secrets. */
interface Model {
  active: string
  /** The secret in its grace period, if any. */
  expiring: string | null
  ended: Set<string>
}

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('rotate' as const), grace: fc.constantFrom(0, 60, 3600, 604_800) }),
  fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }),
)

describe('key rotation against a model', () => {
  let test: TestApp
  let fixture: PrincipalFixture
  let admin: string
  let base: string
  let count = 0

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    fixture = await createPrincipals(test)
    admin = await fixture.session(fixture.admin)
    base = `/v1/workspaces/${fixture.workspaceId}`
  })
  afterAll(async () => {
    await test.close()
  })

  async function check(appId: string, model: Model): Promise<void> {
    const listed = await test.call('GET', `${base}/apps/${appId}/keys`, { token: admin })
    const secrets = listed.body.data.filter((key: { type: string }) => key.type === 'secret')
    const ids = (status: string) => secrets.filter((key: { status: string }) => key.status === status).map((key: { id: string }) => key.id)

    expect(ids('active')).toEqual([model.active])
    expect(ids('expiring')).toEqual(model.expiring ? [model.expiring] : [])
    expect(new Set(ids('expired'))).toEqual(model.ended)
  }

  async function apply(appId: string, model: Model, step: Operation): Promise<void> {
    if (step.kind === 'rotate') {
      const rotated = await test.call('POST', `${base}/apps/${appId}/keys/test/rotate`, { token: admin, body: { expire_old_in_seconds: step.grace } })
      expect(rotated.status).toBe(200)
      const endedNow = rotated.body.ended_secrets.map((key: { id: string }) => key.id)
      expect(endedNow).toEqual(model.expiring ? [model.expiring] : [])
      if (model.expiring) model.ended.add(model.expiring)
      if (step.grace > 0) model.expiring = model.active
      else {
        model.expiring = null
        model.ended.add(model.active)
      }
      model.active = rotated.body.secret_key_id
      return
    }
    const candidates = [model.active, ...(model.expiring ? [model.expiring] : []), ...model.ended]
    const target = candidates[step.pick % candidates.length]
    const expired = await test.call('POST', `${base}/keys/${target}/expire`, { token: admin })
    if (target === model.expiring) {
      expect(expired.status).toBe(200)
      model.ended.add(target)
      model.expiring = null
    } else {
      expect(expired.status).toBe(409)
    }
  }

  it('matches the model after any sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 8 }), async (steps) => {
        count += 1
        const created = await test.call('POST', `${base}/apps`, { token: admin, body: { name: `Model ${count}` } })
        const model: Model = { active: created.body.keys.secret_key_id, expiring: null, ended: new Set() }

        for (const step of steps) {
          await apply(created.body.id, model, step)
          await check(created.body.id, model)
        }
      }),
      { numRuns: 60 },
    )
  })
})
