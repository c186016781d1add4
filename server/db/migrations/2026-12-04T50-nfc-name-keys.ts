import type { Kysely } from 'kysely'

/**
 * Recomputes application name keys in Unicode NFC, so that a name typed with a combining accent
 * and the same name with a precomposed letter share one key. A row whose new key would collide
 * with another application of its workspace keeps its old key, because the unique constraint
 * would otherwise reject the migration.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const rows: Array<{ id: string; workspace_id: string; name: string; name_key: string }> = await db
    .selectFrom('applications')
    .select(['id', 'workspace_id', 'name', 'name_key'])
    .execute()
  const taken = new Set(rows.map((row) => `${row.workspace_id}\n${row.name_key}`))
  for (const row of rows) {
    const key = row.name.normalize('NFC').trim().toLowerCase()
    if (key === row.name_key || taken.has(`${row.workspace_id}\n${key}`)) continue
    taken.add(`${row.workspace_id}\n${key}`)
    await db.updateTable('applications').set({ name_key: key }).where('id', '=', row.id).execute()
  }
}

/** The NFC keys match the same names as before, so there is nothing to undo. */
export async function down(): Promise<void> {}
