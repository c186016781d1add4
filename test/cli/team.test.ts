import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD, signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { linkIn, startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp.js'

describe('team commands', () => {
  let smtp: SmtpReceiver
  let server: ServerProcess
  let admin: CliUser
  let adminEmail: string
  let workspaceId: string

  beforeAll(async () => {
    smtp = await startSmtpReceiver()
    server = await startServer({ dialect: 'sqlite', env: { SMTP_URL: smtp.url } })
    adminEmail = 'owner@team.example'
    const signed = await signUpWithCli(server.url, adminEmail, { workspaceName: 'Team Test' })
    admin = signed.user
    workspaceId = signed.signup.workspace.id
  })
  afterAll(async () => {
    await server?.stop()
    await smtp?.close()
  })

  /** Signs up a person and returns their CLI handle, with the admin's workspace selected. */
  async function joinedMember(email: string, role: 'member' | 'admin' = 'member'): Promise<CliUser> {
    const person = (await signUpWithCli(server.url, email)).user
    const invited = await admin.run(['team', 'invite', email, '--role', role, '--json'])
    expect(invited.exitCode, invited.stderr).toBe(0)
    const mail = await smtp.waitFor(email, '/invitations/')
    const accepted = await person.run(['invitations', 'accept', linkIn(mail, '/invitations/'), '--json'])
    expect(accepted.exitCode, accepted.stderr).toBe(0)
    await person.run(['workspaces', 'use', workspaceId])
    return person
  }

  it('provisions from a file and is safe to run again', async () => {
    const file = join(admin.configDir, 'team.csv')
    writeFileSync(file, 'email,role\n# engineering\n  Lin@Team.Example , admin\nmo@team.example,member\n\nkai@team.example\n')

    const first = await admin.run(['team', 'invite', '--from-file', file, '--json'])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(first.json().data.map((row: { email: string; role: string; outcome: string }) => [row.email, row.role, row.outcome])).toEqual([
      ['lin@team.example', 'admin', 'invited'],
      ['mo@team.example', 'member', 'invited'],
      ['kai@team.example', 'member', 'invited'],
    ])
    expect(first.stderr).toBe('')

    const again = await admin.run(['team', 'invite', '--from-file', file, '--json'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.json().data.map((row: { outcome: string }) => row.outcome)).toEqual(['already_invited', 'already_invited', 'already_invited'])

    writeFileSync(file, `lin@team.example,admin\nnot-an-address,member\n${adminEmail}\n`)
    const mixed = await admin.run(['team', 'invite', '--from-file', file])
    expect(mixed.exitCode).toBe(6)
    expect(mixed.stdout).toContain('already invited')
    expect(mixed.stdout).toContain('already a member')
    expect(mixed.stderr).toContain('not-an-address: invalid address')
    expect(mixed.stderr).toContain('1 of 3 rows were rejected')

    const mail = await smtp.waitFor('lin@team.example', '/invitations/')
    expect(mail.subject).toContain('Team Test')
    expect(smtp.messages.filter((message) => message.to.includes('lin@team.example'))).toHaveLength(1)
  })

  it('rejects a malformed provisioning file with exit 2', async () => {
    const file = join(admin.configDir, 'bad.csv')
    writeFileSync(file, 'ok@team.example,member\nwho@team.example,owner\n')
    const badRole = await admin.run(['team', 'invite', '--from-file', file])
    writeFileSync(file, 'a@team.example,member,extra\n')
    const extraField = await admin.run(['team', 'invite', '--from-file', file])
    const missing = await admin.run(['team', 'invite', '--from-file', join(admin.configDir, 'absent.csv')])
    const both = await admin.run(['team', 'invite', 'x@team.example', '--from-file', file])

    expect(badRole.exitCode).toBe(2)
    expect(badRole.stderr).toContain('line 2: role "owner" is not one of admin, member')
    expect(badRole.stdout).toBe('')
    expect(extraField.exitCode).toBe(2)
    expect(extraField.stderr).toContain('line 1: expected "email,role"')
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('no such file')
    expect(both.exitCode).toBe(2)
    const listed = await admin.run(['invitations', 'list', '--json'])
    expect(listed.json().data.map((row: { email: string }) => row.email)).not.toContain('ok@team.example')
  })

  it('reads a provisioning file from stdin', async () => {
    const result = await admin.run(['team', 'invite', '--from-file', '-', '--json'], { input: 'stdin.person@team.example,member\n' })

    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json().data[0]).toMatchObject({ email: 'stdin.person@team.example', outcome: 'invited' })
  })

  it('lists members and invitations for people and scripts', async () => {
    await admin.run(['team', 'invite', 'listed@team.example'])

    const table = await admin.run(['team', 'list'])
    const json = await admin.run(['team', 'list', '--json'])

    expect(table.exitCode, table.stderr).toBe(0)
    expect(table.stdout).toContain(adminEmail)
    expect(table.stdout).toContain('Pending invitations')
    expect(table.stdout).toContain('listed@team.example')
    expect(json.exitCode).toBe(0)
    expect(json.json().members[0]).toMatchObject({ email: adminEmail, role: 'admin', phi_read: true })
    expect(json.json().invitations.map((row: { email: string }) => row.email)).toContain('listed@team.example')
    expect(json.stderr).toBe('')
  })

  it('enforces the last-admin and self-removal rules', async () => {
    const demote = await admin.run(['team', 'role', adminEmail, 'member'])
    const removeSelf = await admin.run(['team', 'remove', adminEmail, '--confirm', adminEmail])

    expect(demote.exitCode).toBe(6)
    expect(demote.stderr).toContain('is the last admin')
    expect(removeSelf.exitCode).toBe(6)
    expect(removeSelf.stderr).toContain('flexpa workspaces leave')
    expect(removeSelf.stdout).toBe('')
  })

  it('removes a member, whose next call is rejected', async () => {
    const member = await joinedMember('leaving@team.example')
    const before = await member.run(['team', 'list', '--json'])
    expect(before.exitCode, before.stderr).toBe(0)

    const unconfirmed = await admin.run(['team', 'remove', 'Leaving@Team.example'])
    expect(unconfirmed.exitCode).toBe(2)
    expect(unconfirmed.stderr).toContain('--confirm')
    const mismatch = await admin.run(['team', 'remove', 'leaving@team.example', '--confirm', 'someone@else.example'])
    expect(mismatch.exitCode).toBe(2)
    const removed = await admin.run(['team', 'remove', 'leaving@team.example', '--confirm', 'leaving@team.example', '--json'])
    expect(removed.exitCode, removed.stderr).toBe(0)
    expect(removed.json()).toMatchObject({ email: 'leaving@team.example', removed: true })

    const after = await member.run(['team', 'list'])
    expect(after.exitCode).toBe(5)
    expect(after.stderr).toContain('was not found')
  })

  it('changes roles and denies members team changes', async () => {
    const member = await joinedMember('promoted@team.example')
    const denied = await member.run(['team', 'invite', 'x@team.example'])
    expect(denied.exitCode).toBe(4)
    expect(denied.stderr).toContain('team:manage')

    const promoted = await admin.run(['team', 'role', 'promoted@team.example', 'admin'])
    expect(promoted.exitCode, promoted.stderr).toBe(0)
    expect(promoted.stderr).toContain('promoted@team.example is now admin')
    const allowed = await member.run(['invitations', 'list', '--json'])
    expect(allowed.exitCode).toBe(0)
    const unchanged = await admin.run(['team', 'role', 'promoted@team.example', 'admin', '--json'])
    expect(unchanged.json().changed).toBe(false)
    const badRole = await admin.run(['team', 'role', 'promoted@team.example', 'owner'])
    expect(badRole.exitCode).toBe(2)
  })

  it('withholds and restores PHI access', async () => {
    await joinedMember('phi@team.example')

    const neither = await admin.run(['team', 'phi', 'phi@team.example'])
    const both = await admin.run(['team', 'phi', 'phi@team.example', '--withhold', '--restore'])
    const withheld = await admin.run(['team', 'phi', 'phi@team.example', '--withhold', '--json'])
    const listed = await admin.run(['team', 'list', '--json'])
    const restored = await admin.run(['team', 'phi', 'phi@team.example', '--restore'])

    expect(neither.exitCode).toBe(2)
    expect(both.exitCode).toBe(2)
    expect(withheld.exitCode).toBe(0)
    expect(withheld.json()).toMatchObject({ phi_read: false, changed: true })
    expect(listed.json().members.find((row: { email: string }) => row.email === 'phi@team.example').phi_read).toBe(false)
    expect(restored.exitCode).toBe(0)
    expect(restored.stderr).toContain('now holds phi:read')
  })

  it('accepts, resends and revokes invitations', async () => {
    const person = (await signUpWithCli(server.url, 'Accepting@Team.example')).user
    const stranger = (await signUpWithCli(server.url, 'stranger@team.example')).user
    await admin.run(['team', 'invite', 'accepting@team.example'])
    const firstLink = linkIn(await smtp.waitFor('accepting@team.example', '/invitations/'), '/invitations/')

    const resent = await admin.run(['invitations', 'resend', 'accepting@team.example', '--json'])
    expect(resent.exitCode, resent.stderr).toBe(0)
    const invitationMails = () => smtp.messages.filter((mail) => mail.to.includes('accepting@team.example') && mail.text.includes('/invitations/'))
    await expect.poll(() => invitationMails().length).toBe(2)
    const secondLink = linkIn(invitationMails()[1], '/invitations/')
    expect(secondLink).not.toBe(firstLink)

    const stale = await person.run(['invitations', 'accept', firstLink])
    expect(stale.exitCode).toBe(5)
    const wrongPerson = await stranger.run(['invitations', 'accept', secondLink])
    expect(wrongPerson.exitCode).toBe(4)
    expect(wrongPerson.stderr).toContain('another address')
    const token = secondLink.slice(secondLink.lastIndexOf('/') + 1)
    const accepted = await person.run(['invitations', 'accept', token])
    expect(accepted.exitCode, accepted.stderr).toBe(0)
    expect(accepted.stderr).toContain('You joined Team Test')
    const reused = await person.run(['invitations', 'accept', secondLink])
    expect(reused.exitCode).toBe(6)

    await admin.run(['team', 'invite', 'revoked@team.example'])
    const revoked = await admin.run(['invitations', 'revoke', 'revoked@team.example', '--json'])
    expect(revoked.exitCode).toBe(0)
    expect(revoked.json().status).toBe('revoked')
    const revokedAgain = await admin.run(['invitations', 'revoke', 'revoked@team.example'])
    expect(revokedAgain.exitCode).toBe(5)
  })

  it('requests a password reset without telling who has an account', async () => {
    const anonymous = cliUser(server.url)

    const known = await anonymous.run(['password', 'reset', '--email', adminEmail])
    const unknown = await anonymous.run(['password', 'reset', '--email', 'ghost@team.example'])
    const missing = await anonymous.run(['password', 'reset'])

    expect(known.exitCode).toBe(0)
    expect(unknown.exitCode).toBe(0)
    expect(unknown.stderr.replace('ghost@team.example', adminEmail)).toBe(known.stderr)
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('--email')
    const mail = await smtp.waitFor(adminEmail, '/password-reset/')
    expect(mail.subject).toBe('Reset your Flexpa Portal password')
    expect(smtp.messages.some((message) => message.to.includes('ghost@team.example'))).toBe(false)
  })

  it('sends a new verification link', async () => {
    const result = await admin.run(['profile', 'verify-email', '--json'])

    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json()).toMatchObject({ email: adminEmail, sent: true })
  })

  it('keeps link secrets out of the server log', async () => {
    const tokens = smtp.messages.flatMap((mail) => [...mail.text.matchAll(/fx[irv]_[0-9A-Za-z]{20,}/g)].map((match) => match[0]))
    expect(tokens.length).toBeGreaterThan(0)
    for (const token of tokens) expect(server.output()).not.toContain(token)
    expect(PASSWORD).not.toBe('')
    expect(server.output()).not.toContain(PASSWORD)
  })
})
