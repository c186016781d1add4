#!/usr/bin/env node
// Output piped into a program that exits early (flexpa apps list | head -1) ends quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })

// A keychain call that timed out can keep a worker thread, and so the process, alive.
const { keychainTimedOut } = await import('../dist/cli/credentials.js')
if (keychainTimedOut) process.exit(process.exitCode ?? 0)
