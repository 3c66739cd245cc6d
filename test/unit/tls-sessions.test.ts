import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sessionKey, TlsSessionCache, type KeptSession } from '../../src/probe/tls-sessions.js';

const FACTS = { authorized: true, certNotAfter: 1_900_000_000, certSubject: 'imap.example.com' };
const kept = (fullHandshakeAt: number, tag = 'a'): KeptSession => ({ session: Buffer.from(tag), fullHandshakeAt, facts: FACTS });

test('a session is offered until its full handshake is as old as the interval, then dropped', () => {
  const cache = new TlsSessionCache();
  cache.keep('k', kept(1_000));
  assert.equal(cache.resumable('k', 60_000, 60_999)?.session.toString(), 'a');
  assert.equal(cache.resumable('k', 60_000, 61_000), undefined, 'at the interval: a full handshake');
  assert.equal(cache.size, 0);
  assert.equal(cache.resumable('k', 60_000, 1_001), undefined, 'dropped, not only skipped');
});

test('a newer ticket replaces the old one, and forget() drops it', () => {
  const cache = new TlsSessionCache();
  cache.keep('k', kept(1_000, 'first'));
  cache.keep('k', kept(1_000, 'second'));
  assert.equal(cache.resumable('k', 60_000, 2_000)?.session.toString(), 'second');
  cache.forget('k');
  assert.equal(cache.resumable('k', 60_000, 2_000), undefined);
});

test('bounded: past the limit the least recently kept session goes', () => {
  const cache = new TlsSessionCache(2);
  cache.keep('a', kept(1_000));
  cache.keep('b', kept(1_000));
  cache.keep('a', kept(1_000));
  cache.keep('c', kept(1_000));
  assert.equal(cache.size, 2);
  assert.equal(cache.resumable('b', 60_000, 2_000), undefined);
  assert.ok(cache.resumable('a', 60_000, 2_000));
  assert.ok(cache.resumable('c', 60_000, 2_000));
});

test('the key tells apart every setting the verification depended on', () => {
  const base = sessionKey('imap.example.com', 143, 'imap.example.com', undefined, false);
  const variants = [
    sessionKey('imap.example.com', 993, 'imap.example.com', undefined, false),
    sessionKey('imap2.example.com', 143, 'imap.example.com', undefined, false),
    sessionKey('imap.example.com', 143, 'mail.example.com', undefined, false),
    sessionKey('imap.example.com', 143, 'imap.example.com', '/etc/ca.pem', false),
    sessionKey('imap.example.com', 143, 'imap.example.com', undefined, true),
  ];
  assert.equal(new Set([base, ...variants]).size, 6);
  assert.equal(sessionKey('imap.example.com', 143, 'imap.example.com', undefined, false), base);
});
