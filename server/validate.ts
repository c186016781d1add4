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

/** Returns the path of the first string containing U+0000, which PostgreSQL cannot store in text. */
function findNul(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null
  if (typeof value !== 'object' || value === null) return null
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key]
    const found = findNul(item, [...path, key])
    if (found) return found
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
