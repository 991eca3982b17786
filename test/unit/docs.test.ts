/**
 * The Markdown files tell the truth about the repository: no relative link points at a file or heading
 * that does not exist, and docs/configuration.md lists exactly the variables the code reads, with the
 * code's defaults.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ENV_SCHEMA } from '../../lib/config';
import * as z from '../../lib/zod';

const ROOT = resolve(__dirname, '..', '..');
const SKIP = new Set(['node_modules', '.git', '.cache', '.esbuild', '.serverless', 'dist', 'coverage']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to -. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = anchorOf(heading!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  }
  return anchors;
}

/** Every relative link in a Markdown text (inline links and images; code blocks and spans left out). */
export function relativeLinks(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(([, target]) => target!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The links of `file` that lead nowhere: a missing file, or a missing heading in a Markdown file. */
function deadLinks(file: string): string[] {
  const markdown = readFileSync(file, 'utf8');
  return relativeLinks(markdown).filter((link) => {
    const [path, anchor] = link.split('#') as [string, string | undefined];
    const target = path ? resolve(dirname(file), decodeURI(path)) : file;
    if (!existsSync(target)) return true;
    if (!anchor || !target.endsWith('.md')) return false;
    return !anchorsOf(readFileSync(target, 'utf8')).has(anchor);
  });
}

/** The rows of the first table after `heading` in a Markdown text, as cells without their backticks. */
function tableAfter(markdown: string, heading: string): string[][] {
  const from = markdown.indexOf(`\n${heading}\n`);
  if (from < 0) throw new Error(`no heading "${heading}"`);
  const lines = markdown.slice(from).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** The first `literal` of a table cell, or "empty" / undefined for a cell that says so / gives none. */
function documentedDefault(cell: string): string | undefined {
  if (cell.startsWith('—')) return undefined;
  if (cell.startsWith('empty')) return '';
  return /^`([^`]*)`/.exec(cell)?.[1];
}

describe('Markdown links', () => {
  const files = markdownFiles(ROOT);

  it('finds the Markdown files and their links', () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining(['README.md', 'docs/configuration.md', 'packages/serverless-offline-kafka/README.md']),
    );
    expect(relativeLinks('[a](docs/x.md) [b](https://x.y) `[c](no.md)` ![d](img.png) [e](#top)')).toEqual([
      'docs/x.md',
      'img.png',
      '#top',
    ]);
    expect(anchorOf('Sustained load: `npm run bench:soak`')).toBe('sustained-load-npm-run-benchsoak');
  });

  it.each(files.map((f) => [relative(ROOT, f)]))('%s has no dead relative link', (file) => {
    expect(deadLinks(resolve(ROOT, file))).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(resolve(ROOT, 'docs/configuration.md'), 'utf8');

  it("lists exactly the functions' variables, with loadConfig's defaults", () => {
    const rows = tableAfter(doc, '## The functions');
    const documented = Object.fromEntries(rows.map(([name, fallback]) => [name!.replace(/`/g, ''), fallback!]));
    expect(Object.keys(documented).sort()).toEqual(Object.keys(ENV_SCHEMA.shape).sort());
    for (const [name, schema] of Object.entries(ENV_SCHEMA.shape)) {
      const value: unknown = z.parse(schema, undefined);
      const expected = value === undefined ? undefined : Array.isArray(value) ? value.join(',') : String(value);
      expect({ name, default: documentedDefault(documented[name]!) }).toEqual({ name, default: expected });
    }
  });

  it('lists every variable serverless.yml and docker-compose.yml read, with their fallbacks', () => {
    const rows = [...tableAfter(doc, '## The functions'), ...tableAfter(doc, '## Running locally')];
    const documented = new Map(rows.map(([name, fallback]) => [name!.replace(/`/g, ''), fallback!]));
    const yml = readFileSync(resolve(ROOT, 'serverless.yml'), 'utf8');
    const compose = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
    const read = [
      ...[...yml.matchAll(/\$\{env:([A-Z_]+), '([^']*)'\}/g)].map(([, name, fallback]) => ({ name, fallback })),
      ...[...yml.matchAll(/\$\{env:([A-Z_]+), self:[^}]+\}/g)].map(([, name]) => ({ name, fallback: undefined })),
      ...[...compose.matchAll(/\$\{([A-Z_]+):-([^}]*)\}/g)].map(([, name, fallback]) => ({ name, fallback })),
    ];
    expect(read.length).toBeGreaterThan(10);
    for (const { name, fallback } of read) {
      const cell = documented.get(name!) ?? '';
      const matches =
        fallback === undefined ||
        documentedDefault(cell) === fallback ||
        // an empty fallback is "unset" to loadConfig: a cell saying "—" documents it
        (fallback === '' && documentedDefault(cell) === undefined) ||
        cell.includes(`\`${fallback}\``);
      expect({ name, cell, matches }).toEqual({ name, cell: expect.any(String), matches: true });
      expect(documented.has(name!)).toBe(true);
    }
  });
});
