import type { Migration } from 'kysely'

import * as base from './2026-12-04T00-base.js'
import * as team from './2026-12-04T10-team.js'
import * as sso from './2026-12-04T16-sso.js'
import * as accessTokenLogs from './2026-12-04T20-access-token-logs.js'
import * as auditAppendOnly from './2026-12-04T20-audit-append-only.js'
import * as goingLive from './2026-12-04T40-going-live.js'
import * as nfcNameKeys from './2026-12-04T50-nfc-name-keys.js'

/** Every migration, by dated name. Kysely's Migrator runs them in name order. */
export const migrations: Record<string, Migration> = {
  '2026-12-04T00-base': base,
  '2026-12-04T10-team': team,
  '2026-12-04T16-sso': sso,
  '2026-12-04T20-access-token-logs': accessTokenLogs,
  '2026-12-04T20-audit-append-only': auditAppendOnly,
  '2026-12-04T40-going-live': goingLive,
  '2026-12-04T50-nfc-name-keys': nfcNameKeys,
}
