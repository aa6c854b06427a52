/**
 * `multipart/form-data` bodies (RFC 7578, RFC 2046 §5.1): the strict parser
 * (shared/validation/multipart.ts), then text and file parts read as fields and validated, through
 * the validator's core with a compiled document (test/fixtures/openapi/readers.yaml).
 */
import { describe, expect, it } from 'vitest';
import {
  isValidBoundary,
  MAX_PART_HEADER_BYTES,
  MAX_PARTS,
  multipartFields,
  parseMultipart,
} from '../../../shared/validation/multipart.ts';
import { readProxyEvent } from '../../../shared/validation/proxy-event.ts';
import { validateRequest } from '../../../shared/validation/validate-request.ts';
import {
  bodyValueOf,
  httpEvent,
  multipartBody,
  READER_LIMITS,
  READER_VERSIONS,
  readersDocument,
  reasonOf,
  validateReaders,
} from '../../support/readers.ts';

const B = 'xYzZY';
const CD = (name: string) => `Content-Disposition: form-data; name="${name}"`;
const latin1 = (text: string) => Buffer.from(text, 'latin1');
const parse = (text: string, boundary = B) => parseMultipart(latin1(text), boundary);

describe('isValidBoundary', () => {
  it.each([
    ['a token', 'xYzZY', true],
    ['all the characters RFC 2046 allows', "0aZ'()+_,-./:=?", true],
    ['an inner space', 'a b', true],
    ['70 characters', 'a'.repeat(70), true],
    ['a browser boundary', '----WebKitFormBoundary7MA4YWxkTrZu0gW', true],
    ['an empty boundary', '', false],
    ['71 characters', 'a'.repeat(71), false],
    ['a trailing space', 'a ', false],
    ['a quote', 'a"b', false],
    ['a semicolon', 'a;b', false],
    ['CR or LF', 'a\r\nb', false],
    ['non-ASCII', 'é', false],
  ])('%s: %j', (_name, boundary, valid) => {
    expect(isValidBoundary(boundary)).toBe(valid);
  });
});

describe('parseMultipart', () => {
  it.each([
    ['one text part', `--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--\r\n`, [['a', undefined, undefined, 'v']]],
    [
      'no CRLF after the closing boundary',
      `--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--`,
      [['a', undefined, undefined, 'v']],
    ],
    ['an empty part body', `--${B}\r\n${CD('a')}\r\n\r\n\r\n--${B}--`, [['a', undefined, undefined, '']]],
    ['no parts at all', `--${B}--\r\n`, []],
    [
      'a token name',
      `--${B}\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--${B}--`,
      [['a', undefined, undefined, 'v']],
    ],
    [
      'header names and form-data in any case',
      `--${B}\r\ncontent-DISPOSITION: Form-Data; NAME="a"\r\n\r\nv\r\n--${B}--`,
      [['a', undefined, undefined, 'v']],
    ],
    [
      'a file with its type and bytes that look like delimiters',
      `--${B}\r\n${CD('f')}; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n-${B}\n--${B}\r--z\xff\x00\r\n--${B}--`,
      [['f', 'a.bin', 'application/octet-stream', `\r\n-${B}\n--${B}\r--z\xff\x00`]],
    ],
    [
      'an empty filename (a file input left empty)',
      `--${B}\r\n${CD('f')}; filename=""\r\n\r\n\r\n--${B}--`,
      [['f', '', undefined, '']],
    ],
    [
      'two parts in order',
      `--${B}\r\n${CD('b')}\r\n\r\n2\r\n--${B}\r\n${CD('a')}\r\n\r\n1\r\n--${B}--`,
      [
        ['b', undefined, undefined, '2'],
        ['a', undefined, undefined, '1'],
      ],
    ],
    [
      'a repeated part name (read as fields later)',
      `--${B}\r\n${CD('a')}\r\n\r\n1\r\n--${B}\r\n${CD('a')}\r\n\r\n2\r\n--${B}--`,
      [
        ['a', undefined, undefined, '1'],
        ['a', undefined, undefined, '2'],
      ],
    ],
    [
      'a tab after a header colon',
      `--${B}\r\n${CD('a')}\r\nContent-Type:\ttext/plain\r\n\r\nv\r\n--${B}--`,
      [['a', undefined, 'text/plain', 'v']],
    ],
    [
      'an identity transfer encoding',
      `--${B}\r\n${CD('a')}\r\nContent-Transfer-Encoding: 8bit\r\n\r\nv\r\n--${B}--`,
      [['a', undefined, undefined, 'v']],
    ],
    [
      'a quoted filename holding ";" and "name="',
      `--${B}\r\n${CD('f')}; filename="a; name=b.txt"\r\n\r\nv\r\n--${B}--`,
      [['f', 'a; name=b.txt', undefined, 'v']],
    ],
    [
      'parameters it does not use (dropped when forwarded)',
      `--${B}\r\n${CD('a')}; size=1\r\n\r\nv\r\n--${B}--`,
      [['a', undefined, undefined, 'v']],
    ],
    [
      'UTF-8 in a quoted name',
      `--${B}\r\nContent-Disposition: form-data; name="\xc3\xa9"\r\n\r\nv\r\n--${B}--`,
      [['é', undefined, undefined, 'v']],
    ],
  ])('reads %s', (_name, text, parts) => {
    // Act
    const read = parse(text);
    // Assert
    expect(read?.map((p) => [p.name, p.filename, p.contentType, p.bytes.toString('latin1')])).toEqual(parts);
  });

  it.each([
    ['a preamble', `preamble\r\n--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--`],
    ['a CRLF before the first boundary', `\r\n--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--`],
    ['an epilogue', `--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--\r\nepilogue`],
    ['garbage right after the closing boundary', `--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--x`],
    ['two CRLFs after the closing boundary', `--${B}\r\n${CD('a')}\r\n\r\nv\r\n--${B}--\r\n\r\n`],
    ['no closing boundary', `--${B}\r\n${CD('a')}\r\n\r\nv\r\n`],
    ['a body cut inside a part', `--${B}\r\n${CD('a')}\r\n\r\nv`],
    ['LF line endings', `--${B}\n${CD('a')}\n\nv\n--${B}--\n`],
    ['LF between headers and content', `--${B}\r\n${CD('a')}\n\nv\r\n--${B}--`],
    ['padding after a boundary', `--${B} \r\n${CD('a')}\r\n\r\nv\r\n--${B}--`],
    ['a longer boundary in the body', `--${B}x\r\n${CD('a')}\r\n\r\nv\r\n--${B}x--`],
    ['another boundary', `--other\r\n${CD('a')}\r\n\r\nv\r\n--other--`],
    ['a part without Content-Disposition', `--${B}\r\nContent-Type: text/plain\r\n\r\nv\r\n--${B}--`],
    ['a part without headers', `--${B}\r\n\r\nv\r\n--${B}--`],
    ['an attachment disposition', `--${B}\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--${B}--`],
    [
      'a disposition without a name',
      `--${B}\r\nContent-Disposition: form-data; filename="a"\r\n\r\nv\r\n--${B}--`,
    ],
    ['an empty name', `--${B}\r\n${CD('')}\r\n\r\nv\r\n--${B}--`],
    ['a name given twice', `--${B}\r\n${CD('a')}; name="b"\r\n\r\nv\r\n--${B}--`],
    ['a filename given twice', `--${B}\r\n${CD('a')}; filename="x"; filename="y"\r\n\r\nv\r\n--${B}--`],
    ['filename* (RFC 5987)', `--${B}\r\n${CD('a')}; filename*=UTF-8''x\r\n\r\nv\r\n--${B}--`],
    [
      'an escaped quote in a name (backends read escapes differently)',
      `--${B}\r\nContent-Disposition: form-data; name="a\\"b"\r\n\r\nv\r\n--${B}--`,
    ],
    ['a backslash in a name', `--${B}\r\nContent-Disposition: form-data; name="a\\b"\r\n\r\nv\r\n--${B}--`],
    [
      'a backslash in a filename (a Windows path)',
      `--${B}\r\n${CD('a')}; filename="C:\\x.txt"\r\n\r\nv\r\n--${B}--`,
    ],
    [
      'a name that is only inside a quoted filename',
      `--${B}\r\nContent-Disposition: form-data; filename="x; name=evil"\r\n\r\nv\r\n--${B}--`,
    ],
    ['text after a parameter', `--${B}\r\n${CD('a')} junk\r\n\r\nv\r\n--${B}--`],
    ['a parameter without a value', `--${B}\r\n${CD('a')}; flag\r\n\r\nv\r\n--${B}--`],
    ['parameters without ";"', `--${B}\r\nContent-Disposition: form-data name="a"\r\n\r\nv\r\n--${B}--`],
    ['an unterminated quoted name', `--${B}\r\nContent-Disposition: form-data; name="a\r\n\r\nv\r\n--${B}--`],
    [
      'a header given twice',
      `--${B}\r\n${CD('a')}\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nv\r\n--${B}--`,
    ],
    ['Content-Disposition given twice', `--${B}\r\n${CD('a')}\r\n${CD('b')}\r\n\r\nv\r\n--${B}--`],
    [
      'a bare LF inside a header line',
      `--${B}\r\n${CD('a')}\r\nContent-Type: text/plain\nX-Evil: y\r\n\r\nv\r\n--${B}--`,
    ],
    [
      'a bare CR inside a header line',
      `--${B}\r\n${CD('a')}\r\nContent-Type: text/plain\rX-Evil: y\r\n\r\nv\r\n--${B}--`,
    ],
    ['a folded header line (obs-fold)', `--${B}\r\n${CD('a')}\r\n X-Fold: y\r\n\r\nv\r\n--${B}--`],
    [
      'whitespace before the colon',
      `--${B}\r\nContent-Disposition : form-data; name="a"\r\n\r\nv\r\n--${B}--`,
    ],
    [
      'a control character in a header value',
      `--${B}\r\n${CD('a')}\r\nContent-Type: text/plain\x00\r\n\r\nv\r\n--${B}--`,
    ],
    ['a header line without a colon', `--${B}\r\n${CD('a')}\r\nbroken\r\n\r\nv\r\n--${B}--`],
    [
      'a base64 transfer encoding',
      `--${B}\r\n${CD('a')}\r\nContent-Transfer-Encoding: base64\r\n\r\ndg==\r\n--${B}--`,
    ],
    [
      'a quoted-printable transfer encoding',
      `--${B}\r\n${CD('a')}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nv\r\n--${B}--`,
    ],
    [
      'headers that are not UTF-8',
      `--${B}\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nv\r\n--${B}--`,
    ],
  ])('refuses %s', (_name, text) => {
    expect(parse(text)).toBeUndefined();
  });

  it('bounds the header block of a part', () => {
    // Arrange: a header block of exactly the limit, then one byte more.
    const header = (size: number) => `${CD('a')}\r\nX-Pad: ${'p'.repeat(size - CD('a').length - 9)}`;
    const body = (size: number) => `--${B}\r\n${header(size)}\r\n\r\nv\r\n--${B}--`;
    // Act / Assert
    expect(header(MAX_PART_HEADER_BYTES)).toHaveLength(MAX_PART_HEADER_BYTES);
    expect(parse(body(MAX_PART_HEADER_BYTES))).toHaveLength(1);
    expect(parse(body(MAX_PART_HEADER_BYTES + 1))).toBeUndefined();
  });

  it('bounds the number of parts', () => {
    const body = (n: number) => Array.from({ length: n }, () => `--${B}\r\n${CD('a')}\r\n\r\n`).join('\r\n');
    expect(parse(`${body(MAX_PARTS)}\r\n--${B}--`)).toHaveLength(MAX_PARTS);
    expect(parse(`${body(MAX_PARTS + 1)}\r\n--${B}--`)).toBeUndefined();
  });

  it('refuses a header block that never ends after scanning the body once', () => {
    const text = `--${B}\r\n${CD('a')}\r\n${'x: y\r\n'.repeat(100_000)}`;
    expect(parse(text)).toBeUndefined();
  });
});

describe('multipartFields', () => {
  it('reads text parts as UTF-8 and file parts as one character per byte', () => {
    // Arrange
    const parts = parse(
      `--${B}\r\n${CD('t')}\r\n\r\n\xc3\xa9\r\n--${B}\r\n${CD('f')}; filename="a"\r\n\r\n\xc3\xa9\r\n--${B}\r\n${CD('file')}\r\n\r\n\xff\r\n--${B}--`,
    );
    // Act
    const fields = multipartFields(parts ?? [], { kind: 'multipart', fileFields: ['file'] });
    // Assert
    expect(fields).toEqual([
      ['t', 'é'],
      ['f', '\xc3\xa9'],
      ['file', '\xff'],
    ]);
  });

  it('refuses a text part that is not UTF-8', () => {
    const parts = parse(`--${B}\r\n${CD('t')}\r\n\r\n\xff\r\n--${B}--`);
    expect(multipartFields(parts ?? [], { kind: 'multipart' })).toBeUndefined();
  });
});

describe.each(READER_VERSIONS)('multipart bodies read by the schema (OpenAPI %s)', (version) => {
  const CT = `multipart/form-data; boundary=${B}`;
  const upload = (body: string | Uint8Array, contentType = CT) =>
    validateReaders('POST', '/uploads', { body, contentType }, version);
  const file = (bytes: string, name = 'file') => `${CD(name)}; filename="a.bin"\r\n\r\n${bytes}`;
  const title = `${CD('title')}\r\n\r\nHello`;

  it.each([
    [
      'a text field and a file',
      [title, file('\x89PNG\xff\x00')],
      { title: 'Hello', file: '\x89PNG\xff\x00' },
    ],
    [
      'a file of exactly maxLength bytes',
      [title, file('x'.repeat(64))],
      { title: 'Hello', file: 'x'.repeat(64) },
    ],
    [
      'a declared binary field without a filename',
      [title, `${CD('file')}\r\n\r\n\xff\xfe`],
      { title: 'Hello', file: '\xff\xfe' },
    ],
    [
      'an integer field',
      [title, file(''), `${CD('count')}\r\n\r\n7`],
      { title: 'Hello', file: '', count: 7 },
    ],
    [
      'a repeated text field as an array',
      [title, file(''), `${CD('tags')}\r\n\r\na`, `${CD('tags')}\r\n\r\nb`],
      { title: 'Hello', file: '', tags: ['a', 'b'] },
    ],
    [
      'repeated files as an array',
      [title, file(''), file('1', 'attachments'), file('2', 'attachments')],
      { title: 'Hello', file: '', attachments: ['1', '2'] },
    ],
    [
      'one file of an array field',
      [title, file(''), file('1', 'attachments')],
      { title: 'Hello', file: '', attachments: ['1'] },
    ],
    [
      'a JSON-encoded part (encoding.contentType)',
      [title, file(''), `${CD('meta')}\r\nContent-Type: application/json\r\n\r\n{"a":1}`],
      { title: 'Hello', file: '', meta: { a: 1 } },
    ],
    [
      'an object part without an encoding as JSON (its default Content-Type)',
      [title, file(''), `${CD('location')}\r\n\r\n{"lat":1.5}`],
      { title: 'Hello', file: '', location: { lat: 1.5 } },
    ],
    ['UTF-8 text', [`${CD('title')}\r\n\r\n\xc3\xa9t\xc3\xa9`, file('')], { title: 'été', file: '' }],
  ])('reads %s', (_name, parts, value) => {
    const outcome = upload(multipartBody(B, parts));
    expect(reasonOf(outcome)).toBe('ok');
    expect(bodyValueOf(outcome)).toEqual(value);
  });

  it.each([
    ['a quoted boundary with a space', 'a b', `multipart/form-data; boundary="a b"`],
    [
      'a quoted boundary with RFC 2046 specials',
      "a'()+_,-./:=?",
      `multipart/form-data; boundary="a'()+_,-./:=?"`,
    ],
    ['a charset parameter naming UTF-8', B, `multipart/form-data; charset=utf-8; boundary=${B}`],
  ])('accepts %s', (_name, boundary, contentType) => {
    const body = multipartBody(boundary, [title, file('x')]);
    expect(reasonOf(upload(body, contentType))).toBe('ok');
  });

  it.each([
    ['no boundary parameter', 'multipart_invalid', multipartBody(B, [title]), 'multipart/form-data'],
    ['an empty boundary', 'multipart_invalid', multipartBody(B, [title]), 'multipart/form-data; boundary='],
    [
      'a boundary of 71 characters',
      'multipart_invalid',
      multipartBody('a'.repeat(71), [title]),
      `multipart/form-data; boundary=${'a'.repeat(71)}`,
    ],
    [
      'a boundary ending in a space',
      'multipart_invalid',
      multipartBody('a ', [title]),
      'multipart/form-data; boundary="a "',
    ],
    ['a boundary the body does not use', 'multipart_invalid', multipartBody('other', [title]), CT],
    [
      'a boundary parameter given twice',
      'media_type_unsupported',
      multipartBody(B, [title]),
      `${CT}; boundary=${B}`,
    ],
    [
      'a charset other than UTF-8',
      'media_type_unsupported',
      multipartBody(B, [title]),
      `${CT}; charset=iso-8859-1`,
    ],
    ['LF line endings', 'multipart_invalid', latin1(`--${B}\n${CD('title')}\n\nHello\n--${B}--\n`), CT],
    [
      'a preamble',
      'multipart_invalid',
      Buffer.concat([latin1('preamble\r\n'), multipartBody(B, [title])]),
      CT,
    ],
    ['an epilogue', 'multipart_invalid', multipartBody(B, [title], '\r\nepilogue'), CT],
    [
      'trailing garbage after the closing boundary',
      'multipart_invalid',
      multipartBody(B, [title], 'garbage'),
      CT,
    ],
    [
      'a part without Content-Disposition',
      'multipart_invalid',
      multipartBody(B, [title, 'Content-Type: text/plain\r\n\r\nx']),
      CT,
    ],
    [
      'a text part that is not UTF-8',
      'multipart_invalid',
      multipartBody(B, [`${CD('title')}\r\n\r\n\xff`]),
      CT,
    ],
    [
      'more than 1,000 parts',
      'multipart_invalid',
      multipartBody(
        B,
        Array.from({ length: MAX_PARTS + 1 }, () => `${CD('tags')}\r\n\r\nx`),
      ),
      CT,
    ],
    [
      'a part header block over 8 KiB',
      'multipart_invalid',
      multipartBody(B, [`${CD('title')}\r\nX-Pad: ${'p'.repeat(MAX_PART_HEADER_BYTES)}\r\n\r\nHello`]),
      CT,
    ],
  ])('refuses %s with %s', (_name, reason, body, contentType) => {
    expect(reasonOf(upload(body, contentType))).toBe(reason);
  });

  // A text part is read as UTF-8; a backend honouring another charset would read another value.
  it.each([
    [
      'a text part declaring UTF-8',
      'ok',
      `${CD('title')}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHello`,
    ],
    [
      'a text part with a type and no charset',
      'ok',
      `${CD('title')}\r\nContent-Type: text/plain\r\n\r\nHello`,
    ],
    [
      'a file part declaring any charset',
      'ok',
      `${CD('file')}; filename="a.txt"\r\nContent-Type: text/plain; charset=utf-16\r\n\r\nx`,
    ],
    [
      'a text part declaring another charset',
      'multipart_invalid',
      `${CD('title')}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nHello`,
    ],
    [
      'a text part declaring UTF-16 (its bytes are valid UTF-8 too)',
      'multipart_invalid',
      `${CD('title')}\r\nContent-Type: text/plain; charset=utf-16le\r\n\r\nH\x00i\x00`,
    ],
    [
      'a text part whose Content-Type is not one',
      'multipart_invalid',
      `${CD('title')}\r\nContent-Type: plain text\r\n\r\nHello`,
    ],
  ])('%s: %s', (_name, reason, textPart) => {
    const parts = textPart.includes('name="file"') ? [title, textPart] : [textPart, file('x')];
    expect(reasonOf(upload(multipartBody(B, parts)))).toBe(reason);
  });

  it('refuses a body that is not canonical base64', () => {
    // Arrange: the event claims a base64 body that is not.
    const event = httpEvent('POST', '/uploads', { body: 'not base64!', contentType: CT }) as Record<
      string,
      unknown
    >;
    event.isBase64Encoded = true;
    const doc = readersDocument(version);
    // Act
    const outcome = validateRequest(readProxyEvent(event), {
      matcher: doc.matcher,
      table: doc.table,
      limits: READER_LIMITS,
    });
    // Assert
    expect(reasonOf(outcome)).toBe('body_invalid_base64');
  });

  it('refuses a body over the limit with 413, measured after base64 decoding', () => {
    const body = multipartBody(B, [title, file('x'.repeat(60))]);
    const outcome = validateReaders('POST', '/uploads', { body, contentType: CT }, version, {
      maxBytes: body.length - 1,
      maxDepth: 32,
    });
    expect(reasonOf(outcome)).toBe('body_too_large');
  });

  // Field errors are 400 body_invalid with a pointer to the field.
  it.each([
    [
      'a file over maxLength',
      [title, file('x'.repeat(65))],
      { pointer: '/file', keyword: 'maxLength', message: 'must NOT have more than 64 characters' },
    ],
    [
      'a file whose UTF-8 text is over maxLength in bytes',
      [title, file('\xc3\xa9'.repeat(40))],
      { pointer: '/file', keyword: 'maxLength', message: 'must NOT have more than 64 characters' },
    ],
    [
      'a text field given twice',
      [title, title, file('')],
      { pointer: '/title', keyword: 'type', message: 'must be given once' },
    ],
    [
      'a file given twice where one is declared',
      [title, file('1'), file('2')],
      { pointer: '/file', keyword: 'type', message: 'must be given once' },
    ],
    [
      'more files than maxItems',
      [title, file(''), ...['1', '2', '3', '4'].map((b) => file(b, 'attachments'))],
      { pointer: '/attachments', keyword: 'maxItems', message: 'must NOT have more than 3 items' },
    ],
    [
      'many tiny parts',
      [title, file(''), ...Array.from({ length: 1000 - 2 }, () => `${CD('tags')}\r\n\r\nx`)],
      { pointer: '/tags', keyword: 'maxItems', message: 'must NOT have more than 10 items' },
    ],
    [
      'a JSON part that is not JSON',
      [title, file(''), `${CD('meta')}\r\n\r\n{a:1}`],
      { pointer: '/meta', keyword: 'contentMediaType', message: 'must be valid JSON' },
    ],
    [
      'a JSON part with a __proto__ key',
      [title, file(''), `${CD('meta')}\r\n\r\n{"__proto__":{}}`],
      { pointer: '/meta', keyword: 'contentMediaType', message: 'must be valid JSON' },
    ],
    [
      'a __proto__ part name',
      [title, file(''), `${CD('__proto__')}\r\n\r\nx`],
      { pointer: '', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'a constructor[prototype] part name',
      [title, file(''), `${CD('meta[constructor][prototype]')}\r\n\r\nx`],
      { pointer: '/meta', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'a missing required file',
      [title],
      { pointer: '', keyword: 'required', message: "must have required property 'file'" },
    ],
    [
      'an undeclared part',
      [title, file(''), `${CD('extra')}\r\n\r\nx`],
      { pointer: '', keyword: 'additionalProperties', message: 'must NOT have additional properties' },
    ],
  ])('refuses %s (400 body_invalid)', (_name, parts, error) => {
    // Act
    const outcome = upload(multipartBody(B, parts));
    // Assert
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problem.reason).toBe('body_invalid');
    expect(outcome.problem.errors).toContainEqual(error);
  });
});
