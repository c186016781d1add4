import { Hono } from 'hono'

import { AuditListQuery } from '../../shared/schemas.js'
import { listAuditEvents } from '../audit-log.js'
import { access, workspaceAccess } from '../auth.js'
import type { AppEnv } from '../context.js'
import { queryParams } from '../validate.js'

export function auditRoutes() {
  const app = new Hono<AppEnv>()

  app.get('/workspaces/:workspace/audit', access('team:manage'), queryParams(AuditListQuery), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { db } = c.get('services').database
    return c.json(await listAuditEvents(db, workspace.id, c.req.valid('query')))
  })

  return app
}
