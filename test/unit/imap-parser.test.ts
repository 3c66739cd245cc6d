import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capabilitiesIn } from '../../src/imap/commands/capability.js';
import { parseListData } from '../../src/imap/commands/list.js';
import { ImapProtocolError } from '../../src/imap/errors.js';
import { parseResponse } from '../../src/imap/parser.js';

const parse = (text: string) => parseResponse(Buffer.from(text));

describe('parseResponse on real server output', () => {
  it('reads a Courier greeting with its CAPABILITY code', () => {
    const r = parse(
      '* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS XMAGICTRASH] Courier-IMAP ready. Copyright 1998-2005 Double Precision, Inc.  See COPYING for distribution information.\r\n',
    );
    assert.equal(r.tag, '*');
    assert.equal(r.kind, 'OK');
    assert.equal(r.code?.name, 'CAPABILITY');
    assert.ok(r.text.startsWith('Courier-IMAP ready.'));
    const caps = capabilitiesIn([r]);
    assert.ok(caps?.includes('STARTTLS'));
    assert.ok(caps?.includes('XMAGICTRASH'));
    assert.equal(caps?.length, 13);
  });

  it('reads a Dovecot greeting', () => {
    const r = parse('* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n');
    assert.deepEqual(capabilitiesIn([r]), ['IMAP4rev1', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'LITERAL+', 'STARTTLS', 'AUTH=PLAIN']);
    assert.equal(r.text, 'Dovecot (Debian) ready.');
  });

  it('reads tagged OK/NO with codes', () => {
    const ok = parse('a4 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n');
    assert.deepEqual([ok.tag, ok.kind, ok.code?.name, ok.code?.args], ['a4', 'OK', 'READ-WRITE', '']);
    const no = parse('0 NO Login failed.\r\n');
    assert.deepEqual([no.tag, no.kind, no.text, no.code], ['0', 'NO', 'Login failed.', undefined]);
    const fail = parse('a3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n');
    assert.equal(fail.code?.name, 'AUTHENTICATIONFAILED');
  });

  it('reads SELECT untagged data', () => {
    assert.deepEqual(
      [parse('* 3 EXISTS\r\n').kind, parse('* 3 EXISTS\r\n').number],
      ['EXISTS', 3],
    );
    const uidvalidity = parse('* OK [UIDVALIDITY 1796003399] UIDs valid\r\n');
    assert.deepEqual(uidvalidity.code, { name: 'UIDVALIDITY', args: '1796003399' });
    const flags = parse('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n');
    assert.deepEqual(flags.data, [['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft']]);
  });

  it('reads Courier LIST lines with quoted names', () => {
    const drafts = parseListData(parse('* LIST (\\HasNoChildren) "." "INBOX.Drafts"\r\n').data);
    assert.deepEqual(drafts, { name: 'INBOX.Drafts', delimiter: '.', flags: ['\\HasNoChildren'] });
    const shared = parseListData(parse('* LIST (\\Noselect \\HasChildren) "." "#shared.postmaster"\r\n').data);
    assert.deepEqual(shared, { name: '#shared.postmaster', delimiter: '.', flags: ['\\Noselect', '\\HasChildren'] });
  });

  it('reads Dovecot LIST lines with atoms, other delimiters, NIL and modified UTF-7', () => {
    const utf7 = parseListData(parse('* LIST (\\HasNoChildren) "." Entw&APw-rfe\r\n').data);
    assert.equal(utf7?.name, 'Entwürfe');
    const slash = parseListData(parse('* LIST () "/" "Archive/2025"\r\n').data);
    assert.deepEqual([slash?.delimiter, slash?.name], ['/', 'Archive/2025']);
    const flat = parseListData(parse('* LIST (\\Noselect) NIL ""\r\n').data);
    assert.deepEqual([flat?.delimiter, flat?.name], [null, '']);
    const escaped = parseListData(parse('* LIST () "\\\\" "a\\"b"\r\n').data);
    assert.deepEqual([escaped?.delimiter, escaped?.name], ['\\', 'a"b']);
  });

  it('reads a mailbox name sent as a literal', () => {
    const r = parse('* LIST (\\HasNoChildren) "." {12}\r\nSent Items\r\n\r\n');
    assert.equal(parseListData(r.data)?.name, 'Sent Items\r\n');
  });

  it('reads continuations', () => {
    const r = parse('+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n');
    assert.deepEqual([r.tag, r.kind, r.text], ['+', '+', 'PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+']);
    assert.equal(parse('+\r\n').text, '');
  });

  it('reads BYE and PREAUTH', () => {
    assert.equal(parse('* BYE Too many connections\r\n').kind, 'BYE');
    assert.equal(parse('* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n').code?.name, 'CAPABILITY');
  });

  it('rejects garbage with ImapProtocolError, never another exception', () => {
    const garbage = [
      'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n',
      '\r\n',
      '* \r\n',
      'HTTP/1.1 400 Bad Request\r\n',
      'a1 MAYBE fine\r\n',
      '* LIST (\\HasNoChildren "." "x"\r\n',
      '* LIST () "." "unterminated\r\n',
      '* LIST () "." {99}\r\nshort\r\n',
      '* OK [UNTERMINATED code\r\n',
      `* LIST ${'('.repeat(5000)}\r\n`,
      '\u0000\u0001\u0002\r\n',
    ];
    for (const text of garbage) {
      assert.throws(() => parse(text), ImapProtocolError, JSON.stringify(text));
    }
  });
});
