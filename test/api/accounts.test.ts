import { createHash } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'

/** Tests that run scrypt a dozen times or more need longer than the default on a busy machine. */
const SLOW_MS = 180_000

const PASSWORD = 'violet lanterns drift upstream'
const DAY_MS = 86_400_000

interface Answer {
  status: number
  body: any
  headers: Headers
}

/** Sends a JSON request as if from `address`, which the server reads from the socket. */
async function post(test: TestApp, path: string, body: unknown, address = '192.0.2.1', token?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await test.app.request(
    path,
    { method: 'POST', headers, body: JSON.stringify(body) },
    { incoming: { socket: { remoteAddress: address } } },
  )
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
}

let sequence = 0
function uniqueEmail(label: string): string {
  sequence += 1
  return `${label}${sequence}-${Date.now().toString(36)}@example.com`
}

async function signUp(test: TestApp, email: string, address = '192.0.2.1') {
  const answer = await post(test, '/v1/auth/signup', { email, name: 'Ada', password: PASSWORD }, address)
  if (answer.status !== 201) throw new Error(`sign-up failed: ${JSON.stringify(answer.body)}`)
  return answer.body as { user: { id: string; email: string }; session: { id: string; token: string; expires_at: string } }
}

describe('accounts', () => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp('sqlite')
  })
  afterAll(async () => {
    await test.close()
  })

  describe('email addresses', () => {
    it('trims and lower-cases the email at sign-up', async () => {
      const email = uniqueEmail('grace')

      const { user } = await signUp(test, `  ${email.toUpperCase()} `)

      expect(user.email).toBe(email)
    })

    it('names the first workspace after the user', async () => {
      const plain = await post(test, '/v1/auth/signup', { email: uniqueEmail('named'), name: 'Ada', password: PASSWORD })
      const idLike = await post(test, '/v1/auth/signup', { email: uniqueEmail('idlike'), name: 'ws_ada', password: PASSWORD })

      const me = await test.call('GET', `/v1/workspaces/${plain.body.workspace.id}/me`, { token: plain.body.session.token })

      expect(plain.body.workspace.name).toBe("Ada's workspace")
      expect(me.body.role).toBe('admin')
      expect(idLike.body.workspace.name).toBe('Workspace of ws_ada')
    })

    it('rejects a second sign-up differing only in case', async () => {
      const email = uniqueEmail('dup')
      await signUp(test, email)

      const again = await post(test, '/v1/auth/signup', { email: email.toUpperCase(), name: 'Other', password: PASSWORD })

      expect(again.status).toBe(409)
      expect(again.body.error.code).toBe('already_exists')
    })

    it('logs in with the email in other case and spacing', async () => {
      const email = uniqueEmail('case')
      await signUp(test, email)

      const login = await post(test, '/v1/auth/login', { email: ` ${email.toUpperCase()}  `, password: PASSWORD })

      expect(login.status).toBe(200)
      expect(login.body.user.email).toBe(email)
    })
  })

  describe('password rules', () => {
    const attempt = (password: string) =>
      post(test, '/v1/auth/signup', { email: uniqueEmail('rules'), name: 'Rules', password })

    it('rejects 11 characters', async () => {
      const answer = await attempt('abcdefghij1')

      expect(answer.status).toBe(422)
      expect(answer.body.error.field).toBe('password')
    })

    it('counts characters, not UTF-16 units', async () => {
      const eleven = await attempt('🐙🦑🐳🐬🦈🐠🐡🦀🦞🦐🐚')
      const twelve = await attempt('🐙🦑🐳🐬🦈🐠🐡🦀🦞🦐🐚🪼')

      expect(eleven.status).toBe(422)
      expect(twelve.status).toBe(201)
    })

    it('accepts 1024 bytes and rejects 1025', async () => {
      const base = 'é'.repeat(511) + 'xy'
      expect(Buffer.byteLength(base)).toBe(1024)

      const atLimit = await attempt(base)
      const overLimit = await attempt(`${base}z`)

      expect(atLimit.status).toBe(201)
      expect(overLimit.status).toBe(422)
      expect(overLimit.body.error.message).toContain('1024 bytes')
    })

    it('rejects a common password in any case', async () => {
      const answer = await attempt('Password1234')

      expect(answer.status).toBe(422)
      expect(answer.body.error.message).toMatch(/common/)
    })

    it('imposes no composition rules', async () => {
      const answer = await attempt('only lower case words here')

      expect(answer.status).toBe(201)
    })

    it('stores an scrypt hash, never the password', async () => {
      const { user } = await signUp(test, uniqueEmail('hash'))

      const row = await test.services.database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow()

      expect(row.password_hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$/)
      expect(JSON.stringify(row)).not.toContain(PASSWORD)
    })
  })

  describe('login', () => {
    it('treats an unknown email like a wrong password', async () => {
      const email = uniqueEmail('known')
      await signUp(test, email)

      const unknown = await post(test, '/v1/auth/login', { email: uniqueEmail('nobody'), password: PASSWORD }, '198.51.100.7')
      const wrong = await post(test, '/v1/auth/login', { email, password: 'not the right password' }, '198.51.100.7')

      expect(unknown.status).toBe(401)
      expect(wrong.status).toBe(unknown.status)
      expect(wrong.body).toEqual(unknown.body)
    })

    it('throttles one account from one address', async () => {
      const email = uniqueEmail('pair')
      await signUp(test, email, '203.0.113.1')
      const statuses: number[] = []

      for (let i = 0; i < 11; i++) {
        statuses.push((await post(test, '/v1/auth/login', { email, password: `wrong password ${i}` }, '203.0.113.66')).status)
      }
      const blocked = await post(test, '/v1/auth/login', { email, password: PASSWORD }, '203.0.113.66')
      const elsewhere = await post(test, '/v1/auth/login', { email, password: PASSWORD }, '203.0.113.1')

      expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true)
      expect(statuses[10]).toBe(429)
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(blocked.body.error.code).toBe('rate_limited')
      expect(elsewhere.status).toBe(200)
    }, SLOW_MS)

    it('keeps known addresses open when many addresses fail', async () => {
      const { hit } = await import('../../server/throttle.js')
      const email = uniqueEmail('owner')
      const unknownEmail = uniqueEmail('ghost')
      await signUp(test, email, '203.0.113.200')
      // Thirty failures from thirty other addresses, counted without paying for thirty scrypt runs.
      for (const target of [email, unknownEmail]) {
        for (let i = 0; i < 30; i++) await hit(test.services.database.db, `login:account:${target}`, 30, 15 * 60_000)
      }

      const known = await post(test, '/v1/auth/login', { email, password: 'attacker guess 1' }, '10.1.0.31')
      const unknown = await post(test, '/v1/auth/login', { email: unknownEmail, password: 'attacker guess 1' }, '10.1.0.31')
      const newPlace = await post(test, '/v1/auth/login', { email, password: PASSWORD }, '10.2.0.1')
      const owner = await post(test, '/v1/auth/login', { email, password: PASSWORD }, '203.0.113.200')

      expect(known.status).toBe(429)
      expect(unknown.status).toBe(known.status)
      expect(unknown.body.error.code).toBe(known.body.error.code)
      expect(newPlace.status).toBe(429)
      expect(owner.status).toBe(200)
    })

    it('throttles one address across accounts', async () => {
      const { hit } = await import('../../server/throttle.js')
      const address = '10.3.0.1'
      for (let i = 0; i < 100; i++) await hit(test.services.database.db, `login:address:${address}`, 100, 15 * 60_000)

      const answer = await post(test, '/v1/auth/login', { email: uniqueEmail('any'), password: PASSWORD }, address)
      const other = await post(test, '/v1/auth/login', { email: uniqueEmail('any'), password: PASSWORD }, '10.3.0.2')

      expect(answer.status).toBe(429)
      expect(other.status).toBe(401)
    })
  })

  describe('sessions', () => {
    it('issues a 128-bit token stored only as a hash', async () => {
      const { session } = await signUp(test, uniqueEmail('token'))

      const row = await test.services.database.db.selectFrom('sessions').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow()
      const random = session.token.replace(/^fxs_/, '')

      expect(random.length * Math.log2(62)).toBeGreaterThanOrEqual(128)
      expect(row.token_hash).toBe(createHash('sha256').update(session.token).digest('hex'))
      expect(JSON.stringify(row)).not.toContain(session.token)
    })

    it('lasts 30 days', async () => {
      const { session } = await signUp(test, uniqueEmail('life'))

      const row = await test.services.database.db.selectFrom('sessions').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow()

      expect(Date.parse(row.expires_at) - Date.parse(row.created_at)).toBe(30 * DAY_MS)
      expect(session.expires_at).toBe(row.expires_at)
    })

    it('rejects an expired session', async () => {
      const { session } = await signUp(test, uniqueEmail('expired'))
      await test.services.database.db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', session.id)
        .execute()

      const me = await test.call('GET', '/v1/me', { token: session.token })

      expect(me.status).toBe(401)
      expect(me.body.error.code).toBe('session_expired')
    })

    it('revokes the session on logout', async () => {
      const { session } = await signUp(test, uniqueEmail('logout'))

      const logout = await test.call('POST', '/v1/auth/logout', { token: session.token })
      const after = await test.call('GET', '/v1/me', { token: session.token })

      expect(logout.status).toBe(204)
      expect(after.status).toBe(401)
      expect(after.body.error.code).toBe('session_expired')
    })

    it('lists sessions and ends one', async () => {
      const email = uniqueEmail('list')
      const first = await signUp(test, email)
      const second = (await post(test, '/v1/auth/login', { email, password: PASSWORD }, '192.0.2.99')).body.session

      const listed = await test.call('GET', '/v1/profile/sessions', { token: first.session.token })
      const revoked = await test.call('DELETE', `/v1/profile/sessions/${second.id}`, { token: first.session.token })
      const secondAfter = await test.call('GET', '/v1/me', { token: second.token })
      const firstAfter = await test.call('GET', '/v1/me', { token: first.session.token })

      expect(listed.status).toBe(200)
      expect(listed.body.data.map((row: { id: string }) => row.id).sort()).toEqual([first.session.id, second.id].sort())
      const current = listed.body.data.find((row: { current: boolean }) => row.current)
      expect(current.id).toBe(first.session.id)
      expect(listed.body.data.find((row: { id: string }) => row.id === second.id).address).toBe('192.0.2.99')
      expect(revoked.status).toBe(200)
      expect(secondAfter.status).toBe(401)
      expect(firstAfter.status).toBe(200)
    })

    it('hides the sessions of other users', async () => {
      const mine = await signUp(test, uniqueEmail('mine'))
      const theirs = await signUp(test, uniqueEmail('theirs'))

      const answer = await test.call('DELETE', `/v1/profile/sessions/${theirs.session.id}`, { token: mine.session.token })
      const stillThere = await test.call('GET', '/v1/me', { token: theirs.session.token })

      expect(answer.status).toBe(404)
      expect(stillThere.status).toBe(200)
    })
  })

  describe('profile', () => {
    it('changes the display name', async () => {
      const { session } = await signUp(test, uniqueEmail('rename'))

      const updated = await test.call('PATCH', '/v1/profile', { token: session.token, body: { name: '  Ada Lovelace ' } })
      const shown = await test.call('GET', '/v1/profile', { token: session.token })

      expect(updated.status).toBe(200)
      expect(shown.body.name).toBe('Ada Lovelace')
    })

    it('ends every other session on a password change', async () => {
      const email = uniqueEmail('change')
      const first = await signUp(test, email)
      const second = (await post(test, '/v1/auth/login', { email, password: PASSWORD })).body.session
      const newPassword = 'amber quartz lighthouse keeper'

      const changed = await test.call('POST', '/v1/profile/password', {
        token: first.session.token,
        body: { current_password: PASSWORD, new_password: newPassword },
      })
      const secondAfter = await test.call('GET', '/v1/me', { token: second.token })
      const firstAfter = await test.call('GET', '/v1/me', { token: first.session.token })
      const oldLogin = await post(test, '/v1/auth/login', { email, password: PASSWORD })
      const newLogin = await post(test, '/v1/auth/login', { email, password: newPassword })

      expect(changed.status).toBe(200)
      expect(changed.body.sessions_ended).toBe(1)
      expect(secondAfter.status).toBe(401)
      expect(firstAfter.status).toBe(200)
      expect(oldLogin.status).toBe(401)
      expect(newLogin.status).toBe(200)
    }, SLOW_MS)

    it('does not count successful changes as failures', async () => {
      const { hit } = await import('../../server/throttle.js')
      const email = uniqueEmail('repeat')
      const { session } = await signUp(test, email)
      for (let i = 0; i < 9; i++) await hit(test.services.database.db, `login:pair:${email}:unknown`, 10, 15 * 60_000)
      const change = (from: string, to: string) =>
        test.call('POST', '/v1/profile/password', { token: session.token, body: { current_password: from, new_password: to } })

      const first = await change(PASSWORD, 'amber quartz lighthouse keeper')
      const second = await change('amber quartz lighthouse keeper', PASSWORD)

      expect(first.status).toBe(200)
      expect(second.status).toBe(200)
    }, SLOW_MS)

    it('requires the current password to change it', async () => {
      const { session } = await signUp(test, uniqueEmail('wrongcurrent'))

      const answer = await test.call('POST', '/v1/profile/password', {
        token: session.token,
        body: { current_password: 'not my password at all', new_password: 'amber quartz lighthouse keeper' },
      })

      expect(answer.status).toBe(422)
      expect(answer.body.error.field).toBe('current_password')
    })

    it('rejects a new password equal to the current one', async () => {
      const { session } = await signUp(test, uniqueEmail('samepassword'))

      const answer = await test.call('POST', '/v1/profile/password', {
        token: session.token,
        body: { current_password: PASSWORD, new_password: PASSWORD },
      })

      expect(answer.status).toBe(422)
      expect(answer.body.error.field).toBe('new_password')
      expect(answer.body.error.message).toBe('new_password: must differ from the current password')
    })

    it('applies the password rules to the new password', async () => {
      const { session } = await signUp(test, uniqueEmail('weaknew'))

      const answer = await test.call('POST', '/v1/profile/password', {
        token: session.token,
        body: { current_password: PASSWORD, new_password: 'password1234' },
      })

      expect(answer.status).toBe(422)
      expect(answer.body.error.field).toBe('new_password')
    })
  })
})
