/**
 * Preloaded into a process under a soak benchmark (`node --require`, which its worker threads inherit):
 * every MEMORY_PROBE_MS (30 s in worker threads, which do not see the process's environment) each
 * thread appends one JSON line with its heap and the process's RSS to memoryProbeFile(pid).
 */
const { appendFileSync } = require('node:fs');
const { setInterval } = require('node:timers');
const { threadId } = require('node:worker_threads');
const { memoryProbeFile } = require('./memory-probe-file.cjs');

const file = memoryProbeFile(process.pid);
const sample = () => {
  const m = process.memoryUsage();
  const line = {
    at: Date.now(),
    pid: process.pid,
    thread: threadId,
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
};
setInterval(sample, Number(process.env.MEMORY_PROBE_MS || 30000)).unref();
sample();
