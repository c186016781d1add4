import { createHash, randomBytes } from 'node:crypto'

/**
 * Formats of ids, keys and tokens. Secrets end in a checksum of their random part, so a secret
 * scanner can tell a real key from a typo without asking the server.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const RANDOM_LENGTH = 32 // 32 base62 characters carry about 190 bits
const CHECKSUM_LENGTH = 6

export const SECRET_PREFIXES = {
  publishable_test: 'pk_test_',
  secret_test: 'sk_test_',
  publishable_live: 'pk_live_',
  secret_live: 'sk_live_',
  session: 'fxs_',
  workspace_token: 'fxw_',
  invitation: 'fxi_',
  reset: 'fxr_',
  verification: 'fxv_',
  sso_code: 'fxc_',
} as const

export type SecretKind = keyof typeof SECRET_PREFIXES

export function randomBase62(length: number): string {
  // Rejection sampling keeps every character equally likely.
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62]
    }
  }
  return out
}

function checksum(body: string): string {
  const digest = createHash('sha256').update(body).digest()
  let value = digest.readUInt32BE(0)
  let out = ''
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out += BASE62[value % 62]
    value = Math.floor(value / 62)
  }
  return out
}

/** Creates a new random id such as `app_3kTq…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(20)}`
}

export function newSecret(kind: SecretKind): string {
  const body = randomBase62(RANDOM_LENGTH)
  return `${SECRET_PREFIXES[kind]}${body}${checksum(body)}`
}

/** Returns the kind of a well-formed secret whose checksum matches, or null. */
export function checkSecret(value: string): SecretKind | null {
  for (const [kind, prefix] of Object.entries(SECRET_PREFIXES)) {
    if (!value.startsWith(prefix)) continue
    const rest = value.slice(prefix.length)
    if (rest.length !== RANDOM_LENGTH + CHECKSUM_LENGTH) return null
    const body = rest.slice(0, RANDOM_LENGTH)
    return checksum(body) === rest.slice(RANDOM_LENGTH) ? (kind as SecretKind) : null
  }
  return null
}

/** Hashes a high-entropy secret for storage; passwords use scrypt instead. */
export function hashSecret(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}
