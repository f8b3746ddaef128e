/** Quotes one word for bash: the only place the project builds shell words from values. */
export function shq(value: string | number): string {
  const s = String(value);
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Joins words into one bash command line, quoting each. */
export function shJoin(words: readonly (string | number)[]): string {
  return words.map(shq).join(" ");
}
