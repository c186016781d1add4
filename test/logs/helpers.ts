import { issueKeyPair } from '../../server/keys.js'
import type { TestApp } from '../helpers/app.js'

export const SANDBOX_HUMANA = 'b16b3f0a-7c2d-4a5e-bb52-0b4c6d8e2f5b'
export const SANDBOX_KAISER = 'e49e6c3d-0f5a-4d8b-ae85-3e7f9a1b5c8e'
export const LIVE_AETNA = '1f0d8a6e-3c2b-4e5a-9b7d-0a1c2e3f4a51'

export function basicAuth(publishable: string, secret: string): string {
  return `Basic ${Buffer.from(`${publishable}:${secret}`).toString('base64')}`
}

/** Creates an application through the API and returns its id and test keys as a Basic header. */
export async function createApplication(test: TestApp, token: string, workspaceId: string, name: string) {
  const created = await test.call('POST', `/v1/workspaces/${workspaceId}/apps`, { token, body: { name } })
  if (created.status !== 201) throw new Error(`apps create failed: ${JSON.stringify(created.body)}`)
  const keys = created.body.keys
  return {
    id: created.body.id as string,
    publishable: keys.publishable_key as string,
    secret: keys.secret_key as string,
    auth: basicAuth(keys.publishable_key, keys.secret_key),
  }
}

/** Issues live keys through the data layer, skipping the go-live checklist that other tests cover. */
export async function issueLiveKeys(test: TestApp, applicationId: string, workspaceId: string) {
  const keys = await issueKeyPair(test.services.database.db, applicationId, workspaceId, 'live')
  return { ...keys, auth: basicAuth(keys.publishable_key, keys.secret_key) }
}

export async function ingest(test: TestApp, auth: string, body: Record<string, unknown>) {
  return test.call('POST', '/v1/access-tokens', { headers: { authorization: auth }, body })
}

export async function advance(test: TestApp, auth: string, id: string, body: Record<string, unknown>) {
  return test.call('PATCH', `/v1/access-tokens/${id}`, { headers: { authorization: auth }, body })
}

/** Withholds phi:read from a member through the data layer. */
export async function withholdPhi(test: TestApp, workspaceId: string, userId: string) {
  await test.services.database.db
    .updateTable('memberships')
    .set({ phi_withheld: 1 })
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .execute()
}
