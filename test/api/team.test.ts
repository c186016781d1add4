import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { redactPath } from '../../server/redact.js'
import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'

const PASSWORD = 'correct battery horse staple'
const NEW_PASSWORD = 'another long passphrase here'

describe.each(await dialects())('team API on %s', (dialect) => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp(dialect)
  })
  afterAll(async () => {
    await test.close()
  })

  /** Returns the newest link of the given path mailed to the address, read from the outbox. */
  async function mailedLink(address: string, path: string): Promise<string> {
    const rows = await test.services.database.db
      .selectFrom('mail_outbox')
      .select(['text_body', 'created_at', 'id'])
      .where('recipient', '=', address)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute()
    for (const row of rows) {
      const match = new RegExp(`http\\S+${path}\\S+`).exec(row.text_body)
      if (match) return match[0]
    }
    throw new Error(`no ${path} link mailed to ${address}`)
  }

  function tokenOf(link: string): string {
    return link.slice(link.lastIndexOf('/') + 1)
  }

  /** Posts a form the way a browser on the same origin does. */
  function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: 'http://localhost' }) {
    return test.app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    })
  }

  async function invite(token: string, workspaceId: string, rows: { email: string; role?: string }[]) {
    return test.call('POST', `/v1/workspaces/${workspaceId}/invitations`, { token, body: { invitations: rows } })
  }

  async function auditActions(workspaceId: string): Promise<{ action: string; data: string | null; target_id: string | null }[]> {
    return test.services.database.db
      .selectFrom('audit_events')
      .select(['action', 'data', 'target_id'])
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .execute()
  }

  it('lists members and pending invitations', async () => {
    const admin = await signUp(test, { name: 'Ada' })
    const member = await signUp(test, { name: 'Grace' })
    await addMember(test, admin.workspace.id, member.user.id)
    await invite(admin.token, admin.workspace.id, [{ email: 'later@example.com' }])

    const members = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/members`, { token: member.token })
    const invitations = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/invitations`, { token: member.token })

    expect(members.status).toBe(200)
    expect(members.body.data.map((row: { email: string; role: string; phi_read: boolean }) => [row.email, row.role, row.phi_read])).toEqual([
      [admin.user.email, 'admin', true],
      [member.user.email, 'member', true],
    ])
    expect(members.body.data[1].joined_at).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(members.body.next_cursor).toBeNull()
    expect(invitations.status).toBe(200)
    expect(invitations.body.data).toHaveLength(1)
    expect(invitations.body.data[0]).toMatchObject({ email: 'later@example.com', role: 'member', status: 'pending', invited_by: admin.user.email })
  })

  it('pages members with a cursor', async () => {
    const admin = await signUp(test)
    const second = await signUp(test)
    await addMember(test, admin.workspace.id, second.user.id)

    const first = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/members?limit=1`, { token: admin.token })
    const next = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/members?limit=1&cursor=${first.body.next_cursor}`, {
      token: admin.token,
    })
    const bad = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/members?cursor=nonsense`, { token: admin.token })

    expect(first.body.data.map((row: { id: string }) => row.id)).toEqual([admin.user.id])
    expect(next.body.data.map((row: { id: string }) => row.id)).toEqual([second.user.id])
    expect(next.body.next_cursor).toBeNull()
    expect(bad.status).toBe(422)
    expect(bad.body.error.field).toBe('cursor')
  })

  it('reports one outcome per invited row', async () => {
    const admin = await signUp(test)

    const response = await invite(admin.token, admin.workspace.id, [
      { email: ' Bob.Mixed@Example.COM ', role: 'admin' },
      { email: 'bob.mixed@example.com' },
      { email: 'not-an-address' },
      { email: admin.user.email.toUpperCase() },
    ])

    expect(response.status).toBe(200)
    expect(response.body.data.map((row: { email: string; outcome: string }) => [row.email, row.outcome])).toEqual([
      ['bob.mixed@example.com', 'invited'],
      ['bob.mixed@example.com', 'already_invited'],
      ['not-an-address', 'invalid'],
      [admin.user.email, 'already_member'],
    ])
    expect(response.body.data[0].role).toBe('admin')
    expect(response.body.data[1].role).toBe('admin')
    const mails = await test.services.database.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', 'bob.mixed@example.com').execute()
    expect(mails).toHaveLength(1)
    expect(mails[0].text_body).toContain('/invitations/fxi_')
    const stored = await test.services.database.db.selectFrom('invitations').selectAll().where('email', '=', 'bob.mixed@example.com').executeTakeFirstOrThrow()
    expect(mails[0].text_body).not.toContain(stored.token_hash)
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/)
    const audit = await auditActions(admin.workspace.id)
    expect(audit.filter((row) => row.action === 'invitation.create')).toHaveLength(1)
    expect(audit.find((row) => row.action === 'invitation.create')?.data).not.toContain('fxi_')
  })

  it('rejects invitation rows beyond the schema', async () => {
    const admin = await signUp(test)

    const badRole = await invite(admin.token, admin.workspace.id, [{ email: 'x@example.com', role: 'owner' }])
    const empty = await invite(admin.token, admin.workspace.id, [])

    expect(badRole.status).toBe(422)
    expect(badRole.body.error.field).toBe('invitations.0.role')
    expect(empty.status).toBe(422)
  })

  it('denies team changes to members and hides them from outsiders', async () => {
    const admin = await signUp(test)
    const member = await signUp(test)
    const outsider = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id)
    await invite(admin.token, admin.workspace.id, [{ email: 'pending@example.com' }])
    const ws = `/v1/workspaces/${admin.workspace.id}`
    const changes: [string, string, unknown?][] = [
      ['POST', `${ws}/invitations`, { invitations: [{ email: 'x@example.com' }] }],
      ['PATCH', `${ws}/members/${admin.user.id}`, { role: 'member' }],
      ['DELETE', `${ws}/members/${admin.user.id}`],
      ['PUT', `${ws}/members/${admin.user.id}/phi`, { withheld: true }],
      ['DELETE', `${ws}/invitations/pending@example.com`],
      ['POST', `${ws}/invitations/pending@example.com/resend`],
    ]
    const reads: [string, string][] = [
      ['GET', `${ws}/members`],
      ['GET', `${ws}/members/${admin.user.id}`],
      ['GET', `${ws}/invitations`],
    ]

    for (const [method, path, body] of changes) {
      const asMember = await test.call(method, path, { token: member.token, body })
      expect(asMember.status, `${method} ${path} as member`).toBe(403)
      expect(asMember.body.error.permission).toBe('team:manage')
    }
    for (const [method, path, body] of [...changes, ...reads]) {
      const asOutsider = await test.call(method, path, { token: outsider.token, body })
      expect(asOutsider.status, `${method} ${path} as outsider`).toBe(404)
      const anonymous = await test.call(method, path, { body })
      expect(anonymous.status, `${method} ${path} without a session`).toBe(401)
    }
  })

  it('joins a new person through the invitation page', async () => {
    const admin = await signUp(test, { workspace_name: 'Acme <script>alert(1)</script>' })
    await invite(admin.token, admin.workspace.id, [{ email: 'Newcomer@Example.com' }])
    const link = await mailedLink('newcomer@example.com', '/invitations/')
    const path = new URL(link).pathname

    const page = await test.app.request(path)
    const html = await page.text()
    expect(page.status).toBe(200)
    expect(html).toContain('<form method="post">')
    expect(html).toContain('Acme &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).not.toContain('<script>')
    expect(page.headers.get('referrer-policy')).toBe('same-origin')
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")

    const fields = { name: 'New Comer', password: PASSWORD, password_confirmation: PASSWORD }
    const crossSite = await postForm(path, fields, { origin: 'https://attacker.example' })
    const noOrigin = await postForm(path, fields, {})
    const fetchCrossSite = await postForm(path, fields, { origin: 'http://localhost', 'sec-fetch-site': 'cross-site' })
    expect(crossSite.status).toBe(403)
    expect(noOrigin.status).toBe(403)
    expect(fetchCrossSite.status).toBe(403)
    const nullCrossSite = await postForm(path, fields, { origin: 'null', 'sec-fetch-site': 'cross-site' })
    expect(nullCrossSite.status).toBe(403)

    const weak = await postForm(path, { ...fields, password: 'short', password_confirmation: 'short' })
    expect(weak.status).toBe(422)
    expect(await weak.text()).toContain('at least 12 characters')
    const differ = await postForm(path, { ...fields, password_confirmation: `${PASSWORD}!` })
    expect(differ.status).toBe(422)

    const joined = await postForm(path, fields, { origin: 'null', 'sec-fetch-site': 'same-origin' })
    expect(joined.status).toBe(200)
    expect(await joined.text()).toContain('flexpa login --email newcomer@example.com')

    const login = await test.call('POST', '/v1/auth/login', { body: { email: 'NEWCOMER@example.com ', password: PASSWORD } })
    expect(login.status).toBe(200)
    expect(login.body.user.email_verified).toBe(true)
    const me = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/me`, { token: login.body.session.token })
    expect(me.body.role).toBe('member')

    const reused = await postForm(path, fields)
    expect(reused.status).toBe(410)
    expect(await reused.text()).toContain('already used')
    const reopened = await test.app.request(path)
    expect(reopened.status).toBe(410)
    const audit = await auditActions(admin.workspace.id)
    expect(audit.map((row) => row.action)).toContain('invitation.accept')
  })

  it('sends a person with an account to the CLI', async () => {
    const admin = await signUp(test)
    const existing = await signUp(test, { email: 'Has.Account@Example.com' })
    await invite(admin.token, admin.workspace.id, [{ email: '  has.account@EXAMPLE.com' }])
    const link = await mailedLink('has.account@example.com', '/invitations/')

    const page = await test.app.request(new URL(link).pathname)
    const html = await page.text()
    expect(page.status).toBe(409)
    expect(html).toContain(`flexpa invitations accept ${link}`)
    expect(html).not.toContain('<form')

    const accepted = await test.call('POST', '/v1/invitations/accept', { token: existing.token, body: { token: link } })
    expect(accepted.status).toBe(200)
    expect(accepted.body).toMatchObject({ role: 'member', already_member: false, workspace: { id: admin.workspace.id } })
    const profile = await test.call('GET', '/v1/profile', { token: existing.token })
    expect(profile.body.email_verified).toBe(true)

    const again = await test.call('POST', '/v1/invitations/accept', { token: existing.token, body: { token: tokenOf(link) } })
    expect(again.status).toBe(409)
  })

  it('records a new account as the accepting actor', async () => {
    const admin = await signUp(test)
    await invite(admin.token, admin.workspace.id, [{ email: 'actor.check@example.com' }])
    const path = new URL(await mailedLink('actor.check@example.com', '/invitations/')).pathname
    const fields = { name: 'Actor Check', password: PASSWORD, password_confirmation: PASSWORD }

    const joined = await postForm(path, fields)

    expect(joined.status).toBe(200)
    const user = await test.services.database.db.selectFrom('users').select('id').where('email', '=', 'actor.check@example.com').executeTakeFirstOrThrow()
    const accepted = await test.services.database.db
      .selectFrom('audit_events')
      .select(['actor_type', 'actor_id', 'actor_label'])
      .where('workspace_id', '=', admin.workspace.id)
      .where('action', '=', 'invitation.accept')
      .executeTakeFirstOrThrow()
    expect(accepted.actor_type).toBe('user')
    expect(accepted.actor_id).toBe(user.id)
    expect(accepted.actor_label).toBe('actor.check@example.com')
  })

  it('opens links with a tracking query', async () => {
    const admin = await signUp(test)
    const existing = await signUp(test, { email: 'tracked.existing@example.com' })
    await invite(admin.token, admin.workspace.id, [{ email: 'tracked.new@example.com' }, { email: 'tracked.existing@example.com' }])
    const newLink = `${await mailedLink('tracked.new@example.com', '/invitations/')}?utm_source=mail&utm_medium=x`
    const existingLink = `${await mailedLink('tracked.existing@example.com', '/invitations/')}?utm_source=mail#top`
    const path = new URL(newLink).pathname + new URL(newLink).search
    const fields = { name: 'Tracked', password: PASSWORD, password_confirmation: PASSWORD }

    const page = await test.app.request(path)
    const joined = await postForm(path, fields)
    const accepted = await test.call('POST', '/v1/invitations/accept', { token: existing.token, body: { token: existingLink } })

    expect(page.status).toBe(200)
    expect(joined.status).toBe(200)
    expect(accepted.status).toBe(200)
    expect(accepted.body.workspace.id).toBe(admin.workspace.id)
  })

  it('updates the role of a pending invitation', async () => {
    const admin = await signUp(test)
    await invite(admin.token, admin.workspace.id, [{ email: 'promoted@example.com', role: 'member' }])

    const promoted = await invite(admin.token, admin.workspace.id, [{ email: 'promoted@example.com', role: 'admin' }])
    const repeated = await invite(admin.token, admin.workspace.id, [{ email: 'promoted@example.com', role: 'admin' }])

    expect(promoted.status).toBe(200)
    expect(promoted.body.data[0]).toMatchObject({ email: 'promoted@example.com', role: 'admin', outcome: 'role_updated', previous_role: 'member' })
    expect(repeated.body.data[0]).toMatchObject({ role: 'admin', outcome: 'already_invited' })
    const stored = await test.services.database.db.selectFrom('invitations').select('role').where('email', '=', 'promoted@example.com').execute()
    expect(stored.map((row) => row.role)).toEqual(['admin'])
    const audit = await auditActions(admin.workspace.id)
    const update = audit.find((row) => row.action === 'invitation.role_update')
    expect(JSON.parse(update?.data ?? '{}')).toEqual({ email: 'promoted@example.com', role: 'admin', previous_role: 'member' })
    const mails = await test.services.database.db.selectFrom('mail_outbox').select('id').where('recipient', '=', 'promoted@example.com').execute()
    expect(mails).toHaveLength(1)
  })

  it('reports the current role of a member', async () => {
    const admin = await signUp(test)
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id, 'member')

    const response = await invite(admin.token, admin.workspace.id, [{ email: member.user.email, role: 'admin' }])

    expect(response.body.data[0]).toMatchObject({ email: member.user.email, role: 'member', outcome: 'already_member', user_id: member.user.id })
  })

  it('rejects unknown, revoked, expired and misaddressed links', async () => {
    const admin = await signUp(test)
    const invited = await signUp(test, { email: 'right.person@example.com' })
    const wrong = await signUp(test)
    await invite(admin.token, admin.workspace.id, [{ email: 'right.person@example.com' }])
    const link = await mailedLink('right.person@example.com', '/invitations/')
    const accept = (token: string, value: string) => test.call('POST', '/v1/invitations/accept', { token, body: { token: value } })

    const unknown = await accept(invited.token, 'fxi_notarealtoken')
    const misaddressed = await accept(wrong.token, link)
    expect(unknown.status).toBe(404)
    expect(misaddressed.status).toBe(403)
    expect(misaddressed.body.error.message).not.toContain('right.person')

    await test.services.database.db
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('email', '=', 'right.person@example.com')
      .execute()
    const expired = await accept(invited.token, link)
    expect(expired.status).toBe(412)
    expect(expired.body.error.message).toContain('expired')
    expect((await test.app.request(new URL(link).pathname)).status).toBe(410)

    const listed = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/invitations`, { token: admin.token })
    expect(listed.body.data[0].status).toBe('expired')
    const resent = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/invitations/right.person@example.com/resend`, {
      token: admin.token,
    })
    expect(resent.status).toBe(200)
    expect(resent.body.status).toBe('pending')
    const renewed = await mailedLink('right.person@example.com', '/invitations/')
    expect(renewed).not.toBe(link)
    expect((await accept(invited.token, link)).status).toBe(404)

    const revoked = await test.call('DELETE', `/v1/workspaces/${admin.workspace.id}/invitations/${resent.body.id}`, { token: admin.token })
    expect(revoked.status).toBe(200)
    expect(revoked.body.status).toBe('revoked')
    const afterRevoke = await accept(invited.token, renewed)
    expect(afterRevoke.status).toBe(412)
    expect(afterRevoke.body.error.message).toContain('revoked')
    const revokeAgain = await test.call('DELETE', `/v1/workspaces/${admin.workspace.id}/invitations/${resent.body.id}`, { token: admin.token })
    expect(revokeAgain.status).toBe(412)
    const audit = (await auditActions(admin.workspace.id)).map((row) => row.action)
    expect(audit).toEqual(expect.arrayContaining(['invitation.create', 'invitation.resend', 'invitation.revoke']))
  })

  it('throttles invitation mail per recipient', async () => {
    const admin = await signUp(test)
    await invite(admin.token, admin.workspace.id, [{ email: 'flooded@example.com' }])
    const resend = () => test.call('POST', `/v1/workspaces/${admin.workspace.id}/invitations/flooded@example.com/resend`, { token: admin.token })

    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await resend()).status)

    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(200))
    expect(statuses[9]).toBe(429)
    const other = await signUp(test)
    const fromElsewhere = await invite(other.token, other.workspace.id, [{ email: 'flooded@example.com' }])
    expect(fromElsewhere.body.data[0].outcome).toBe('rate_limited')
    expect(fromElsewhere.body.data[0].retry_after).toBeGreaterThan(0)
  })

  it('keeps the last admin and refuses self-removal', async () => {
    const admin = await signUp(test)
    const other = await signUp(test)
    await addMember(test, admin.workspace.id, other.user.id)
    const ws = `/v1/workspaces/${admin.workspace.id}`

    const demoteLast = await test.call('PATCH', `${ws}/members/${admin.user.id}`, { token: admin.token, body: { role: 'member' } })
    expect(demoteLast.status).toBe(412)
    expect(demoteLast.body.error.message).toContain('last admin')
    const removeSelf = await test.call('DELETE', `${ws}/members/${admin.user.email}`, { token: admin.token })
    expect(removeSelf.status).toBe(412)
    expect(removeSelf.body.error.message).toContain('flexpa workspaces leave')

    const promote = await test.call('PATCH', `${ws}/members/${other.user.email.toUpperCase()}`, { token: admin.token, body: { role: 'admin' } })
    expect(promote.status).toBe(200)
    expect(promote.body).toMatchObject({ role: 'admin', changed: true })
    const demoteSelf = await test.call('PATCH', `${ws}/members/${admin.user.id}`, { token: admin.token, body: { role: 'member' } })
    expect(demoteSelf.status).toBe(200)

    const removeLast = await test.call('DELETE', `${ws}/members/${other.user.id}`, { token: other.token })
    expect(removeLast.status).toBe(412)
    const audit = (await auditActions(admin.workspace.id)).filter((row) => row.action === 'member.role_change')
    expect(audit).toHaveLength(2)
    expect(JSON.parse(audit[1].data ?? '{}')).toMatchObject({ from: 'admin', to: 'member' })
  })

  it('keeps one admin under concurrent demotions', async () => {
    const first = await signUp(test)
    const second = await signUp(test)
    await addMember(test, first.workspace.id, second.user.id, 'admin')
    const ws = `/v1/workspaces/${first.workspace.id}`

    const results = await Promise.all([
      test.call('PATCH', `${ws}/members/${second.user.id}`, { token: first.token, body: { role: 'member' } }),
      test.call('PATCH', `${ws}/members/${first.user.id}`, { token: second.token, body: { role: 'member' } }),
    ])

    // The loser is refused either as the last admin (412) or, when the winner's demotion committed
    // before its own permission check, as a member who no longer holds team:manage (403).
    const statuses = results.map((result) => result.status).sort()
    expect(statuses[0]).toBe(200)
    expect([403, 412]).toContain(statuses[1])
    const members = await test.call('GET', `${ws}/members`, { token: first.token })
    expect(members.body.data.filter((row: { role: string }) => row.role === 'admin')).toHaveLength(1)
  })

  it('applies removal and demotion on the next request', async () => {
    const admin = await signUp(test)
    const colleague = await signUp(test)
    await addMember(test, admin.workspace.id, colleague.user.id, 'admin')
    const ws = `/v1/workspaces/${admin.workspace.id}`
    await test.services.database.db
      .insertInto('workspace_tokens')
      .values({
        id: 'wtk_removal_test_' + dialect,
        workspace_id: admin.workspace.id,
        name: 'ci',
        token_hash: 'f'.repeat(63) + (dialect === 'sqlite' ? '0' : '1'),
        permissions: '["team:read"]',
        created_by: colleague.user.id,
        created_at: new Date().toISOString(),
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
        revoked_at: null,
        last_used_at: null,
      })
      .execute()

    expect((await test.call('GET', `${ws}/invitations`, { token: colleague.token })).status).toBe(200)
    await test.call('PATCH', `${ws}/members/${colleague.user.id}`, { token: admin.token, body: { role: 'member' } })
    const demoted = await test.call('POST', `${ws}/invitations`, { token: colleague.token, body: { invitations: [{ email: 'z@example.com' }] } })
    expect(demoted.status).toBe(403)

    const removed = await test.call('DELETE', `${ws}/members/${colleague.user.id}`, { token: admin.token })
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ removed: true, tokens_revoked: 1 })
    const next = await test.call('GET', `${ws}/me`, { token: colleague.token })
    expect(next.status).toBe(404)
    const own = await test.call('GET', `/v1/workspaces/${colleague.workspace.id}/me`, { token: colleague.token })
    expect(own.status).toBe(200)
    const audit = (await auditActions(admin.workspace.id)).find((row) => row.action === 'member.remove')
    expect(audit?.target_id).toBe(colleague.user.id)
  })

  it('withholds and restores phi:read', async () => {
    const admin = await signUp(test)
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id)
    const ws = `/v1/workspaces/${admin.workspace.id}`
    const permissions = async () => (await test.call('GET', `${ws}/me`, { token: member.token })).body.permissions as string[]

    expect(await permissions()).toContain('phi:read')
    const withheld = await test.call('PUT', `${ws}/members/${member.user.email}/phi`, { token: admin.token, body: { withheld: true } })
    expect(withheld.body).toMatchObject({ phi_read: false, changed: true })
    expect(await permissions()).not.toContain('phi:read')
    const again = await test.call('PUT', `${ws}/members/${member.user.email}/phi`, { token: admin.token, body: { withheld: true } })
    expect(again.body.changed).toBe(false)
    const listed = await test.call('GET', `${ws}/members/${member.user.id}`, { token: admin.token })
    expect(listed.body.phi_read).toBe(false)

    await test.call('PUT', `${ws}/members/${member.user.id}/phi`, { token: admin.token, body: { withheld: false } })
    expect(await permissions()).toContain('phi:read')
    const audit = (await auditActions(admin.workspace.id)).map((row) => row.action)
    expect(audit.filter((action) => action.startsWith('member.phi_'))).toEqual(['member.phi_withhold', 'member.phi_restore'])
  })

  it('resets a password by mail and ends every session', async () => {
    const user = await signUp(test, { email: 'Forgetful@Example.com' })

    const known = await test.call('POST', '/v1/auth/password-reset', { body: { email: ' FORGETFUL@example.com' } })
    const unknown = await test.call('POST', '/v1/auth/password-reset', { body: { email: 'nobody-here@example.com' } })
    expect(known.status).toBe(202)
    expect(unknown.status).toBe(202)
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(known.body).sort())
    expect(unknown.body.message.replace('nobody-here', 'forgetful')).toBe(known.body.message)

    const link = await mailedLink('forgetful@example.com', '/password-reset/')
    const path = new URL(link).pathname
    const form = await test.app.request(path)
    expect(form.status).toBe(200)
    expect(await form.text()).toContain('forgetful@example.com')
    const crossSite = await postForm(path, { password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD }, { origin: 'https://evil.example' })
    expect(crossSite.status).toBe(403)

    const done = await postForm(path, { password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD })
    expect(done.status).toBe(200)
    expect((await test.call('GET', '/v1/profile', { token: user.token })).status).toBe(401)
    const oldLogin = await test.call('POST', '/v1/auth/login', { body: { email: 'forgetful@example.com', password: PASSWORD } })
    expect(oldLogin.status).toBe(401)
    const newLogin = await test.call('POST', '/v1/auth/login', { body: { email: 'forgetful@example.com', password: NEW_PASSWORD } })
    expect(newLogin.status).toBe(200)

    const reused = await postForm(path, { password: PASSWORD, password_confirmation: PASSWORD })
    expect(reused.status).toBe(410)
  })

  it('keeps only the newest reset link valid', async () => {
    await signUp(test, { email: 'twice@example.com' })
    await test.call('POST', '/v1/auth/password-reset', { body: { email: 'twice@example.com' } })
    const first = await mailedLink('twice@example.com', '/password-reset/')
    await test.call('POST', '/v1/auth/password-reset', { body: { email: 'twice@example.com' } })
    const second = await mailedLink('twice@example.com', '/password-reset/')

    expect(second).not.toBe(first)
    expect((await test.app.request(new URL(first).pathname)).status).toBe(410)
    expect((await test.app.request(new URL(second).pathname)).status).toBe(200)
  })

  it('throttles reset requests per address alike', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      statuses.push((await test.call('POST', '/v1/auth/password-reset', { body: { email: 'throttled-unknown@example.com' } })).status)
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429])
  })

  it('verifies the address from the sign-up mail', async () => {
    const user = await signUp(test, { email: 'verify.me@example.com' })
    const link = await mailedLink('verify.me@example.com', '/verify-email/')
    const path = new URL(link).pathname

    expect((await test.call('GET', '/v1/profile', { token: user.token })).body.email_verified).toBe(false)
    const page = await test.app.request(path)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form method="post">')
    expect((await test.call('GET', '/v1/profile', { token: user.token })).body.email_verified).toBe(false)

    const confirmed = await postForm(path, {})
    expect(confirmed.status).toBe(200)
    expect((await test.call('GET', '/v1/profile', { token: user.token })).body.email_verified).toBe(true)
    expect((await postForm(path, {})).status).toBe(410)
    const resend = await test.call('POST', '/v1/profile/verify-email', { token: user.token })
    expect(resend.body).toMatchObject({ email_verified: true, sent: false })
  })

  it('resends the verification link', async () => {
    const user = await signUp(test, { email: 'resend.verify@example.com' })
    const first = await mailedLink('resend.verify@example.com', '/verify-email/')

    const resend = await test.call('POST', '/v1/profile/verify-email', { token: user.token })

    expect(resend.status).toBe(202)
    expect(resend.body).toMatchObject({ email: 'resend.verify@example.com', sent: true })
    const second = await mailedLink('resend.verify@example.com', '/verify-email/')
    expect(second).not.toBe(first)
    expect((await test.app.request(new URL(first).pathname)).status).toBe(410)
  })

  it('redacts link secrets from logged paths', () => {
    expect(redactPath('/invitations/fxi_abcDEF123')).toBe('/invitations/fxi_[redacted]')
    expect(redactPath('/password-reset/fxr_abc')).toBe('/password-reset/fxr_[redacted]')
    expect(redactPath('/v1/workspaces/ws_1/members')).toBe('/v1/workspaces/ws_1/members')
  })
})
