/**
 * Test helper: turns a JSGF grammar (the subset our generator writes) into a matcher, so tests can
 * check that a caller phrase is something the recogniser could actually return in that turn.
 */
import { existsSync, readFileSync } from 'node:fs';

export const CMUDICT_PATH = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';

function parseRules(jsgf: string): Map<string, string> {
  const rules = new Map<string, string>();
  const body = jsgf.replace(/^#JSGF[^;]*;/, '').replace(/grammar\s+\w+\s*;/, '');
  for (const match of body.matchAll(/(?:public\s+)?<(\w+)>\s*=\s*([^;]*);/g)) rules.set(match[1]!, match[2]!.trim());
  return rules;
}

function toRegex(expansion: string, rules: Map<string, string>, depth = 0): string {
  if (depth > 50) throw new Error('JSGF recursion too deep');
  const tokens = expansion.match(/<\w+>|[()[\]|+*]|[^\s()[\]|+*<>]+/g) ?? [];
  return tokens
    .map((token) => {
      if (token === '(') return '(?:';
      if (token === ')') return ')';
      if (token === '[') return '(?:';
      if (token === ']') return ')?';
      if (token === '|' || token === '+' || token === '*') return token;
      if (token.startsWith('<')) {
        const body = rules.get(token.slice(1, -1));
        if (body === undefined) throw new Error(`undefined rule ${token}`);
        return `(?:${toRegex(body, rules, depth + 1)})`;
      }
      return `${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `;
    })
    .join('');
}

export function jsgfMatcher(jsgf: string): (phrase: string) => boolean {
  const rules = parseRules(jsgf);
  const top = rules.get('utterance');
  if (top === undefined) throw new Error('no public <utterance> rule');
  const regex = new RegExp(`^(?:${toRegex(top, rules)})$`);
  return (phrase) => regex.test(phrase.split(' ').filter(Boolean).map((w) => `${w} `).join(''));
}

/** Every terminal word a grammar uses. */
export function jsgfWords(jsgf: string): Set<string> {
  const out = new Set<string>();
  for (const body of parseRules(jsgf).values()) {
    for (const w of body.replace(/<\w+>/g, ' ').replace(/[()[\]|+*]/g, ' ').split(/\s+/)) if (w) out.add(w);
  }
  return out;
}

let dictionary: Set<string> | null | undefined;
/** The pocketsphinx dictionary's words, or null when it is not installed. */
export function loadCmuDictionary(): Set<string> | null {
  if (dictionary !== undefined) return dictionary;
  if (!existsSync(CMUDICT_PATH)) return (dictionary = null);
  dictionary = new Set(readFileSync(CMUDICT_PATH, 'utf8').split('\n').map((line) => line.split(' ')[0]!.replace(/\(\d+\)$/, '')));
  return dictionary;
}
