// Every topic the README dropped is one click away: each relative link of the README and of docs/ (and of the
// container READMEs they send readers to) names a file that exists and, with a #fragment, a heading in it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../harness/topology.js';

const PAGES = [
  'README.md',
  'docker/README.md',
  'k8s/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#+ (.+)$/gm)].map(([, heading]) => anchor(heading)));
}

function linksOf(page: string): Array<{ page: string; target: string }> {
  const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => ({ page, target }))
    .filter(({ target }) => !/^[a-z]+:/.test(target));
}

describe('links between the README and docs/', () => {
  const links = PAGES.flatMap(linksOf);

  it('are there to check (the README links every docs page)', () => {
    const fromReadme = new Set(
      links.filter((l) => l.page === 'README.md').map((l) => l.target.split('#')[0]),
    );
    const pages = PAGES.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md');
    expect(pages.filter((p) => !fromReadme.has(p))).toEqual([]);
  });

  it('name files and headings that exist', () => {
    const broken = links.filter(({ page, target }) => {
      const [path, fragment] = target.split('#');
      const file = path ? join(ROOT, dirname(page), path) : join(ROOT, page);
      if (!existsSync(file)) return true;
      return fragment !== undefined && file.endsWith('.md') && !anchorsOf(file).has(fragment);
    });
    expect(broken.map(({ page, target }) => `${page} -> ${target}`)).toEqual([]);
  });
});
