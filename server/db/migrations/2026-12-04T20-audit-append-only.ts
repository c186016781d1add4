import { sql, SqliteAdapter, type Kysely } from 'kysely'

/**
 * Makes `audit_events` append-only in the database itself: an UPDATE, DELETE or TRUNCATE fails,
 * whichever code path sends it. Audit records are kept at least six years, so nothing in the
 * application removes them, not even deleting their workspace.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    for (const operation of ['update', 'delete']) {
      await sql
        .raw(
          `create trigger audit_events_no_${operation} before ${operation} on audit_events ` +
            `begin select raise(abort, 'audit_events is append-only'); end`,
        )
        .execute(db)
    }
  } else {
    await sql
      .raw(
        `create function audit_events_reject_change() returns trigger language plpgsql as $$ ` +
          `begin raise exception 'audit_events is append-only'; end $$`,
      )
      .execute(db)
    await sql
      .raw(
        'create trigger audit_events_no_change before update or delete on audit_events ' +
          'for each row execute function audit_events_reject_change()',
      )
      .execute(db)
    await sql
      .raw(
        'create trigger audit_events_no_truncate before truncate on audit_events ' +
          'for each statement execute function audit_events_reject_change()',
      )
      .execute(db)
  }
  await db.schema
    .createIndex('audit_events_workspace_actor')
    .on('audit_events')
    .columns(['workspace_id', 'actor_id', 'created_at'])
    .execute()
  await db.schema
    .createIndex('workspace_tokens_workspace')
    .on('workspace_tokens')
    .columns(['workspace_id', 'created_at'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('workspace_tokens_workspace').execute()
  await db.schema.dropIndex('audit_events_workspace_actor').execute()
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await sql.raw('drop trigger audit_events_no_update').execute(db)
    await sql.raw('drop trigger audit_events_no_delete').execute(db)
  } else {
    await sql.raw('drop trigger audit_events_no_truncate on audit_events').execute(db)
    await sql.raw('drop trigger audit_events_no_change on audit_events').execute(db)
    await sql.raw('drop function audit_events_reject_change()').execute(db)
  }
}
