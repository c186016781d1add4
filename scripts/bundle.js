#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli) together with @oclif/core into dist/bundle/, so that a
// start-up reads a few files instead of about 160 modules. Run after tsc: it reads dist/cli.
//
// dist/bundle/flexpa.js exports `run` and `COMMANDS`, the object that oclif's "explicit"
// command strategy reads (package.json, oclif.commands). COMMANDS is generated from the files
// under dist/cli/commands on every build, with the ids oclif's default "pattern" strategy
// would give them, so a new command file needs no registration.
// The commands of the oclif plugins in BUNDLED_PLUGINS are bundled the same way, so oclif does
// not find and read each plugin at every start. package.json must not list them under
// oclif.plugins, because oclif would then load them a second time.
// dist/bundle/version.js builds the `--version` line without loading oclif.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'

import { build } from 'rolldown'

const ROOT = resolve(import.meta.dirname, '..')
const COMMANDS_DIR = join(ROOT, 'dist/cli/commands')
const OUT_DIR = join(ROOT, 'dist/bundle')
const ENTRY_ID = '\0flexpa-commands'
const BUNDLED_PLUGINS = ['@oclif/plugin-autocomplete']

// Loaded on demand (a native addon, prompts, tables) or only by oclif's TypeScript development
// mode, so they stay in node_modules rather than in the bundle. A package with a native addon
// must be listed here: rolldown cannot bundle a .node file and stops the build.
const EXTERNAL = ['@napi-rs/keyring', '@inquirer/prompts', 'cli-table3', 'typescript', 'ts-node']

/** Lists the compiled command modules, as oclif's pattern strategy would find them. */
function commandFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return commandFiles(path)
    return /\.(c|m)?js$/.test(entry.name) && !/\.(test|spec)\.(c|m)?js$/.test(entry.name) ? [path] : []
  })
}

/** Turns `apps/list.js` into `apps:list`; an `index.js` names its directory's topic. */
function commandId(commandsDir, file) {
  const parts = relative(commandsDir, file).split(sep)
  const name = parts.pop().replace(/\.(c|m)?js$/, '')
  return [...parts, name === 'index' ? '' : name].filter(Boolean).join(':')
}

/** Returns the directory of a plugin's compiled commands, from its package.json. */
function pluginCommandsDir(name) {
  const readPjson = (dir) => (existsSync(join(dir, 'package.json')) ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) : {})
  // The package exports only its main module, so its root is found by walking up from there.
  let dir = dirname(createRequire(import.meta.url).resolve(name))
  while (readPjson(dir).name !== name) {
    if (dirname(dir) === dir) throw new Error(`no package.json named ${name} above ${createRequire(import.meta.url).resolve(name)}`)
    dir = dirname(dir)
  }
  return join(dir, readPjson(dir).oclif.commands)
}

/** Lists every command to bundle as `{ id, file }`, ours first, failing on a duplicate id. */
function allCommands() {
  const commands = []
  for (const dir of [COMMANDS_DIR, ...BUNDLED_PLUGINS.map(pluginCommandsDir)]) {
    for (const file of commandFiles(dir).sort()) {
      const id = commandId(dir, file)
      if (commands.some((command) => command.id === id)) throw new Error(`two command files have the id ${id}: ${file}`)
      commands.push({ id, file })
    }
  }
  return commands
}

function entrySource(commands) {
  const imports = commands.map(({ file }, index) => `import * as command${index} from ${JSON.stringify(file)}`)
  const entries = commands.map(({ id }, index) => `  ${JSON.stringify(id)}: commandClass(command${index}),`)
  return [
    ...imports,
    `export { run } from ${JSON.stringify(join(ROOT, 'dist/cli/main.js'))}`,
    '',
    '// The default export, else the first exported class with a static run(), as oclif looks it up.',
    'function commandClass(module) {',
    "  if (typeof module.default?.run === 'function') return module.default",
    "  return Object.values(module).find((value) => typeof value?.run === 'function')",
    '}',
    '',
    'export const COMMANDS = Object.fromEntries(',
    '  Object.entries({',
    ...entries,
    '  }).filter(([, command]) => command !== undefined),',
    ')',
    '',
  ].join('\n')
}

// @oclif/core requires its dependencies when its own modules load, so every start evaluated
// ejs, minimatch, tinyglobby, wrap-ansi and others that only help, errors, spinners or the
// pattern strategy use. This plugin turns each top-level `const x = require("package")` in
// @oclif/core into a proxy that requires the package on first property access, as the
// compiled code reaches package exports only through properties (`(0, x.fn)()`,
// `x.default`). If a later @oclif/core compiles differently, the pattern stops matching
// and the packages load eagerly again.
const LAZY_REQUIRE = /^const (\w+) = (__importDefault\()?require\("([^".][^"]*)"\)(\))?;$/gm
const LAZY_HELPER = `function __lazyRequire(load) {
  let loaded
  const get = () => (loaded ??= load())
  return new Proxy({}, {
    get: (_, key) => get()[key],
    has: (_, key) => key in get(),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(get(), key)
      return descriptor && { ...descriptor, configurable: true }
    },
  })
}
`
const lazyRequirePlugin = {
  name: 'lazy-oclif-requires',
  transform(code, id) {
    if (!id.includes('/@oclif/core/lib/')) return null
    let changed = false
    const lazy = code.replace(LAZY_REQUIRE, (statement, name, wrapper, pkg, closing) => {
      // debug is used as soon as each module loads; built-in modules are cheap to load.
      if (pkg.startsWith('node:') || pkg === 'debug') return statement
      changed = true
      return `const ${name} = __lazyRequire(() => ${wrapper ?? ''}require("${pkg}")${closing ?? ''});`
    })
    return changed ? LAZY_HELPER + lazy : null
  },
}

const commands = allCommands()
const commandsPlugin = {
  name: 'flexpa-commands',
  resolveId: (id) => (id === ENTRY_ID ? id : null),
  load: (id) => (id === ENTRY_ID ? entrySource(commands) : null),
}

rmSync(OUT_DIR, { recursive: true, force: true })
await build({
  input: { flexpa: ENTRY_ID, version: join(ROOT, 'dist/cli/version.js') },
  cwd: ROOT,
  platform: 'node',
  external: EXTERNAL,
  plugins: [commandsPlugin, lazyRequirePlugin],
  logLevel: 'warn',
  // INEFFECTIVE_DYNAMIC_IMPORT reports that a module imported both statically and dynamically
  // stays in the main chunk. That is harmless: the import resolves to the module already loaded.
  onLog: (level, log, report) => {
    if (log.code !== 'INEFFECTIVE_DYNAMIC_IMPORT') report(level, log)
  },
  output: {
    dir: OUT_DIR,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
  },
})
