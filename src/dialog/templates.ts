/** `{placeholder}` filling for config texts, and sentence splitting for streamed replies. */

/** Fills `{key}` from `vars`; unknown placeholders stay visible so a config mistake is audible in tests. */
export function fillTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => vars[key] ?? whole);
}

export { splitSentences } from '../util/sentences.js';

/** "a", "a and b", "a, b or c". */
export function joinList(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
