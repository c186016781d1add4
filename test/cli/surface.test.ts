import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { expectJson, expectJsonFailure, readManifest } from './support.js'

/**
 * Builds the commands, flags and arguments as a sorted plain object. A change to it shows up in
 * the snapshot file beside this test, so that interface changes are reviewed.
 */
function commandSurface() {
  const { commands } = readManifest()
  return Object.fromEntries(
    Object.values(commands)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((command) => [
        command.id.replace(/:/g, ' '),
        {
          args: Object.values(command.args).map((arg) => ({
            name: arg.name,
            required: arg.required ?? false,
            ...(arg.options ? { options: arg.options } : {}),
          })),
          flags: Object.values(command.flags)
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((flag) => ({
              name: flag.name,
              type: flag.type,
              ...(flag.char ? { char: flag.char } : {}),
              ...(flag.required ? { required: true } : {}),
              ...(flag.multiple ? { multiple: true } : {}),
              ...(flag.options ? { options: flag.options } : {}),
              ...(flag.exclusive?.length ? { exclusive: flag.exclusive } : {}),
              ...(flag.dependsOn?.length ? { depends_on: flag.dependsOn } : {}),
              ...(flag.helpValue ? { value: flag.helpValue } : {}),
            })),
        },
      ]),
  )
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** Replaces the parts of a JSON document that change from run to run: ids, keys, tokens, times and the API URL. */
function mask(value: unknown, apiUrl: string): unknown {
  if (Array.isArray(value)) return value.map((item) => mask(item, apiUrl))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, mask(child, apiUrl)]))
  }
  if (typeof value !== 'string') return value
  if (value === apiUrl) return '<api-url>'
  if (ISO_TIME.test(value)) return '<time>'
  return value
    .replace(apiUrl, '<api-url>')
    .replace(/\b(pk|sk)_(test|live)_[A-Za-z0-9]+/g, '$1_$2_<key>')
    .replace(/\b(pk|sk)_(test|live)_…[A-Za-z0-9]{4}\b/g, '$1_$2_…<last4>')
    .replace(/\b([a-z]{2,4})_[A-Za-z0-9]{20}\b/g, '$1_<id>')
    .replace(/\bnode\/[\d.]+/g, 'node/<version>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
}

/**
 * Sorts list rows that the server orders by a random id when their times are equal, such as the
 * publishable and secret key issued together.
 */
function inStableOrder(body: any): any {
  if (!Array.isArray(body?.data) || !body.data.every((row: { type?: unknown }) => typeof row.type === 'string')) return body
  return { ...body, data: [...body.data].sort((a, b) => a.type.localeCompare(b.type)) }
}

describe('CLI interface', () => {
  it('keeps its commands and flags', async () => {
    await expect(JSON.stringify(commandSurface(), null, 2) + '\n').toMatchFileSnapshot('__snapshots__/command-surface.json')
  })

  describe('JSON output', () => {
    let server: ServerProcess
    let user: CliUser
    const shapes: Record<string, unknown> = {}

    /** Runs a command with --json, checks it succeeded and records its masked document. */
    const record = async (args: string[], input?: string) => {
      const result = await user.run([...args, '--json'], { input })
      const body = expectJson(result, /^(Warning: .*\n)?$/)
      shapes[mask(args.join(' '), server.url) as string] = mask(inStableOrder(body), server.url)
      return body
    }

    beforeAll(async () => {
      server = await startServer({ dialect: 'sqlite' })
      user = cliUser(server.url)
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('keeps the shapes of the base commands', async () => {
      await record(['signup', '--email', 'shape@example.com', '--name', 'Shape', '--workspace-name', 'Shapes', '--password-stdin'], PASSWORD)
      await record(['whoami'])
      const workspace = await record(['workspaces', 'create', 'Second'])
      await record(['workspaces', 'list'])
      await record(['workspaces', 'use', workspace.id])
      await record(['profile', 'show'])
      await record(['profile', 'update', '--name', 'Shaped'])
      await record(['settings', 'show'])
      await record(['settings', 'set', '--name', 'Renamed'])
      const app = await record(['apps', 'create', 'Portal', '--redirect-uri', 'https://portal.example.com/callback'])
      await record(['apps', 'list'])
      await record(['apps', 'show', 'Portal'])
      await record(['apps', 'update', 'Portal', '--redirect-uri', 'http://localhost:3000/callback'])
      await record(['keys', 'list', '--app', 'Portal'])
      await record(['keys', 'rotate', '--app', 'Portal', '--expire-old-in', '1h'])
      await record(['keys', 'expire', app.keys.secret_key_id])
      await record(['profile', 'password', '--password-stdin'], `${PASSWORD}\nanother long passphrase here\n`)
      const sessions = await record(['profile', 'sessions'])
      expect(sessions.data).toHaveLength(1)
      await record(['apps', 'delete', 'Portal', '--confirm', 'Portal'])
      shapes['error'] = mask(expectJsonFailure(await user.run(['apps', 'show', 'Gone', '--json']), 5, /not found/), server.url)
      await record(['logout'])
      await record(['login', '--email', 'shape@example.com', '--password-stdin'], 'another long passphrase here')

      await expect(JSON.stringify(shapes, null, 2) + '\n').toMatchFileSnapshot('__snapshots__/json-shapes.json')
    }, 240_000)
  })
})
