import { ImapProtocolError } from './errors.js';

/** An IMAP data item: atom, quoted string or literal (as text), NIL (null), or a parenthesised list. */
export type ImapValue = string | null | ImapValue[];

export interface ResponseCode {
  /** Upper-cased, e.g. CAPABILITY, UIDVALIDITY, READ-WRITE. */
  name: string;
  /** The raw text after the name, e.g. the capability list or the number. */
  args: string;
}

export interface ImapResponse {
  /** `*` untagged, `+` continuation, otherwise the command's tag. */
  tag: string;
  /** Upper-cased: OK NO BAD BYE PREAUTH CAPABILITY LIST EXISTS …; `+` for a continuation. */
  kind: string;
  /** The number of `* 23 EXISTS`. */
  number?: number;
  code?: ResponseCode;
  /** Human-readable text of a status response, or a continuation's payload. */
  text: string;
  /** Parsed values of a data response (LIST, CAPABILITY, FLAGS, …). */
  data: ImapValue[];
}

const STATUS_KINDS = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH']);
// Nesting bound: a hostile "((((…" must not overflow the stack.
const MAX_LIST_DEPTH = 32;
const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/** Parses one complete response as delimited by ResponseFramer (trailing CRLF included). */
export function parseResponse(bytes: Buffer): ImapResponse {
  return new ResponseParser(bytes).parse();
}

class ResponseParser {
  private pos = 0;
  private readonly end: number;

  constructor(private readonly bytes: Buffer) {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === LF) end--;
    if (end > 0 && bytes[end - 1] === CR) end--;
    this.end = end;
  }

  parse(): ImapResponse {
    const tag = this.readUntilSpace();
    if (tag === '') this.fail('empty tag');
    if (tag === '+') {
      this.skipSpaces();
      return { tag, kind: '+', text: this.rest(), data: [] };
    }
    if (!/^[\x21-\x7e]+$/.test(tag)) this.fail('invalid tag');
    this.expectSpace();
    let word = this.readUntilSpace().toUpperCase();
    let number: number | undefined;
    if (tag === '*' && /^\d+$/.test(word)) {
      number = Number(word);
      this.expectSpace();
      word = this.readUntilSpace().toUpperCase();
    }
    if (!/^[A-Z0-9.\-_]+$/.test(word)) this.fail(`invalid response keyword`);
    if (tag !== '*' && !['OK', 'NO', 'BAD'].includes(word)) this.fail(`tagged response is not OK/NO/BAD`);
    const response: ImapResponse = { tag, kind: word, text: '', data: [] };
    if (number !== undefined) response.number = number;
    if (STATUS_KINDS.has(word)) {
      this.skipSpaces();
      if (this.peek() === 0x5b /* [ */) response.code = this.readCode();
      this.skipSpaces();
      response.text = this.rest();
    } else if (word === 'CAPABILITY') {
      response.data = this.rest().split(' ').filter((c) => c !== '');
    } else {
      response.data = this.readValues();
    }
    return response;
  }

  private readCode(): ResponseCode {
    this.pos++; // [
    const close = this.bytes.indexOf(0x5d /* ] */, this.pos);
    if (close === -1 || close >= this.end) this.fail('unterminated response code');
    const inner = this.bytes.toString('utf8', this.pos, close);
    this.pos = close + 1;
    const space = inner.indexOf(' ');
    const name = (space === -1 ? inner : inner.slice(0, space)).toUpperCase();
    return { name, args: space === -1 ? '' : inner.slice(space + 1).trim() };
  }

  private readValues(): ImapValue[] {
    const values: ImapValue[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.pos >= this.end) return values;
      values.push(this.readValue(0));
    }
  }

  private readValue(depth: number): ImapValue {
    const c = this.peek();
    if (c === 0x28 /* ( */) return this.readList(depth + 1);
    if (c === 0x22 /* " */) return this.readQuoted();
    if (c === 0x7b /* { */ || (c === 0x7e /* ~ */ && this.bytes[this.pos + 1] === 0x7b)) return this.readLiteral();
    const atom = this.readAtom();
    return atom.toUpperCase() === 'NIL' ? null : atom;
  }

  private readList(depth: number): ImapValue[] {
    if (depth > MAX_LIST_DEPTH) this.fail('lists nested too deeply');
    this.pos++; // (
    const items: ImapValue[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.pos >= this.end) this.fail('unterminated list');
      if (this.peek() === 0x29 /* ) */) {
        this.pos++;
        return items;
      }
      items.push(this.readValue(depth));
    }
  }

  private readQuoted(): string {
    this.pos++; // opening quote
    const parts: number[] = [];
    while (this.pos < this.end) {
      const c = this.bytes[this.pos++]!;
      if (c === 0x22) return Buffer.from(parts).toString('utf8');
      if (c === 0x5c /* \ */) {
        if (this.pos >= this.end) break;
        parts.push(this.bytes[this.pos++]!);
      } else {
        parts.push(c);
      }
    }
    return this.fail('unterminated quoted string');
  }

  private readLiteral(): string {
    if (this.peek() === 0x7e) this.pos++; // literal8's ~
    const close = this.bytes.indexOf(0x7d /* } */, this.pos);
    const sizeText = close === -1 ? '' : this.bytes.toString('latin1', this.pos + 1, close).replace(/\+$/, '');
    if (!/^\d+$/.test(sizeText)) this.fail('malformed literal');
    const size = Number(sizeText);
    let start = close + 1;
    if (this.bytes[start] === CR) start++;
    if (this.bytes[start] !== LF) this.fail('literal size not followed by CRLF');
    start++;
    if (start + size > this.bytes.length) this.fail('literal shorter than announced');
    this.pos = start + size;
    return this.bytes.toString('utf8', start, start + size);
  }

  private readAtom(): string {
    const start = this.pos;
    while (this.pos < this.end) {
      const c = this.bytes[this.pos]!;
      if (c === SP || c === 0x28 || c === 0x29 || c === CR || c === LF) break;
      this.pos++;
    }
    if (this.pos === start) this.fail('unexpected character');
    return this.bytes.toString('utf8', start, this.pos);
  }

  private readUntilSpace(): string {
    const start = this.pos;
    while (this.pos < this.end && this.bytes[this.pos] !== SP) this.pos++;
    return this.bytes.toString('utf8', start, this.pos);
  }

  private expectSpace(): void {
    if (this.bytes[this.pos] !== SP || this.pos >= this.end) this.fail('expected a space');
    this.pos++;
  }

  private skipSpaces(): void {
    while (this.pos < this.end && this.bytes[this.pos] === SP) this.pos++;
  }

  private peek(): number | undefined {
    return this.pos < this.end ? this.bytes[this.pos] : undefined;
  }

  private rest(): string {
    const text = this.bytes.toString('utf8', this.pos, this.end);
    this.pos = this.end;
    return text;
  }

  private fail(what: string): never {
    throw new ImapProtocolError(`unparseable response (${what} at byte ${this.pos})`);
  }
}

/** The value as text, or undefined when it is NIL or a list. */
export function asText(value: ImapValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A status response as a person would quote it: `NO [UNAVAILABLE] text` (the code's arguments left out). */
export function describeStatus(response: ImapResponse): string {
  return `${response.kind} ${response.code ? `[${response.code.name}] ` : ''}${response.text}`.trim();
}
