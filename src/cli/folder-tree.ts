import type { ListedFolder } from '../probe/types.js';

export interface TreeLine {
  /** Listed ancestors of the folder: how far it is indented. */
  depth: number;
  folder: ListedFolder;
}

/**
 * LIST's answer as a tree: parents before their children, INBOX first, each folder
 * indented by how many of its ancestors the same LIST returned. Names stay whole
 * (`#shared.bob.Projects`, not `Projects`) so what is printed can be copied into a config.
 */
export function folderTree(folders: readonly ListedFolder[]): TreeLine[] {
  const names = new Set(folders.map((f) => f.name));
  const keyed = folders.map((folder) => {
    const segments = folder.delimiter ? folder.name.split(folder.delimiter) : [folder.name];
    let depth = 0;
    for (let i = 1; i < segments.length; i++) {
      if (names.has(segments.slice(0, i).join(folder.delimiter ?? ''))) depth++;
    }
    return { depth, folder, segments };
  });
  keyed.sort((a, b) => compareSegments(a.segments, b.segments));
  return keyed.map(({ depth, folder }) => ({ depth, folder }));
}

function compareSegments(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x === y) continue;
    // INBOX is case-insensitive (RFC 3501 §5.1) and every client shows it first.
    if (i === 0 && x.toUpperCase() === 'INBOX') return -1;
    if (i === 0 && y.toUpperCase() === 'INBOX') return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
