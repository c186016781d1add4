import type { AddressInfo } from 'node:net'

import { SMTPServer, type SMTPServerSession } from 'smtp-server'

export interface ReceivedMail {
  from: string
  to: string[]
  /** The raw message with its headers, as the client sent it. */
  raw: string
  /** The decoded text body (quoted-printable soft breaks and escapes undone). */
  text: string
  subject: string
}

export interface SmtpReceiver {
  url: string
  port: number
  messages: ReceivedMail[]
  /** Resolves with the first message to `address` (lower-case) that arrives, or that already did. */
  waitFor(address: string, timeoutMs?: number): Promise<ReceivedMail>
  close(): Promise<void>
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

function parse(raw: string, from: string, to: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const body = raw.slice(split + 4)
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1] ?? ''
  const encoding = header('Content-Transfer-Encoding').toLowerCase()
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body, 'base64').toString('utf8')
        : body
  return { from, to, raw, text, subject: header('Subject') }
}

/**
 * Starts a plain SMTP receiver on a loopback port (no TLS, no authentication). `reject` decides,
 * per message, whether to answer with a temporary failure (451) instead of accepting it.
 */
export async function startSmtpReceiver(options: { reject?: (attempt: number) => boolean } = {}): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = []
  const waiters: { address: string; resolve: (mail: ReceivedMail) => void }[] = []
  let attempts = 0
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        attempts += 1
        if (options.reject?.(attempts)) {
          const error = Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 })
          return callback(error)
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase())
        const mail = parse(Buffer.concat(chunks).toString('latin1'), from, to)
        messages.push(mail)
        for (const waiter of [...waiters]) {
          if (to.includes(waiter.address)) {
            waiters.splice(waiters.indexOf(waiter), 1)
            waiter.resolve(mail)
          }
        }
        callback()
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.server.address() as AddressInfo).port
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    waitFor(address, timeoutMs = 20_000) {
      const found = messages.find((mail) => mail.to.includes(address))
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no mail to ${address} within ${timeoutMs} ms`)), timeoutMs)
        waiters.push({
          address,
          resolve: (mail) => {
            clearTimeout(timer)
            resolve(mail)
          },
        })
      })
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Returns the first link in a mail's text whose path starts with `path`. */
export function linkIn(mail: ReceivedMail, path: string): string {
  const match = new RegExp(`https?://\\S+${path.replace(/[/]/g, '\\/')}\\S+`).exec(mail.text)
  if (!match) throw new Error(`no ${path} link in the mail:\n${mail.text}`)
  return match[0]
}
