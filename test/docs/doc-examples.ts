// The shell examples of the Markdown pages, as data: fenced `sh` blocks split into commands, each with the output
// shown in the comment lines right below it, and a matcher for that shown output. Conventions (docs/testing.md):
// - ```sh runs in the suite; ```sh no-test is shown only (a recipe CI cannot run) and is counted as such.
// - `# ...` lines directly below a command (no blank line between) are its output; a comment after a blank line,
//   or before a command, is prose.
// - In a shown output `…` stands for any text (ids, times, random draws); in JSON it may stand for a whole value,
//   and `...` as the last member of an object or array allows more members.

import { spawnSync } from 'node:child_process';

export interface DocCommand {
  /** 1-based line of the command's first line in the page. */
  line: number;
  /** The command as written, continuation lines included. */
  text: string;
  /** The shown output, comment markers removed; undefined when none is shown. */
  expected?: string;
}

export interface DocBlock {
  page: string;
  line: number;
  info: string;
  runnable: boolean;
  commands: DocCommand[];
}

const FENCE = /^(\s*)```(.*)$/;
const SHELL_INFO = /^(sh|bash|shell|console|zsh)\b/;

/** Every fenced block whose info string names a shell; other blocks (ts, json, text, none) are not examples. */
export function shellBlocks(page: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const info = open[2].trim();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
    if (SHELL_INFO.test(info)) {
      blocks.push({ page, line: i + 1, info, runnable: info === 'sh', commands: commandsOf(body, i + 2) });
    }
    i = j;
  }
  return blocks;
}

/** Whether bash reads the text as whole commands (no continuation, open quote, function body or loop). */
function complete(text: string): boolean {
  if (text.trimEnd().endsWith('\\')) return false;
  return spawnSync('bash', ['-n'], { input: text }).status === 0;
}

function commandsOf(body: string[], firstLine: number): DocCommand[] {
  const commands: DocCommand[] = [];
  let current: DocCommand | undefined;
  let outputOpen = false;
  for (let k = 0; k < body.length; k++) {
    const line = body[k];
    if (line.trim() === '') {
      current = undefined;
      outputOpen = false;
      continue;
    }
    if (line.trimStart().startsWith('#')) {
      if (current && outputOpen) {
        const shown = line.trimStart().replace(/^# ?/, '');
        current.expected = current.expected === undefined ? shown : `${current.expected}\n${shown}`;
      }
      continue;
    }
    const text = [line];
    while (!complete(text.join('\n')) && k + 1 < body.length) text.push(body[++k]);
    current = { line: firstLine + k - (text.length - 1), text: text.join('\n') };
    commands.push(current);
    outputOpen = true;
  }
  return commands;
}

const ANY = '\u2026';
const MORE = '\u2026more\u2026';

/** Turns a shown JSON output into plain JSON: a bare `…` becomes the string "…", a `...` member becomes MORE. */
function patternJson(shown: string): unknown {
  const text = shown
    .split('\n')
    .map((l) => l.trim())
    .join('');
  let out = '';
  const stack: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (text.startsWith('...', i)) {
      out += stack[stack.length - 1] === '{' ? `"${MORE}":0` : `"${MORE}"`;
      i += 2;
    } else if (c === ANY) {
      out += `"${ANY}"`;
    } else {
      if (c === '{' || c === '[') stack.push(c);
      if (c === '}' || c === ']') stack.pop();
      out += c;
    }
  }
  return JSON.parse(out);
}

function globMatch(pattern: string, actual: string): boolean {
  const source = pattern
    .split(ANY)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${source}$`).test(actual);
}

/** Where `actual` differs from `pattern`, as a path; undefined when it matches. */
function jsonMismatch(pattern: unknown, actual: unknown, path: string): string | undefined {
  if (pattern === ANY) return undefined;
  if (typeof pattern === 'string' && pattern.includes(ANY)) {
    return typeof actual === 'string' && globMatch(pattern, actual) ? undefined : path;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return path;
    const open = pattern[pattern.length - 1] === MORE;
    const items = open ? pattern.slice(0, -1) : pattern;
    if (open ? actual.length < items.length : actual.length !== items.length) return `${path} (length)`;
    for (let i = 0; i < items.length; i++) {
      const miss = jsonMismatch(items[i], actual[i], `${path}[${i}]`);
      if (miss) return miss;
    }
    return undefined;
  }
  if (pattern && typeof pattern === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return path;
    const keys = Object.keys(pattern).filter((k) => k !== MORE);
    const extra = Object.keys(actual).filter((k) => !keys.includes(k));
    if (!(MORE in pattern) && extra.length > 0) return `${path} (unexpected ${extra.join(', ')})`;
    for (const key of keys) {
      if (!(key in actual)) return `${path}.${key} (missing)`;
      const miss = jsonMismatch(
        (pattern as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
      if (miss) return miss;
    }
    return undefined;
  }
  return pattern === actual ? undefined : path;
}

/**
 * Compares a command's output with the shown one; returns why they differ, or undefined. JSON is compared by
 * structure (member order ignored); any other output line by line, `…` matching any text.
 */
export function outputMismatch(shown: string, actual: string): string | undefined {
  const got = actual.replace(/\s+$/, '');
  let pattern: unknown;
  try {
    pattern = /^[[{]/.test(shown.trimStart()) ? patternJson(shown) : undefined;
  } catch {
    // text that starts with a bracket, e.g. a log line: compared as text below
  }
  if (pattern !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(got);
    } catch {
      return 'not the JSON shown';
    }
    const miss = jsonMismatch(pattern, value, '$');
    return miss ? `differs at ${miss}` : undefined;
  }
  const want = shown.split('\n');
  const lines = got.split('\n');
  if (want.length !== lines.length) return `${lines.length} lines where ${want.length} are shown`;
  const bad = want.findIndex((w, i) => !globMatch(w.trimEnd(), lines[i].trimEnd()));
  return bad < 0 ? undefined : `line ${bad + 1} differs`;
}
