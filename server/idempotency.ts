import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

import type { Context } from 'hono'

import type { AppEnv } from './context.js'
import { ApiError } from './errors.js'
import { addMs, now } from './time.js'
import { currentPrincipal } from './auth.js'

const KEEP_MS = 24 * 3_600_000
/** A pending key older than this belongs to a request that died, and may be taken over. */
const ABANDONED_MS = 60_000

export interface StoredResponse {
  status: 200 | 201
  body: unknown
}

function encryptionKey(idempotencyKey: string, keyHash: string): Buffer {
  return Buffer.from(hkdfSync('sha256', idempotencyKey, keyHash, 'flexpa idempotent response', 32))
}

function encrypt(plain: string, key: Buffer): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64')).join('.')
}

function decrypt(sealed: string, key: Buffer): string {
  const [iv, tag, data] = sealed.split('.').map((part) => Buffer.from(part, 'base64'))
  const decipher = createDecipheriv('aes-256-gcm', key, iv)
  decipher.setAuthTag(tag)
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8')
}

function readKey(c: Context<AppEnv>): string | null {
  const key = c.req.header('idempotency-key')
  if (key === undefined) return null
  if (!/^[\x21-\x7e]{8,255}$/.test(key)) {
    throw new ApiError('invalid_request', 'Idempotency-Key must be 8 to 255 printable ASCII characters', {
      field: 'Idempotency-Key',
    })
  }
  return key
}

/**
 * Runs a create or rotate once per Idempotency-Key. The first response is kept for 24 hours,
 * encrypted with a key derived from the idempotency key, which is itself stored only as a hash;
 * a replay with the same parameters returns it, and other parameters are a 409.
 */
export async function idempotent(
  c: Context<AppEnv>,
  scope: string,
  params: unknown,
  run: () => Promise<StoredResponse>,
): Promise<Response> {
  const key = readKey(c)
  if (key === null) {
    const result = await run()
    return c.json(result.body as object, result.status)
  }
  const { db } = c.get('services').database
  const principal = currentPrincipal(c)
  const principalId = principal.type === 'user' ? principal.user.id : principal.token.id
  // The scope (the operation and its target) is part of the parameters, not of the key, so one
  // key sent to another operation is rejected as reused instead of running a second time.
  const keyHash = createHash('sha256').update(`${principalId}\n${key}`).digest('hex')
  const requestHash = createHash('sha256').update(`${scope}\n${JSON.stringify(params)}`).digest('hex')
  const time = now()

  await db.deleteFrom('idempotency_keys').where('expires_at', '<=', time).execute()
  await db
    .deleteFrom('idempotency_keys')
    .where('key_hash', '=', keyHash)
    .where('status', '=', 'pending')
    .where('created_at', '<=', addMs(time, -ABANDONED_MS))
    .execute()
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      key_hash: keyHash,
      request_hash: requestHash,
      status: 'pending',
      response_status: null,
      response_body: null,
      created_at: time,
      expires_at: addMs(time, KEEP_MS),
    })
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .executeTakeFirst()

  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
    const existing = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirstOrThrow()
    if (existing.request_hash !== requestHash) {
      throw new ApiError(
        'idempotency_key_reused',
        'this Idempotency-Key was already used with other parameters; use a new key',
      )
    }
    if (existing.status !== 'done' || existing.response_body === null) {
      throw new ApiError('idempotency_in_progress', 'a request with this Idempotency-Key is still running; retry shortly')
    }
    const body = JSON.parse(decrypt(existing.response_body, encryptionKey(key, keyHash)))
    c.header('Idempotent-Replayed', 'true')
    return c.json(body, (existing.response_status ?? 200) as 200 | 201)
  }

  let result: StoredResponse
  try {
    result = await run()
  } catch (error) {
    await db.deleteFrom('idempotency_keys').where('key_hash', '=', keyHash).execute()
    throw error
  }
  await db
    .updateTable('idempotency_keys')
    .set({
      status: 'done',
      response_status: result.status,
      response_body: encrypt(JSON.stringify(result.body), encryptionKey(key, keyHash)),
    })
    .where('key_hash', '=', keyHash)
    .execute()
  return c.json(result.body as object, result.status)
}
