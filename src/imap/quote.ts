/** Whether a value can travel as an IMAP quoted string (printable ASCII, no CR/LF). */
export function isQuotable(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

/** An IMAP quoted string: `"` and `\` escaped. Callers check isQuotable first. */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
