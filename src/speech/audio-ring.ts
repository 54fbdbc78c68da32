/**
 * The caller audio a streaming recogniser has not finalised yet, kept so it can be replayed to a
 * fresh connection after a drop. Bytes are numbered by their position in the stream sent to the
 * recogniser, so a result's audio time maps back to a byte index and everything before it can go.
 */
export class AudioRing {
  private chunks: { index: number; bytes: Uint8Array }[] = [];
  private size = 0;
  /** Bytes discarded because the ring was full (they cannot be replayed). */
  droppedBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** `index` is the stream position of `bytes[0]`; chunks arrive contiguous and in order. */
  push(index: number, bytes: Uint8Array): void {
    this.chunks.push({ index, bytes });
    this.size += bytes.length;
    while (this.size > this.maxBytes && this.chunks.length > 1) {
      const oldest = this.chunks.shift()!;
      this.size -= oldest.bytes.length;
      this.droppedBytes += oldest.bytes.length;
    }
  }

  /** Forget every byte before stream position `index` (the recogniser has finalised them). */
  trimBefore(index: number): void {
    while (this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const end = first.index + first.bytes.length;
      if (end <= index) {
        this.chunks.shift();
        this.size -= first.bytes.length;
      } else {
        if (first.index < index) {
          const cut = index - first.index;
          this.chunks[0] = { index, bytes: first.bytes.subarray(cut) };
          this.size -= cut;
        }
        return;
      }
    }
  }

  /** Stream position of the oldest byte kept, or null when empty. */
  get firstIndex(): number | null {
    return this.chunks[0]?.index ?? null;
  }

  get byteLength(): number {
    return this.size;
  }

  contents(): Uint8Array[] {
    return this.chunks.map((chunk) => chunk.bytes);
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}
