import type { Kysely, Selectable } from 'kysely'
import type { Logger } from 'pino'

import { newId } from '../shared/tokens.js'
import type { Config } from './config.js'
import type { Database, MailOutboxTable } from './db/schema.js'
import { addMs, now } from './time.js'

export interface OutgoingMail {
  kind: string
  to: string
  subject: string
  text: string
  html?: string
}

const MAX_ATTEMPTS = 8
/** A claimed message is left alone by other processes for this long. */
const CLAIM_MS = 60_000
const POLL_MS = 2_000

/** Puts a message in the outbox; the sender delivers it, retrying with back-off. */
export async function queueMail(db: Kysely<Database>, mail: OutgoingMail): Promise<string> {
  const id = newId('mail')
  const time = now()
  await db
    .insertInto('mail_outbox')
    .values({
      id,
      kind: mail.kind,
      recipient: mail.to,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html ?? null,
      status: 'pending',
      next_attempt_at: time,
      last_error: null,
      created_at: time,
      sent_at: null,
    })
    .execute()
  return id
}

/** Delay before retry number `attempt` (1-based): 5 s doubling, at most an hour. */
export function retryDelayMs(attempt: number): number {
  return Math.min(5_000 * 2 ** (attempt - 1), 3_600_000)
}

type Transport = { sendMail(message: Record<string, unknown>): Promise<unknown>; close?(): void }

/**
 * Delivers the outbox: through SMTP (nodemailer) when SMTP_URL is set, else by writing each
 * message and its links to the server log. Any number of processes may run one; each message is
 * claimed before it is sent.
 */
export class MailSender {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = false
  private transport: Transport | undefined

  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), POLL_MS)
    this.timer.unref()
    this.wake()
  }

  /** Sends what is due now; called after a message is queued. */
  wake(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.deliverDue()
      .catch((error) => this.logger.error({ err: error }, 'mail delivery pass failed'))
      .finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.wake()
        }
      })
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
    this.transport?.close?.()
  }

  private async getTransport(): Promise<Transport | null> {
    if (!this.config.smtpUrl) return null
    if (!this.transport) {
      const { default: nodemailer } = await import('nodemailer')
      this.transport = nodemailer.createTransport(this.config.smtpUrl) as Transport
    }
    return this.transport
  }

  async deliverDue(): Promise<void> {
    const due = await this.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now())
      .orderBy('created_at')
      .limit(20)
      .execute()
    for (const message of due) {
      const claimedUntil = addMs(now(), CLAIM_MS)
      const claim = await this.db
        .updateTable('mail_outbox')
        .set({ next_attempt_at: claimedUntil })
        .where('id', '=', message.id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '=', message.next_attempt_at)
        .executeTakeFirst()
      if (Number(claim.numUpdatedRows) === 0) continue
      await this.deliver(message)
    }
  }

  private async deliver(message: Selectable<MailOutboxTable>): Promise<void> {
    const attempt = Number(message.attempts) + 1
    try {
      const transport = await this.getTransport()
      if (transport) {
        await transport.sendMail({
          from: this.config.mailFrom,
          to: message.recipient,
          subject: message.subject,
          text: message.text_body,
          html: message.html_body ?? undefined,
        })
      } else {
        this.logger.info(
          { mail_id: message.id, kind: message.kind, to: message.recipient, subject: message.subject, text: message.text_body },
          'mail not sent (SMTP_URL is not set); its text follows',
        )
      }
      await this.db
        .updateTable('mail_outbox')
        .set({ status: 'sent', attempts: attempt, sent_at: now(), last_error: null })
        .where('id', '=', message.id)
        .execute()
      const outcome = transport ? 'mail delivered' : 'mail written to the log'
      this.logger.info({ mail_id: message.id, kind: message.kind, attempt }, outcome)
    } catch (error) {
      const failed = attempt >= MAX_ATTEMPTS
      const reason = String((error as Error).message ?? error).slice(0, 500)
      await this.db
        .updateTable('mail_outbox')
        .set({
          status: failed ? 'failed' : 'pending',
          attempts: attempt,
          last_error: reason,
          next_attempt_at: addMs(now(), retryDelayMs(attempt)),
        })
        .where('id', '=', message.id)
        .execute()
      this.logger.warn({ mail_id: message.id, kind: message.kind, attempt, err: reason, gave_up: failed }, 'mail delivery failed')
    }
  }
}
