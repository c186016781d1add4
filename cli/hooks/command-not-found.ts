import type { Hook } from '@oclif/core'

import { EXIT } from '../../shared/errors.js'
import { terminalSafe } from '../output.js'

/**
 * Handles a command line that names no command. When its first words name a command, that command
 * runs with the rest as arguments, so its own parser reports the unexpected argument. Otherwise it
 * prints one line naming the unknown words (and, under --json, one JSON error document) and exits 2.
 */
const hook: Hook.CommandNotFound = async function ({ id, argv, config }) {
  const words = id.split(':')
  for (let length = words.length - 1; length > 0; length--) {
    const prefix = words.slice(0, length).join(':')
    if (config.findCommand(prefix)) return config.runCommand(prefix, [...words.slice(length), ...(argv ?? [])])
  }

  let message = `unknown command "${words.join(' ')}"; see flexpa --help`
  for (let length = words.length - 1; length > 0; length--) {
    const topic = words.slice(0, length).join(' ')
    if (config.findTopic(words.slice(0, length).join(':'))) {
      message = `flexpa ${topic} has no command "${words.slice(length).join(' ')}"; see flexpa ${topic} --help`
      break
    }
  }
  process.stderr.write(`Error: ${terminalSafe(message)}\n`)
  if ([...words, ...(argv ?? [])].includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error: { code: 'invalid_usage', message, exit_code: EXIT.usage } }, null, 2)}\n`)
  }
  process.exitCode = EXIT.usage
}

export default hook
