import { randomBytes } from 'node:crypto'

import type { Context, MiddlewareHandler } from 'hono'
import { html } from 'hono/html'
import type { Child } from 'hono/jsx'

import type { AppEnv } from '../context.js'

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.5rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }
button { margin-top: 1.5rem; padding: .6rem 1.2rem; font: inherit; }
code, pre { background: #f3f3f3; padding: .1rem .3rem; border-radius: 3px; overflow-wrap: anywhere; }
pre { padding: .75rem; white-space: pre-wrap; }
.error { color: #a00000; font-weight: 600; }
`

/**
 * Renders a whole page. The links of these pages carry secrets, so the headers forbid caching,
 * framing and sending the address to other sites as a Referer. The style runs under a
 * per-response nonce.
 */
export function renderPage(c: Context<AppEnv>, title: string, body: Child, status: 200 | 403 | 404 | 409 | 410 | 422 = 200) {
  const nonce = randomBytes(16).toString('base64')
  c.header(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  )
  c.header('Cache-Control', 'no-store')
  c.header('Referrer-Policy', 'same-origin')
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('X-Frame-Options', 'DENY')
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${title} · Flexpa Portal`}</title>
        <style nonce={nonce}>{STYLE}</style>
      </head>
      <body>
        <h1>{title}</h1>
        {body}
      </body>
    </html>
  )
  return c.html(html`<!DOCTYPE html>${page}`, status)
}

function allowedOrigins(c: Context<AppEnv>): string[] {
  const origins = [new URL(c.req.url).origin]
  try {
    origins.push(new URL(c.get('services').config.publicUrl).origin)
  } catch {
    // A PUBLIC_URL that is not a URL allows no origin beyond the request's own.
  }
  return origins
}

/**
 * Rejects a form post that a browser sent from another site. Browsers send Origin on every form
 * post, but Chromium sends "null" under a no-referrer policy, so then `Sec-Fetch-Site:
 * same-origin` must vouch for the request. A request with neither header is rejected too.
 */
export function sameOriginForm(): MiddlewareHandler<AppEnv> {
  return async function checkSameOrigin(c, next) {
    const header = c.req.header('origin')
    const origin = header === 'null' ? undefined : header
    const site = c.req.header('sec-fetch-site')
    const sameOrigin = origin !== undefined ? allowedOrigins(c).includes(origin) : site === 'same-origin'
    if (!sameOrigin || (site !== undefined && site !== 'same-origin')) {
      c.get('logger').warn({ origin: header ?? null, sec_fetch_site: site ?? null }, 'form post from another origin rejected')
      return renderPage(c, 'Request rejected', <p>This form can only be sent from the page that shows it. Open the link from your email again.</p>, 403)
    }
    await next()
  }
}

/** Reads the fields of a URL-encoded form post as strings; missing fields are empty. */
export async function formFields<K extends string>(c: Context<AppEnv>, names: readonly K[]): Promise<Record<K, string>> {
  const body = await c.req.parseBody()
  const fields = {} as Record<K, string>
  for (const name of names) {
    const value = body[name]
    fields[name] = typeof value === 'string' ? value : ''
  }
  return fields
}

export function PasswordFields(props: { autocompleteEmail?: string }) {
  return (
    <>
      {props.autocompleteEmail ? <input type="hidden" name="username" autocomplete="username" value={props.autocompleteEmail} /> : null}
      <label for="password">Password (12 or more characters)</label>
      <input id="password" name="password" type="password" autocomplete="new-password" minlength={12} required />
      <label for="password_confirmation">Password again</label>
      <input id="password_confirmation" name="password_confirmation" type="password" autocomplete="new-password" minlength={12} required />
    </>
  )
}

export function ErrorLine(props: { message: string | null }) {
  return props.message ? <p class="error" role="alert">{props.message}</p> : null
}
