/**
 * Lifecycle of an access token, as Flexpa Consent records it. `EXPIRED` is never stored: a row
 * whose `expires_at` has passed reads as `EXPIRED` unless it already reached a final state.
 */

export const STORED_STATES = ['CREATED', 'AUTHORIZING', 'AUTHORIZED', 'EXCHANGED', 'REFRESHED', 'REVOKED', 'ERROR'] as const
export type StoredState = (typeof STORED_STATES)[number]

export const STATES = [...STORED_STATES, 'EXPIRED'] as const
export type State = (typeof STATES)[number]

export const FINAL_STATES: readonly StoredState[] = ['REVOKED', 'ERROR']

export const USAGES = ['ONE_TIME', 'MULTIPLE'] as const
export type Usage = (typeof USAGES)[number]

const FORWARD: Record<StoredState, readonly StoredState[]> = {
  CREATED: ['AUTHORIZING'],
  AUTHORIZING: ['AUTHORIZED'],
  AUTHORIZED: ['EXCHANGED'],
  EXCHANGED: ['REFRESHED'],
  REFRESHED: ['REFRESHED'],
  REVOKED: [],
  ERROR: [],
}

/** Whether a row in state `from` may move to `to`; refreshes are for `MULTIPLE` usage only. */
export function canTransition(from: StoredState, to: StoredState, usage: Usage): boolean {
  if (FINAL_STATES.includes(from)) return false
  if (to === 'REVOKED' || to === 'ERROR') return true
  if (to === 'REFRESHED' && usage !== 'MULTIPLE') return false
  return FORWARD[from].includes(to)
}

/** The state a reader sees: the stored one, or `EXPIRED` once the expiry passed on a row that is not final. */
export function visibleState(state: StoredState, expiresAt: string | null, time: string): State {
  if (expiresAt !== null && expiresAt <= time && !FINAL_STATES.includes(state)) return 'EXPIRED'
  return state
}
