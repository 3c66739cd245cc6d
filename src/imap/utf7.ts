/**
 * Mailbox names travel in modified UTF-7 (RFC 3501 §5.1.3): `&` … `-` wraps
 * UTF-16BE in base64 with `,` for `/`; `&-` is a literal `&`. Decoded for display only:
 * a malformed sequence is left as it was rather than failing the probe.
 */
export function decodeModifiedUtf7(name: string): string {
  return name.replace(/&([^-]*)-/g, (whole, encoded: string) => {
    if (encoded === '') return '&';
    if (!/^[A-Za-z0-9+,]+$/.test(encoded)) return whole;
    const bytes = Buffer.from(encoded.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) return whole;
    let text = '';
    for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode(bytes.readUInt16BE(i));
    return text;
  });
}

/** Encodes a display name to modified UTF-7, for SELECT of a non-ASCII mailbox. */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    const bytes = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) bytes.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    pending = '';
  };
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else {
      pending += ch;
    }
  }
  flush();
  return out;
}
