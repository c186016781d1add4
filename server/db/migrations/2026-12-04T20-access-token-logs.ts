import { PostgresAdapter, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('access_tokens')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('application_id', 'text', (col) => col.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('mode', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('endpoint_id', 'text', (col) => col.notNull())
    .addColumn('usage', 'text', (col) => col.notNull())
    .addColumn('request_id', 'text', (col) => col.notNull())
    .addColumn('external_user_id', 'text')
    .addColumn('patient_id', 'text')
    .addColumn('patient_name', 'text')
    .addColumn('patient_birth_date', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('created_day', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .addColumn('authorizing_at', 'text')
    .addColumn('authorized_at', 'text')
    .addColumn('exchanged_at', 'text')
    .addColumn('refreshed_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('errored_at', 'text')
    .execute()
  // Keyset pages walk (workspace, mode, created_at, id) newest first; the application index serves
  // the common --app filter without scanning other applications' rows.
  await db.schema
    .createIndex('access_tokens_page')
    .on('access_tokens')
    .columns(['workspace_id', 'mode', 'created_at', 'id'])
    .execute()
  // Analytics group by (day, endpoint, state) in this index's order, so they count a period from
  // the index alone, without sorting and without reading rows.
  await db.schema
    .createIndex('access_tokens_analytics')
    .on('access_tokens')
    .columns(['workspace_id', 'mode', 'created_day', 'endpoint_id', 'state', 'expires_at', 'exchanged_at', 'created_at', 'application_id'])
    .execute()
  await db.schema
    .createIndex('access_tokens_app_page')
    .on('access_tokens')
    .columns(['workspace_id', 'mode', 'application_id', 'created_at', 'id'])
    .execute()
  await db.schema.createIndex('access_tokens_request').on('access_tokens').columns(['workspace_id', 'request_id']).execute()
  await db.schema
    .createIndex('access_tokens_external_user')
    .on('access_tokens')
    .columns(['workspace_id', 'external_user_id'])
    .execute()
  await db.schema.createIndex('access_tokens_created').on('access_tokens').columns(['created_at']).execute()

  // One row per change of an access token, numbered in commit order; `logs tail` reads it.
  const changes = db.schema.createTable('access_token_changes')
  const withId = db.getExecutor().adapter instanceof PostgresAdapter
    ? changes.addColumn('id', 'bigserial', (col) => col.primaryKey())
    : changes.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
  await withId
    .addColumn('workspace_id', 'text', (col) => col.notNull())
    .addColumn('mode', 'text', (col) => col.notNull())
    .addColumn('access_token_id', 'text', (col) => col.notNull())
    // Deleting an application (or its workspace) deletes the snapshots, which hold PHI, with it.
    .addColumn('application_id', 'text', (col) => col.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('endpoint_id', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('snapshot', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .execute()
  await db.schema
    .createIndex('access_token_changes_feed')
    .on('access_token_changes')
    .columns(['workspace_id', 'mode', 'id'])
    .execute()
  await db.schema.createIndex('access_token_changes_token').on('access_token_changes').columns(['access_token_id']).execute()
  await db.schema.createIndex('access_token_changes_created').on('access_token_changes').columns(['created_at']).execute()

  await db.schema
    .createTable('log_retention')
    .addColumn('workspace_id', 'text', (col) => col.primaryKey().references('workspaces.id').onDelete('cascade'))
    .addColumn('days', 'integer', (col) => col.notNull())
    .addColumn('previous_days', 'integer')
    .addColumn('changed_at', 'text', (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('log_retention').execute()
  await db.schema.dropTable('access_token_changes').execute()
  await db.schema.dropTable('access_tokens').execute()
}
