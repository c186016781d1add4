import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { PERMISSIONS, PERMISSION_CODES } from '../../shared/permissions.js'
import { ROOT } from '../helpers/server.js'

function permissionRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => /^\| .* \| `[a-z-]+:[a-z]+` \|/.test(line))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()))
}

describe('README permission table', () => {
  it('matches the permission matrix', () => {
    const rows = permissionRows(readFileSync(join(ROOT, 'README.md'), 'utf8'))

    const expected = PERMISSION_CODES.map((code) => [
      PERMISSIONS[code].name,
      `\`${code}\``,
      PERMISSIONS[code].roles.admin ? '✓' : '',
      PERMISSIONS[code].roles.member ? '✓' : '',
    ])
    expect(rows).toEqual(expected)
  })
})
