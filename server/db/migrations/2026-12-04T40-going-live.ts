import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('live_access_requests')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('form', 'text', (col) => col.notNull())
    .addColumn('submitted_by', 'text')
    .addColumn('submitted_at', 'text', (col) => col.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('rejection_reason', 'text')
    .execute()
  await db.schema
    .createIndex('live_access_requests_workspace')
    .on('live_access_requests')
    .columns(['workspace_id', 'submitted_at'])
    .execute()
  await db.schema
    .createIndex('live_access_requests_status')
    .on('live_access_requests')
    .columns(['status', 'submitted_at'])
    .execute()

  await db.schema
    .createTable('billing_accounts')
    .addColumn('workspace_id', 'text', (col) => col.primaryKey().references('workspaces.id').onDelete('cascade'))
    .addColumn('stripe_customer_id', 'text', (col) => col.unique())
    .addColumn('payment_method_id', 'text')
    .addColumn('payment_method_brand', 'text')
    .addColumn('payment_method_last4', 'text')
    .addColumn('payment_method_event_created', 'integer')
    .addColumn('waived_at', 'text')
    .addColumn('waived_by', 'text')
    .addColumn('waived_reason', 'text')
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('stripe_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('created', 'integer', (col) => col.notNull())
    .addColumn('workspace_id', 'text')
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('received_at', 'text', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('stripe_detached_payment_methods')
    .addColumn('payment_method_id', 'text', (col) => col.primaryKey())
    .addColumn('stripe_customer_id', 'text')
    .addColumn('detached_at', 'integer', (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stripe_detached_payment_methods').execute()
  await db.schema.dropTable('stripe_events').execute()
  await db.schema.dropTable('billing_accounts').execute()
  await db.schema.dropTable('live_access_requests').execute()
}
