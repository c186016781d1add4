import { Command, Flags, type Interfaces } from '@oclif/core'
import createDebug from 'debug'

import { EXIT } from '../shared/errors.js'
import { ApiClient } from './client.js'
import { describeRejectedToken, loadCredential, notLoggedIn, type StoredCredential } from './credentials.js'
import { CliError } from './errors.js'
import { printJson, terminalSafe, useColorErr } from './output.js'
import { apiUrl, readSettings, type Settings } from './settings.js'

const debug = createDebug('flexpa:cli')

/** Rewords one line of an oclif parser message so that it starts with the flag or argument at fault. */
function rewordParseLine(line: string): string {
  return line
    .replace(/^Missing required flag (\S+)$/, 'missing required flag --$1')
    .replace(/^Parsing (--\S+)\s*Expected /, '$1: expected ')
    .replace(/^Nonexistent flags?: (.+)$/, 'unknown flag $1')
    .replace(/^Unexpected arguments?: (.+)$/, 'unexpected argument $1')
    .replace(/^(--[\w-]+)=\S* cannot also be provided when using (--[\w-]+)$/, '$1 cannot be used with $2')
}

/**
 * Turns an error of oclif's parser into one usage line. Its messages span several lines (a
 * header, a list of reasons, a pointer to --help) and some carry colour codes.
 */
function parseFailure(error: Error & { args?: { name: string }[] }, commandId: string | undefined): CliError {
  let message: string
  if (/^Missing \d+ required args?/.test(error.message) && error.args?.length) {
    const names = error.args.map((arg) => arg.name)
    message = `missing required argument${names.length === 1 ? '' : 's'}: ${names.join(', ')}`
  } else {
    const lines = error.message
      .replace(/\u001b\[[0-9;]*m/g, '')
      .replace(/^(Parsing --\S+)\s*\n\s*/m, '$1 ')
      .split('\n')
      .map((line) => rewordParseLine(line.trim()))
      .filter((line) => line !== '' && !/^See more help with --help$/.test(line) && !/^The following errors? occurred:$/.test(line))
    // oclif reports two exclusive flags given together once from each side, so one line per pair is kept.
    const pairs = new Set<string>()
    message = lines
      .filter((line) => {
        const pair = /^(--[\w-]+) cannot be used with (--[\w-]+)$/.exec(line)
        if (!pair) return true
        const key = [pair[1], pair[2]].sort().join(' ')
        if (pairs.has(key)) return false
        pairs.add(key)
        return true
      })
      .join('; ')
  }
  return new CliError(message, EXIT.usage, { code: 'invalid_usage', hint: `see flexpa ${(commandId ?? '').replace(/:/g, ' ')} --help` })
}

/**
 * Rejects a required argument or flag given as an empty string (`flexpa keys expire ""`), which
 * would otherwise reach the server as an empty path segment.
 */
function rejectEmptyRequired(
  command: Pick<typeof Command, 'args' | 'flags'>,
  args: Record<string, unknown>,
  flags: Record<string, unknown>,
  commandId: string | undefined,
): void {
  const isEmpty = (value: unknown) => typeof value === 'string' && value.trim() === ''
  const empty = [
    ...Object.entries(command.args ?? {})
      .filter(([name, definition]) => definition.required && isEmpty(args[name]))
      .map(([name]) => `argument ${name}`),
    ...Object.entries(command.flags ?? {})
      .filter(([name, definition]) => definition.required && isEmpty(flags[name]))
      .map(([name]) => `--${name}`),
  ]
  if (empty.length === 0) return
  throw new CliError(`${empty.join(' and ')} must not be empty`, EXIT.usage, {
    code: 'invalid_usage',
    hint: `see flexpa ${(commandId ?? '').replace(/:/g, ' ')} --help`,
  })
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Flags of every command that acts inside a workspace. */
export const workspaceFlag = {
  workspace: Flags.string({
    description: 'Workspace id or name (default: FLEXPA_WORKSPACE, then the one chosen with flexpa workspaces use)',
    helpValue: '<id-or-name>',
  }),
}

/**
 * The base of every command: parses flags, finds the API URL and the credential, and turns
 * expected failures into one line on stderr and the exit code of the error table.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'Print one JSON document on stdout and nothing else there', default: false }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected settings!: Settings
  private credentialPromise?: Promise<StoredCredential | null>
  private tokenWorkspace?: string

  public override async init(): Promise<void> {
    await super.init()
    let parsed
    try {
      parsed = await this.parse({
        flags: this.ctor.flags,
        baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
        args: this.ctor.args,
        strict: this.ctor.strict,
      })
    } catch (error) {
      // The arguments were read and rejected. Without this, oclif also warns under NODE_ENV
      // development or test that the command never parsed them.
      this.parsed = true
      throw parseFailure(error as Error, this.id)
    }
    const { args, flags } = parsed
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    rejectEmptyRequired(this.ctor, args, flags, this.id)
    this.settings = await readSettings()
  }

  /** Whether --json was given. It is read from argv when parsing failed, so that the error is JSON too. */
  get json(): boolean {
    if (this.flags) return this.flags.json === true
    return this.argv.includes('--json')
  }

  get apiUrl(): string {
    return apiUrl(this.settings)
  }

  protected credential(): Promise<StoredCredential | null> {
    this.credentialPromise ??= loadCredential(this.settings, this.apiUrl)
    return this.credentialPromise
  }

  /** A client that sends the stored credential, or fails with exit 3 when there is none. */
  protected async client(options: { anonymous?: boolean } = {}): Promise<ApiClient> {
    const credential = options.anonymous ? null : await this.credential()
    if (!options.anonymous && !credential) throw await notLoggedIn(this.apiUrl)
    const client = new ApiClient(this.apiUrl, credential?.token ?? null, `flexpa-cli/${this.config.version} node/${process.versions.node}`)
    if (credential && this.needsTokenWorkspace(credential.token)) {
      const { body } = await client.request('GET', '/v1/me')
      this.tokenWorkspace = body.workspaces?.[0]?.id
    }
    return client
  }

  /** Reports whether to look up a workspace token's own workspace, the default when none is chosen. */
  private needsTokenWorkspace(token: string): boolean {
    if (!token.startsWith('fxw_') || !('workspace' in (this.ctor.flags ?? {}))) return false
    return !this.chosenWorkspace()
  }

  private chosenWorkspace(): string | undefined {
    const flag = (this.flags as { workspace?: string }).workspace
    return flag || process.env.FLEXPA_WORKSPACE || this.settings.workspace || undefined
  }

  /**
   * Returns the workspace to act in: --workspace, FLEXPA_WORKSPACE, the one chosen with `workspaces use`,
   * then, under a workspace token, the token's own workspace.
   */
  protected workspace(): string {
    const chosen = this.chosenWorkspace() || this.tokenWorkspace
    if (!chosen) {
      throw new CliError('no workspace is selected', EXIT.usage, {
        code: 'missing_flag',
        hint: 'pass --workspace <id-or-name> or run flexpa workspaces use <id-or-name>',
      })
    }
    return chosen
  }

  protected workspacePath(path = ''): string {
    return `/v1/workspaces/${encodeURIComponent(this.workspace())}${path}`
  }

  /** Prints the JSON document under --json, or runs the printer for people. */
  protected async output(value: unknown, forPeople: () => void | Promise<void>): Promise<void> {
    if (this.json) printJson(value)
    else await forPeople()
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<any> {
    if (error instanceof CliError) {
      const rejected = await this.rejectedCredential(error)
      this.report(rejected ?? error)
      return
    }
    if (error.oclif?.exit === 0) return
    if (error.name === 'ExitPromptError' || error.name === 'AbortPromptError') {
      this.report(new CliError('cancelled', 130))
      return
    }
    debug('unexpected error: %O', error)
    const hint = process.env.DEBUG ? undefined : 'run again with DEBUG=flexpa:* for details'
    this.report(new CliError(`unexpected error: ${error.message}`, EXIT.failure, { code: 'unexpected', hint }))
  }

  /**
   * Rewords a 401 to the stored or given token so that it names where the token came from and
   * how to replace it. Returns null for any other error.
   */
  private async rejectedCredential(error: CliError): Promise<CliError | null> {
    if (error.exitCode !== EXIT.auth || !['unauthenticated', 'session_expired'].includes(error.details.code ?? '')) return null
    const credential = this.credentialPromise ? await this.credentialPromise.catch(() => null) : null
    if (!credential) return null
    return describeRejectedToken(credential, this.apiUrl, error)
  }

  private report(error: CliError): void {
    const red = useColorErr() ? (text: string) => `\u001b[31m${text}\u001b[0m` : (text: string) => text
    const { code, hint, requestId, body, permission } = error.details
    process.stderr.write(`${red('Error:')} ${terminalSafe(error.message, true)}\n`)
    if (hint) process.stderr.write(`${terminalSafe(hint, true)}\n`)
    if (this.json) {
      const serverError = (body as { error?: Record<string, unknown> } | undefined)?.error
      printJson({
        error: {
          ...serverError,
          code: serverError?.code ?? code ?? 'error',
          message: error.message,
          exit_code: error.exitCode,
          permission: serverError?.permission ?? permission,
          request_id: requestId || undefined,
        },
      })
    }
    process.exitCode = error.exitCode
  }

  /** Writes a line for people on stdout with control and bidi characters made visible. */
  public override log(message = '', ...args: any[]): void {
    super.log(terminalSafe(message, true), ...args)
  }
}
