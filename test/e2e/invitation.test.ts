import { existsSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'

import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD, signUpWithCli } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { linkIn, startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp.js'

const CHROMIUM = '/usr/bin/chromium'
const missingBrowser = existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM}`
if (missingBrowser && process.env.CI === 'true') throw new Error(missingBrowser)
if (missingBrowser) console.warn(`skipping the invitation browser test: ${missingBrowser}`)

/** Returns a loopback port that was free a moment ago, so the server's PUBLIC_URL can name it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

describe.skipIf(missingBrowser !== null)('invitation in a browser', () => {
  let smtp: SmtpReceiver
  let server: ServerProcess
  let browser: Browser

  beforeAll(async () => {
    smtp = await startSmtpReceiver()
    const port = await freePort()
    server = await startServer({
      dialect: 'sqlite',
      port,
      env: { SMTP_URL: smtp.url, PUBLIC_URL: `http://127.0.0.1:${port}`, MAIL_FROM: 'Flexpa Portal <portal@team.example>' },
    })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await smtp?.close()
  })

  it('joins a new member from the emailed link', async () => {
    const { user: admin } = await signUpWithCli(server.url, 'admin@browser.example', { workspaceName: 'Browser Co' })

    const invited = await admin.run(['team', 'invite', '  New.Member@Browser.example ', '--json'])
    expect(invited.exitCode, invited.stderr).toBe(0)
    expect(invited.json().data[0]).toMatchObject({ email: 'new.member@browser.example', outcome: 'invited', role: 'member' })

    const mail = await smtp.waitFor('new.member@browser.example', '/invitations/')
    expect(mail.from).toBe('portal@team.example')
    expect(mail.subject).toBe('You are invited to Browser Co on Flexpa Portal')
    const link = linkIn(mail, '/invitations/')
    expect(link.startsWith(`${server.url}/invitations/fxi_`)).toBe(true)

    const forged = await browser.newPage()
    await forged.setContent(
      `<form method="post" action="${link}"><input name="name" value="Forged"><input name="password" value="${PASSWORD}">` +
        `<input name="password_confirmation" value="${PASSWORD}"><button>go</button></form>`,
    )
    const [forgedResponse] = await Promise.all([forged.waitForNavigation(), forged.click('button')])
    expect(forgedResponse?.status()).toBe(403)
    await forged.close()

    const page = await browser.newPage()
    const opened = await page.goto(link)
    expect(opened?.status()).toBe(200)
    expect(await page.locator('h1').textContent()).toBe('Join Browser Co')
    await page.fill('#name', 'New Member')
    await page.fill('#password', PASSWORD)
    await page.fill('#password_confirmation', PASSWORD)
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')])
    expect(response?.status()).toBe(200)
    expect(await page.locator('h1').textContent()).toBe('Welcome to Browser Co')
    expect(await page.locator('pre').textContent()).toContain('flexpa login --email new.member@browser.example')
    await page.close()

    const member = cliUser(server.url)
    const login = await member.run(['login', '--email', 'New.Member@browser.example', '--password-stdin', '--json'], { input: PASSWORD })
    expect(login.exitCode, login.stderr).toBe(0)
    const listed = await member.run(['team', 'list', '--json'])
    expect(listed.exitCode, listed.stderr).toBe(0)
    expect(listed.stderr).toBe('')
    const row = listed.json().members.find((entry: { email: string }) => entry.email === 'new.member@browser.example')
    expect(row).toMatchObject({ name: 'New Member', role: 'member', phi_read: true })
    expect(listed.json().invitations).toEqual([])

    const reopened = await browser.newPage()
    const second = await reopened.goto(link)
    expect(second?.status()).toBe(410)
    expect(await reopened.locator('body').textContent()).toContain('already used')
    await reopened.close()
    expect(server.output()).not.toContain(link.slice(link.lastIndexOf('/') + 1))
  })
})
