import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { runCli } from '../helpers/cli.js'
import { readManifest } from './support.js'

const manifest = readManifest()
/** The completion commands come from @oclif/plugin-autocomplete, bundled in; their help is its own. */
const isCompletionCommand = (id: string) => id === 'autocomplete' || id.startsWith('autocomplete:')
const allCommands = Object.values(manifest.commands).sort((a, b) => a.id.localeCompare(b.id))
const commands = allCommands.filter((command) => !isCompletionCommand(command.id))

describe('command help', () => {
  it('lists the commands of every topic', () => {
    const topics = new Set(commands.map((command) => command.id.split(':')[0]))

    for (const topic of ['apps', 'keys', 'profile', 'settings', 'workspaces']) expect(topics).toContain(topic)
    for (const verb of ['login', 'logout', 'signup', 'whoami']) expect(topics).toContain(verb)
  })

  for (const command of commands) {
    const words = command.id.split(':')

    it(`documents flexpa ${words.join(' ')}`, async () => {
      expect(command.summary?.trim(), 'summary').toBeTruthy()
      expect(command.description?.trim(), 'description').toBeTruthy()
      expect(command.examples?.length ?? 0, 'examples').toBeGreaterThan(0)
      for (const flag of Object.values(command.flags)) expect(flag.description?.trim(), `--${flag.name}`).toBeTruthy()
      for (const arg of Object.values(command.args)) expect(arg.description?.trim(), `argument ${arg.name}`).toBeTruthy()
      for (const example of command.examples ?? []) {
        const text = typeof example === 'string' ? example : example.command
        // Only flexpa's own part: a program piped into (jq -c, head -1) keeps its own flags.
        const own = text.split('|').find((part) => part.includes('config.bin')) ?? text
        expect(own, 'examples use long flag names').not.toMatch(/\s-[a-zA-Z]\b/)
      }

      const result = await runCli([...words, '--help'])

      expect(result.exitCode).toBe(0)
      expect(result.stderr).toBe('')
      if (command.id === 'help') {
        // @oclif/core skips the word "help" when it finds the subject of --help, so this shows the root help.
        expect(result.stdout).toMatch(/^ {2}help +Show help for a command or topic$/m)
        return
      }
      expect(result.stdout).toMatch(/^DESCRIPTION$/m)
      expect(result.stdout).toContain(command.description!.split(' ').slice(0, 4).join(' '))
      expect(result.stdout).toMatch(/^EXAMPLES$/m)
      expect(result.stdout).toMatch(new RegExp(`^ +\\$ flexpa ${words.join(' ')}`, 'm'))
    })
  }
})

describe('shell completion', () => {
  const isolatedHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'flexpa-home-'))
    return {
      home,
      env: {
        HOME: home,
        XDG_CACHE_HOME: join(home, '.cache'),
        XDG_CONFIG_HOME: join(home, '.config'),
        XDG_DATA_HOME: join(home, '.local', 'share'),
      },
    }
  }

  it('is a command of the CLI', () => {
    const ids = allCommands.map((command) => command.id)

    expect(ids).toContain('autocomplete')
    expect(ids).toContain('autocomplete:script')
  })

  it('documents flexpa autocomplete', async () => {
    const { env } = isolatedHome()

    const result = await runCli(['autocomplete', '--help'], { env })

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('$ flexpa autocomplete bash')
  })

  it('prints the bash setup in a temporary home', async () => {
    const { home, env } = isolatedHome()

    const result = await runCli(['autocomplete', 'bash'], { env })

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('flexpa autocomplete script bash')
    expect(result.stdout).toContain('~/.bashrc')
    expect(result.stderr).not.toMatch(/Error/)
    expect(existsSync(join(home, '.cache', 'flexpa', 'autocomplete', 'functions', 'bash', 'flexpa.bash'))).toBe(true)
    expect(readdirSync(home).sort()).toEqual(['.cache'])
  })

  it('completes the commands of the manifest', async () => {
    const { home, env } = isolatedHome()
    await runCli(['autocomplete', 'bash'], { env })

    const script = readFileSync(join(home, '.cache', 'flexpa', 'autocomplete', 'functions', 'bash', 'flexpa.bash'), 'utf8')

    for (const command of allCommands.filter((entry) => !entry.hidden)) expect(script).toContain(command.id)
  })
})
