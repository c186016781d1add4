import { readFile, stat } from 'node:fs/promises'

import { Flags } from '@oclif/core'

import { EXIT } from '../../../shared/errors.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { CliError, usageError } from '../../errors.js'
import { note, terminalSafe } from '../../output.js'
import { printSsoSettings } from '../../sso.js'

const MAX_METADATA_BYTES = 512 * 1024

export default class SsoConfigure extends BaseCommand<typeof SsoConfigure> {
  static override summary = "Connect the workspace to your identity provider's SAML metadata"
  static override description =
    "Reads the identity provider's SAML metadata from a file and sends it to the server, which checks the entity id, the HTTPS sign-on URL and the signing certificate. --domain names an email domain whose people may join through SSO; each must be the domain of a verified address of an admin. --enforce requires SSO for everyone but admins and workspace tokens. Flags left out keep their current value; the metadata is required the first time. Needs sso:manage."
  static override examples = [
    '<%= config.bin %> sso configure --metadata okta-metadata.xml --domain example.com',
    '<%= config.bin %> sso configure --metadata entra.xml --domain example.com --domain example.org --enforce',
    '<%= config.bin %> sso configure --no-enforce',
  ]
  static override flags = {
    ...workspaceFlag,
    metadata: Flags.string({ description: "Path of the identity provider's SAML metadata XML file", helpValue: '<file>' }),
    domain: Flags.string({
      description: 'Email domain whose people may join through SSO (repeat for several; replaces the current list)',
      helpValue: '<domain>',
      multiple: true,
    }),
    enforce: Flags.boolean({
      description: 'Require SSO for members of the workspace (--no-enforce turns it off); admins keep password access',
      allowNo: true,
    }),
  }

  async run(): Promise<void> {
    const { metadata, domain, enforce } = this.flags
    if (metadata === undefined && domain === undefined && enforce === undefined) {
      throw usageError('nothing to configure', 'pass --metadata <file>, --domain <domain> or --enforce')
    }
    const body: Record<string, unknown> = {}
    if (metadata !== undefined) body.metadata_xml = await readMetadata(metadata)
    if (domain !== undefined) body.domains = domain
    if (enforce !== undefined) body.enforce = enforce

    const { body: settings } = await (await this.client()).request('PUT', this.workspacePath('/sso'), { body })
    await this.output(settings, () => {
      printSsoSettings((line) => this.log(line), settings)
      note(`\nSingle sign-on is configured for ${settings.workspace.name}. Members log in with: ${settings.service_provider.login_command}`)
    })
  }

  /** Prints each metadata problem the server found on its own line. */
  protected override async catch(error: Error & { exitCode?: number }): Promise<any> {
    const problems = (error instanceof CliError ? (error.details.body as { error?: { problems?: string[] } })?.error?.problems : undefined) ?? []
    if (problems.length > 0 && !this.json) {
      process.stderr.write(`Error: the identity provider metadata is not usable:\n${problems.map((problem) => `  - ${terminalSafe(problem)}`).join('\n')}\n`)
      process.exitCode = (error as CliError).exitCode
      return
    }
    return super.catch(error)
  }
}

async function readMetadata(path: string): Promise<string> {
  try {
    const info = await stat(path)
    if (info.size > MAX_METADATA_BYTES) throw usageError(`--metadata ${path} is larger than ${MAX_METADATA_BYTES / 1024} KiB; is it a metadata file?`)
    return await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof CliError) throw error
    throw new CliError(`cannot read --metadata ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT.usage, {
      code: 'invalid_usage',
    })
  }
}
