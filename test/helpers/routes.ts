import type { Hono } from 'hono'

import { declaredAccess } from '../../server/auth.js'
import { declaredSchema, type DeclaredSchema } from '../../server/validate.js'
import type { Access } from '../../shared/permissions.js'

export interface DeclaredRoute {
  method: string
  path: string
  /** The access of the route's first handler, or undefined when it declares none. */
  access: Access | undefined
  schemas: DeclaredSchema[]
}

/**
 * Groups `app.routes` (one entry per handler) into routes by method and path. Entries with the
 * method ALL are middleware registered with `use()` and are left out.
 */
export function declaredRoutes(app: Hono<any>): DeclaredRoute[] {
  const routes = new Map<string, DeclaredRoute & { handlers: unknown[] }>()
  for (const entry of app.routes) {
    if (entry.method === 'ALL') continue
    const key = `${entry.method} ${entry.path}`
    let route = routes.get(key)
    if (!route) {
      route = { method: entry.method, path: entry.path, access: undefined, schemas: [], handlers: [] }
      routes.set(key, route)
    }
    route.handlers.push(entry.handler)
    const schema = declaredSchema(entry.handler)
    if (schema) route.schemas.push(schema)
  }
  return [...routes.values()].map(({ handlers, ...route }) => ({ ...route, access: declaredAccess(handlers[0]) }))
}

/** Names of the path parameters of a Hono path such as `/apps/:app{[a-z]+}`. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/:(\w+)(\{[^}]*\})?\??/g)].map((match) => match[1])
}

/** Fills a Hono path's parameters from `values`, falling back to `fallback(name)`; wildcards become `x`. */
export function fillPath(path: string, values: Record<string, string>, fallback: (name: string) => string): string {
  return path
    .replace(/:(\w+)(\{[^}]*\})?\??/g, (_match, name: string) => encodeURIComponent(values[name] ?? fallback(name)))
    .replace(/\*/g, 'x')
}

export function bodyAllowed(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD'
}

/**
 * Reads a response body, except a Server-Sent Events stream (`logs tail`), which never ends: it
 * is cancelled once its status and headers are known.
 */
export async function responseText(response: Response): Promise<string> {
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await response.body?.cancel()
    return ''
  }
  return response.text()
}
