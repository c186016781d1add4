
import { EXIT, exitCodeFor } from '../shared/errors.js'
import { CliError } from './errors.js'

const RETRY_STATUSES = new Set([429, 503])
const RETRY_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH'])
const MAX_ATTEMPTS = Number(process.env.FLEXPA_MAX_ATTEMPTS) || 4
const TIMEOUT_MS = Number(process.env.FLEXPA_TIMEOUT_MS) || 30_000
const MAX_RETRY_AFTER_MS = 30_000

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null | string[]>
  body?: unknown
  /** Sent as Idempotency-Key and reused across retries, which makes the write safe to retry. */
  idempotencyKey?: string | true
  /** Response statuses that are returned instead of raised. */
  accept?: number[]
}

export interface ApiResponse<T> {
  status: number
  body: T
  headers: Record<string, string | string[] | undefined>
}

interface RawResponse {
  status: number
  text: string
  headers: Record<string, string | string[] | undefined>
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function retryDelay(attempt: number, retryAfter: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
  return Math.min(250 * 2 ** attempt, 4000) + Math.floor(Math.random() * 100)
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: `no answer within ${TIMEOUT_MS / 1000} s`,
  EAI_AGAIN: 'host name lookup failed',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
}

/**
 * Tells people on stderr that a request is retried, with the reason and the wait. It is never
 * written to stdout, so --json output stays one document.
 */
function noteRetry(method: string, path: string, reason: string, delayMs: number, attemptsMade: number, maxAttempts: number): void {
  process.stderr.write(`${method} ${path} failed (${reason}); retrying in ${seconds(delayMs)} (attempt ${attemptsMade + 1} of ${maxAttempts})\n`)
}

/** A JSON client for the Flexpa API on node:http, which loads faster than fetch. */
export class ApiClient {
  private readonly maxAttempts: number

  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly userAgent: string,
    options: { attempts?: number } = {},
  ) {
    this.maxAttempts = options.attempts ?? MAX_ATTEMPTS
  }

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(this.baseUrl + path)
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value === undefined || value === null || value === false) continue
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, item)
      else url.searchParams.set(name, String(value))
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent }
    if (this.token) headers.authorization = `Bearer ${this.token}`
    let payload: string | undefined
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body)
      headers['content-type'] = 'application/json'
    }
    if (options.idempotencyKey) {
      // node:crypto is imported here because loading it costs several milliseconds at start-up.
      const key = options.idempotencyKey === true ? (await import('node:crypto')).randomUUID() : options.idempotencyKey
      headers['idempotency-key'] = key
    }
    const retryable = method === 'GET' || headers['idempotency-key'] !== undefined
    const started = Date.now()
    let timeouts = 0

    for (let attempt = 0; ; attempt++) {
      let raw: RawResponse
      try {
        raw = await send(method, url, headers, payload)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? ''
        // A server that does not respond would make every retry wait the whole timeout again, and a
        // write may have been applied, so only a GET is retried after a timeout, and only once.
        if (code === 'ETIMEDOUT') timeouts++
        const worthRetrying = code === 'ETIMEDOUT' ? method === 'GET' && timeouts === 1 : retryable && RETRY_ERRORS.has(code)
        if (worthRetrying && attempt + 1 < this.maxAttempts) {
          const delay = retryDelay(attempt, undefined)
          const limit = code === 'ETIMEDOUT' ? Math.min(this.maxAttempts, attempt + 2) : this.maxAttempts
          noteRetry(method, url.pathname, REASONS[code] ?? code, delay, attempt + 1, limit)
          await sleep(delay)
          continue
        }
        throw unreachable(this.baseUrl, error as NodeJS.ErrnoException, attempt + 1, Date.now() - started)
      }
      if (retryable && RETRY_STATUSES.has(raw.status) && attempt + 1 < this.maxAttempts) {
        const delay = retryDelay(attempt, raw.headers['retry-after'])
        noteRetry(method, url.pathname, `status ${raw.status}`, delay, attempt + 1, this.maxAttempts)
        await sleep(delay)
        continue
      }
      return this.decode<T>(method, url, raw, options.accept ?? [], attempt + 1, Date.now() - started)
    }
  }

  private decode<T>(method: string, url: URL, raw: RawResponse, accept: number[], attempts: number, elapsedMs: number): ApiResponse<T> {
    const requestId = String(raw.headers['x-request-id'] ?? '')
    let body: any = null
    if (raw.text !== '') {
      try {
        body = JSON.parse(raw.text)
      } catch {
        throw new CliError(
          `the server at ${this.baseUrl} responded to ${method} ${url.pathname} with status ${raw.status} and a body that is not JSON; is --api-url right?`,
          raw.status >= 500 ? EXIT.failure : EXIT.unavailable,
          { code: 'invalid_response', requestId },
        )
      }
    }
    if (raw.status < 400 || accept.includes(raw.status)) return { status: raw.status, body, headers: raw.headers }
    const error = body?.error ?? {}
    const code = typeof error.code === 'string' ? error.code : 'http_error'
    let message = typeof error.message === 'string' ? error.message : `the server responded with status ${raw.status}`
    if (raw.status >= 500) message = `${message} (request id ${requestId || 'unknown'})`
    if ((raw.status === 429 || raw.status === 503) && attempts > 1) message = `${message} (gave up after ${attempts} attempts in ${seconds(elapsedMs)})`
    throw new CliError(message, exitCodeFor(code, raw.status), { code, requestId, body })
  }
}

function unreachable(baseUrl: string, error: NodeJS.ErrnoException, attempts: number, elapsedMs: number): CliError {
  const reason = REASONS[error.code ?? ''] ?? (error.code || error.message)
  const tries = attempts > 1 ? `; gave up after ${attempts} attempts in ${seconds(elapsedMs)}` : ''
  return new CliError(`could not reach the Flexpa API at ${baseUrl} (${reason}${tries})`, EXIT.unavailable, {
    code: 'unreachable',
    hint: 'check that the server is running (npm start) or pass --api-url to flexpa login',
  })
}

async function send(method: string, url: URL, headers: Record<string, string>, payload: string | undefined): Promise<RawResponse> {
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method, headers, timeout: TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', reject)
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: response.headers }),
      )
    })
    request.on('timeout', () => {
      const error: NodeJS.ErrnoException = new Error('timed out')
      error.code = 'ETIMEDOUT'
      request.destroy(error)
    })
    request.on('error', reject)
    request.end(payload)
  })
}
