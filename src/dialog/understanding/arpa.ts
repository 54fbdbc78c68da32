/**
 * A small trigram language model in ARPA text format, built from sentences with interpolated
 * absolute discounting (D = 0.5 at every order). The unigram level is mixed with a uniform share
 * over `extraWords` (general conversational English), so words outside the domain sentences stay
 * hearable instead of being forced onto domain words. pocketsphinx reads the result with
 * `set_lm_file`.
 */
const DISCOUNT = 0.5;
const BOS = '<s>';
const EOS = '</s>';

export interface ArpaOptions {
  /** Words with no domain counts that must still be in the vocabulary (general English). */
  extraWords?: readonly string[];
  /** Share of unigram probability mass given to a uniform distribution over the vocabulary. */
  uniformWeight?: number;
}

type Counts = Map<string, number>;

export function buildArpa(sentences: readonly string[], options: ArpaOptions = {}): string {
  const uniformWeight = options.uniformWeight ?? 0.1;
  const grams: [Counts, Counts, Counts] = [new Map(), new Map(), new Map()];
  for (const sentence of sentences) {
    const w = [BOS, ...sentence.split(' ').filter(Boolean), EOS];
    for (let i = 0; i < w.length; i++) {
      for (let n = 1; n <= 3 && i - n + 1 >= 0; n++) {
        const key = w.slice(i - n + 1, i + 1).join(' ');
        if (n === 1 && key === BOS) continue;
        const table = grams[n - 1]!;
        table.set(key, (table.get(key) ?? 0) + 1);
      }
    }
  }
  for (const word of options.extraWords ?? []) if (!grams[0].has(word)) grams[0].set(word, 0);

  // Unigrams: discounted-free ML mixed with uniform.
  const vocab = [...grams[0].keys()];
  const total = [...grams[0].values()].reduce((a, b) => a + b, 0);
  const p1 = new Map<string, number>();
  for (const w of vocab) p1.set(w, (1 - uniformWeight) * (grams[0].get(w)! / total) + uniformWeight / vocab.length);
  p1.set(BOS, 0);

  const p2 = interpolate(grams[1], (_h, w) => p1.get(w) ?? 0, (key) => key.split(' ')[0]!);
  const bow1 = backoffWeights(p2, (key) => key.split(' ')[0]!, (w) => p1.get(w) ?? 0);
  const lower2 = (w1: string, w2: string) => p2.get(`${w1} ${w2}`) ?? (bow1.get(w1) ?? 1) * (p1.get(w2) ?? 0);
  const p3 = interpolate(grams[2], (h, w) => lower2(h.split(' ')[1]!, w), (key) => key.split(' ').slice(0, 2).join(' '));
  const bow2 = backoffWeights(p3, (key) => key.split(' ').slice(0, 2).join(' '), (_w, key) => {
    const [, w2, w3] = key.split(' ');
    return lower2(w2!, w3!);
  });

  const log = (p: number) => (p > 0 ? Math.log10(p) : -99).toFixed(4);
  const lines = ['\\data\\', `ngram 1=${p1.size}`, `ngram 2=${p2.size}`, `ngram 3=${p3.size}`, '', '\\1-grams:'];
  for (const [w, p] of p1) lines.push(`${log(p)}\t${w}\t${(Math.log10(bow1.get(w) ?? 1)).toFixed(4)}`);
  lines.push('', '\\2-grams:');
  for (const [k, p] of p2) lines.push(`${log(p)}\t${k}\t${(Math.log10(bow2.get(k) ?? 1)).toFixed(4)}`);
  lines.push('', '\\3-grams:');
  for (const [k, p] of p3) lines.push(`${log(p)}\t${k}`);
  lines.push('', '\\end\\', '');
  return lines.join('\n');
}

/** P(w|h) = max(c(hw) - D, 0)/c(h) + D·N1+(h·)/c(h) · P_lower(w). */
function interpolate(
  grams: Counts,
  lower: (history: string, word: string) => number,
  historyOf: (key: string) => string,
): Map<string, number> {
  const types: Counts = new Map();
  const sums: Counts = new Map();
  for (const [key, c] of grams) {
    const h = historyOf(key);
    types.set(h, (types.get(h) ?? 0) + 1);
    sums.set(h, (sums.get(h) ?? 0) + c);
  }
  const out = new Map<string, number>();
  for (const [key, c] of grams) {
    const h = historyOf(key);
    const ch = sums.get(h)!; // times h was followed by anything
    const w = key.split(' ').at(-1)!;
    out.set(key, Math.max(c - DISCOUNT, 0) / ch + ((DISCOUNT * types.get(h)!) / ch) * lower(h, w));
  }
  return out;
}

/** bow(h) = (1 - Σ P(w|h) over seen w) / (1 - Σ P_lower(w) over the same w): normalises the back-off. */
function backoffWeights(
  probs: Map<string, number>,
  historyOf: (key: string) => string,
  lowerOf: (word: string, key: string) => number,
): Map<string, number> {
  const seen = new Map<string, number>();
  const lowerSeen = new Map<string, number>();
  for (const [key, p] of probs) {
    const h = historyOf(key);
    seen.set(h, (seen.get(h) ?? 0) + p);
    lowerSeen.set(h, (lowerSeen.get(h) ?? 0) + lowerOf(key.split(' ').at(-1)!, key));
  }
  const out = new Map<string, number>();
  for (const [h, s] of seen) {
    const num = Math.max(1 - s, 1e-6);
    const den = Math.max(1 - (lowerSeen.get(h) ?? 0), 1e-6);
    out.set(h, num / den);
  }
  return out;
}
