import { createHash, randomBytes } from 'node:crypto'

import type { TestApp } from './app.js'
import { readAuthnRequest, type AuthnRequestInfo, type TestIdp } from './saml-idp.js'

export const LOOPBACK = 'http://127.0.0.1:45678/callback'

/** Marks a user's address verified through the data layer, as the verification link would. */
export async function verifyEmail(test: TestApp, userId: string): Promise<void> {
  await test.services.database.db
    .updateTable('users')
    .set({ email_verified_at: new Date().toISOString() })
    .where('id', '=', userId)
    .execute()
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export interface StartedLogin extends AuthnRequestInfo {
  verifier: string
  state: string
}

/** Starts a login as the CLI does and returns the AuthnRequest the browser is sent with. */
export async function startSsoLogin(test: TestApp, workspace: string): Promise<StartedLogin> {
  const { verifier, challenge } = pkcePair()
  const state = randomBytes(16).toString('base64url')
  const query = new URLSearchParams({
    workspace,
    redirect_uri: LOOPBACK,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  })
  const response = await test.app.request(`/v1/sso/start?${query}`)
  if (response.status !== 302) throw new Error(`start answered ${response.status}: ${await response.text()}`)
  return { ...readAuthnRequest(response.headers.get('location')!), verifier, state }
}

export interface AcsOutcome {
  status: number
  /** The one-time code, when the response was accepted. */
  code: string | null
  /** Why the response was rejected, from the CLI redirect or the JSON error. */
  error: string | null
  location: string | null
}

/** Posts a SAMLResponse to the workspace's assertion consumer service, as the browser does. */
export async function postToAcs(test: TestApp, acsUrl: string, samlResponse: string): Promise<AcsOutcome> {
  const path = new URL(acsUrl).pathname
  const response = await test.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: '' }).toString(),
  })
  const location = response.headers.get('location')
  if (location) {
    const url = new URL(location)
    return { status: response.status, code: url.searchParams.get('code'), error: url.searchParams.get('error_description'), location }
  }
  const body = (await response.json()) as { error?: { message?: string } }
  return { status: response.status, code: null, error: body.error?.message ?? null, location: null }
}

/** Configures SSO for a workspace through the API; the caller must be an admin with a verified address. */
export async function configureSso(
  test: TestApp,
  token: string,
  workspaceId: string,
  idp: TestIdp,
  body: { domains?: string[]; enforce?: boolean } = {},
) {
  const response = await test.call('PUT', `/v1/workspaces/${workspaceId}/sso`, {
    token,
    body: { metadata_xml: idp.metadata(), ...body },
  })
  if (response.status !== 201 && response.status !== 200) throw new Error(`configure failed: ${JSON.stringify(response.body)}`)
  return response.body
}
