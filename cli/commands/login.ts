import { Flags } from '@oclif/core'

import { EXIT } from '../../shared/errors.js'
import { BaseCommand } from '../base.js'
import { ApiClient } from '../client.js'
import { CliError } from '../errors.js'
import { isInteractive, missingFlag, promptPassword, promptText, readStdin } from '../input.js'
import { rememberLogin } from '../login.js'
import { note } from '../output.js'
import { apiUrl, checkApiUrl, updateSettings } from '../settings.js'
import { ssoLogin } from '../sso.js'

export default class Login extends BaseCommand<typeof Login> {
  static override summary = 'Log in to the Flexpa API'
  static override description =
    'Starts a 30-day session and stores its token, ending the session stored before for the same API URL, in the OS keychain (or a 0600 file where there is none). With --with-token, stores a token read from stdin instead, such as a workspace token for CI. With --sso, logs in through the identity provider of a workspace that uses single sign-on: the browser opens (or the URL is printed) and the session comes back to the CLI on a 127.0.0.1 port.'
  static override examples = [
    '<%= config.bin %> login',
    "printf '%s' \"$PASSWORD\" | <%= config.bin %> login --email ada@example.com --password-stdin",
    '<%= config.bin %> login --with-token < token.txt',
    '<%= config.bin %> login --api-url https://flexpa.example.com',
    '<%= config.bin %> login --sso example.com',
    '<%= config.bin %> login --sso ws_3kTq8ZxV0bN2mLp4Rw9a',
  ]
  static override flags = {
    email: Flags.string({ description: 'Email address of your account' }),
    'password-stdin': Flags.boolean({ description: 'Read the password from stdin', default: false }),
    'with-token': Flags.boolean({
      description: 'Read a session or workspace token from stdin instead of logging in with a password',
      default: false,
      exclusive: ['email', 'password-stdin'],
    }),
    'api-url': Flags.string({ description: 'URL of the Flexpa API to use from now on', helpValue: '<url>' }),
    sso: Flags.string({
      description: "Log in through the workspace's identity provider; takes the workspace id or an email domain it lists",
      helpValue: '<workspace-id-or-email-domain>',
      exclusive: ['email', 'password-stdin', 'with-token'],
    }),
  }

  async run(): Promise<void> {
    const api = this.flags['api-url'] === undefined ? apiUrl(this.settings) : checkApiUrl(this.flags['api-url'], '--api-url')
    const userAgent = `flexpa-cli/${this.config.version} node/${process.versions.node}`
    if (this.flags.sso !== undefined) {
      const reference = this.flags.sso.trim()
      if (!reference) throw new CliError('--sso needs a workspace id or an email domain', EXIT.usage)
      const login = await ssoLogin(api, reference, userAgent)
      const source = await rememberLogin(api, { ...login, workspaces: [login.workspace] }, this.json, userAgent)
      // The session may reach only this workspace, so it becomes the selected one.
      await updateSettings({ workspace: login.workspace.id })
      const summary = { user: login.user, workspace: login.workspace, api_url: api, credential_source: source, auth_method: 'sso' }
      await this.output(summary, () =>
        note(`Logged in to ${api} as ${login.user.email} through the single sign-on of ${login.workspace.name}.`),
      )
      return
    }
    let result
    if (this.flags['with-token']) {
      const token = (await readStdin()).trim()
      if (!token) throw new CliError('no token on stdin', EXIT.usage)
      const { body } = await new ApiClient(api, token, userAgent).request('GET', '/v1/me')
      result = { user: body.user, session: { token }, workspaces: body.workspaces }
    } else {
      const email = this.flags.email ?? (await this.askEmail())
      const password = this.flags['password-stdin'] ? await readStdin() : await this.askPassword()
      const { body } = await new ApiClient(api, null, userAgent).request('POST', '/v1/auth/login', { body: { email, password } })
      const me = await new ApiClient(api, body.session.token, userAgent).request('GET', '/v1/me')
      result = { user: body.user, session: body.session, workspaces: me.body.workspaces }
    }
    const source = await rememberLogin(api, result, this.json, userAgent)
    await this.output({ user: result.user, api_url: api, credential_source: source }, () =>
      note(`Logged in to ${api} as ${result.user.email}.`),
    )
  }

  private async askEmail(): Promise<string> {
    if (!isInteractive()) throw missingFlag('--email', 'the email address of your account')
    return promptText('Email:')
  }

  private async askPassword(): Promise<string> {
    if (!isInteractive()) throw missingFlag('--password-stdin', 'pipe the password in on stdin')
    return promptPassword('Password:')
  }
}
