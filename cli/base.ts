import { Command, Flags, type Interfaces } from '@oclif/core'
import createDebug from 'debug'

import { EXIT } from '../shared/errors.js'
import { ApiClient } from './client.js'
import { loadCredential, type StoredCredential } from './credentials.js'
import { CliError } from './errors.js'
import { printJson, useColor } from './output.js'
import { apiUrl, readSettings, type Settings } from './settings.js'

const debug = createDebug('flexpa:cli')

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
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.settings = await readSettings()
  }

  get json(): boolean {
    return this.flags?.json === true
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
    if (!options.anonymous && !credential) {
      throw new CliError('you are not logged in', EXIT.auth, {
        code: 'unauthenticated',
        hint: 'run flexpa login, or set FLEXPA_TOKEN',
      })
    }
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
      this.report(error.message, error.exitCode, error.details.hint, { code: error.details.code, request_id: error.details.requestId, body: error.details.body })
      return
    }
    const oclifExit = error.oclif?.exit
    if (oclifExit !== undefined && error.name !== 'Error' || /Unexpected argument|Nonexistent flag|Missing required|Expected --|Expected a|Parsing --|is not one of|must also be provided|cannot also be provided|Missing \d+ required arg/i.test(error.message)) {
      const exitCode = oclifExit === 0 ? 0 : EXIT.usage
      if (exitCode === 0) return
      this.report(usageLine(error.message), EXIT.usage, `see flexpa ${this.id?.replace(/:/g, ' ')} --help`, { code: 'invalid_usage' })
      return
    }
    if (error.name === 'ExitPromptError' || error.name === 'AbortPromptError') {
      this.report('cancelled', 130)
      return
    }
    debug('unexpected error: %O', error)
    this.report(
      `unexpected error: ${error.message}`,
      EXIT.failure,
      process.env.DEBUG ? undefined : 'run again with DEBUG=flexpa:* for details',
      { code: 'unexpected' },
    )
  }

  private report(message: string, exitCode: number, hint?: string, extra: { code?: string; request_id?: string; body?: unknown } = {}): void {
    const red = useColor() ? (text: string) => `\u001b[31m${text}\u001b[0m` : (text: string) => text
    process.stderr.write(`${red('Error:')} ${message}\n`)
    if (hint) process.stderr.write(`${hint}\n`)
    if (this.json) {
      const serverError = (extra.body as { error?: Record<string, unknown> } | undefined)?.error
      printJson({ error: { ...serverError, code: serverError?.code ?? extra.code ?? 'error', message, exit_code: exitCode, request_id: extra.request_id || undefined } })
    }
    process.exitCode = exitCode
  }
}

/**
 * Returns the line of an oclif parse error that names the problem. Errors about flag relations
 * start with a heading such as "The following error occurred:" and name the flags below it.
 */
function usageLine(message: string): string {
  const lines = message.split('\n').map((line) => line.trim()).filter(Boolean)
  const detail = lines.slice(1).find((line) => !/^see more help/i.test(line))
  return lines[0]?.endsWith(':') && detail ? detail : (lines[0] ?? message)
}
