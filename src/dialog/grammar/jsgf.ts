/**
 * A tiny JSGF writer for pocketsphinx 5prealpha: `#JSGF V1.0;`, one public `<utterance>` rule and
 * private helper rules. Every word must be a plain lower-case dictionary word (no digits, no
 * punctuation): pocketsphinx rejects the whole grammar for one unknown word, so we fail early here.
 */

export type RuleMap = ReadonlyMap<string, string>;

const WORD = /^[a-z]+$/;
const RULE_NAME = /^[a-z][a-z0-9_]*$/;

/** `(a | b c | d)` from phrases; phrases are validated word by word. */
export function alt(phrases: readonly string[]): string {
  const unique = [...new Set(phrases)];
  if (unique.length === 0) throw new Error('alt: no phrases');
  for (const phrase of unique) for (const w of phrase.split(' ')) if (!WORD.test(w)) throw new Error(`grammar word "${w}" in "${phrase}" is not a plain lower-case word`);
  return unique.length === 1 ? unique[0]! : `(${unique.join(' | ')})`;
}

/** The words an expansion uses (rule references, operators and brackets removed). */
export function expansionWords(expansion: string): string[] {
  return expansion
    .replace(/<[^>]+>/g, ' ')
    .replace(/[()[\]|*+]/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '');
}

export function buildJsgf(grammarName: string, utterance: string, rules: RuleMap): string {
  if (!RULE_NAME.test(grammarName)) throw new Error(`bad grammar name ${grammarName}`);
  const lines = ['#JSGF V1.0;', '', `grammar ${grammarName};`, '', `public <utterance> = ${utterance};`];
  const used = referencedRules(utterance, rules);
  for (const name of [...rules.keys()].filter((n) => used.has(n))) lines.push(`<${name}> = ${rules.get(name)};`);
  for (const w of [utterance, ...[...used].map((n) => rules.get(n) ?? '')].flatMap(expansionWords)) {
    if (!WORD.test(w)) throw new Error(`grammar word "${w}" is not a plain lower-case word`);
  }
  return `${lines.join('\n')}\n`;
}

/** Rules reachable from `expansion`; throws on a reference to an undefined rule. */
function referencedRules(expansion: string, rules: RuleMap): Set<string> {
  const seen = new Set<string>();
  const visit = (text: string) => {
    for (const [, name] of text.matchAll(/<([a-z0-9_]+)>/g)) {
      if (seen.has(name!)) continue;
      const body = rules.get(name!);
      if (body === undefined) throw new Error(`grammar rule <${name}> is not defined`);
      seen.add(name!);
      visit(body);
    }
  };
  visit(expansion);
  return seen;
}
