import type { Migration } from 'kysely'

import * as base from './2026-12-04T00-base.js'
import * as accessTokenLogs from './2026-12-04T20-access-token-logs.js'

/** Every migration, by dated name. Kysely's Migrator runs them in name order. */
export const migrations: Record<string, Migration> = {
  '2026-12-04T00-base': base,
  '2026-12-04T20-access-token-logs': accessTokenLogs,
}
