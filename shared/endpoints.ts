/**
 * The built-in directory of payer FHIR endpoints that Flexpa Consent connects to. Live rows name a
 * live endpoint; test rows name a sandbox endpoint, which serves synthetic patients only.
 */

export interface PayerEndpoint {
  /** Stable UUID, the `endpoint_id` of an access token. */
  id: string
  label: string
  payer: string
  /** Whether the payer issues refresh tokens, which `MULTIPLE` usage needs. */
  refresh: boolean
  mode: 'live' | 'test'
}

export const ENDPOINTS: readonly PayerEndpoint[] = [
  { id: '1f0d8a6e-3c2b-4e5a-9b7d-0a1c2e3f4a51', label: 'Aetna', payer: 'Aetna (CVS Health)', refresh: true, mode: 'live' },
  { id: '2b7e4c1d-8f3a-4d6b-a2c9-1e5f7a9b3c62', label: 'Anthem', payer: 'Elevance Health', refresh: true, mode: 'live' },
  { id: '3c8f5d2e-9a4b-4e7c-b3da-2f6a8b0c4d73', label: 'Blue Button 2.0', payer: 'Centers for Medicare & Medicaid Services', refresh: true, mode: 'live' },
  { id: '4d9a6e3f-0b5c-4f8d-84eb-3a7b9c1d5e84', label: 'BCBS Massachusetts', payer: 'Blue Cross Blue Shield of Massachusetts', refresh: false, mode: 'live' },
  { id: '5e0b7f4a-1c6d-4a9e-95fc-4b8c0d2e6f95', label: 'Cigna', payer: 'The Cigna Group', refresh: true, mode: 'live' },
  { id: '6f1c8a5b-2d7e-4b0f-a60d-5c9d1e3f7a06', label: 'Humana', payer: 'Humana', refresh: true, mode: 'live' },
  { id: '7a2d9b6c-3e8f-4c1a-b71e-6d0e2f4a8b17', label: 'Kaiser Permanente', payer: 'Kaiser Foundation Health Plan', refresh: false, mode: 'live' },
  { id: '8b3e0c7d-4f9a-4d2b-882f-7e1f3a5b9c28', label: 'UnitedHealthcare', payer: 'UnitedHealth Group', refresh: true, mode: 'live' },
  { id: '9c4f1d8e-5a0b-4e3c-9930-8f2a4b6c0d39', label: 'Highmark', payer: 'Highmark Health', refresh: false, mode: 'live' },
  { id: 'a05a2e9f-6b1c-4f4d-aa41-9a3b5c7d1e4a', label: 'Centene', payer: 'Centene Corporation', refresh: true, mode: 'live' },
  { id: 'b16b3f0a-7c2d-4a5e-bb52-0b4c6d8e2f5b', label: 'Humana Sandbox', payer: 'Humana', refresh: true, mode: 'test' },
  { id: 'c27c4a1b-8d3e-4b6f-8c63-1c5d7e9f3a6c', label: 'Blue Button 2.0 Sandbox', payer: 'Centers for Medicare & Medicaid Services', refresh: true, mode: 'test' },
  { id: 'd38d5b2c-9e4f-4c7a-9d74-2d6e8f0a4b7d', label: 'Cigna Sandbox', payer: 'The Cigna Group', refresh: true, mode: 'test' },
  { id: 'e49e6c3d-0f5a-4d8b-ae85-3e7f9a1b5c8e', label: 'Kaiser Permanente Sandbox', payer: 'Kaiser Foundation Health Plan', refresh: false, mode: 'test' },
]

const BY_ID = new Map(ENDPOINTS.map((endpoint) => [endpoint.id, endpoint]))

export function findEndpoint(id: string): PayerEndpoint | undefined {
  return BY_ID.get(id.toLowerCase())
}

/** Finds an endpoint by UUID or by label (case-insensitive), within one mode when given. */
export function resolveEndpoint(reference: string, mode?: 'live' | 'test'): PayerEndpoint | undefined {
  const byId = findEndpoint(reference)
  if (byId) return byId
  const label = reference.trim().toLowerCase()
  return ENDPOINTS.find((endpoint) => endpoint.label.toLowerCase() === label && (mode === undefined || endpoint.mode === mode))
}
