import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { openInBrowser } from '../../cli/browser.js'

const savedPath = process.env.PATH

describe.skipIf(process.platform !== 'linux')('openInBrowser', () => {
  afterEach(() => {
    process.env.PATH = savedPath
  })

  it('runs xdg-open with the URL', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'flexpa-opener-'))
    const record = join(bin, 'opened.txt')
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`)
    chmodSync(join(bin, 'xdg-open'), 0o755)
    process.env.PATH = bin

    const opened = await openInBrowser('http://127.0.0.1:9/checkout/cs_test_1')
    for (let i = 0; i < 50 && !existsSync(record); i++) await new Promise((resolve) => setTimeout(resolve, 20))

    expect(opened).toBe(true)
    expect(readFileSync(record, 'utf8')).toBe('http://127.0.0.1:9/checkout/cs_test_1')
  })

  it('returns false when no opener exists', async () => {
    process.env.PATH = mkdtempSync(join(tmpdir(), 'flexpa-empty-'))

    await expect(openInBrowser('http://127.0.0.1:9/checkout/cs_test_1')).resolves.toBe(false)
  })

  it('rejects a URL that is not http', async () => {
    await expect(openInBrowser('file:///etc/passwd')).resolves.toBe(false)
  })
})
