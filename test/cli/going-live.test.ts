import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { VALID_FORM } from '../fixtures/live-access-form.js'
import { signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '../helpers/smtp.js'
import { signedHeaders, startStripeStandIn, type StripeStandIn } from '../helpers/stripe.js'

const OPERATOR = 'ops@flexpa.test'

/** Waits for a message to `address` whose subject matches, ignoring other mail to the same person. */
async function waitForMail(receiver: SmtpReceiver, address: string, subject: RegExp, timeoutMs = 20_000): Promise<ReceivedMail> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = receiver.messages.find((mail) => mail.to.includes(address) && subject.test(mail.subject))
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no mail to ${address} matching ${subject}; received: ${receiver.messages.map((mail) => `${mail.to} ${mail.subject}`).join(' | ')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Records a first test-mode access token. `flexpa logs trigger` does that where the access-token
 * logs are built. Without them, a minimal `access_tokens` table replaces them for this step.
 */
async function recordTestAccessToken(user: CliUser, database: DatabaseHandle, workspaceId: string): Promise<void> {
  const triggered = await user.run(['logs', 'trigger', '--app', 'Portal', '--json'])
  if (triggered.exitCode === 0) return
  await sql`create table if not exists access_tokens (workspace_id text not null, mode text not null, created_at text not null)`.execute(database.db)
  await sql`insert into access_tokens (workspace_id, mode, created_at) values (${workspaceId}, 'test', ${new Date().toISOString()})`.execute(database.db)
}

describe('going live through the CLI', () => {
  let server: ServerProcess
  let smtp: SmtpReceiver
  let stripe: StripeStandIn
  let database: DatabaseHandle
  let admin: CliUser
  let member: CliUser
  let operator: CliUser
  let workspaceId: string
  let adminEmail: string

  beforeAll(async () => {
    smtp = await startSmtpReceiver()
    stripe = await startStripeStandIn()
    server = await startServer({
      dialect: 'sqlite',
      env: {
        SMTP_URL: smtp.url,
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
        STRIPE_API_BASE: stripe.url,
        FLEXPA_OPERATOR_EMAILS: OPERATOR,
      },
    })
    database = await openDatabase(server.databaseUrl)
    adminEmail = 'grace@acme.test'
    const signedUp = await signUpWithCli(server.url, adminEmail, { workspaceName: 'Acme' })
    admin = signedUp.user
    workspaceId = signedUp.signup.workspace.id
    const memberSignup = await signUpWithCli(server.url, 'linus@acme.test', { workspaceName: 'Linus' })
    member = memberSignup.user
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: workspaceId, user_id: memberSignup.signup.user.id, role: 'member', created_at: new Date().toISOString() })
      .execute()
    const operatorSignup = await signUpWithCli(server.url, OPERATOR, { workspaceName: 'Flexpa Ops' })
    operator = operatorSignup.user
    await database.db.updateTable('users').set({ email_verified_at: new Date().toISOString() }).where('email', '=', OPERATOR).execute()
  })
  afterAll(async () => {
    await database?.close()
    await server?.stop()
    await smtp?.close()
    await stripe?.close()
  })

  it('takes a workspace from test mode to live keys', async () => {
    const ws = ['--workspace', workspaceId]

    const fresh = await admin.run(['home', ...ws])
    expect(fresh.exitCode).toBe(0)
    expect(fresh.stdout).toContain('[ ] 1. Create an application')
    expect(fresh.stdout).toContain('Next: flexpa apps create <name>')

    expect((await admin.run(['apps', 'create', 'Portal', ...ws, '--json'])).exitCode).toBe(0)
    await recordTestAccessToken(admin, database, workspaceId)

    const early = await admin.run(['keys', 'rotate', '--app', 'Portal', '--live', ...ws])
    expect(early.exitCode).toBe(6)
    expect(early.stdout).toBe('')
    expect(early.stderr).toContain('live keys need the go-live checklist completed; missing:')
    expect(early.stderr).toContain('  - the Live Mode Access form has not been submitted (flexpa live apply)')
    expect(early.stderr).toContain('  - no payment method is on file (flexpa billing setup)')
    expect(early.stderr).not.toContain('--confirm')

    const formFile = join(tmpdir(), `live-form-${Date.now()}.json`)
    writeFileSync(formFile, JSON.stringify(VALID_FORM))
    const applied = await member.run(['live', 'apply', '--from-file', formFile, ...ws, '--json'])
    expect(applied.exitCode).toBe(0)
    expect(applied.stderr).toBe('')
    const requestId = applied.json().id
    expect(requestId).toMatch(/^live_/)

    const notOperator = await admin.run(['admin', 'live-access', 'list'])
    expect(notOperator.exitCode).toBe(5)
    expect(notOperator.stderr).toContain('you are not an operator of this server')
    expect(notOperator.stderr).toContain('FLEXPA_OPERATOR_EMAILS')

    const pending = await operator.run(['admin', 'live-access', 'list', '--status', 'pending', '--json'])
    expect(pending.exitCode).toBe(0)
    expect(pending.json().data.map((row: { id: string }) => row.id)).toContain(requestId)
    const table = await operator.run(['admin', 'live-access', 'list', '--status', 'pending'])
    expect(table.stdout).toContain('Acme Health, Inc.')

    const approved = await operator.run(['admin', 'live-access', 'approve', requestId])
    expect(approved.exitCode).toBe(0)
    expect(approved.stderr).toContain(`Approved ${requestId} for workspace Acme (${workspaceId}).`)
    expect(approved.stderr).toContain(`Emailed ${adminEmail}.`)

    const mail = await waitForMail(smtp, adminEmail, /Live Mode Access approved/)
    expect(mail.subject).toBe('Live Mode Access approved for Acme')
    expect(mail.text).toContain('flexpa billing setup')
    expect(smtp.messages.some((message) => message.to.includes('linus@acme.test') && /approved/.test(message.subject))).toBe(false)

    const setup = await admin.run(['billing', 'setup', '--no-browser', ...ws, '--json'])
    expect(setup.exitCode).toBe(0)
    const checkout = setup.json()
    expect(checkout.checkout_url).toBe(`${stripe.url}/checkout/${checkout.session_id}`)
    expect(setup.stderr).toContain('Open the link above')

    const event = stripe.completeCheckout(checkout.session_id, { brand: 'visa', last4: '4242' })
    const payload = JSON.stringify(event)
    const delivered = await fetch(`${server.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, stripe.webhookSecret), body: payload })
    expect(delivered.status).toBe(200)

    const billing = await admin.run(['billing', 'status', ...ws])
    expect(billing.exitCode).toBe(0)
    expect(billing.stdout).toContain('Payment method: visa ending 4242')
    expect(billing.stdout).toContain(`Customer:       ${checkout.customer_id}`)

    const ready = await admin.run(['home', ...ws, '--json'])
    const steps = ready.json().steps as { step: string; done: boolean }[]
    expect(steps.filter((step) => !step.done).map((step) => step.step)).toEqual(['live_keys_issued'])

    const byMember = await member.run(['keys', 'rotate', '--app', 'Portal', '--live', ...ws])
    expect(byMember.exitCode).toBe(4)
    expect(byMember.stderr).toContain('live keys need the api-keys-live:manage permission, which your role (member) in Acme does not have')
    expect(byMember.stderr).not.toContain('--confirm')

    const wrongName = await admin.run(['keys', 'rotate', '--app', 'Portal', '--live', '--confirm', 'portal', ...ws])
    expect(wrongName.exitCode).toBe(2)

    const issued = await admin.run(['keys', 'rotate', '--app', 'Portal', '--live', '--confirm', 'Portal', ...ws, '--json'])
    expect(issued.exitCode).toBe(0)
    expect(issued.json().publishable_key).toMatch(/^pk_live_/)
    expect(issued.json().secret_key).toMatch(/^sk_live_/)

    const done = await admin.run(['home', ...ws])
    expect(done.stdout).toContain('[x] 7. Issue live keys')
    expect(done.stdout).not.toContain('[ ]')
    expect(done.stdout).toContain('All steps are done')

    const deleteByMember = await member.run(['apps', 'delete', 'Portal', '--confirm', 'Portal', ...ws])
    expect(deleteByMember.exitCode).toBe(4)
    expect(deleteByMember.stderr).toContain('api-keys-live:manage')
  })

  it('reports each invalid field of the form', async () => {
    const result = await admin.run([
      'live', 'apply', '--workspace', workspaceId,
      '--organization-name', 'Acme', '--website', 'acme.example', '--use-case', 'too short',
      '--expected-monthly-connections', 'many', '--usage', 'ONCE', '--privacy-policy-url', 'https://acme.example/privacy',
      '--terms-of-service-url', 'https://acme.example/terms', '--contact-name', 'Ada', '--contact-email', 'ada',
      '--hipaa-role', 'neither',
    ])

    expect(result.exitCode).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('website (--website): "acme.example" is not an absolute URL')
    expect(result.stderr).toContain('use_case (--use-case): must be at least 20 characters')
    expect(result.stderr).toContain('expected_monthly_connections (--expected-monthly-connections): must be a number')
    expect(result.stderr).toContain('usage (--usage): must be ONE_TIME or MULTIPLE')
    expect(result.stderr).toContain('contact_email (--contact-email): must be an email address')
    expect(result.stderr).not.toContain('organization_name')
  })

  it('names the missing flags when it cannot ask', async () => {
    const result = await admin.run(['live', 'apply', '--workspace', workspaceId, '--organization-name', 'Acme'])

    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('missing --website, --use-case, --expected-monthly-connections')
    expect(result.stderr).toContain('--hipaa-role')
  })

  it('waits for the payment method with --wait', async () => {
    const { user, signup } = await signUpWithCli(server.url, 'wait@acme.test', { workspaceName: 'Waiting' })
    const waiting = user.run(['billing', 'setup', '--no-browser', '--wait', '--json'], { env: { FLEXPA_POLL_MS: '200' } })
    const session = await new Promise<Record<string, any>>((resolve, reject) => {
      const started = Date.now()
      const timer = setInterval(() => {
        const found = [...stripe.checkoutSessions.values()].find((candidate) => candidate.client_reference_id === signup.workspace.id)
        if (found) resolve(found)
        if (found || Date.now() - started > 20_000) clearInterval(timer)
        if (!found && Date.now() - started > 20_000) reject(new Error('billing setup created no Checkout Session'))
      }, 100)
    })
    const payload = JSON.stringify(stripe.completeCheckout(session.id, { brand: 'amex', last4: '0005' }))
    await fetch(`${server.url}/webhooks/stripe`, { method: 'POST', headers: signedHeaders(payload, stripe.webhookSecret), body: payload })

    const result = await waiting

    expect(result.exitCode).toBe(0)
    expect(result.json().session_id).toBe(session.id)
    expect(result.json().billing.payment_method).toMatchObject({ brand: 'amex', last4: '0005' })
    expect(result.stderr).toContain('Waiting for Stripe to confirm the payment method')
  })

  it('opens the portal and lists invoices', async () => {
    const ws = ['--workspace', workspaceId]

    const portal = await admin.run(['billing', 'portal', '--no-browser', ...ws])
    const customerId = (await admin.run(['billing', 'status', ...ws, '--json'])).json().customer_id
    stripe.addInvoice(customerId, { number: 'ACME-0001', amount_due: 49900, status: 'paid' })
    const table = await admin.run(['billing', 'invoices', ...ws])
    const csv = await admin.run(['billing', 'invoices', '--csv', ...ws])

    expect(portal.exitCode).toBe(0)
    expect(portal.stdout).toMatch(new RegExp(`^${stripe.url}/portal/bps_\\w+\\n$`))
    expect(table.exitCode).toBe(0)
    expect(table.stdout).toContain('ACME-0001')
    expect(table.stdout).toContain('499.00 USD')
    expect(table.stdout).toContain('paid')
    expect(csv.stdout.split('\r\n')[0]).toBe('Date,Number,Amount,Status,Link')
    expect(csv.stdout).toContain(`,ACME-0001,499.00 USD,paid,${stripe.url}/invoices/ACME-0001`)
  })

  it('rejects a form, then accepts it corrected', async () => {
    const { user, signup } = await signUpWithCli(server.url, 'fix@acme.test', { workspaceName: 'Fixing' })
    const formFile = join(tmpdir(), `live-form-fix-${Date.now()}.json`)
    writeFileSync(formFile, JSON.stringify({ ...VALID_FORM, privacy_policy_url: 'https://acme.example/missing' }))
    const first = (await user.run(['live', 'apply', '--from-file', formFile, '--json'])).json()

    const rejected = await operator.run(['admin', 'live-access', 'reject', first.id, '--reason', 'The privacy policy URL does not load.'])
    const status = await user.run(['live', 'status'])
    const mail = await waitForMail(smtp, 'fix@acme.test', /needs changes/)
    const second = await user.run(['live', 'apply', '--from-file', formFile, '--privacy-policy-url', 'https://acme.example/privacy', '--json'])
    const history = await user.run(['live', 'status', '--json'])

    expect(rejected.exitCode).toBe(0)
    expect(rejected.stderr).toContain(`Rejected ${first.id} for workspace Fixing (${signup.workspace.id}).`)
    expect(status.exitCode).toBe(0)
    expect(status.stdout).toContain('Status: rejected')
    expect(status.stdout).toContain('Reason: The privacy policy URL does not load.')
    expect(status.stderr).toContain('Correct the form and send it again with flexpa live apply.')
    expect(mail.text).toContain('Reason: The privacy policy URL does not load.')
    expect(second.exitCode).toBe(0)
    expect(second.json().form.privacy_policy_url).toBe('https://acme.example/privacy')
    expect(history.json().status).toBe('pending')
    expect(history.json().history.map((row: { status: string }) => row.status)).toEqual(['pending', 'rejected'])
  })

  it('waives billing for an invoiced customer', async () => {
    const { user, signup } = await signUpWithCli(server.url, 'invoice@acme.test', { workspaceName: 'Invoiced' })

    const byAdmin = await user.run(['admin', 'billing', 'waive', signup.workspace.id])
    const waived = await operator.run(['admin', 'billing', 'waive', signup.workspace.id, '--reason', 'Invoiced yearly'])
    const status = await user.run(['billing', 'status'])

    expect(byAdmin.exitCode).toBe(5)
    expect(waived.exitCode).toBe(0)
    expect(waived.stdout).toBe('')
    expect(waived.stderr).toBe(`Billing of Invoiced (${signup.workspace.id}) is handled by invoice.\n`)
    expect(status.stdout).toContain('Payment method: none needed: billing is handled by invoice')
    expect(status.stdout).toContain('Waiver reason:  Invoiced yearly')
  })

  it('requires a reason to reject', async () => {
    const result = await operator.run(['admin', 'live-access', 'reject', 'live_unknown'])

    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('missing --reason')
  })
})

describe('billing without Stripe through the CLI', () => {
  let server: ServerProcess
  let admin: CliUser

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    admin = (await signUpWithCli(server.url, 'hopper@acme.test', { workspaceName: 'Hopper' })).user
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('exits 6 saying Stripe is not configured', async () => {
    const setup = await admin.run(['billing', 'setup', '--workspace', 'Hopper', '--no-browser'])
    const status = await admin.run(['billing', 'status', '--workspace', 'Hopper', '--json'])

    expect(setup.exitCode).toBe(6)
    expect(setup.stdout).toBe('')
    expect(setup.stderr).toContain('this server has no Stripe account configured (STRIPE_SECRET_KEY)')
    expect(status.exitCode).toBe(6)
    expect(status.json().error.code).toBe('not_configured')
  })
})
