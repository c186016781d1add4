import { readFileSync } from 'node:fs'
import { arch, platform } from 'node:os'

import isWsl from 'is-wsl'

/**
 * Builds the line that oclif 4 prints for `--version` (its `config.userAgent`), such as
 * `flexpa/0.1.0 linux-x64 node-v20.20.2`, without loading oclif. `packageJsonUrl` is the
 * URL of the CLI's package.json.
 */
export function versionLine(packageJsonUrl: URL): string {
  const pjson = JSON.parse(readFileSync(packageJsonUrl, 'utf8')) as { name: string; version?: string }
  const os = isWsl ? 'wsl' : platform()
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version || '0.0.0'} ${os}-${cpu} node-${process.version}`
}
