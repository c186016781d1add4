import { readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'

/** Describes the machine a benchmark ran on: CPU model and count, memory, Node, load average. */
export function machine() {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model
  } catch {
    // Not Linux: os.cpus() has the model.
  }
  return {
    cpu: model,
    cores: availableParallelism(),
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    load: loadavg().map((value) => Number(value.toFixed(2))),
  }
}
