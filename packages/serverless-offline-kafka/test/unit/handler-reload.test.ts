import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { forgetLoadedHandlers } from '../../src/handler-reload';

describe('forgetLoadedHandlers', () => {
  const service = mkdtempSync(join(tmpdir(), 'reload-'));
  afterAll(() => rmSync(service, { recursive: true, force: true }));

  it('makes the next require of a rebuilt handler read the new file (in a plain Node process)', () => {
    // jest's `require` keeps a registry of its own: the real require cache is seen in a child process
    const file = join(service, '.esbuild', 'handler.js');
    mkdirSync(join(service, '.esbuild'), { recursive: true });
    writeFileSync(file, "exports.VERSION = 'v1';");
    const script = `
      const { writeFileSync } = require('node:fs');
      const { forgetLoadedHandlers } = require(${JSON.stringify(resolve(__dirname, '../../src/handler-reload.ts'))});
      const file = ${JSON.stringify(file)};
      const seen = [require(file).VERSION];
      writeFileSync(file, "exports.VERSION = 'v2';");
      seen.push(require(file).VERSION);
      seen.push(forgetLoadedHandlers(${JSON.stringify(service)}));
      seen.push(require(file).VERSION);
      console.log(JSON.stringify(seen));
    `;
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    // cached alone, then the new file once forgotten
    expect(JSON.parse(child.stdout)).toEqual(['v1', 'v1', 1, 'v2']);
  });

  it('leaves dependencies, the kept folders and what is outside the service alone', () => {
    const cache: Record<string, unknown> = {
      [join(service, 'handler.js')]: 1,
      [join(service, 'lib', 'orders.js')]: 1,
      [join(service, 'node_modules', 'kafkajs', 'index.js')]: 1,
      [join(service, 'packages', 'plugin', 'dist', 'index.js')]: 1,
      [`${service}-other${'/'}handler.js`]: 1,
      [resolve('/elsewhere/handler.js')]: 1,
    };
    expect(forgetLoadedHandlers(service, [join(service, 'packages', 'plugin')], cache)).toBe(2);
    expect(Object.keys(cache).sort()).toEqual(
      [
        join(service, 'node_modules', 'kafkajs', 'index.js'),
        join(service, 'packages', 'plugin', 'dist', 'index.js'),
        `${service}-other/handler.js`,
        resolve('/elsewhere/handler.js'),
      ].sort(),
    );
  });
});
