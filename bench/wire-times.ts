/**
 * What the wire saw: tcpdump on the loopback interface, with the kernel's timestamps,
 * turned into each connection's packet times. A stage's true length is the time between
 * the packet that starts it and the one that ends it (a command and its answer), which
 * neither side's event loop can make late, so the prober's error is measured against
 * that instead of against a server that is itself starved on a busy machine.
 * Needs tcpdump and the right to capture (root, or CAP_NET_RAW).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where the marker datagrams go (nothing listens; the kernel's "port unreachable" is harmless). */
const MARKER_PORT = 9;

/** One connection as the wire saw it, times in ms (kernel clock, one origin for all). */
export interface WireConnection {
  /** The client's SYN. */
  syn: number;
  /** The server's SYN-ACK: connect() completes when it arrives. */
  synAck: number;
  /** Each segment with data from the client, in order. */
  client: number[];
  /** Each segment with data from the server, in order. */
  server: number[];
}

export interface WireCapture {
  /** Stops tcpdump and reads what it saw, keyed by the client's port (ports used twice left out). */
  stop(): Promise<{ connections: Map<number, WireConnection>; dropped: string }>;
}

/** Starts capturing TCP to or from `port` on the loopback interface; resolves once tcpdump listens. */
export async function captureLoopback(port: number): Promise<WireCapture> {
  const file = join(tmpdir(), `stage-timing-${process.pid}-${port}.pcap`);
  // --immediate-mode: without it packets went missing (none counted as dropped);
  // -U: write each packet as it comes; -B: a kernel buffer big enough for 200 probes at once.
  const tcpdump = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-B', '32768', '-s', '128', '--time-stamp-precision=nano', '-w', file, `tcp port ${port} or (udp and dst port ${MARKER_PORT})`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = createInterface({ input: tcpdump.stderr! });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start listening in 10 s: ${lines.join(' ')}`)), 10_000);
    tcpdump.once('error', reject);
    tcpdump.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${lines.join(' ')}`)));
    stderr.on('line', (line) => {
      lines.push(line);
      if (line.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await capturing(file, lines);
  return {
    async stop() {
      await stopped(tcpdump);
      try {
        return { connections: connectionsIn(readFileSync(file), port), dropped: lines.find((l) => l.includes('dropped by kernel')) ?? '' };
      } finally {
        rmSync(file, { force: true });
      }
    },
  };
}

/**
 * tcpdump says "listening" a moment before packets reach its file: the first probes'
 * packets were missing. Datagrams are sent to a marker port until one is written.
 */
async function capturing(file: string, lines: readonly string[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (let tries = 0; tries < 100; tries += 1) {
      socket.send('marker', MARKER_PORT, '127.0.0.1');
      await sleep(50);
      if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 24) return;
    }
    throw new Error(`tcpdump wrote no packet in 5 s: ${lines.join(' ')}`);
  } finally {
    socket.close();
  }
}

async function stopped(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  await exited;
}

const NANOSECOND_MAGIC = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;

/** Reads a pcap file (nanosecond timestamps, Ethernet framing as tcpdump writes for `lo`). */
export function connectionsIn(pcap: Buffer, serverPort: number): Map<number, WireConnection> {
  if (pcap.readUInt32LE(0) !== NANOSECOND_MAGIC) throw new Error('not a little-endian nanosecond pcap file');
  if (pcap.readUInt32LE(20) !== LINKTYPE_ETHERNET) throw new Error(`unexpected link type ${pcap.readUInt32LE(20)}`);
  const connections = new Map<number, WireConnection>();
  const reused = new Set<number>();
  for (let at = 24; at + 16 <= pcap.length; ) {
    const ms = pcap.readUInt32LE(at) * 1000 + pcap.readUInt32LE(at + 4) / 1e6;
    const captured = pcap.readUInt32LE(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    const segment = tcpSegment(frame);
    if (!segment) continue;
    const fromServer = segment.source === serverPort;
    const clientPort = fromServer ? segment.destination : segment.source;
    if (segment.syn && !segment.ack) {
      // The kernel hands out a client port again after a while: which probe had which is then unknown.
      if (connections.has(clientPort)) reused.add(clientPort);
      connections.set(clientPort, { syn: ms, synAck: NaN, client: [], server: [] });
      continue;
    }
    const connection = connections.get(clientPort);
    if (!connection) continue;
    if (segment.syn) connection.synAck = ms;
    else if (segment.payload > 0) (fromServer ? connection.server : connection.client).push(ms);
  }
  for (const port of reused) connections.delete(port);
  return connections;
}

interface Segment {
  source: number;
  destination: number;
  syn: boolean;
  ack: boolean;
  payload: number;
}

function tcpSegment(frame: Buffer): Segment | undefined {
  if (frame.length < 14 + 20 || frame.readUInt16BE(12) !== 0x0800) return undefined; // IPv4 only: the bench dials 127.0.0.1
  const ip = frame.subarray(14);
  const ipHeader = (ip[0]! & 0x0f) * 4;
  if (ip[9] !== 6 || ip.length < ipHeader + 20) return undefined;
  const tcp = ip.subarray(ipHeader);
  const tcpHeader = (tcp[12]! >> 4) * 4;
  const flags = tcp[13]!;
  return {
    source: tcp.readUInt16BE(0),
    destination: tcp.readUInt16BE(2),
    syn: (flags & 0x02) !== 0,
    ack: (flags & 0x10) !== 0,
    payload: ip.readUInt16BE(2) - ipHeader - tcpHeader,
  };
}
