import { spawn } from 'node:child_process'

import { Flags } from '@oclif/core'
import createDebug from 'debug'

import { isInteractive } from './input.js'
import { note } from './output.js'

const debug = createDebug('flexpa:browser')

export const browserFlag = {
  browser: Flags.boolean({
    description: 'Open the URL in a browser when at a terminal; --no-browser only prints it',
    default: true,
    allowNo: true,
  }),
}

/**
 * Opens an http(s) URL with the desktop's opener (`open` on macOS, `xdg-open` elsewhere). Returns
 * false, without failing, when no opener exists or it cannot start.
 */
export function openInBrowser(url: string): Promise<boolean> {
  if (!/^https?:\/\//i.test(url)) return Promise.resolve(false)
  const command = process.platform === 'darwin' ? 'open' : 'xdg-open'
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(command, [url], { stdio: 'ignore', detached: true })
    } catch (error) {
      debug('could not start %s: %O', command, error)
      resolve(false)
      return
    }
    child.once('error', (error) => {
      debug('could not start %s: %O', command, error)
      resolve(false)
    })
    child.once('spawn', () => {
      child.unref()
      resolve(true)
    })
  })
}

/** Opens the URL in a browser when at a terminal and allowed, and prints a note when no browser could be started. */
export async function offerToOpen(url: string, allowed: boolean): Promise<void> {
  if (!allowed || !isInteractive()) return
  if (await openInBrowser(url)) note('Opened the link in your browser.')
  else note('Could not open a browser; open the link above yourself.')
}
