import { visibleState } from '../../shared/access-tokens.js'
import { findEndpoint } from '../../shared/endpoints.js'
import { now } from '../time.js'
import type { AccessTokenRow } from './tables.js'

/** Whether the row holds any PHI value: the patient's id, name or birth date, or the external user id. */
export function carriesPhi(row: AccessTokenRow): boolean {
  return (
    row.external_user_id !== null || row.patient_id !== null || row.patient_name !== null || row.patient_birth_date !== null
  )
}

/**
 * An access token as the API returns it. Without `phi`, the PHI fields are null and
 * `phi_redacted` is true, whether or not the row holds PHI, so a reader cannot tell.
 */
export function serializeAccessToken(row: AccessTokenRow, options: { phi: boolean; time?: string }) {
  const endpoint = findEndpoint(row.endpoint_id)
  return {
    id: row.id,
    application_id: row.application_id,
    mode: row.mode,
    state: visibleState(row.state, row.expires_at, options.time ?? now()),
    endpoint: { id: row.endpoint_id, label: endpoint?.label ?? null, payer: endpoint?.payer ?? null },
    usage: row.usage,
    request_id: row.request_id,
    external_user_id: options.phi ? row.external_user_id : null,
    patient_id: options.phi ? row.patient_id : null,
    patient_name: options.phi ? row.patient_name : null,
    patient_birth_date: options.phi ? row.patient_birth_date : null,
    phi_redacted: !options.phi,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message },
    expires_at: row.expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    authorizing_at: row.authorizing_at,
    authorized_at: row.authorized_at,
    exchanged_at: row.exchanged_at,
    refreshed_at: row.refreshed_at,
    revoked_at: row.revoked_at,
    errored_at: row.errored_at,
  }
}

export type SerializedAccessToken = ReturnType<typeof serializeAccessToken>
