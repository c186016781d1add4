import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely'

import type { Database } from './schema.js'

/** Marks the place of a named parameter while a query is built once; no real value looks like it. */
const MARK = '\u0000flexpa-parameter:'

type Names<P> = Extract<keyof P, string>

export interface Precompiled<P, R> {
  /** Runs the query with `parameters` on `db`, which may be a transaction. */
  execute(db: Kysely<Database>, parameters: P): Promise<QueryResult<R>>
}

/**
 * Builds and compiles a query once, so a hot path skips Kysely's building and compiling on every
 * call, which costs more than running a short statement. `build` receives `param(name)` to put
 * where a value of each call goes. The query is compiled once for each database it runs on, in
 * that database's dialect.
 */
export function precompile<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Database>, param: (name: Names<P>) => any) => Compilable<R>,
): Precompiled<P, R> {
  const compiled = new WeakMap<object, { query: CompiledQuery<R>; slots: (Names<P> | null)[] }>()
  const compile = (db: Kysely<Database>) => {
    // The adapter identifies the dialect, and a transaction shares its database's adapter.
    const adapter = db.getExecutor().adapter
    let found = compiled.get(adapter)
    if (!found) {
      const query = build(db, (name) => `${MARK}${name}`).compile()
      const slots = query.parameters.map((value) =>
        typeof value === 'string' && value.startsWith(MARK) ? (value.slice(MARK.length) as Names<P>) : null,
      )
      found = { query, slots }
      compiled.set(adapter, found)
    }
    return found
  }
  return {
    execute(db, parameters) {
      const { query, slots } = compile(db)
      const values = slots.map((name, index) => (name === null ? query.parameters[index] : parameters[name]))
      return db.executeQuery(CompiledQuery.raw(query.sql, values) as CompiledQuery<R>)
    },
  }
}
