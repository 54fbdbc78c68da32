/**
 * Splits streamed reply text into speakable pieces so TTS can start on the first one while the
 * rest is still being produced. Sentences end at . ! ? followed by a space; the very first piece may
 * also end at a clause boundary (, ; :) once it is long enough, because first audio is what the
 * caller waits for. Pure state in a small class; no timers.
 */
const SENTENCE_END = /[.!?]["')\]]?\s/;
const CLAUSE_END = /[,;:]\s/;

export class SentenceChunker {
  private buffer = '';
  private emitted = 0;

  constructor(private readonly firstClauseMinChars = 24) {}

  /** Add streamed text; returns the pieces now complete. */
  push(delta: string): string[] {
    this.buffer += delta;
    const out: string[] = [];
    for (;;) {
      const piece = this.next();
      if (piece === null) break;
      out.push(piece);
    }
    return out;
  }

  /** End of the reply: whatever is left is the last piece. */
  flush(): string[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    if (!rest) return [];
    this.emitted++;
    return [rest];
  }

  private next(): string | null {
    const sentence = SENTENCE_END.exec(this.buffer);
    let end = sentence ? sentence.index + sentence[0].length : -1;
    if (end < 0 && this.emitted === 0) {
      const clause = CLAUSE_END.exec(this.buffer);
      if (clause && clause.index >= this.firstClauseMinChars) end = clause.index + clause[0].length;
    }
    if (end < 0) return null;
    const piece = this.buffer.slice(0, end).trim();
    this.buffer = this.buffer.slice(end);
    if (!piece) return null;
    this.emitted++;
    return piece;
  }
}
