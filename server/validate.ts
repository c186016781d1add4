import type { MiddlewareHandler } from 'hono'
import type { z } from 'zod'

import type { AppEnv } from './context.js'
import { ApiError } from './errors.js'

const SCHEMA = Symbol.for('flexpa.schema')

export interface DeclaredSchema {
  target: 'json' | 'query'
  schema: z.ZodType
}

/** Returns the request schema a validator middleware declares, for the OpenAPI document. */
export function declaredSchema(handler: unknown): DeclaredSchema | undefined {
  return (handler as { [SCHEMA]?: DeclaredSchema } | null)?.[SCHEMA]
}

function firstIssue(error: z.ZodError): ApiError {
  const issue = error.issues[0]
  const field = issue.path.map(String).join('.') || undefined
  const message = field ? `${field}: ${issue.message}` : issue.message
  return new ApiError('validation_failed', message, field ? { field } : {})
}

/** Deepest nesting of arrays and objects a JSON body may have; real requests use three or four. */
export const MAX_JSON_DEPTH = 64

/**
 * Rejects JSON text that nests arrays or objects deeper than MAX_JSON_DEPTH. It scans the text
 * without parsing it, so no later recursive walk (zod, JSON.stringify, the NUL check) can
 * overflow the stack on a hostile body.
 */
export function rejectDeepJson(text: string): void {
  let depth = 0
  let inString = false
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index)
    if (inString) {
      if (char === 0x5c) index += 1 // a backslash escapes the next character
      else if (char === 0x22) inString = false
    } else if (char === 0x22) {
      inString = true
    } else if (char === 0x5b || char === 0x7b) {
      depth += 1
      if (depth > MAX_JSON_DEPTH) {
        throw new ApiError('invalid_request', `the request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`)
      }
    } else if (char === 0x5d || char === 0x7d) {
      depth -= 1
    }
  }
}

/**
 * Returns the path of the first string or key containing U+0000, which PostgreSQL cannot store
 * in text. It walks with an explicit stack, so the depth of the value does not matter.
 */
function findNul(root: unknown): string[] | null {
  const pending: Array<{ value: unknown; path: string[] }> = [{ value: root, path: [] }]
  while (pending.length > 0) {
    const { value, path } = pending.pop()!
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path
      continue
    }
    if (typeof value !== 'object' || value === null) continue
    const entries = Object.entries(value)
    const badKey = entries.find(([key]) => key.includes('\u0000'))
    if (badKey) return [...path, badKey[0]]
    // Pushed in reverse, so the first entry is examined first.
    for (const [key, item] of entries.reverse()) pending.push({ value: item, path: [...path, key] })
  }
  return null
}

function rejectNul(value: unknown): void {
  const path = findNul(value)
  if (path === null) return
  const field = path.join('.') || undefined
  const message = 'must not contain a NUL character (U+0000)'
  throw new ApiError('validation_failed', field ? `${field}: ${message}` : message, field ? { field } : {})
}

/** Parses a value with a schema, turning the first problem into a 422 that names its field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value)
  if (!result.success) throw firstIssue(result.error)
  return result.data
}

type Validated<Target extends 'json' | 'query', T extends z.ZodType> = MiddlewareHandler<
  AppEnv,
  string,
  { in: { [K in Target]: z.input<T> }; out: { [K in Target]: z.output<T> } }
>

function tag<M>(middleware: M, declared: DeclaredSchema): M {
  return Object.assign(middleware as object, { [SCHEMA]: declared }) as M
}

/** Validates the JSON body; `c.req.valid('json')` then has the schema's type. */
export function jsonBody<T extends z.ZodType>(schema: T): Validated<'json', T> {
  const middleware: Validated<'json', T> = async function validateJson(c, next) {
    const text = await c.req.text()
    let parsed: unknown = {}
    if (text.trim() !== '') {
      const type = c.req.header('content-type') ?? ''
      if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
        throw new ApiError('unsupported_media_type', 'send the body as JSON with Content-Type: application/json')
      }
      rejectDeepJson(text)
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new ApiError('invalid_request', 'the request body is not valid JSON')
      }
    }
    rejectNul(parsed)
    c.req.addValidatedData('json', parseWith(schema, parsed) as object)
    await next()
  }
  return tag(middleware, { target: 'json', schema })
}

/** Validates the query string; a repeated parameter arrives as its last value. */
export function queryParams<T extends z.ZodType>(schema: T): Validated<'query', T> {
  const middleware: Validated<'query', T> = async function validateQuery(c, next) {
    const query = c.req.query()
    rejectNul(query)
    c.req.addValidatedData('query', parseWith(schema, query) as object)
    await next()
  }
  return tag(middleware, { target: 'query', schema })
}
