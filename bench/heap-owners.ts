/**
 * What keeps a heap snapshot's memory alive: its dominator tree (an object dominates
 * another when every path from the roots to the other goes through it, so freeing it
 * frees what it dominates), printed with siblings of the same kind grouped, as
 * `retained MiB ×count edge -> type:name`. Self sizes only count what V8 reports
 * (ArrayBuffer data included, malloc'd memory of native code not). Prints, asserts
 * nothing. Take a snapshot of the scale bench's daemon with
 *   SCALE_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/snap" node dist/bench/scale-run.js 10000
 * and `kill -USR2` the daemon after the first round, then
 *   node --max-old-space-size=6000 dist/bench/heap-owners.js /tmp/snap/Heap…heapsnapshot [depth=5] [min MiB=0.5]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, depthArg, minArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node --max-old-space-size=6000 dist/bench/heap-owners.js FILE.heapsnapshot [depth] [min MiB]');
  process.exit(2);
}
const MAX_DEPTH = Number(depthArg ?? 5);
const MIN_BYTES = Number(minArg ?? 0.5) * 2 ** 20;
const GROUPS_SHOWN = 10;

const { snapshot, nodes, edges, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const { node_fields: nodeFields, edge_fields: edgeFields, node_types: [nodeTypes], edge_types: [edgeTypes] } = snapshot.meta;
const NF = nodeFields.length;
const EF = edgeFields.length;
const TYPE = nodeFields.indexOf('type');
const NAME = nodeFields.indexOf('name');
const SELF = nodeFields.indexOf('self_size');
const EDGES = nodeFields.indexOf('edge_count');
const EDGE_TYPE = edgeFields.indexOf('type');
const EDGE_NAME = edgeFields.indexOf('name_or_index');
const EDGE_TO = edgeFields.indexOf('to_node');
const count = nodes.length / NF;
// Weak and shortcut edges do not keep anything alive.
const ignored = new Set([edgeTypes.indexOf('weak'), edgeTypes.indexOf('shortcut')]);

const firstEdge = new Uint32Array(count + 1);
for (let node = 0, edge = 0; node < count; node += 1) {
  firstEdge[node] = edge;
  edge += nodes[node * NF + EDGES] as number;
}
firstEdge[count] = edges.length / EF;

function forEachChild(node: number, visit: (child: number) => void): void {
  for (let edge = firstEdge[node] as number; edge < (firstEdge[node + 1] as number); edge += 1) {
    if (!ignored.has(edges[edge * EF + EDGE_TYPE] as number)) visit((edges[edge * EF + EDGE_TO] as number) / NF);
  }
}

// Post-order from the root (node 0), iteratively: the graph is millions deep in places.
const postIndex = new Int32Array(count).fill(-1);
const postOrder = new Uint32Array(count);
let reached = 0;
{
  const stack = new Uint32Array(count);
  const nextEdge = new Uint32Array(count);
  const seen = new Uint8Array(count);
  stack[0] = 0;
  nextEdge[0] = firstEdge[0] as number;
  seen[0] = 1;
  let top = 1;
  while (top > 0) {
    const node = stack[top - 1] as number;
    let descended = false;
    while ((nextEdge[top - 1] as number) < (firstEdge[node + 1] as number)) {
      const edge = nextEdge[top - 1] as number;
      nextEdge[top - 1] = edge + 1;
      if (ignored.has(edges[edge * EF + EDGE_TYPE] as number)) continue;
      const child = (edges[edge * EF + EDGE_TO] as number) / NF;
      if (seen[child] === 1) continue;
      seen[child] = 1;
      stack[top] = child;
      nextEdge[top] = firstEdge[child] as number;
      top += 1;
      descended = true;
      break;
    }
    if (!descended) {
      top -= 1;
      postIndex[node] = reached;
      postOrder[reached] = node;
      reached += 1;
    }
  }
}

// Predecessors of reachable nodes, for the dominator iteration.
const predStart = new Uint32Array(count + 1);
for (let node = 0; node < count; node += 1) if ((postIndex[node] as number) >= 0) forEachChild(node, (child) => (predStart[child + 1] = (predStart[child + 1] as number) + 1));
for (let node = 0; node < count; node += 1) predStart[node + 1] = (predStart[node + 1] as number) + (predStart[node] as number);
const preds = new Uint32Array(predStart[count] as number);
const predFill = predStart.slice();
for (let node = 0; node < count; node += 1) {
  if ((postIndex[node] as number) < 0) continue;
  forEachChild(node, (child) => {
    preds[predFill[child] as number] = node;
    predFill[child] = (predFill[child] as number) + 1;
  });
}

// Cooper, Harvey and Kennedy's iterative dominators, in reverse post-order.
const dominator = new Int32Array(count).fill(-1);
dominator[0] = 0;
const intersect = (a: number, b: number): number => {
  let x = a;
  let y = b;
  while (x !== y) {
    while ((postIndex[x] as number) < (postIndex[y] as number)) x = dominator[x] as number;
    while ((postIndex[y] as number) < (postIndex[x] as number)) y = dominator[y] as number;
  }
  return x;
};
for (let changed = true; changed; ) {
  changed = false;
  for (let k = reached - 1; k >= 0; k -= 1) {
    const node = postOrder[k] as number;
    if (node === 0) continue;
    let found = -1;
    for (let p = predStart[node] as number; p < (predStart[node + 1] as number); p += 1) {
      const pred = preds[p] as number;
      if (dominator[pred] === -1) continue;
      found = found === -1 ? pred : intersect(pred, found);
    }
    if (found !== dominator[node]) {
      dominator[node] = found;
      changed = true;
    }
  }
}

const retained = new Float64Array(count);
for (let k = 0; k < reached; k += 1) {
  const node = postOrder[k] as number;
  retained[node] = (retained[node] as number) + (nodes[node * NF + SELF] as number);
  if (node !== 0) retained[dominator[node] as number] = (retained[dominator[node] as number] as number) + (retained[node] as number);
}
const dominated = new Map<number, number[]>();
for (let k = 0; k < reached; k += 1) {
  const node = postOrder[k] as number;
  if (node === 0) continue;
  const owner = dominator[node] as number;
  let list = dominated.get(owner);
  if (list === undefined) dominated.set(owner, (list = []));
  list.push(node);
}

const kind = (node: number): string => `${nodeTypes[nodes[node * NF + TYPE] as number]}:${String(strings[nodes[node * NF + NAME] as number]).slice(0, 40)}`;
/** The name of the edge from `owner` to `node` if there is a direct one (else `~`: dominated through others). */
function edgeName(owner: number, node: number): string {
  for (let edge = firstEdge[owner] as number; edge < (firstEdge[owner + 1] as number); edge += 1) {
    if ((edges[edge * EF + EDGE_TO] as number) / NF !== node) continue;
    const type = edgeTypes[edges[edge * EF + EDGE_TYPE] as number];
    return type === 'element' || type === 'hidden' ? `[${type}]` : String(strings[edges[edge * EF + EDGE_NAME] as number]).slice(0, 30);
  }
  return '~';
}
const sum = (group: readonly number[]): number => group.reduce((total, node) => total + (retained[node] as number), 0);

function show(group: readonly number[], depth: number, label: string): void {
  const bytes = sum(group);
  console.log(`${'  '.repeat(depth)}${(bytes / 2 ** 20).toFixed(2)} MiB ×${group.length} ${label}`);
  if (depth >= MAX_DEPTH) return;
  const byKind = new Map<string, number[]>();
  for (const owner of group) {
    for (const node of dominated.get(owner) ?? []) {
      const key = `${edgeName(owner, node)} -> ${kind(node)}`;
      let members = byKind.get(key);
      if (members === undefined) byKind.set(key, (members = []));
      members.push(node);
    }
  }
  const shown = [...byKind].map(([key, members]) => [key, members, sum(members)] as const).filter(([, , size]) => size >= MIN_BYTES);
  for (const [key, members] of shown.sort((a, b) => b[2] - a[2]).slice(0, GROUPS_SHOWN)) show(members, depth + 1, key);
}

console.log(`${file}: ${count} nodes, ${reached} reachable`);
show([0], 0, 'roots');
