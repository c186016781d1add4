import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'

import createDebug from 'debug'

import { exitCodeFor } from '../shared/errors.js'
import { CliError } from './errors.js'

const debug = createDebug('flexpa:sse')

const MAX_BACKOFF_MS = 10_000

export interface ServerSentEvent {
  id: string | null
  event: string
  data: string
}

export interface FollowOptions {
  url: URL
  headers: Record<string, string>
  /** The id of the last event handled; sent as Last-Event-ID so the server resumes after it. */
  lastEventId?: string
  signal: AbortSignal
  onEvent(event: ServerSentEvent): void
  /** Reports a dropped connection and the wait before the next attempt, for stderr. */
  onReconnect(reason: string, delayMs: number): void
}

/** Splits an event stream into events as the EventSource standard defines them. */
class EventParser {
  private buffer = ''
  private id: string | null = null
  private event = ''
  private data: string[] = []
  retryMs: number | null = null

  push(chunk: string, emit: (event: ServerSentEvent) => void): void {
    this.buffer += chunk
    let newline: number
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline)
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1
      this.buffer = this.buffer.slice(newline + width)
      this.line(line, emit)
    }
  }

  private line(line: string, emit: (event: ServerSentEvent) => void): void {
    if (line === '') {
      if (this.data.length > 0) emit({ id: this.id, event: this.event || 'message', data: this.data.join('\n') })
      this.event = ''
      this.data = []
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.event = value
    else if (field === 'id' && !value.includes('\0')) this.id = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value)
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    response.on('data', (chunk: Buffer) => chunks.push(chunk))
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    response.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

/** Builds the error for a response that retrying cannot fix (invalid filters, no permission, session ended). */
function finalError(status: number, text: string): CliError {
  let body: { error?: { code?: string; message?: string } } = {}
  try {
    body = JSON.parse(text)
  } catch {
    // Not JSON: reported with the status alone.
  }
  const code = body.error?.code ?? 'http_error'
  return new CliError(body.error?.message ?? `the server responded with status ${status}`, exitCodeFor(code, status), { code, body })
}

/**
 * Opens one connection and handles its events until it ends. Resolves with the reason it ended,
 * or rejects with a CliError for a response that retrying cannot fix.
 */
function connectOnce(options: FollowOptions, parser: EventParser, onOpen: () => void): Promise<string> {
  const transport = options.url.protocol === 'https:' ? httpsRequest : httpRequest
  const headers: Record<string, string> = { ...options.headers, accept: 'text/event-stream', 'cache-control': 'no-cache' }
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId
  return new Promise((resolve, reject) => {
    const request = transport(options.url, { method: 'GET', headers }, (response) => {
      const status = response.statusCode ?? 0
      if (status !== 200) {
        void readBody(response).then((text) => {
          if (status === 429 || status >= 500) resolve(`the server responded with status ${status}`)
          else reject(finalError(status, text))
        })
        return
      }
      onOpen()
      response.setEncoding('utf8')
      response.on('data', (chunk: string) =>
        parser.push(chunk, (event) => {
          if (event.id !== null) options.lastEventId = event.id
          options.onEvent(event)
        }),
      )
      response.on('end', () => resolve('the server closed the connection'))
      response.on('error', (error) => resolve(error.message))
    })
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    const abort = () => {
      request.destroy()
      resolve('cancelled')
    }
    if (options.signal.aborted) abort()
    else options.signal.addEventListener('abort', abort, { once: true })
    request.end()
  })
}

/**
 * Follows an event stream until `signal` aborts, reconnecting with exponential back-off (reset
 * after each successful connection) and resuming after the last event handled.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  let failures = 0
  let retryMs = 500
  while (!options.signal.aborted) {
    // A fresh parser per connection drops any half-received event of the previous one.
    const parser = new EventParser()
    const reason = await connectOnce(options, parser, () => (failures = 0))
    retryMs = parser.retryMs ?? retryMs
    if (options.signal.aborted) return
    const base = retryMs
    const delay = Math.min(base * 2 ** failures, MAX_BACKOFF_MS) + Math.floor(Math.random() * 250)
    failures += 1
    debug('stream ended (%s); reconnecting in %d ms after event %s', reason, delay, options.lastEventId)
    options.onReconnect(reason, delay)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay)
      options.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
  }
}
