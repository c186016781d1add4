import { Writable } from 'node:stream'

import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadConfig } from '../../server/config.js'
import { migrate, openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { MailSender, queueMail, retryDelayMs } from '../../server/mail.js'
import { databaseUrl, dialects } from '../helpers/database.js'
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp.js'

function captureLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level: 'info' }, stream), lines }
}

async function outboxRow(database: DatabaseHandle, id: string) {
  return database.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

/** Makes a message due now, in place of waiting for its back-off. */
async function makeDue(database: DatabaseHandle, id: string) {
  await database.db.updateTable('mail_outbox').set({ next_attempt_at: new Date(0).toISOString() }).where('id', '=', id).execute()
}

describe.each(await dialects())('mail sender on %s', (dialect) => {
  let database: DatabaseHandle
  let receiver: SmtpReceiver
  // The receiver refuses its first two messages and accepts the rest.
  beforeAll(async () => {
    database = await openDatabase(databaseUrl(dialect))
    await migrate(database.db)
    receiver = await startSmtpReceiver({ reject: (attempt) => attempt <= 2 })
  })
  afterAll(async () => {
    await receiver.close()
    await database.close()
  })

  it('retries with back-off until the receiver accepts', async () => {
    const { logger, lines } = captureLogger()
    const config = { ...loadConfig({ SMTP_URL: receiver.url, MAIL_FROM: 'Portal <portal@example.com>' }) }
    const sender = new MailSender(database.db, config, logger)
    const id = await queueMail(database.db, { kind: 'test', to: 'ada@example.com', subject: 'Hello', text: 'first line\n' })

    const before = Date.now()
    await sender.deliverDue()
    const after = Date.now()
    const first = await outboxRow(database, id)
    expect(first.status).toBe('pending')
    expect(Number(first.attempts)).toBe(1)
    expect(first.last_error).toContain('451')
    expect(Date.parse(first.next_attempt_at)).toBeGreaterThanOrEqual(before + retryDelayMs(1))
    expect(Date.parse(first.next_attempt_at)).toBeLessThanOrEqual(after + retryDelayMs(1))

    await sender.deliverDue()
    expect(Number((await outboxRow(database, id)).attempts)).toBe(1)

    await makeDue(database, id)
    const beforeSecond = Date.now()
    await sender.deliverDue()
    const second = await outboxRow(database, id)
    expect(second.status).toBe('pending')
    expect(Number(second.attempts)).toBe(2)
    expect(Date.parse(second.next_attempt_at)).toBeGreaterThanOrEqual(beforeSecond + retryDelayMs(2))

    await makeDue(database, id)
    await sender.deliverDue()
    const sent = await outboxRow(database, id)
    expect(sent.status).toBe('sent')
    expect(Number(sent.attempts)).toBe(3)
    expect(sent.last_error).toBeNull()
    expect(sent.sent_at).not.toBeNull()

    const mail = await receiver.waitFor('ada@example.com')
    expect(mail.subject).toBe('Hello')
    expect(mail.from).toBe('portal@example.com')
    expect(mail.text).toContain('first line')
    expect(lines.filter((line) => line.msg === 'mail delivery failed')).toHaveLength(2)
    expect(lines.filter((line) => line.msg === 'mail delivered')).toHaveLength(1)
    await sender.stop()
  })

  it('records the failure after the last attempt', async () => {
    const { logger, lines } = captureLogger()
    // Nothing listens on port 1 of the loopback address, so every connection is refused.
    const config = loadConfig({ SMTP_URL: 'smtp://127.0.0.1:1' })
    const sender = new MailSender(database.db, config, logger)
    const id = await queueMail(database.db, { kind: 'test', to: 'grace@example.com', subject: 'Lost', text: 'never arrives\n' })
    await database.db.updateTable('mail_outbox').set({ attempts: 7 }).where('id', '=', id).execute()

    await sender.deliverDue()

    const row = await outboxRow(database, id)
    expect(row.status).toBe('failed')
    expect(Number(row.attempts)).toBe(8)
    expect(row.last_error).toMatch(/ECONNREFUSED|connect/i)
    const warning = lines.find((line) => line.msg === 'mail delivery failed')
    expect(warning?.gave_up).toBe(true)
    await makeDue(database, id)
    await sender.deliverDue()
    expect(Number((await outboxRow(database, id)).attempts)).toBe(8)
    await sender.stop()
  })

  it('logs a mail it writes to the log as such', async () => {
    const { logger, lines } = captureLogger()
    const sender = new MailSender(database.db, loadConfig({}), logger)
    const id = await queueMail(database.db, { kind: 'test', to: 'logged@example.com', subject: 'Logged', text: 'only in the log\n' })

    await sender.deliverDue()

    const messages = lines.filter((line) => line.mail_id === id).map((line) => line.msg)
    expect(messages).toEqual(['mail not sent (SMTP_URL is not set); its text follows', 'mail written to the log'])
    expect((await outboxRow(database, id)).status).toBe('sent')
    await sender.stop()
  })

  it('doubles the delay up to an hour', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([5_000, 10_000, 20_000, 40_000])
    expect(retryDelayMs(20)).toBe(3_600_000)
  })
})
