/**
 * Preloaded into a process under a soak benchmark (NODE_OPTIONS=--require): every MEMORY_PROBE_MS it
 * appends one JSON line to MEMORY_PROBE_FILE with this thread's heap and the process's RSS, so the
 * benchmark sees the heap of serverless offline's main thread and of each of its worker threads.
 */
const { appendFileSync } = require('node:fs');
const { setInterval } = require('node:timers');
const { threadId } = require('node:worker_threads');

const file = process.env.MEMORY_PROBE_FILE;
const every = Number(process.env.MEMORY_PROBE_MS || 30000);
if (file) {
  const sample = () => {
    const m = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ at: Date.now(), pid: process.pid, thread: threadId, rss: m.rss, heapUsed: m.heapUsed, external: m.external })}\n`,
    );
  };
  setInterval(sample, every).unref();
  sample();
}
