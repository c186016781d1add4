import { BaseCommand, workspaceFlag } from '../../base.js'
import { filterQuery, logFilterFlags, tailLine, type AccessToken } from '../../logs.js'
import { note, terminalSafe } from '../../output.js'
import { followEvents, type ServerSentEvent } from '../../sse.js'

export default class LogsTail extends BaseCommand<typeof LogsTail> {
  static override summary = 'Print access-token changes as they happen'
  static override description =
    'Streams new access tokens and their state changes over Server-Sent Events, with the same filters as logs list. When the connection drops or the server restarts, it reconnects with back-off and resumes after the last change it printed, so no change is lost or printed twice. With --json it prints one JSON object per line. Ctrl-C stops it. Needs analytics:read.'
  static override examples = [
    '<%= config.bin %> logs tail --test',
    '<%= config.bin %> logs tail --app "Patient Portal" --state ERROR',
    "<%= config.bin %> logs tail --json | jq --raw-output '.state'",
  ]
  static override flags = { ...workspaceFlag, ...logFilterFlags }

  async run(): Promise<void> {
    const client = await this.client()
    const token = (await this.credential())!.token
    const url = new URL(client.baseUrl + this.workspacePath('/logs/stream'))
    for (const [name, value] of Object.entries(filterQuery(this.flags))) {
      if (value !== undefined) url.searchParams.set(name, value)
    }
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    process.stdout.on('error', stop)

    let connected = false
    await followEvents({
      url,
      headers: { authorization: `Bearer ${token}`, 'user-agent': `flexpa-cli/${this.config.version} node/${process.versions.node}` },
      signal: controller.signal,
      onEvent: (event) => {
        if (event.event === 'ready') {
          if (!connected) note(`Tailing ${url.searchParams.get('mode')} access tokens; press Ctrl-C to stop.`)
          else note('Reconnected; resuming after the last change printed.')
          connected = true
        } else if (event.event === 'access_token') {
          this.print(event)
        } else if (event.event === 'error') {
          note(`The server reported a stream error: ${event.data}`)
        }
      },
      onReconnect: (reason, delayMs) => note(`Connection lost (${reason}); reconnecting in ${(delayMs / 1000).toFixed(1)} s…`),
    })
  }

  private print(event: ServerSentEvent): void {
    const row = JSON.parse(event.data) as AccessToken
    process.stdout.write(`${this.json ? JSON.stringify(row) : terminalSafe(tailLine(row))}\n`)
  }
}
