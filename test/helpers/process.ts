/** Child processes a test starts and stops by pid (shared with the serverless-offline-kafka package's tests). */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
export * from '../../packages/serverless-offline-kafka/test/helpers/process';

const ROOT = resolve(__dirname, '..', '..');
const exec = promisify(execFile);

/** `npm run <script> -- <args>` in this repository: its exit code and everything it printed. */
export async function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000) {
  try {
    const { stdout, stderr } = await exec('npm', ['run', '--silent', script, '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: timeoutMs,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
