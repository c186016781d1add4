#!/usr/bin/env node
// Output piped into a program that exits early (flexpa apps list | head -1) ends quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

// oclif prints the version when the first argument is a version flag. Printing the same line
// here spares loading oclif (bench/README.md has the numbers). Other arguments skip the check.
const first = process.argv[2]
const version = first?.startsWith('-')
  ? (await import('../dist/bundle/version.js')).versionLine(first, new URL('../package.json', import.meta.url))
  : undefined

if (version !== undefined) {
  process.stdout.write(`${version}\n`)
} else {
  // @oclif/core checks the Node version against its own package.json, which is not beside the
  // bundle, so the check always fails silently. Turning it off spares loading semver.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  const { run } = await import('../dist/bundle/flexpa.js')
  await run(import.meta.url)
}
