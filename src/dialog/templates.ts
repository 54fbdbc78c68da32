/** `{placeholder}` filling for config texts, and sentence splitting for streamed replies. */

/** Fills `{key}` from `vars`; unknown placeholders stay visible so a config mistake is audible in tests. */
export function fillTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => vars[key] ?? whole);
}

/**
 * Splits a reply into sentences for sentence-by-sentence TTS. Splits only where the next sentence
 * starts with a capital, so "three p.m. on Tuesday" stays whole.
 */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[A-Z])/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** "a", "a and b", "a, b or c". */
export function joinList(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
