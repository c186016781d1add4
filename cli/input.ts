import { EXIT } from '../shared/errors.js'
import { CliError } from './errors.js'

export function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true && process.env.CI !== 'true'
}

/** Fails with exit code 2 naming the flag, because there is nobody to ask. */
export function missingFlag(flag: string, what: string): CliError {
  return new CliError(`missing ${flag}: ${what} (stdin is not a terminal, so the CLI cannot ask)`, EXIT.usage, {
    code: 'missing_flag',
  })
}

/** Reads all of stdin, without the final line break. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('expected input on stdin, but stdin is a terminal; pipe the value in', EXIT.usage)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export async function promptText(message: string, options: { default?: string; validate?: (value: string) => true | string } = {}): Promise<string> {
  const { input } = await import('@inquirer/prompts')
  return input({ message, default: options.default, validate: options.validate }, { output: process.stderr })
}

export async function promptPassword(message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts')
  return password({ message, mask: '*' }, { output: process.stderr })
}

export async function promptSelect<T extends string>(message: string, choices: { name: string; value: T }[]): Promise<T> {
  const { select } = await import('@inquirer/prompts')
  return select({ message, choices }, { output: process.stderr })
}

/**
 * Asks for a name to be typed back before a destructive or live-mode action; `--confirm <value>`
 * does the same in scripts.
 */
export async function confirmByTyping(expected: string, given: string | undefined, action: string): Promise<void> {
  if (given !== undefined) {
    if (given !== expected) {
      throw new CliError(`--confirm "${given}" does not match "${expected}"; nothing was changed`, EXIT.usage, {
        code: 'confirmation_mismatch',
      })
    }
    return
  }
  if (!isInteractive()) throw missingFlag('--confirm', `type "${expected}" to ${action}`)
  const typed = await promptText(`Type ${expected} to ${action}:`)
  if (typed.trim() !== expected) {
    throw new CliError(`"${typed.trim()}" does not match "${expected}"; nothing was changed`, EXIT.usage, {
      code: 'confirmation_mismatch',
    })
  }
}
