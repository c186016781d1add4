import { readFileSync } from 'node:fs'
import { arch, platform } from 'node:os'

import isWsl from 'is-wsl'

interface PackageJson {
  name: string
  version?: string
  oclif?: { additionalVersionFlags?: string[]; hooks?: Record<string, unknown> }
}

/**
 * Builds the line that oclif 4 prints for `--version` (its `config.userAgent`), such as
 * `flexpa/0.1.0 linux-x64 node-v20.20.2`, without loading oclif. Returns undefined unless
 * `firstArgument` is one of the CLI's version flags, and also when the package declares init
 * hooks, because oclif runs those before it prints the version. `packageJsonUrl` is the URL of
 * the CLI's package.json.
 */
export function versionLine(firstArgument: string, packageJsonUrl: URL): string | undefined {
  const pjson = JSON.parse(readFileSync(packageJsonUrl, 'utf8')) as PackageJson
  const flags = ['--version', ...(pjson.oclif?.additionalVersionFlags ?? [])]
  if (!flags.includes(firstArgument) || pjson.oclif?.hooks?.init) return undefined

  const os = isWsl ? 'wsl' : platform()
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version || '0.0.0'} ${os}-${cpu} node-${process.version}`
}
