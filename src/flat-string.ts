/**
 * `text` as one run of characters. Strings built by concatenation (template literals,
 * `+`, Node 20's JSON.stringify) are ropes: a 32-byte header per part, kept for as long
 * as the string is. Reading a string as a number makes V8 flatten it in place; a flat
 * string stays as it is. For strings kept per job, where the headers add up.
 */
export function flat(text: string): string {
  void Number(text);
  return text;
}
