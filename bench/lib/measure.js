// Times commands against each other. Several processes share the machine while benchmarks run,
// so the runs are spread over rounds that alternate the commands, and the summary gives the
// minimum (the least disturbed run) next to the median.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Returns hyperfine's version line, or null when it is not installed. */
export function hyperfineVersion() {
  const result = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : null
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function mean(values) {
  return values.reduce((sum, value) => sum + value, 0) / values.length
}

/** Runs one hyperfine round over all commands; returns wall times and mean CPU times in ms. */
function hyperfineRound(commands, { runs, warmup, env }) {
  const dir = mkdtempSync(join(tmpdir(), 'flexpa-bench-'))
  const exportPath = join(dir, 'round.json')
  try {
    const args = ['-N', '--warmup', String(warmup), '--runs', String(runs), '--style', 'none', '--export-json', exportPath]
    const result = spawnSync('hyperfine', [...args, ...commands.map((command) => command.command)], { env, encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`hyperfine failed (exit ${result.status}):\n${result.stderr}`)
    return JSON.parse(readFileSync(exportPath, 'utf8')).results.map((entry) => ({
      times: entry.times.map((seconds) => seconds * 1000),
      cpu: (entry.user + entry.system) * 1000,
    }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Times one run of a command with node's clock; the command is split on spaces, without a shell. */
function timeOnce(command, env) {
  const [file, ...args] = command.split(' ')
  const started = process.hrtime.bigint()
  const result = spawnSync(file, args, { env, stdio: 'ignore' })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${command} exited with ${result.status}`)
  return elapsed
}

/** Runs one round with node's clock: warm-up runs, then the commands alternating run by run. */
function nodeRound(commands, { runs, warmup, env }) {
  for (const { command } of commands) for (let i = 0; i < warmup; i++) timeOnce(command, env)
  const times = commands.map(() => [])
  for (let i = 0; i < runs; i++) {
    commands.forEach(({ command }, index) => times[index].push(timeOnce(command, env)))
  }
  return times.map((list) => ({ times: list, cpu: null }))
}

/**
 * Times each command `rounds * runs` times and returns, per command, the wall-clock minimum,
 * median and mean in ms, and the mean CPU time (user + system) when hyperfine measured it.
 * Commands are `{ label, command }`; `command` is run without a shell.
 */
export function compareCommands(commands, { rounds = 5, runs = 10, warmup = 3, env = process.env, useHyperfine = true } = {}) {
  const timer = useHyperfine ? hyperfineVersion() : null
  const collected = commands.map(() => ({ times: [], cpu: [] }))
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so that no command always runs first after a pause.
    const order = round % 2 ? [...commands.keys()].reverse() : [...commands.keys()]
    const ordered = order.map((index) => commands[index])
    const results = timer ? hyperfineRound(ordered, { runs, warmup, env }) : nodeRound(ordered, { runs, warmup, env })
    results.forEach((result, position) => {
      collected[order[position]].times.push(...result.times)
      if (result.cpu !== null) collected[order[position]].cpu.push(result.cpu)
    })
  }
  return {
    timer: timer ?? `node ${process.version} process.hrtime around spawnSync`,
    results: commands.map((command, index) => {
      const { times, cpu } = collected[index]
      return {
        label: command.label,
        command: command.command,
        runs: times.length,
        min_ms: Math.min(...times),
        median_ms: median(times),
        mean_ms: mean(times),
        cpu_ms: cpu.length ? mean(cpu) : null,
      }
    }),
  }
}
