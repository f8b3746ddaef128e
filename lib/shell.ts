/** Quotes one word for bash: the only place the project builds shell words from values. */
export function shq(value: string | number): string {
  const s = String(value);
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Joins words into one bash command line, quoting each. */
export function shJoin(words: readonly (string | number)[]): string {
  return words.map(shq).join(" ");
}

/**
 * `<<'DELIM'` heredoc of `body`, with a delimiter that no line of `body` equals (so it cannot end early).
 * Every heredoc virtperf writes into a script comes from here.
 */
export function heredoc(body: string, base: string): { start: string; text: string } {
  const lines = new Set(body.split("\n"));
  let delim = base;
  for (let i = 1; lines.has(delim); i++) delim = `${base}_${i}`;
  return { start: `<<'${delim}'`, text: `${body.endsWith("\n") ? body : `${body}\n`}${delim}` };
}

/** Bash function `js VALUE` printing VALUE as a JSON string (backslash, quote, tab, CR, LF escaped). */
export const BASH_JSON_STRING = String.raw`js() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r/\\r/g' | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n/\\n/g')"; }`;
