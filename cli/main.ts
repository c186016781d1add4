import { execute } from '@oclif/core'

import { keychainTimedOut } from './credentials.js'

/** Runs the CLI with the arguments of this process; `binUrl` is the URL of `bin/run.js`. */
export async function run(binUrl: string): Promise<void> {
  await execute({ dir: binUrl })

  // A keychain call that timed out can keep a worker thread, and so the process, alive.
  if (keychainTimedOut) process.exit(process.exitCode ?? 0)
}
