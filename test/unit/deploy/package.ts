/**
 * Runs `serverless package` for an AWS stage the way a user does (offline: nothing reaches AWS) and
 * reads what it wrote. Each run gets its own output and esbuild folders, so it never disturbs a
 * `serverless offline` or another package running in the same working tree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export const ROOT = resolve(__dirname, '..', '..', '..');
const SERVERLESS = resolve(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface Packaged {
  status: number | null;
  output: string;
  template?: { Resources: Record<string, CfnResource> };
  /** the service as the framework resolved it (serverless-state.json) */
  service?: {
    provider: { runtime: string; environment?: Record<string, string> };
    functions: Record<string, { events?: Record<string, Record<string, unknown>>[]; runtime?: string }>;
  };
  /** path of the CloudFormation template, for cfn-lint */
  templateFile: string;
  /** the folder `serverless package` wrote to: the template and one zip per function */
  dir: string;
  cleanup(): void;
}

/**
 * Package `stage`. With `params`, they are written to deploy/params.<stage>.yml for the run (and removed
 * afterwards); without, the stage's own parameter file is used (deploy/params.example.yml for "example").
 */
export function packageStage(
  stage: string,
  params?: string,
  options: { serviceDir?: string; config?: string; env?: Record<string, string> } = {},
): Packaged {
  const serviceDir = options.serviceDir ?? ROOT;
  const paramsFile = join(ROOT, 'deploy', `params.${stage}.yml`);
  if (params !== undefined) writeFileSync(paramsFile, params);
  const out = mkdtempSync(join(tmpdir(), 'sls-package-'));
  const workFolder = `.esbuild-test-${randomBytes(4).toString('hex')}`;
  try {
    const args = [SERVERLESS, 'package', '--stage', stage, '--package', out];
    if (options.config) args.push('--config', options.config);
    const result = spawnSync(process.execPath, args, {
      cwd: serviceDir,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, ...options.env, SLS_TELEMETRY_DISABLED: '1', ESBUILD_WORK_FOLDER: workFolder },
    });
    const templateFile = join(out, 'cloudformation-template-update-stack.json');
    const stateFile = join(out, 'serverless-state.json');
    return {
      status: result.status,
      output: `${result.stdout}${result.stderr}`,
      template: existsSync(templateFile) ? JSON.parse(readFileSync(templateFile, 'utf8')) : undefined,
      service: existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')).service : undefined,
      templateFile,
      dir: out,
      cleanup: () => rmSync(out, { recursive: true, force: true }),
    };
  } finally {
    if (params !== undefined) rmSync(paramsFile, { force: true });
    rmSync(join(serviceDir, workFolder), { recursive: true, force: true });
  }
}

/** A unique stage name, so concurrent runs never share a parameter file. */
export const testStage = (label: string) => `t${label}${randomBytes(3).toString('hex')}`;
