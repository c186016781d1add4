import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import createDebug from 'debug'

import { EXIT } from '../shared/errors.js'
import { ApiClient } from './client.js'
import { CliError } from './errors.js'
import { isInteractive } from './input.js'
import { note } from './output.js'

const debug = createDebug('flexpa:sso')

/** How long the CLI waits for the browser to come back from the identity provider. */
const LOGIN_TIMEOUT_MS = Number(process.env.FLEXPA_SSO_TIMEOUT_MS) || 5 * 60_000
const CALLBACK_PATH = '/callback'

interface SsoSettings {
  workspace: { id: string; name: string }
  service_provider: { entity_id: string; acs_url: string; metadata_url: string; name_id_format: string; login_command: string }
  configured: boolean
  identity_provider: {
    entity_id: string
    sso_url: string
    binding: string
    certificates: { subject: string; key: string; not_after: string; fingerprint_sha256: string }[]
  } | null
  domains: string[]
  enforced: boolean
}

/** Prints the SSO settings of `sso show` and `sso configure` for people. */
export function printSsoSettings(log: (line: string) => void, settings: SsoSettings): void {
  const sp = settings.service_provider
  const lines = [
    `Workspace ${settings.workspace.name} (${settings.workspace.id})`,
    '',
    'Enter these at your identity provider:',
    `  Entity ID (audience URI)            ${sp.entity_id}`,
    `  ACS URL (single sign-on URL)        ${sp.acs_url}`,
    `  Metadata URL                        ${sp.metadata_url}`,
    `  Name ID format                      ${sp.name_id_format}`,
    '',
  ]
  const idp = settings.identity_provider
  if (!idp) {
    lines.push('Single sign-on is not configured. Download the metadata XML from your identity provider, then run:')
    lines.push('  flexpa sso configure --metadata <file> --domain <your email domain>')
  } else {
    lines.push('Identity provider:')
    lines.push(`  Entity ID                           ${idp.entity_id}`)
    lines.push(`  Sign-on URL (${idp.binding})`.padEnd(38) + idp.sso_url)
    for (const certificate of idp.certificates) {
      lines.push(`  Certificate                         ${certificate.subject}, ${certificate.key}, expires ${certificate.not_after}`)
      lines.push(`    SHA-256 fingerprint               ${certificate.fingerprint_sha256}`)
    }
    lines.push(`Domains                               ${settings.domains.join(', ') || 'none (only existing members can log in)'}`)
    lines.push(`Enforced                              ${settings.enforced ? 'yes (admins keep password access)' : 'no'}`)
    lines.push(`Log in with                           ${sp.login_command}`)
  }
  log(lines.join('\n'))
}

export interface SsoLoginResult {
  user: { id: string; email: string; name: string }
  session: { id: string; token: string; expires_at: string }
  workspace: { id: string; name: string }
}

/**
 * Logs in through the workspace's identity provider: listens on a random loopback port, opens the
 * browser at the server's start URL with a PKCE challenge, waits for the one-time code, and
 * exchanges it with the verifier for a session.
 */
export async function ssoLogin(apiUrl: string, reference: string, userAgent: string): Promise<SsoLoginResult> {
  const client = new ApiClient(apiUrl, null, userAgent)
  const { body: found } = await client.request('GET', '/v1/sso/discover', { query: { workspace: reference } })

  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const state = randomBytes(24).toString('base64url')
  const listener = await listenOnLoopback(state)
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}${CALLBACK_PATH}`
    const start = new URL(`${apiUrl}/v1/sso/start`)
    start.search = new URLSearchParams({
      workspace: found.workspace_id,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    }).toString()

    note(`Opening your browser to log in through your identity provider. If it does not open, visit:\n\n  ${start}\n`)
    openBrowser(start.toString())
    const code = await listener.code
    const { body } = await client.request('POST', '/v1/sso/token', {
      body: { code, code_verifier: verifier, redirect_uri: redirectUri },
    })
    return body as SsoLoginResult
  } finally {
    listener.close()
  }
}

interface Listener {
  port: number
  code: Promise<string>
  close(): void
}

function page(title: string, message: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${message}</p></body></html>`
}

/** Waits for one request to the callback path carrying the expected state and a code or an error. */
async function listenOnLoopback(expectedState: string): Promise<Listener> {
  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void }
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }))
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (url.pathname !== CALLBACK_PATH || url.searchParams.get('state') !== expectedState) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    const error = url.searchParams.get('error_description') ?? url.searchParams.get('error')
    const received = url.searchParams.get('code')
    response.writeHead(error || !received ? 400 : 200, { 'content-type': 'text/html; charset=utf-8' })
    if (error || !received) {
      response.end(page('Login failed', 'Single sign-on failed. The terminal shows why; you can close this window.'))
      settle.reject(new CliError(`single sign-on failed: ${error ?? 'the callback has no code'}`, EXIT.auth, { code: 'sso_failed' }))
    } else {
      response.end(page('Logged in', 'You are logged in to the Flexpa CLI. You can close this window.'))
      settle.resolve(received)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const timer = setTimeout(
    () =>
      settle.reject(
        new CliError(`timed out after ${LOGIN_TIMEOUT_MS / 1000} seconds waiting for the browser to return from the identity provider`, EXIT.unavailable, {
          code: 'timeout',
          hint: 'open the URL above in a browser, then run flexpa login --sso again',
        }),
      ),
    LOGIN_TIMEOUT_MS,
  )
  return {
    port: (server.address() as AddressInfo).port,
    code,
    close: () => {
      clearTimeout(timer)
      server.closeAllConnections()
      server.close()
    },
  }
}

/**
 * Opens a URL in the browser: the command in FLEXPA_BROWSER if set, else `open` on macOS or
 * `xdg-open` elsewhere, and only at a terminal. A browser that fails to open is not an error,
 * because the URL is printed.
 */
function openBrowser(url: string): void {
  const configured = process.env.FLEXPA_BROWSER
  if (!configured && !isInteractive()) return
  const command = configured || (process.platform === 'darwin' ? 'open' : 'xdg-open')
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: !configured })
    child.on('error', (error) => debug('could not open the browser with %s: %s', command, error.message))
    child.on('exit', (status) => status && debug('%s exited with %d', command, status))
    if (!configured) child.unref()
  } catch (error) {
    debug('could not open the browser with %s: %s', command, (error as Error).message)
  }
}
