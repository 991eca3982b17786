import { spawn, type ChildProcess } from 'node:child_process';

/** A process a test started: its output, waits on it, and stops by pid (never by name). */
export interface TestProcess {
  pid: number;
  /** everything the process printed so far (stdout and stderr) */
  output(): string;
  /** wait until the output matches `pattern` (searching from `fromIndex` of the output, default 0) */
  waitForOutput(pattern: RegExp, timeoutMs?: number, fromIndex?: number): Promise<RegExpMatchArray>;
  /** `signal` (default SIGINT, what Ctrl-C sends), then wait for the process to exit; SIGKILL after `graceMs` */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, no clean-up: the crash case */
  kill(): Promise<void>;
}

/**
 * Start `command` with its output captured. `name` is how errors refer to it ("serverless offline",
 * "the Spring service"). The caller stops it (stop/kill) in its own clean-up.
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): TestProcess {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      exitCode = code;
      listeners.forEach((l) => l());
      r(code);
    }),
  );
  // a command that cannot be started (ENOENT) exits at once, as far as the waits are concerned
  child.once('error', (error) => {
    text += `\n${String(error)}\n`;
    if (exitCode === undefined) exitCode = null;
    listeners.forEach((l) => l());
  });

  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000, fromIndex = 0) =>
    new Promise<RegExpMatchArray>((done, fail) => {
      const check = () => {
        const match = text.slice(fromIndex).match(pattern);
        if (match) return finish(() => done(match));
        if (exitCode !== undefined) {
          finish(() => fail(new Error(`${name} exited (${exitCode}) before printing ${pattern}:\n${text}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => fail(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${text}`))),
        timeoutMs,
      );
      const finish = (then: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        then();
      };
      listeners.add(check);
      check();
    });

  const stop = async (graceMs = 15_000, signal: NodeJS.Signals = 'SIGINT') => {
    if (exitCode !== undefined) return exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return {
    pid: child.pid ?? -1,
    output: () => text,
    waitForOutput,
    stop,
    kill: async () => {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}
