/**
 * A tiny UDP DNS server on 127.0.0.1 for resolver tests: `hang` never answers (a dead
 * resolver), otherwise each query is answered from `answers` (name → IPv4, A only) or with
 * `rcode` (3 NXDOMAIN by default; 2 SERVFAIL; 0 with no records is NODATA).
 */
import { createSocket } from 'node:dgram';

export interface FakeDnsOptions {
  hang?: boolean;
  answers?: Record<string, string>;
  rcode?: number;
}

export interface FakeDns {
  /** `127.0.0.1:PORT`, for Resolver.setServers / --dns.server. */
  server: string;
  /** Queries received so far. */
  readonly queries: number;
  close(): Promise<void>;
}

/** The question's name and type, from a query packet (no compression in questions). */
function question(packet: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let offset = 12;
  while (offset < packet.length && packet[offset] !== 0) {
    const length = packet[offset]!;
    labels.push(packet.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += length + 1;
  }
  return { name: labels.join('.').toLowerCase(), type: packet.readUInt16BE(offset + 1), end: offset + 5 };
}

function reply(query: Buffer, options: FakeDnsOptions): Buffer {
  const { name, type, end } = question(query);
  const header = Buffer.from(query.subarray(0, end));
  header[2] = 0x80 | (header[2]! & 0x01); // QR, RD copied
  header[3] = 0x80; // RA
  header.writeUInt16BE(0, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  const address = options.answers?.[name];
  if (address !== undefined) {
    if (type !== 1) return header; // NOERROR, no AAAA
    header.writeUInt16BE(1, 6);
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address.split('.').map(Number)]);
    return Buffer.concat([header, answer]);
  }
  header[3] = 0x80 | (options.rcode ?? 3);
  return header;
}

export async function startFakeDns(options: FakeDnsOptions = {}): Promise<FakeDns> {
  const socket = createSocket('udp4');
  let queries = 0;
  socket.on('message', (packet, from) => {
    queries += 1;
    if (!options.hang) socket.send(reply(packet, options), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    get queries() {
      return queries;
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
