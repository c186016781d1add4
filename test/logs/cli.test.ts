import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { SANDBOX_HUMANA } from './helpers.js'
import { backend, startCli } from './processes.js'

const PHI_VALUES = /patient-42|Grace Patient|pat-100|1975-05-06/

describe('logs commands', () => {
  let server: ServerProcess
  let database: DatabaseHandle
  let admin: CliUser
  let member: CliUser
  let workspaceId: string
  let api: ReturnType<typeof backend>
  let rowId: string

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    database = await openDatabase(server.databaseUrl)
    const signedUp = await signUpWithCli(server.url, 'admin@example.com', { workspaceName: 'Clinic' })
    admin = signedUp.user
    workspaceId = signedUp.signup.workspace.id
    const keys = (await admin.run(['apps', 'create', 'Portal', '--json'])).json().keys
    api = backend(() => server.url, keys)

    const memberSignup = await signUpWithCli(server.url, 'member@example.com')
    member = memberSignup.user
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: workspaceId, user_id: memberSignup.signup.user.id, role: 'member', created_at: new Date().toISOString() })
      .execute()
    await database.db
      .updateTable('memberships')
      .set({ phi_withheld: 1 })
      .where('workspace_id', '=', workspaceId)
      .where('user_id', '=', memberSignup.signup.user.id)
      .execute()
    expect((await member.run(['workspaces', 'use', workspaceId])).exitCode).toBe(0)

    const created = await api.create({ endpoint_id: SANDBOX_HUMANA, external_user_id: 'patient-42' })
    rowId = created.id
    await api.advance(rowId, { state: 'AUTHORIZING' })
    await api.advance(rowId, { state: 'AUTHORIZED', patient: { id: 'pat-100', name: 'Grace Patient', birth_date: '1975-05-06' } })
  })
  afterAll(async () => {
    await database?.close()
    await server?.stop()
  })

  async function phiAudits(): Promise<{ actor_label: string | null; data: string | null }[]> {
    return database.db
      .selectFrom('audit_events')
      .select(['actor_label', 'data'])
      .where('workspace_id', '=', workspaceId)
      .where('action', '=', 'phi.read')
      .execute()
  }

  it('hides PHI from a member in list, show and CSV', async () => {
    const list = await member.run(['logs', 'list', '--test', '--json'])
    const table = await member.run(['logs', 'list', '--test'])
    const show = await member.run(['logs', 'show', rowId, '--json'])
    const csv = await member.run(['logs', 'list', '--test', '--csv'])

    expect(list.exitCode).toBe(0)
    expect(list.json().data[0]).toMatchObject({ id: rowId, phi_redacted: true, patient_name: null, external_user_id: null })
    expect(table.stdout).toContain('[redacted]')
    expect(show.json()).toMatchObject({ id: rowId, phi_redacted: true, patient_id: null, patient_birth_date: null })
    expect(csv.exitCode).toBe(0)
    expect(csv.stdout.split('\r\n')[0]).toContain('patient_name')
    expect(csv.stdout).toContain(',true,')
    for (const result of [list, table, show, csv]) {
      expect(result.stdout).not.toMatch(PHI_VALUES)
      expect(result.stderr).not.toMatch(PHI_VALUES)
    }
    expect(await phiAudits()).toEqual([])
  })

  it('hides PHI from a member in tail and analytics', async () => {
    const tail = startCli(member, server.url, ['logs', 'tail', '--test', '--json'])
    await tail.waitForStderr('Tailing')
    await api.advance(rowId, { state: 'EXCHANGED' })
    await tail.waitFor((lines) => lines.length === 1, 'the EXCHANGED change')
    const exitCode = await tail.stop()
    const analytics = await member.run(['analytics', '--test', '--json'])

    expect(exitCode).toBe(0)
    expect(JSON.parse(tail.stdoutLines()[0])).toMatchObject({ id: rowId, state: 'EXCHANGED', phi_redacted: true, patient_name: null })
    expect(tail.stdoutLines().join('\n')).not.toMatch(PHI_VALUES)
    expect(analytics.exitCode).toBe(0)
    expect(analytics.json().by_state.EXCHANGED).toBe(1)
    expect(analytics.stdout).not.toMatch(PHI_VALUES)
    expect(await phiAudits()).toEqual([])
  })

  it('rejects the external user id filter for a member with exit 4', async () => {
    const result = await member.run(['logs', 'list', '--test', '--external-user-id', 'patient-42'])

    expect(result.exitCode).toBe(4)
    expect(result.stderr).toContain('phi:read')
    expect(result.stdout).toBe('')
  })

  it('shows PHI to the admin and audits each response', async () => {
    const list = await admin.run(['logs', 'list', '--test', '--external-user-id', 'patient-42', '--json'])
    const show = await admin.run(['logs', 'show', rowId])
    const csv = await admin.run(['logs', 'list', '--test', '--csv'])

    expect(list.json().data[0]).toMatchObject({ patient_name: 'Grace Patient', phi_redacted: false })
    expect(show.stdout).toContain('Grace Patient')
    expect(csv.stdout).toContain('Grace Patient')
    const audits = await phiAudits()
    expect(audits).toHaveLength(3)
    for (const audit of audits) {
      expect(audit.actor_label).toBe('admin@example.com')
      expect(JSON.parse(audit.data!).access_token_ids).toEqual([rowId])
      expect(audit.data).not.toMatch(PHI_VALUES)
    }
  })

  it('audits PHI sent by the tail', async () => {
    const before = (await phiAudits()).length
    const tail = startCli(admin, server.url, ['logs', 'tail', '--test', '--json'])
    await tail.waitForStderr('Tailing')
    const created = await api.create({ endpoint_id: SANDBOX_HUMANA, external_user_id: 'patient-42' })
    await tail.waitFor((lines) => lines.length === 1, 'the new row')
    await tail.stop()

    const audits = await phiAudits()
    expect(audits).toHaveLength(before + 1)
    expect(JSON.parse(audits[audits.length - 1].data!)).toEqual({ via: 'logs.tail', access_token_ids: [created.id] })
  })

  it('walks every page with --all', async () => {
    for (let i = 0; i < 5; i++) await api.create({ endpoint_id: SANDBOX_HUMANA })

    const page = await admin.run(['logs', 'list', '--test', '--limit', '2', '--json'])
    const next = await admin.run(['logs', 'list', '--test', '--limit', '2', '--cursor', page.json().next_cursor, '--json'])
    const all = await admin.run(['logs', 'list', '--test', '--all', '--json'])
    const table = await admin.run(['logs', 'list', '--test', '--limit', '2'])

    expect(page.json().data).toHaveLength(2)
    expect(next.json().data[0].id).not.toBe(page.json().data[1].id)
    expect(all.json().data).toHaveLength(7)
    expect(all.json().next_cursor).toBeNull()
    expect(table.stderr).toContain('--cursor')
  })

  it('filters by relative time and rejects a bad one', async () => {
    const recent = await admin.run(['logs', 'list', '--test', '--since', '1h', '--json'])
    const future = await admin.run(['logs', 'list', '--test', '--since', '2099-01-01', '--json'])
    const invalid = await admin.run(['logs', 'list', '--since', 'yesterday'])

    expect(recent.json().data.length).toBeGreaterThan(0)
    expect(future.json().data).toEqual([])
    expect(invalid.exitCode).toBe(2)
    expect(invalid.stderr).toContain('yesterday')
  })

  it('shows nothing of test rows in live mode', async () => {
    const result = await admin.run(['logs', 'list'])

    expect(result.exitCode).toBe(0)
    expect(result.stderr).toContain('No access tokens match')
  })

  it('fails with exit 5 for an unknown row', async () => {
    const result = await admin.run(['logs', 'show', 'atk_missing'])

    expect(result.exitCode).toBe(5)
    expect(result.stderr).toContain('atk_missing')
  })

  it('triggers a denied flow', async () => {
    const result = await admin.run(['logs', 'trigger', '--app', 'Portal', '--outcome', 'denied', '--json'])
    const table = await admin.run(['logs', 'trigger', '--app', 'Portal'])

    expect(result.exitCode).toBe(0)
    expect(result.json().states).toEqual(['CREATED', 'AUTHORIZING', 'ERROR'])
    expect(result.json().access_token.mode).toBe('test')
    expect(table.stdout).toContain('CREATED → AUTHORIZING → AUTHORIZED → EXCHANGED')
  })

  it('prints analytics as tables', async () => {
    const result = await admin.run(['analytics', '--test'])

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('Success rate')
    expect(result.stdout).toContain('Humana Sandbox')
  })

  it('lists sandbox endpoints for a member', async () => {
    const result = await member.run(['endpoints', 'list', '--test', '--json'])
    const table = await member.run(['endpoints', 'list'])

    expect(result.exitCode).toBe(0)
    expect(result.json().data.map((endpoint: { id: string }) => endpoint.id)).toContain(SANDBOX_HUMANA)
    expect(table.stdout).toContain('Blue Button 2.0')
    expect(table.stdout).toContain('test (sandbox)')
  })

  describe('log retention', () => {
    it('needs the name typed back to shorten', async () => {
      const missing = await admin.run(['settings', 'set', '--log-retention-days', '30'])
      const wrong = await admin.run(['settings', 'set', '--log-retention-days', '30', '--confirm', 'Clinc'])

      expect(missing.exitCode).toBe(2)
      expect(missing.stderr).toContain('--confirm')
      expect(wrong.exitCode).toBe(2)
      expect(wrong.stderr).toContain('does not match')
    })

    it('shortens with --confirm and keeps rows for 7 days', async () => {
      const result = await admin.run(['settings', 'set', '--log-retention-days', '30', '--confirm', 'Clinic', '--json'])
      const people = await admin.run(['settings', 'set', '--log-retention-days', '20', '--confirm', 'Clinic'])

      expect(result.exitCode).toBe(0)
      expect(result.json()).toMatchObject({ log_retention_days: 30, log_retention_effective_days: 365 })
      expect(people.stderr).toContain('To undo, set --log-retention-days 365')
      const audits = await database.db
        .selectFrom('audit_events')
        .select('data')
        .where('workspace_id', '=', workspaceId)
        .where('action', '=', 'settings.update')
        .execute()
      expect(audits.map((audit) => JSON.parse(audit.data!).log_retention_days.to)).toEqual([30, 20])
    })

    it('lengthens without asking', async () => {
      const result = await admin.run(['settings', 'set', '--log-retention-days', '400', '--json'])

      expect(result.exitCode).toBe(0)
      expect(result.json()).toMatchObject({ log_retention_days: 400, log_retention_effective_days: 400 })
    })

    it('rejects a value out of range with exit 2', async () => {
      const result = await admin.run(['settings', 'set', '--log-retention-days', '3'])

      expect(result.exitCode).toBe(2)
      expect(result.stderr).toContain('must be from 7 to 2190, got 3')
    })
  })

  it('rejects logs list for a stranger with exit 5', async () => {
    const stranger = (await signUpWithCli(server.url, 'stranger@example.com')).user

    const result = await stranger.run(['logs', 'list', '--workspace', workspaceId])

    expect(result.exitCode).toBe(5)
    expect(result.stderr).toContain('was not found')
  })
})
