/**
 * The xz corpus: deterministic, text-like, compressible, the same bytes in every environment so
 * throughputs and ratios compare. The paper compressed enwik9 (10^9 bytes of Wikipedia); no such corpus
 * ships in Debian main, so a seeded generator writes English-like text instead: words from an
 * 8192-word vocabulary drawn with a skewed (Zipf-like) law, each word with a fixed likely follower
 * (repeated phrases), occasional [[links]] and commas. xz -2 compresses it about 3.1:1, about as
 * much as it compresses Wikipedia text.
 *
 * A block of `blockBytes` is generated once and repeated to the corpus size: the repetitions are
 * further apart than xz -2's 2 MiB dictionary and its multi-threaded block size, so they do not make
 * the corpus compress better; they only make large corpora quick to write.
 */
import { shq } from "../../lib/shell.ts";

/**
 * The generator. Park-Miller's minimal standard generator is exact in IEEE doubles (its products stay
 * below 2^53), so mawk (Debian's default awk) and gawk write the same bytes.
 */
export const CORPUS_AWK = `function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
function pick(n) { return int(n * rnd()) }
BEGIN {
  seed = SEED
  freq = "eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddlllllcccuuummwwffggyyppbbvkjxqz"
  nf = length(freq); V = 8192
  for (v = 0; v < V; v++) {
    len = 1 + pick(3) + pick(3) + pick(4); w = ""
    for (k = 0; k < len; k++) w = w substr(freq, 1 + pick(nf), 1)
    vocab[v] = w; follow[v] = int(V * rnd() ^ 3)
  }
  out = 0
  while (out < BYTES) {
    n = 4 + pick(10) + pick(10); prev = int(V * rnd() ^ 3); w = vocab[prev]
    line = toupper(substr(w, 1, 1)) substr(w, 2)
    for (k = 1; k < n; k++) {
      r = rnd()
      idx = (r < 0.45) ? follow[prev] : int(V * rnd() ^ 3)
      w = vocab[idx]; prev = idx
      if (r > 0.97) w = "[[" w "]]"; else if (r > 0.93) w = w ","
      line = line " " w
    }
    line = line "."
    print line; out += length(line) + 1
  }
}
`;

export interface CorpusSpec {
  /** Path of the corpus file. */
  readonly file: string;
  /** Corpus size, bytes. */
  readonly bytes: number;
  /** Size of the generated block that is repeated, bytes. */
  readonly blockBytes: number;
  /** Generator seed, 1 .. 2^31 - 2. */
  readonly seed: number;
}

const AWK_HEREDOC = "VIRTPERF_XZ_CORPUS_AWK";

/**
 * Bash that writes the corpus (no pipes: a reader closing early would fail the step under pipefail)
 * and reads it once so it is in the page cache, as the paper's enwik9 was.
 */
export function corpusScript(c: CorpusSpec): string {
  const block = `${c.file}.block`;
  const blockBytes = Math.min(c.blockBytes, c.bytes);
  return `export LC_ALL=C
mkdir -p "$(dirname ${shq(c.file)})"
cat > corpus.awk <<'${AWK_HEREDOC}'
${CORPUS_AWK}${AWK_HEREDOC}
awk -v SEED=${shq(c.seed)} -v BYTES=${shq(blockBytes)} -f corpus.awk > ${shq(block)}
truncate -s ${shq(blockBytes)} ${shq(block)}
: > ${shq(c.file)}
# Sizes by wc -c, not stat: gVisor (runsc 2022-12) refuses coreutils' statx (EINVAL), which made this
# loop end at once and the corpus all zeros.
while [ "$(wc -c <${shq(c.file)})" -lt ${shq(c.bytes)} ]; do cat ${shq(block)} >> ${shq(c.file)}; done
truncate -s ${shq(c.bytes)} ${shq(c.file)}
rm -f ${shq(block)} corpus.awk
cat ${shq(c.file)} > /dev/null
`;
}
