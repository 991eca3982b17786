/**
 * npm run bench:cold [-- --runs 7 --json]
 *
 * What a deployed function costs before its first request: `serverless package` for the example AWS
 * stage (exactly what `npm run package:aws` builds: one artifact per function), then for each function
 * the handler bundle's bytes (raw and gzip) and its module evaluation time (`require` of the handler
 * file in a fresh `node` process, median of --runs processes). In the same run, the reference: a bundle
 * of kafkajs + pino alone, built with the same esbuild settings, the floor any Kafka function starts
 * from. The processes run in rounds (every bundle once per round, the reference included), so a slow
 * moment of a noisy machine hits all of them alike; "time vs ref" is the median of the per-round ratios.
 * With --json the last line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import JSZip from 'jszip';
import { median, round1, round2 } from './lib/stats';

const ROOT = resolve(__dirname, '..');
const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '9' }, json: { type: 'boolean', default: false } },
});
const RUNS = Math.max(5, Number(args.runs));
const say = (line: string) => console.error(line);

/**
 * The esbuild settings serverless.yml gave serverless-esbuild for the packaged stage (custom.esbuild, as the
 * framework resolved it into serverless-state.json); kafkajs and pino need none of its SDK exclusions.
 */
function packagedBundleSettings(packageDir: string): BuildOptions {
  const state = JSON.parse(readFileSync(join(packageDir, 'serverless-state.json'), 'utf8')) as {
    service: { custom: { esbuild: BuildOptions } };
  };
  const { bundle, minify, target, platform, format } = state.service.custom.esbuild;
  return { bundle, minify, target, platform, format };
}

/** Module evaluation time of `file`: `require` in a fresh node process, in ms. */
function evalOnce(file: string): number {
  const script =
    'const t = process.hrtime.bigint(); require(process.argv[1]); ' +
    'process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6)); process.exit(0);';
  const result = spawnSync(process.execPath, ['-e', script, file], {
    encoding: 'utf8',
    // what a function reads at import (the quote function starts positioning its reply listener)
    env: { PATH: process.env.PATH, KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'silent' },
  });
  if (result.status !== 0) throw new Error(`require(${file}) failed:\n${result.stderr}`);
  return Number(result.stdout);
}

const REFERENCE = 'reference';

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    say('[cold] serverless package --stage example (one artifact per function) …');
    const out = join(work, 'package');
    const packaged = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'),
        'package',
        '--stage',
        'example',
        '--package',
        out,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', ESBUILD_WORK_FOLDER: `.esbuild-cold-${process.pid}` },
      },
    );
    rmSync(join(ROOT, `.esbuild-cold-${process.pid}`), { recursive: true, force: true });
    if (packaged.status !== 0) throw new Error(`serverless package failed:\n${packaged.stdout}${packaged.stderr}`);

    // each function's handler bundle, written out of its zip (the artifact Lambda receives)
    const bundles = new Map<string, { file: string; zip_bytes: number }>();
    for (const zipName of readdirSync(out)
      .filter((f) => f.endsWith('.zip'))
      .sort()) {
      const name = zipName.replace(/\.zip$/, '');
      const zip = await JSZip.loadAsync(readFileSync(join(out, zipName)));
      const handler = Object.keys(zip.files).find((f) => f.endsWith('.js') && !f.startsWith('node_modules/'));
      if (!handler) throw new Error(`${zipName} holds no handler bundle`);
      const file = join(work, `${name}.js`);
      writeFileSync(file, await zip.file(handler)!.async('nodebuffer'));
      bundles.set(name, { file, zip_bytes: statSync(join(out, zipName)).size });
    }

    say('[cold] reference: kafkajs + pino, same esbuild settings …');
    const entry = join(work, 'reference-entry.js');
    writeFileSync(entry, "require('kafkajs');\nrequire('pino');\n");
    const referenceFile = join(work, 'reference.js');
    await build({
      ...packagedBundleSettings(out),
      entryPoints: [entry],
      outfile: referenceFile,
      nodePaths: [join(ROOT, 'node_modules')],
      logLevel: 'silent',
    });

    const names = [...bundles.keys()];
    const times = new Map<string, number[]>([...names, REFERENCE].map((n) => [n, []]));
    const ratios = new Map<string, number[]>(names.map((n) => [n, []]));
    for (let round = 1; round <= RUNS; round += 1) {
      say(`[cold] round ${round}/${RUNS}: ${names.length + 1} fresh processes …`);
      const ref = evalOnce(referenceFile);
      times.get(REFERENCE)!.push(ref);
      for (const name of names) {
        const ms = evalOnce(bundles.get(name)!.file);
        times.get(name)!.push(ms);
        ratios.get(name)!.push(ms / ref);
      }
    }
    const sizes = (file: string) => {
      const bytes = readFileSync(file);
      return { bytes: bytes.length, gzip_bytes: gzipSync(bytes).length };
    };
    const reference = { ...sizes(referenceFile), eval_ms: round1(median(times.get(REFERENCE)!)) };
    const functions = Object.fromEntries(
      names.map((name) => {
        const m = { ...sizes(bundles.get(name)!.file), eval_ms: round1(median(times.get(name)!)) };
        return [
          name,
          {
            ...m,
            zip_bytes: bundles.get(name)!.zip_bytes,
            bytes_ratio: round2(m.bytes / reference.bytes),
            eval_ratio: round2(median(ratios.get(name)!)),
          },
        ];
      }),
    );

    const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
    const rows = Object.entries(functions).map(([name, m]) => [
      name,
      kb(m.bytes),
      kb(m.gzip_bytes),
      `${m.eval_ms} ms`,
      `${m.bytes_ratio.toFixed(2)}x`,
      `${m.eval_ratio.toFixed(2)}x`,
    ]);
    rows.push([
      'reference (kafkajs + pino)',
      kb(reference.bytes),
      kb(reference.gzip_bytes),
      `${reference.eval_ms} ms`,
      '1.00x',
      '1.00x',
    ]);
    const header = ['function', 'bundle', 'gzip', 'evaluation (median)', 'bytes vs ref', 'time vs ref'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
    console.log(
      `(${RUNS} fresh node ${process.version} processes per bundle; node ${process.arch}, ${cpus().length} cores)`,
    );
    if (args.json) console.log(JSON.stringify({ runs: RUNS, node: process.version, functions, reference }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`[cold] ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
