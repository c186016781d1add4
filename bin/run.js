#!/usr/bin/env node
// Output piped into a program that exits early (flexpa apps list | head -1) ends quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

// oclif prints the version when the first argument is one of its version flags, after the
// init hooks, which this CLI and its plugins do not have. Printing it here spares the ~100 ms
// of loading oclif; the line is the same.
const VERSION_FLAGS = new Set(['--version', '-v'])

if (VERSION_FLAGS.has(process.argv[2])) {
  const { versionLine } = await import('../dist/bundle/version.js')
  process.stdout.write(`${versionLine(new URL('../package.json', import.meta.url))}\n`)
} else {
  // @oclif/core checks the Node version against its own package.json, which is not beside the
  // bundle, so the check always fails silently; skipping it saves loading semver.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  const { run } = await import('../dist/bundle/flexpa.js')
  await run(import.meta.url)
}
