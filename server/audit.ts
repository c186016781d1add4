import type { Context } from 'hono'
import type { Kysely } from 'kysely'

import { newId } from '../shared/tokens.js'
import type { AppEnv, Principal } from './context.js'
import type { Database } from './db/schema.js'
import { now } from './time.js'

export interface AuditEntry {
  workspaceId: string
  action: string
  targetType?: string
  targetId?: string
  /** Extra facts about the change. Never a secret or a PHI value. */
  data?: Record<string, unknown>
  /** The acting user, where the request has no principal yet (sign-up). */
  actor?: { userId: string; email: string }
}

export function clientAddress(c: Context<AppEnv>): string | null {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? null
}

function actorOf(principal: Principal | undefined) {
  if (!principal) return { actor_type: 'system' as const, actor_id: null, actor_label: null }
  if (principal.type === 'token') {
    return { actor_type: 'token' as const, actor_id: principal.token.id, actor_label: principal.token.name }
  }
  return { actor_type: 'user' as const, actor_id: principal.user.id, actor_label: principal.user.email }
}

/**
 * Appends a record to the workspace's audit log, as the request's principal. Records are never
 * updated or deleted: the database rejects both (see the append-only migration).
 */
export async function recordAudit(
  c: Context<AppEnv>,
  entry: AuditEntry,
  db: Kysely<Database> = c.get('services').database.db,
  actorType?: 'operator',
): Promise<void> {
  const actor = entry.actor
    ? { actor_type: 'user' as const, actor_id: entry.actor.userId, actor_label: entry.actor.email }
    : actorOf(c.get('principal'))
  await db
    .insertInto('audit_events')
    .values({
      id: newId('aud'),
      workspace_id: entry.workspaceId,
      ...actor,
      actor_type: actorType ?? actor.actor_type,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      address: clientAddress(c),
      request_id: c.get('requestId'),
      data: entry.data ? JSON.stringify(entry.data) : null,
      created_at: now(),
    })
    .execute()
}
