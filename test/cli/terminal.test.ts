import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { signUpWithCli, type CliUser } from '../helpers/cli.js'
import { ROOT, startServer, type ServerProcess } from '../helpers/server.js'
import { startStripeStandIn, type StripeStandIn } from '../helpers/stripe.js'

const DOWN = '\u001b[B'
const ERASE = '\u007f'.repeat(40)

/** Strips ANSI escape sequences, so the prompts' text can be matched. */
function plain(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
}

/**
 * Runs the CLI under util-linux `script`, which gives it a pseudo-terminal, and types each answer
 * once its question appears.
 */
function runAtTerminal(user: CliUser, apiUrl: string, args: string[], answers: [string, string][], env: Record<string, string> = {}) {
  const command = [process.execPath, join(ROOT, 'bin/run.js'), ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, CI: '', NO_COLOR: '1', FLEXPA_CONFIG_DIR: user.configDir, FLEXPA_API_URL: apiUrl, FLEXPA_NO_KEYCHAIN: '1', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  let next = 0
  let searchFrom = 0
  child.stdout.on('data', (chunk) => {
    output += chunk
    while (next < answers.length) {
      const [question, keys] = answers[next]
      const found = plain(output).indexOf(question, searchFrom)
      if (found === -1) break
      searchFrom = found + question.length
      next += 1
      setTimeout(() => child.stdin.write(keys), 50)
    }
  })
  return new Promise<{ exitCode: number | null; output: string }>((resolve) => {
    const timer = setTimeout(() => child.kill(), 30_000)
    child.on('close', (exitCode) => {
      clearTimeout(timer)
      resolve({ exitCode, output: plain(output) })
    })
  })
}

describe.skipIf(process.platform !== 'linux')('live apply at a terminal', () => {
  let server: ServerProcess
  let admin: CliUser

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    admin = (await signUpWithCli(server.url, 'terminal@acme.test', { workspaceName: 'Terminal' })).user
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('asks for each field and checks it', async () => {
    const result = await runAtTerminal(admin, server.url, ['live', 'apply', '--organization-name', 'Acme Health, Inc.'], [
      ['Website', 'acme.example\r'],
      ['is not an absolute URL', `${ERASE}https://acme.example\r`],
      ['Use case', 'Patients share their claims so that we can find gaps in care.\r'],
      ['Expected patient connections per month', 'lots\r'],
      ['must be a number', `${ERASE}1200\r`],
      ['Usage', `${DOWN}\r`],
      ['Privacy policy URL', 'https://acme.example/privacy\r'],
      ['Terms of service URL', 'https://acme.example/terms\r'],
      ['Contact name', 'Ada Lovelace\r'],
      ['Contact email', 'ada@acme.example\r'],
      ['HIPAA role', `${DOWN}${DOWN}\r`],
    ])

    expect(result.exitCode).toBe(0)
    expect(result.output).not.toContain("Organization's legal name")
    expect(result.output).toMatch(/Submitted the Live Mode Access form live_\w+: pending/)
    const status = (await admin.run(['live', 'status', '--json'])).json()
    expect(status.current.form).toEqual({
      organization_name: 'Acme Health, Inc.',
      website: 'https://acme.example',
      use_case: 'Patients share their claims so that we can find gaps in care.',
      expected_monthly_connections: 1200,
      usage: 'MULTIPLE',
      privacy_policy_url: 'https://acme.example/privacy',
      terms_of_service_url: 'https://acme.example/terms',
      contact_name: 'Ada Lovelace',
      contact_email: 'ada@acme.example',
      hipaa_role: 'neither',
    })
  })
})

/** Creates a directory with an `xdg-open` that writes the URL it is given to `opened.txt`, and returns a PATH that finds it first. */
function fakeOpener(): { path: string; record: string } {
  const bin = mkdtempSync(join(tmpdir(), 'flexpa-opener-'))
  const record = join(bin, 'opened.txt')
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`)
  chmodSync(join(bin, 'xdg-open'), 0o755)
  return { path: `${bin}:${process.env.PATH}`, record }
}

describe.skipIf(process.platform !== 'linux')('billing setup and the browser', () => {
  let server: ServerProcess
  let stripe: StripeStandIn
  let admin: CliUser

  beforeAll(async () => {
    stripe = await startStripeStandIn()
    server = await startServer({
      dialect: 'sqlite',
      env: { STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_WEBHOOK_SECRET: stripe.webhookSecret, STRIPE_API_BASE: stripe.url },
    })
    admin = (await signUpWithCli(server.url, 'browser@acme.test', { workspaceName: 'Browser' })).user
  })
  afterAll(async () => {
    await server?.stop()
    await stripe?.close()
  })

  it('opens Checkout at a terminal', async () => {
    const opener = fakeOpener()

    const result = await runAtTerminal(admin, server.url, ['billing', 'setup'], [], { PATH: opener.path })
    for (let i = 0; i < 50 && !existsSync(opener.record); i++) await new Promise((resolve) => setTimeout(resolve, 20))

    expect(result.exitCode).toBe(0)
    expect(result.output).toContain('Opened the link in your browser.')
    expect(readFileSync(opener.record, 'utf8')).toMatch(new RegExp(`^${stripe.url}/checkout/cs_test_\\w+$`))
  })

  it('only prints with --no-browser', async () => {
    const opener = fakeOpener()

    const result = await runAtTerminal(admin, server.url, ['billing', 'setup', '--no-browser'], [], { PATH: opener.path })

    expect(result.exitCode).toBe(0)
    expect(result.output).toContain(`${stripe.url}/checkout/cs_test_`)
    expect(result.output).not.toContain('Opened the link')
    expect(existsSync(opener.record)).toBe(false)
  })

  it('only prints when not at a terminal', async () => {
    const opener = fakeOpener()

    const result = await admin.run(['billing', 'setup'], { env: { PATH: opener.path } })

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^${stripe.url}/checkout/cs_test_\\w+\\n$`))
    expect(result.stderr).not.toContain('Opened the link')
    expect(existsSync(opener.record)).toBe(false)
  })
})
