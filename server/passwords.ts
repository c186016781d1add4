import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

import { COMMON_PASSWORDS } from './common-passwords.js'

/**
 * scrypt with N=2^17, r=8, p=1: the minimum OWASP's Password Storage Cheat Sheet recommends
 * (2023 edition). The parameters are stored with each hash, so raising them later keeps old hashes
 * valid.
 */
const COST_LOG2 = 17
const BLOCK_SIZE = 8
const PARALLELISM = 1
const KEY_LENGTH = 32

export const MIN_PASSWORD_LENGTH = 12
export const MAX_PASSWORD_BYTES = 1024

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

function scryptOptions(costLog2: number, blockSize: number, parallelism: number): ScryptOptions {
  const N = 2 ** costLog2
  return { N, r: blockSize, p: parallelism, maxmem: 256 * N * blockSize }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, scryptOptions(COST_LOG2, BLOCK_SIZE, PARALLELISM))
  return ['scrypt', COST_LOG2, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$')
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // Without a stored hash, hash anyway so that the answer takes as long as a real check.
  const parts = (stored ?? '').split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    await derive(password, randomBytes(16), scryptOptions(COST_LOG2, BLOCK_SIZE, PARALLELISM))
    return false
  }
  const [, costLog2, blockSize, parallelism, salt, expected] = parts
  const key = await derive(
    password,
    Buffer.from(salt, 'base64'),
    scryptOptions(Number(costLog2), Number(blockSize), Number(parallelism)),
  )
  const wanted = Buffer.from(expected, 'base64')
  return wanted.length === key.length && timingSafeEqual(wanted, key)
}

/** Returns why a new password is not acceptable, or null. No composition rules apply. */
export function passwordProblem(password: string, email?: string): string | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    return `must be at least ${MIN_PASSWORD_LENGTH} characters`
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    return `must be at most ${MAX_PASSWORD_BYTES} bytes`
  }
  const lowered = password.toLowerCase()
  if (COMMON_PASSWORDS.has(lowered)) return 'is too common; choose a longer phrase of your own'
  if (/^(.)\1+$/u.test(password)) return 'is a single repeated character; choose a phrase of your own'
  if (email && lowered === email.toLowerCase()) return 'must not be your email address'
  return null
}
