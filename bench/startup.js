// Start-up time of the CLI as a ratio to bare Node: `flexpa --version`, and `flexpa apps list
// --json` against a local server with the file credential store.
import { join } from 'node:path'

import { compareCommands } from './lib/measure.js'
import { ROOT, seedAccount, startServer } from './lib/server.js'

export const description = 'flexpa --version and flexpa apps list --json, as ratios to node -e 0'

/** The maximum time of `apps list --json`, in multiples of `node -e 0`. */
const APPS_LIST_TARGET = 2.5

export async function run(options) {
  const server = await startServer()
  try {
    const { env } = await seedAccount(server.url, { appCount: 5 })
    const flexpa = `${process.execPath} ${join(ROOT, 'bin/run.js')}`
    const { timer, results } = compareCommands(
      [
        { label: 'node -e 0', command: `${process.execPath} -e 0` },
        { label: 'flexpa --version', command: `${flexpa} --version` },
        { label: 'flexpa apps list --json', command: `${flexpa} apps list --json` },
      ],
      { ...options, env },
    )
    const [node] = results
    const rows = results.map((result) => ({
      ...result,
      ratio_min: result.min_ms / node.min_ms,
      ratio_median: result.median_ms / node.median_ms,
      ratio_cpu: result.cpu_ms === null ? null : result.cpu_ms / node.cpu_ms,
    }))
    const appsList = rows[2]
    return {
      timer,
      target: {
        command: appsList.label,
        max_ratio: APPS_LIST_TARGET,
        met_by_min: appsList.ratio_min <= APPS_LIST_TARGET,
        met_by_median: appsList.ratio_median <= APPS_LIST_TARGET,
        met_by_cpu: appsList.ratio_cpu === null ? null : appsList.ratio_cpu <= APPS_LIST_TARGET,
      },
      rows,
    }
  } finally {
    await server.stop()
  }
}
