import fc from 'fast-check'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { dialects, type DialectName } from '../helpers/database.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'
import { bodyAllowed, declaredRoutes, fillPath, pathParameters, type DeclaredRoute, responseText } from '../helpers/routes.js'

/** Text that only a stack trace or a leaked source location would put in a response. */
const STACK_TRACE = /\n\s+at \S|\bat [\w.<>]+ \(|node_modules|file:\/\/|\.(ts|js):\d+:\d+|Error: [^"]*\n/

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 80 })

interface GeneratedRequest {
  route: DeclaredRoute
  method: string
  params: Record<string, string>
  query: string
  headers: Record<string, string>
  body: string | undefined
}

interface World {
  test: TestApp
  fixture: PrincipalFixture
  /** Values that name real things, so that some requests get past the lookups. */
  known: Record<string, string[]>
  routes: DeclaredRoute[]
  hits: Map<string, number>
}

function propertiesOf(route: DeclaredRoute, target: 'json' | 'query'): string[] {
  const schema = route.schemas.find((declared) => declared.target === target)?.schema
  if (!schema) return []
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: object }
  return Object.keys(json.properties ?? {})
}

function paramArbitrary(world: World, name: string): fc.Arbitrary<string> {
  const known = world.known[name] ?? []
  return fc.oneof(
    { weight: 3, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.constant(`${name}_missing`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom('ws_', 'app_', 'key_', '..', '%', '%00', '\u0000', 'a\u0000b', ' ', 'null', '0', '-1', 'a'.repeat(300)) },
  )
}

function credentialArbitrary(world: World): fc.Arbitrary<string | null> {
  const { fixture } = world
  // Most requests carry a valid credential, so that they get past authentication.
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 8, arbitrary: fc.constantFrom('admin', 'member', 'withheld', 'outsider').map((who) => `session:${who}`) },
    { weight: 4, arbitrary: fc.constantFrom(...Object.values(fixture.tokens)).map((token) => `Bearer ${token}`) },
    { weight: 1, arbitrary: printable.map((text) => `Bearer ${text}`) },
    { weight: 1, arbitrary: printable },
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer fxs_', 'Bearer fxw_', 'Basic cGs6c2s=', 'bearer  fxs_abc  ') },
  )
}

/** A value shaped like what a schema field might get: right type, wrong type, edge values. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }),
  fc.emailAddress(),
  fc.constantFrom('', ' ', 'a\u0000b', 'https://example.com/cb', 'http://localhost:3000/cb', 'http://evil.example/cb#x', 'app_x', 'ws_x'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.webUrl(), fc.integer()), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
)

/** A plausible value: a short name, an email address, a list of redirect URIs or a small number. */
const plausibleValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  fc.emailAddress(),
  fc.array(fc.constantFrom('https://example.com/cb', 'http://localhost:3000/cb', 'https://app.example.org/oauth'), { maxLength: 3 }),
  fc.nat({ max: 604_800 }),
)

function shapedBody(route: DeclaredRoute): fc.Arbitrary<string> {
  const keys = propertiesOf(route, 'json')
  const key = keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 })) : fc.string({ maxLength: 10 })
  const loose = fc.dictionary(key, fieldValue, { maxKeys: 5 })
  if (keys.length === 0) return loose.map((value) => JSON.stringify(value))
  // Only the schema's own fields, so that strict schemas accept some of them.
  const strict = fc.record(Object.fromEntries(keys.map((name) => [name, plausibleValue])), { requiredKeys: [] })
  return fc.oneof(loose, strict).map((value) => JSON.stringify(value))
}

function queryArbitrary(route: DeclaredRoute): fc.Arbitrary<string> {
  const keys = propertiesOf(route, 'query')
  const key = fc.oneof(fc.constantFrom('limit', 'cursor', 'mode', ...keys), fc.string({ maxLength: 10 }))
  const value = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.integer().map(String), fc.constantFrom('', '-1', '0', '1e309', 'NaN'))
  return fc.oneof(
    fc.array(fc.tuple(key, value), { maxLength: 5 }).map((pairs) => new URLSearchParams(pairs).toString()),
    printable.map((text) => text.replace(/#/g, '')),
  )
}

function headersArbitrary(): fc.Arbitrary<Record<string, string>> {
  return fc.record(
    {
      'content-type': fc.oneof(
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json', 'multipart/form-data'),
        printable,
      ),
      'idempotency-key': fc.oneof(printable, fc.uuid()),
      'x-forwarded-for': printable,
      'user-agent': printable,
      accept: fc.constantFrom('application/json', 'text/html', '*/*'),
      'accept-encoding': fc.constantFrom('gzip', 'identity', 'br'),
    },
    { requiredKeys: [] },
  )
}

function requestArbitrary(
  world: World,
  body: (route: DeclaredRoute) => fc.Arbitrary<string | undefined>,
  options: { query?: boolean; headers?: boolean } = {},
): fc.Arbitrary<GeneratedRequest> {
  return fc.constantFrom(...world.routes).chain((route) =>
    fc.record({
      route: fc.constant(route),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS') }),
      params: fc.record(Object.fromEntries(pathParameters(route.path).map((name) => [name, paramArbitrary(world, name)]))),
      query: options.query ? queryArbitrary(route) : fc.constant(''),
      headers: fc.tuple(credentialArbitrary(world), options.headers ? headersArbitrary() : fc.constant({})).map(
        ([credential, headers]) => ({ ...headers, ...(credential === null ? {} : { authorization: credential }) }),
      ),
      body: body(route),
    }),
  )
}

async function perform(world: World, request: GeneratedRequest): Promise<void> {
  const { fixture } = world
  const key = `${request.route.method} ${request.route.path}`
  world.hits.set(key, (world.hits.get(key) ?? 0) + 1)
  const headers = { ...request.headers }
  const session = /^session:(\w+)$/.exec(headers.authorization ?? '')
  if (session) {
    const users: Record<string, string> = {
      admin: fixture.admin,
      member: fixture.member,
      withheld: fixture.withheldMember,
      outsider: fixture.outsider,
    }
    headers.authorization = `Bearer ${await fixture.session(users[session[1]])}`
  }
  if (request.body !== undefined && bodyAllowed(request.method)) headers['content-type'] ??= 'application/json'
  const path = fillPath(request.route.path, request.params, (name) => `${name}_missing`)
  const url = request.query ? `${path}?${request.query}` : path
  const response = await world.test.app.request(url, {
    method: request.method,
    headers,
    body: bodyAllowed(request.method) ? request.body : undefined,
  })
  const text = await responseText(response)
  const where = `${request.method} ${url} -> ${response.status} ${text.slice(0, 300)}`

  expect(response.status, where).toBeLessThan(500)
  expect(response.headers.get('x-request-id'), where).toMatch(/^req_/)
  expect(text, where).not.toMatch(STACK_TRACE)
  // Pages for browsers (invitation, password reset) answer errors in HTML; the JSON API never does.
  const isPage = (response.headers.get('content-type') ?? '').startsWith('text/html')
  if (response.status >= 400 && request.method !== 'HEAD' && !isPage) {
    const parsed = JSON.parse(text)
    expect(typeof parsed.error?.code, where).toBe('string')
    expect(typeof parsed.error?.message, where).toBe('string')
  }
}

/**
 * The share of runs each dialect gets. SQLite, the default, gets the full 10,000 requests;
 * PostgreSQL a tenth, for errors only it raises (NUL characters in text, for one).
 */
const SCALE: Record<DialectName, number> = { sqlite: 1, postgres: 0.1 }
/** Generous, because the runs share the machine's cores with other test files. */
const PROPERTY_TIMEOUT_MS = 240_000
const DIALECTS = await dialects()

describe.each(DIALECTS)('generated requests on %s', (dialect) => {
  const world = { hits: new Map() } as World
  const runs = (count: number) => Math.ceil(count * SCALE[dialect])

  beforeAll(async () => {
    world.test = await createTestApp(dialect)
    world.fixture = await createPrincipals(world.test)
    world.routes = declaredRoutes(world.test.app)
    const admin = await world.fixture.session(world.fixture.admin)
    const created = await world.test.call('POST', `/v1/workspaces/${world.fixture.workspaceId}/apps`, {
      token: admin,
      body: { name: 'Fuzzed', redirect_uris: ['https://example.com/cb'] },
    })
    const keys = await world.test.call('GET', `/v1/workspaces/${world.fixture.workspaceId}/apps/${created.body.id}/keys`, { token: admin })
    const workspace = await world.test.call('GET', `/v1/workspaces/${world.fixture.workspaceId}`, { token: admin })
    world.known = {
      workspace: [world.fixture.workspaceId, world.fixture.otherWorkspaceId, workspace.body.name],
      app: [created.body.id, 'Fuzzed', 'fuzzed'],
      key: keys.body.data.map((key: { id: string }) => key.id),
    }
  })
  afterAll(async () => {
    await world.test?.close()
  })

  it('survives arbitrary JSON bodies', async () => {
    const body = () => fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value))
    await fc.assert(fc.asyncProperty(requestArbitrary(world, body), (request) => perform(world, request)), { numRuns: runs(3000) })
  }, PROPERTY_TIMEOUT_MS)

  it('survives bodies shaped like the schemas', async () => {
    await fc.assert(fc.asyncProperty(requestArbitrary(world, shapedBody), (request) => perform(world, request)), { numRuns: runs(3000) })
  }, PROPERTY_TIMEOUT_MS)

  it('survives generated query strings and headers', async () => {
    const body = (route: DeclaredRoute) => fc.option(shapedBody(route), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(requestArbitrary(world, body, { query: true, headers: true }), (request) => perform(world, request)),
      { numRuns: runs(2500) },
    )
  }, PROPERTY_TIMEOUT_MS)

  it('survives malformed bodies', async () => {
    const body = () =>
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('', ' ', '{', '[]', 'null', '"x"', '{"a":1}}', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
      )
    await fc.assert(
      fc.asyncProperty(requestArbitrary(world, body, { headers: true }), (request) => perform(world, request)),
      { numRuns: runs(1500) },
    )
  }, PROPERTY_TIMEOUT_MS)

  it('survives deeply nested bodies', async () => {
    // Nesting far past any parser's stack, as arrays, objects or both, alone or inside a field.
    const opener = fc.constantFrom('[', '{"a":', '[{"b":')
    const closerOf: Record<string, string> = { '[': ']', '{"a":': '}', '[{"b":': '}]' }
    const nested = fc.tuple(opener, fc.integer({ min: 65, max: 20_000 })).map(([open, depth]) => {
      const inner = open === '[' ? '' : '1'
      return open.repeat(depth) + inner + closerOf[open].repeat(depth)
    })
    const body = (route: DeclaredRoute) =>
      fc.oneof(
        nested,
        fc.tuple(fc.constantFrom(...propertiesOf(route, 'json'), 'name'), nested).map(([key, value]) => `{${JSON.stringify(key)}:${value}}`),
      )
    await fc.assert(fc.asyncProperty(requestArbitrary(world, body), (request) => perform(world, request)), { numRuns: runs(300) })
  }, PROPERTY_TIMEOUT_MS)

  it('spreads the requests over every route', () => {
    const missed = world.routes.filter((route) => !world.hits.get(`${route.method} ${route.path}`))

    expect(missed.map((route) => `${route.method} ${route.path}`)).toEqual([])
  })
})
