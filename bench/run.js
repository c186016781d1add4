#!/usr/bin/env node
// Runs the benchmarks under bench/ one after the other, prints a table for each and writes its
// results to bench/results/<name>.json. `node bench/run.js startup` runs only the named ones.
// Options: --rounds N and --runs N (runs per command per round), --no-hyperfine to time with
// node's clock even where hyperfine is installed.
//
// A benchmark is a module bench/<name>.js exporting `description` and `run(options)`, which
// returns `{ rows: [{ label, ...numbers }], ...anything else to record }`.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { machine } from './lib/machine.js'

const BENCH_DIR = import.meta.dirname
const RESULTS_DIR = join(BENCH_DIR, 'results')

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '8' },
    runs: { type: 'string', default: '6' },
    'no-hyperfine': { type: 'boolean', default: false },
  },
})

const available = readdirSync(BENCH_DIR)
  .filter((file) => file.endsWith('.js') && file !== 'run.js')
  .map((file) => file.replace(/\.js$/, ''))
  .sort()
const unknown = positionals.filter((name) => !available.includes(name))
if (unknown.length > 0) {
  process.stderr.write(`Error: unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}\n`)
  process.exit(2)
}
const selected = positionals.length > 0 ? positionals : available

const options = {
  rounds: Number(values.rounds),
  runs: Number(values.runs),
  useHyperfine: !values['no-hyperfine'],
}

function format(value) {
  if (typeof value !== 'number') return String(value ?? '')
  return Number.isInteger(value) ? String(value) : value.toFixed(2)
}

/** Prints rows as an aligned table; the columns are the keys of the first row. */
function printTable(rows) {
  const columns = Object.keys(rows[0]).filter((column) => column !== 'command')
  const cells = [columns, ...rows.map((row) => columns.map((column) => format(row[column])))]
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index].length)))
  for (const line of cells) {
    process.stdout.write(`${line.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]) : cell.padStart(widths[index]))).join('  ')}\n`)
  }
}

mkdirSync(RESULTS_DIR, { recursive: true })
for (const name of selected) {
  const benchmark = await import(join(BENCH_DIR, `${name}.js`))
  process.stdout.write(`\n${name}: ${benchmark.description}\n`)
  const before = machine()
  const result = await benchmark.run(options)
  const record = { benchmark: name, date: new Date().toISOString(), machine: before, load_after: machine().load, options, ...result }
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`)
  printTable(result.rows)
  process.stdout.write(`timer: ${result.timer ?? 'see results'}; load average before ${before.load.join(' ')}, after ${record.load_after.join(' ')}\n`)
  if (result.target) {
    const { command, max_ratio, met_by_min, met_by_median, met_by_cpu } = result.target
    const verdict = (met) => (met ? 'met' : 'missed')
    const byCpu = met_by_cpu === null || met_by_cpu === undefined ? '' : `, ${verdict(met_by_cpu)} by CPU time`
    process.stdout.write(`target: ${command} at most ${max_ratio} times node -e 0: ${verdict(met_by_min)} by the minimum, ${verdict(met_by_median)} by the median${byCpu}\n`)
  }
  process.stdout.write(`wrote ${join('bench/results', `${name}.json`)}\n`)
}
