import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'

describe('audit log, leave and delete through the CLI', () => {
  let server: ServerProcess
  let database: DatabaseHandle
  let admin: CliUser
  let adminSignup: any
  let member: CliUser
  let memberSignup: any

  async function join(workspaceId: string, userId: string, role: 'admin' | 'member' = 'member') {
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: workspaceId, user_id: userId, role, created_at: new Date().toISOString() })
      .execute()
  }

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    database = await openDatabase(server.databaseUrl)
    ;({ user: admin, signup: adminSignup } = await signUpWithCli(server.url, 'ada@example.com', { workspaceName: 'Acme' }))
    ;({ user: member, signup: memberSignup } = await signUpWithCli(server.url, 'grace@example.com', { workspaceName: 'Grace' }))
    await join(adminSignup.workspace.id, memberSignup.user.id)
    expect((await admin.run(['apps', 'create', 'Portal', '--json'])).exitCode).toBe(0)
    expect((await admin.run(['keys', 'rotate', '--app', 'Portal', '--json'])).exitCode).toBe(0)
    expect((await member.run(['keys', 'rotate', '--app', 'Portal', '--workspace', 'Acme', '--json'])).exitCode).toBe(0)
    expect((await admin.run(['tokens', 'create', '--name', 'ci', '--permission', 'settings:read', '--json'])).exitCode).toBe(0)
  })
  afterAll(async () => {
    await database?.close()
    await server?.stop()
  })

  it('lists events newest first as JSON', async () => {
    const result = await admin.run(['audit', 'list', '--json'])

    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe('')
    const events = result.json().data
    expect(events.map((event: { action: string }) => event.action)).toEqual([
      'token.create',
      'keys.rotate',
      'keys.rotate',
      'application.create',
      'workspace.create',
    ])
    expect(result.json().next_cursor).toBeNull()
  })

  it('filters by action prefix, actor email and time', async () => {
    const keys = await admin.run(['audit', 'list', '--action', 'keys.', '--json'])
    const byMember = await admin.run(['audit', 'list', '--actor', 'grace@example.com', '--json'])
    const recent = await admin.run(['audit', 'list', '--since', '1h', '--json'])
    const future = await admin.run(['audit', 'list', '--since', '2999-01-01', '--json'])
    const bad = await admin.run(['audit', 'list', '--since', 'last-week'])

    expect(keys.json().data.map((event: { action: string }) => event.action)).toEqual(['keys.rotate', 'keys.rotate'])
    expect(byMember.json().data).toHaveLength(1)
    expect(byMember.json().data[0].actor_id).toBe(memberSignup.user.id)
    expect(recent.json().data).toHaveLength(5)
    expect(future.json().data).toEqual([])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('since')
  })

  it('pages with --limit and --cursor', async () => {
    const first = await admin.run(['audit', 'list', '--limit', '2', '--json'])
    const cursor = first.json().next_cursor
    const second = await admin.run(['audit', 'list', '--limit', '2', '--cursor', cursor, '--json'])
    const table = await admin.run(['audit', 'list', '--limit', '2'])

    expect(first.json().data).toHaveLength(2)
    expect(cursor).toEqual(expect.any(String))
    expect(second.json().data.map((event: { action: string }) => event.action)).toEqual(['keys.rotate', 'application.create'])
    expect(table.exitCode).toBe(0)
    expect(table.stdout).toContain('token.create')
    expect(table.stdout).not.toContain('application.create')
    expect(table.stderr).toContain('--cursor')
  })

  it('exports every page with --all --json', async () => {
    for (let index = 0; index < 3; index++) {
      await admin.run(['apps', 'update', 'Portal', '--redirect-uri', `https://example.com/callback/${index}`, '--json'])
    }
    const full = await admin.run(['audit', 'list', '--limit', '500', '--json'])
    const auditRequests = () => server.output().split('\n').filter((line) => line.includes('/audit"')).length
    const requestsBefore = auditRequests()

    const exported = await admin.run(['audit', 'list', '--all', '--limit', '2', '--json'])

    expect(exported.exitCode).toBe(0)
    expect(exported.stderr).toBe('')
    expect(exported.json().next_cursor).toBeNull()
    expect(exported.json().data).toEqual(full.json().data)
    expect(exported.json().data.length).toBeGreaterThanOrEqual(8)
    expect(auditRequests() - requestsBefore).toBe(Math.ceil(full.json().data.length / 2))
  })

  it('prints CSV with a header line', async () => {
    const result = await admin.run(['audit', 'list', '--action', 'keys.rotate', '--csv'])

    const lines = result.stdout.trimEnd().split('\r\n')
    expect(result.exitCode).toBe(0)
    expect(lines[0]).toBe('id,created_at,actor_type,actor_id,actor_label,action,target_type,target_id,address,request_id,data')
    expect(lines).toHaveLength(3)
    expect(lines[1]).toContain(',keys.rotate,')
    expect(lines[1]).toContain('grace@example.com')
  })

  it('rejects a member reading the audit log', async () => {
    const result = await member.run(['audit', 'list', '--workspace', 'Acme', '--json'])

    expect(result.exitCode).toBe(4)
    expect(result.json().error.permission).toBe('team:manage')
  })

  it('rejects the last admin leaving', async () => {
    const result = await admin.run(['workspaces', 'leave', '--confirm', 'Acme'])

    expect(result.exitCode).toBe(6)
    expect(result.stderr).toContain('last admin')
  })

  it('needs --confirm to leave without a terminal', async () => {
    const result = await member.run(['workspaces', 'leave', '--workspace', 'Acme'])

    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('--confirm')
  })

  it('lets a member leave', async () => {
    const result = await member.run(['workspaces', 'leave', '--workspace', 'Acme', '--confirm', 'Acme', '--json'])
    const after = await member.run(['apps', 'list', '--workspace', 'Acme'])
    const audit = await admin.run(['audit', 'list', '--action', 'member.leave', '--json'])

    expect(result.exitCode).toBe(0)
    expect(result.json().left).toBe(true)
    expect(after.exitCode).toBe(5)
    expect(audit.json().data[0].actor_label).toBe('grace@example.com')
  })

  it('rejects deleting without team:manage or with a wrong name', async () => {
    await join(adminSignup.workspace.id, memberSignup.user.id)

    const byMember = await member.run(['workspaces', 'delete', '--workspace', 'Acme', '--confirm', 'Acme'])
    const mismatch = await admin.run(['workspaces', 'delete', '--confirm', 'acme'])
    const unconfirmed = await admin.run(['workspaces', 'delete'])
    const still = await admin.run(['apps', 'list', '--json'])

    expect(byMember.exitCode).toBe(4)
    expect(mismatch.exitCode).toBe(2)
    expect(mismatch.stderr).toContain('does not match')
    expect(unconfirmed.exitCode).toBe(2)
    expect(unconfirmed.stderr).toContain('--confirm')
    expect(still.exitCode).toBe(0)
  })

  it('deletes a workspace and keeps its audit records', async () => {
    const workspaceId = adminSignup.workspace.id
    const before = await database.db.selectFrom('audit_events').select('id').where('workspace_id', '=', workspaceId).execute()

    const result = await admin.run(['workspaces', 'delete', '--confirm', 'Acme', '--json'])
    const after = await admin.run(['apps', 'list', '--workspace', workspaceId])
    const list = await admin.run(['workspaces', 'list', '--json'])

    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json()).toEqual({ id: workspaceId, name: 'Acme', deleted: true })
    expect(after.exitCode).toBe(5)
    expect(list.json().data).toEqual([])
    const kept = await database.db
      .selectFrom('audit_events')
      .select(['id', 'action'])
      .where('workspace_id', '=', workspaceId)
      .execute()
    expect(kept.length).toBe(before.length + 1)
    expect(kept.map((row) => row.action)).toContain('workspace.delete')
  })
})
