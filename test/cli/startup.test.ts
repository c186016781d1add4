import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { arch, platform, tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

import isWsl from 'is-wsl'
import { describe, expect, it } from 'vitest'

import { versionLine } from '../../cli/version.js'
import { runCli } from '../helpers/cli.js'
import { ROOT } from '../helpers/server.js'

const pjson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const expectedVersion = `flexpa/${pjson.version} ${isWsl ? 'wsl' : platform()}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`

function sourceCommandIds(dir = join(ROOT, 'cli/commands')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceCommandIds(path)
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) return []
    const parts = relative(join(ROOT, 'cli/commands'), path).split(sep)
    const name = parts.pop()!.replace(/\.ts$/, '')
    return [[...parts, name === 'index' ? '' : name].filter(Boolean).join(':')]
  })
}

describe('start-up', () => {
  it('prints the version without a server', async () => {
    const result = await runCli(['--version'])

    expect(result.stdout).toBe(expectedVersion)
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  })

  it('prints the version for -v', async () => {
    const result = await runCli(['-v'])

    expect(result.stdout).toBe(expectedVersion)
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  })

  it('prints the version line oclif builds', async () => {
    const script = `const { Config } = await import('@oclif/core'); process.stdout.write((await Config.load(${JSON.stringify(ROOT)})).userAgent + '\\n')`
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT })

    expect(stdout).toBe(expectedVersion)
  })

  it('registers every command file', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    const autocomplete = ['autocomplete', 'autocomplete:create', 'autocomplete:script']

    expect(Object.keys(manifest.commands).sort()).toEqual([...sourceCommandIds(), ...autocomplete].sort())
  })

  it('shows help for every command', async () => {
    // `flexpa help --help` shows the root help, because oclif reads the word help as the help flag.
    for (const id of sourceCommandIds().filter((command) => command !== 'help')) {
      const result = await runCli([...id.split(':'), '--help'])

      expect(result.exitCode, id).toBe(0)
      expect(result.stdout, id).toContain('USAGE')
      expect(result.stdout, id).toContain('EXAMPLES')
      expect(result.stderr, id).toBe('')
    }
  })

  it('lists the commands in the root help', async () => {
    const result = await runCli(['--help'])

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('autocomplete')
    expect(result.stdout).toContain('signup')
    expect(result.stdout).toMatch(/apps\s+/)
  })

  it('builds the shell completion cache', async () => {
    const cacheHome = mkdtempSync(join(tmpdir(), 'flexpa-cache-'))

    const result = await runCli(['autocomplete', '--refresh-cache'], { env: { XDG_CACHE_HOME: cacheHome } })

    expect(result.exitCode).toBe(0)
    expect(result.stderr).toContain('Building the autocomplete cache... done')
    const bash = readFileSync(join(cacheHome, 'flexpa/autocomplete/functions/bash/flexpa.bash'), 'utf8')
    expect(bash).toContain('apps:list')
    expect(bash).toContain('keys:rotate')
  })
})

describe('versionLine', () => {
  function packageJson(contents: object): URL {
    const dir = mkdtempSync(join(tmpdir(), 'flexpa-pjson-'))
    writeFileSync(join(dir, 'package.json'), JSON.stringify(contents))
    return pathToFileURL(join(dir, 'package.json'))
  }

  it('accepts additional version flags', () => {
    const url = packageJson({ name: 'flexpa', version: '1.2.3', oclif: { additionalVersionFlags: ['-V'] } })

    expect(versionLine('-V', url)).toBe(expectedVersion.replace(pjson.version, '1.2.3').trimEnd())
    expect(versionLine('-v', url)).toBeUndefined()
  })

  it('defers to oclif when init hooks exist', () => {
    const url = packageJson({ name: 'flexpa', version: '1.2.3', oclif: { hooks: { init: './dist/hooks/init.js' } } })

    expect(versionLine('--version', url)).toBeUndefined()
  })
})
