/** The YAML text of a config, kept so a key path can be traced back to its line. */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ConfigProblem, KeyPath } from './errors.js';

/** The YAML 1.2 core schema's tags, the only ones a config may spell out. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`));

export class YamlSource {
  readonly #document: Document;
  readonly #lines: LineCounter;

  constructor(text: string) {
    this.#lines = new LineCounter();
    // Not prettyErrors: those quote the offending source line, which may hold a password.
    this.#document = parseDocument(text, { lineCounter: this.#lines, prettyErrors: false });
  }

  /** Syntax errors and tags outside the core schema, each with its line; messages never quote the text. */
  syntaxProblems(): ConfigProblem[] {
    const problems = this.#document.errors.map((error) => ({
      path: '',
      line: this.#lineAt(error.pos[0]),
      message: `invalid YAML: ${error.message}`,
    }));
    return [...problems, ...this.#tagProblems()];
  }

  /**
   * `!!binary`, `!!set`, `!custom`…: a config is plain data, and such values would reach the
   * schema as Buffers or Sets whose errors make no sense to a reader.
   */
  #tagProblems(): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    visit(this.#document, {
      Node: (_key, node) => {
        if (node.tag === undefined || CORE_TAGS.has(node.tag)) return;
        const shown = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
        problems.push({
          path: '',
          line: node.range ? this.#lineAt(node.range[0]) : undefined,
          message: `YAML tag ${JSON.stringify(shown)} is not allowed: only plain strings, numbers, booleans, null, mappings and lists`,
        });
      },
    });
    return problems;
  }

  warnings(): ConfigProblem[] {
    return this.#document.warnings.map((warning) => ({
      path: '',
      line: this.#lineAt(warning.pos[0]),
      message: `YAML: ${warning.message}`,
    }));
  }

  /** The plain data, an empty file reading as an empty mapping. */
  toData(): unknown {
    return this.#document.toJS() ?? {};
  }

  /**
   * The line of the deepest node on `path` that the file has: the key itself when present,
   * else its nearest written parent (a missing key is reported where it should go).
   */
  lineOf(path: KeyPath): number | undefined {
    let node: unknown = this.#document.contents;
    let line = node ? this.#lineOfNode(node as Node) : undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        line = this.#lineOfNode(pair.key as Node) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (!node) break;
        line = this.#lineOfNode(node as Node) ?? line;
      } else {
        break;
      }
    }
    return line;
  }

  #lineOfNode(node: Node): number | undefined {
    return node.range ? this.#lineAt(node.range[0]) : undefined;
  }

  #lineAt(offset: number): number {
    return this.#lines.linePos(offset).line;
  }
}
