/** Where bench/lib/memory-probe.cjs, preloaded into process `pid`, writes its samples (all its threads share the pid). */
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const memoryProbeFile = (pid) => join(tmpdir(), `memory-probe-${pid}.jsonl`);

module.exports = { memoryProbeFile };
