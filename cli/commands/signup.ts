import { Flags } from '@oclif/core'

import { BaseCommand } from '../base.js'
import { ApiClient } from '../client.js'
import { isInteractive, missingFlag, promptPassword, promptText, readStdin } from '../input.js'
import { rememberLogin } from '../login.js'
import { note } from '../output.js'
import { apiUrl, checkApiUrl } from '../settings.js'

export default class Signup extends BaseCommand<typeof Signup> {
  static override summary = 'Create an account and its first workspace, and log in'
  static override description =
    'Creates your account, a workspace where you are admin, and a session stored in the OS keychain (or a 0600 file where there is none). Passwords need at least 12 characters; common ones are rejected.'
  static override examples = [
    '<%= config.bin %> signup',
    "printf '%s' \"$PASSWORD\" | <%= config.bin %> signup --email ada@example.com --name 'Ada Lovelace' --workspace-name Acme --password-stdin",
  ]
  static override flags = {
    email: Flags.string({ description: 'Email address to sign up with' }),
    name: Flags.string({ description: 'Your display name' }),
    'workspace-name': Flags.string({ description: "Name of the first workspace (default: \"<name>'s workspace\")" }),
    'password-stdin': Flags.boolean({ description: 'Read the password from stdin', default: false }),
    'api-url': Flags.string({ description: 'URL of the Flexpa API to use from now on', helpValue: '<url>' }),
  }

  async run(): Promise<void> {
    const api = this.flags['api-url'] === undefined ? apiUrl(this.settings) : checkApiUrl(this.flags['api-url'], '--api-url')
    const email = this.flags.email ?? (await this.ask('--email', 'your email address', 'Email:'))
    const name = this.flags.name ?? (await this.ask('--name', 'your display name', 'Display name:'))
    const password = await this.password()

    const userAgent = `flexpa-cli/${this.config.version} node/${process.versions.node}`
    const client = new ApiClient(api, null, userAgent)
    const { body } = await client.request('POST', '/v1/auth/signup', {
      body: { email, name, password, workspace_name: this.flags['workspace-name'] },
    })
    const source = await rememberLogin(api, body, this.json, userAgent)
    await this.output({ user: body.user, workspace: body.workspace, credential_source: source }, () => {
      note(`Signed up as ${body.user.email}; workspace ${body.workspace.name} (${body.workspace.id}) is selected.`)
      note(`A link to verify ${body.user.email} was emailed there; flexpa profile verify-email sends a new one.`)
      note('Next: flexpa apps create <name>')
    })
  }

  private async ask(flag: string, what: string, message: string): Promise<string> {
    if (!isInteractive()) throw missingFlag(flag, what)
    return promptText(message)
  }

  private async password(): Promise<string> {
    if (this.flags['password-stdin']) return readStdin()
    if (!isInteractive()) throw missingFlag('--password-stdin', 'pipe the password in on stdin')
    return promptPassword('Password (12 or more characters):')
  }
}
