import { ENDPOINTS, resolveEndpoint, type PayerEndpoint } from '../../shared/endpoints.js'
import type { TRIGGER_OUTCOMES } from '../../shared/schemas.js'
import { randomBase62 } from '../../shared/tokens.js'
import type { DatabaseHandle } from '../db/index.js'
import { invalid } from '../errors.js'
import { changeAccessToken, createAccessToken, type AccessTokenChange } from './store.js'
import type { AccessTokenRow } from './tables.js'

export type TriggerOutcome = (typeof TRIGGER_OUTCOMES)[number]

const SANDBOX_PATIENTS = [
  { name: 'Jane Sandbox', birth_date: '1984-03-17' },
  { name: 'Omar Testperson', birth_date: '1961-11-02' },
  { name: 'Lucia Example', birth_date: '1997-07-29' },
]

/** Returns the changes after CREATED that lead a sandbox row to each outcome, like a real Consent flow. */
function changesFor(outcome: TriggerOutcome, patient: AccessTokenChange['patient']): AccessTokenChange[] {
  const authorized: AccessTokenChange[] = [{ state: 'AUTHORIZING' }, { state: 'AUTHORIZED', patient }]
  switch (outcome) {
    case 'success':
      return [...authorized, { state: 'EXCHANGED' }]
    case 'denied':
      return [
        { state: 'AUTHORIZING' },
        { state: 'ERROR', error: { code: 'access_denied', message: "The patient declined access on the payer's consent screen" } },
      ]
    case 'payer-error':
      return [
        ...authorized,
        { state: 'ERROR', error: { code: 'payer_unavailable', message: 'The payer FHIR endpoint returned 503 Service Unavailable during the token exchange' } },
      ]
    case 'revoked':
      return [...authorized, { state: 'EXCHANGED' }, { state: 'REVOKED' }]
  }
}

/** Picks the sandbox endpoint a trigger writes against: the one named, or the first sandbox endpoint. */
export function sandboxEndpoint(reference: string | undefined): PayerEndpoint {
  if (reference === undefined) return ENDPOINTS.find((endpoint) => endpoint.mode === 'test')!
  const endpoint = resolveEndpoint(reference, 'test')
  if (!endpoint || endpoint.mode !== 'test') {
    throw invalid('endpoint', `"${reference}" is not a sandbox endpoint; see flexpa endpoints list --test`)
  }
  return endpoint
}

/**
 * Writes a test-mode access token and its changes through the same functions as the ingestion
 * API, ending in the state that `outcome` names. Returns the row after each step.
 */
export async function triggerAccessToken(
  database: DatabaseHandle,
  target: { workspaceId: string; applicationId: string; requestId: string },
  outcome: TriggerOutcome,
  endpoint: PayerEndpoint,
): Promise<AccessTokenRow[]> {
  const sandboxPatient = SANDBOX_PATIENTS[Math.floor(Math.random() * SANDBOX_PATIENTS.length)]
  const patient = { id: `sandbox-patient-${randomBase62(10)}`, ...sandboxPatient }
  let row = await createAccessToken(database, {
    workspaceId: target.workspaceId,
    applicationId: target.applicationId,
    mode: 'test',
    endpointId: endpoint.id,
    usage: endpoint.refresh ? 'MULTIPLE' : 'ONE_TIME',
    requestId: target.requestId,
    externalUserId: `sandbox-user-${randomBase62(8)}`,
    expiresAt: null,
  })
  const steps = [row]
  for (const change of changesFor(outcome, patient)) {
    row = await changeAccessToken(database, row, change)
    steps.push(row)
  }
  return steps
}
