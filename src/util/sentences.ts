/**
 * Splits text into sentences for sentence-by-sentence speech: after . ! ? followed by a space and a
 * capital, digit or quote, so "three p.m. on Tuesday", "3.5" and "Dr. smith" style lower-case
 * continuations stay whole. Shared by the dialog engine (what it yields) and the offline voice (what
 * it renders), so both cut in the same places and cached prompts match.
 */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"'])/)
    .map((s) => s.trim())
    .filter(Boolean);
}
