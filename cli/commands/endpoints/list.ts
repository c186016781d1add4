import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { printTable } from '../../output.js'
import type { PayerEndpoint } from '../../../shared/endpoints.js'

export default class EndpointsList extends BaseCommand<typeof EndpointsList> {
  static override summary = 'List the payer endpoints directory'
  static override description =
    'Lists the payer FHIR endpoints that access tokens connect to: UUID, label, payer and whether tokens refresh (needed for MULTIPLE usage). Sandbox endpoints serve test mode. Any member may list them.'
  static override examples = ['<%= config.bin %> endpoints list', '<%= config.bin %> endpoints list --test --json']
  static override flags = {
    ...workspaceFlag,
    live: Flags.boolean({ description: 'Only live endpoints', exclusive: ['test'] }),
    test: Flags.boolean({ description: 'Only sandbox endpoints, which serve test mode', exclusive: ['live'] }),
  }

  async run(): Promise<void> {
    let mode: 'test' | 'live' | undefined
    if (this.flags.test) mode = 'test'
    if (this.flags.live) mode = 'live'
    const { body } = await (await this.client()).request('GET', this.workspacePath('/endpoints'), { query: { mode } })
    await this.output(body, () =>
      printTable<PayerEndpoint>(body.data, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Label', get: (row) => row.label },
        { header: 'Payer', get: (row) => row.payer },
        { header: 'Refresh', get: (row) => (row.refresh ? 'yes' : 'no') },
        { header: 'Mode', get: (row) => (row.mode === 'test' ? 'test (sandbox)' : 'live') },
      ]),
    )
  }
}
