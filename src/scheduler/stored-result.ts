import { flat } from '../flat-string.js';
import type { Stage } from '../probe/stages.js';
import type { ListedFolder, ProbeFacts, ProbeFailure, ProbeResult, StageOutcome, TranscriptEntry } from '../probe/types.js';

/** Distinct atom lists kept for sharing; a server sending ever new ones gets its own copies beyond this. */
const SHARED_LISTS_LIMIT = 4096;
/** Distinct folder lists kept for sharing, and the longest shared (as JSON): a LIST of thousands of folders is kept per result. */
const SHARED_FOLDER_LISTS_LIMIT = 1024;
const SHARED_FOLDER_LIST_MAX_CHARS = 4096;
/**
 * Transcript lines kept once for every result that has them, up to these bounds (then
 * forgotten, to be shared again from the next results on: results keep the copies they
 * have). Lines shorter than SHARED_TEXT_MIN_CHARS cost less inline than a reference.
 */
const SHARED_TEXTS_LIMIT = 16_384;
const SHARED_TEXTS_MAX_CHARS = 4 * 1024 * 1024;
const SHARED_TEXT_MIN_CHARS = 16;
const SHARED_TEXT_MAX_CHARS = 1024;

type PackedEntry = [atMs: number, direction: TranscriptEntry['direction'], text: string | number];

/**
 * A result as the store keeps it until the job's next run, in a form that costs the
 * garbage collector little; at 10,000 jobs the kept results were most of the heap
 * (measured in a heap snapshot), and every collection of the old generation walks them.
 * - The transcript (~25 entries, ~75 objects and strings per job, read only when
 *   someone opens the job's transcript) is packed into one JSON string, which the
 *   collector marks without looking inside, and unpacked at each read. (A buffer
 *   outside the heap cost twice the time to make: ~20 µs per result against ~11.)
 *   The server's lines, the same on every run of a job and most of them on every job of
 *   a server (greeting, capabilities, LIST and SELECT answers: most of the bytes), are
 *   kept once and referred to from it by number.
 * - The stages (~6 objects per job, read when the result is recorded and by the status
 *   page) are packed into a string as well.
 * - Capability lists, folder lists and the mailbox's flags (~90 strings and ~10 objects
 *   per job, the same on every run of every job of a server) are shared between
 *   results, frozen.
 */
export class StoredResult implements ProbeResult {
  declare readonly target: string;
  declare readonly account?: string;
  declare readonly success: boolean;
  declare readonly startedAt: number;
  declare readonly endedAt: number;
  declare readonly durationSeconds: number;
  declare readonly failure?: ProbeFailure;
  declare readonly facts: ProbeFacts;
  declare readonly exporterFault?: 'fd_exhausted';
  /** `stage success duration` per stage (success 1 or 0), `;` between: as JSON a non-finite duration would come back null. */
  readonly #stages: string;
  readonly #transcript: string;
  /** The shared lines the transcript refers to by number. */
  readonly #lines: readonly string[];

  constructor(result: ProbeResult, lists: SharedLists = sharedLists) {
    const { transcript, facts, stages, ...rest } = result;
    Object.assign(this, rest, { facts: shareLists(facts, lists) });
    this.#stages = stages.map(({ stage, success, durationSeconds }) => `${stage} ${success ? 1 : 0} ${durationSeconds}`).join(';'); // join builds a flat string
    const lines: string[] = [];
    // As [atMs, direction, text] triples: the field names would be a third of the bytes.
    const packed = transcript.map(({ atMs, direction, text }): PackedEntry => {
      const shared = direction === '-' ? undefined : lists.shareText(text); // our own notes name ports: seldom twice
      if (shared === undefined) return [atMs, direction, text];
      lines.push(shared);
      return [atMs, direction, lines.length - 1];
    });
    // Flat: on Node 20 JSON.stringify returns a rope of ~17 parts (~7 MB of headers at 10,000 jobs).
    this.#transcript = flat(JSON.stringify(packed));
    this.#lines = lines;
  }

  /** A fresh copy at every read, as transcript. */
  get stages(): StageOutcome[] {
    if (this.#stages === '') return [];
    return this.#stages.split(';').map((packed) => {
      const [stage, success, durationSeconds] = packed.split(' ');
      return { stage: stage as Stage, success: success === '1', durationSeconds: Number(durationSeconds) };
    });
  }

  /** A fresh copy at every read: a caller may keep or change it without touching the stored one. */
  get transcript(): TranscriptEntry[] {
    const entries = JSON.parse(this.#transcript) as PackedEntry[];
    return entries.map(([atMs, direction, text]) => ({ atMs, direction, text: typeof text === 'number' ? (this.#lines[text] as string) : text }));
  }
}

function shareLists(facts: ProbeFacts, lists: SharedLists): ProbeFacts {
  const shared: ProbeFacts = { ...facts };
  for (const key of ['capabilitiesBeforeTls', 'capabilitiesAfterTls', 'capabilities', 'capabilitiesAfterLogin'] as const) {
    const list = facts[key];
    if (list !== undefined) shared[key] = lists.share(list);
  }
  shared.lists = facts.lists.map((l) => ({ ...l, folders: lists.shareFolders(l.folders) }));
  const mailbox = facts.mailbox;
  if (mailbox !== undefined) {
    const { flags, permanentFlags } = mailbox;
    shared.mailbox = { ...mailbox, ...(flags && { flags: lists.share(flags) }), ...(permanentFlags && { permanentFlags: lists.share(permanentFlags) }) };
  }
  return shared;
}

/** One frozen copy of each distinct list of strings, and of folders, up to a bound; one copy of each transcript line, within bounds. */
export class SharedLists {
  readonly #lists = new Map<string, string[]>();
  readonly #folderLists = new Map<string, ListedFolder[]>();
  readonly #texts = new Map<string, string>();
  #textChars = 0;

  constructor(
    readonly limit = SHARED_LISTS_LIMIT,
    readonly folderListsLimit = SHARED_FOLDER_LISTS_LIMIT,
    readonly textsLimit = SHARED_TEXTS_LIMIT,
  ) {}

  /** The kept copy of a transcript line equal to `text` (kept now if it is new); undefined for a line too short or too long to share. */
  shareText(text: string): string | undefined {
    if (text.length < SHARED_TEXT_MIN_CHARS || text.length > SHARED_TEXT_MAX_CHARS) return undefined;
    const known = this.#texts.get(text);
    if (known !== undefined) return known;
    if (this.#texts.size >= this.textsLimit || this.#textChars + text.length > SHARED_TEXTS_MAX_CHARS) {
      this.#texts.clear();
      this.#textChars = 0;
    }
    const copy = flat(text); // its own string: a slice of a larger one would keep that alive
    this.#texts.set(copy, copy);
    this.#textChars += copy.length;
    return copy;
  }

  /** Transcript lines kept now. */
  get texts(): number {
    return this.#texts.size;
  }

  /** The shared copy of a folder list equal to `folders` (frozen, down to the folders' attributes); beyond the bounds, a copy with shared attributes. */
  shareFolders(folders: readonly ListedFolder[]): ListedFolder[] {
    const key = JSON.stringify(folders);
    const known = this.#folderLists.get(key);
    if (known !== undefined) return known;
    const copy = folders.map((folder) => ({ ...folder, flags: this.share(folder.flags) }));
    if (this.#folderLists.size >= this.folderListsLimit || key.length > SHARED_FOLDER_LIST_MAX_CHARS) return copy;
    const frozen = Object.freeze(copy.map((folder) => Object.freeze(folder))) as ListedFolder[];
    this.#folderLists.set(key, frozen);
    return frozen;
  }

  /** The shared copy of a list equal to `list` (frozen), or `list` itself once the bound is reached. */
  share(list: string[]): string[] {
    const key = list.join('\0'); // a NUL cannot occur in an IMAP atom
    const known = this.#lists.get(key);
    if (known !== undefined) return known;
    if (this.#lists.size >= this.limit) return list;
    const copy = Object.freeze([...list]) as string[];
    this.#lists.set(key, copy);
    return copy;
  }

  get size(): number {
    return this.#lists.size;
  }
}

const sharedLists = new SharedLists();
