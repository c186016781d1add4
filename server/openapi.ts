import type { Hono } from 'hono'
import { z } from 'zod'

import { declaredAccess } from './auth.js'
import type { AppEnv } from './context.js'
import { declaredSchema } from './validate.js'

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string' },
        permission: { type: 'string' },
      },
    },
  },
}

/** Builds the OpenAPI 3.1 document from the app's routes, their access and their zod schemas. */
export function openApiDocument(app: Hono<AppEnv>) {
  const paths: Record<string, Record<string, Record<string, unknown>>> = {}
  for (const route of app.routes) {
    if (route.method === 'ALL') continue
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    const method = route.method.toLowerCase()
    const operation = (paths[path] ??= {})[method] ?? {
      parameters: [...route.path.matchAll(/:(\w+)/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      responses: {
        default: { description: 'Error', content: { 'application/json': { schema: ERROR_SCHEMA } } },
      },
    }
    paths[path][method] = operation
    const declared = declaredAccess(route.handler)
    if (declared) operation['x-access'] = declared
    const schema = declaredSchema(route.handler)
    if (schema?.target === 'json') {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: z.toJSONSchema(schema.schema, { io: 'input', unrepresentable: 'any' }) } },
      }
    } else if (schema?.target === 'query') {
      const json = z.toJSONSchema(schema.schema, { io: 'input', unrepresentable: 'any' }) as {
        properties?: Record<string, unknown>
      }
      for (const [name, property] of Object.entries(json.properties ?? {})) {
        ;(operation.parameters as unknown[]).push({ name, in: 'query', schema: property })
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Flexpa Portal API', version: '1' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        applicationKeys: { type: 'http', scheme: 'basic' },
      },
    },
    paths,
  }
}
