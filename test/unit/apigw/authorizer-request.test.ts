import { describe, expect, it } from 'vitest';
import { MalformedEventError, normalizeAuthorizerEvent } from '../../../shared/apigw/authorizer-request.ts';
import { readAccessToken, readBearerToken } from '../../../shared/apigw/credentials.ts';
import { clientCertificatePem } from '../../../shared/mtls/certificate-binding.ts';
import { readEvent, retarget, SAMPLE_EVENTS } from '../../support/events.ts';

describe('normalizeAuthorizerEvent on AWS sample events', () => {
  it.each([
    ['rest-token', 'rest-token', 'POST', '/lambda-token', undefined],
    ['rest-token (aws-lambda-go)', 'rest-token', 'GET', '/', undefined],
    ['rest-request', 'rest-request', 'POST', '/lambda-request', '/lambda-request'],
    ['rest-request (aws-lambda-go)', 'rest-request', 'GET', '/request', '/request'],
    ['http-v2', 'http-v2', 'POST', '/merchants', '/merchants'],
    ['http-v2 (aws-lambda-go)', 'http-v2', 'POST', '/my/path', undefined],
    ['http-v2 (powertools-typescript)', 'http-v2', 'POST', '/lambda', '/lambda'],
    ['http-v1', 'http-v1', 'GET', '/request', '/request'],
    ['websocket', 'websocket', '$connect', '/', undefined],
  ] as const)('reads %s as %s %s %s', (name, kind, method, path, template) => {
    const request = normalizeAuthorizerEvent(readEvent(SAMPLE_EVENTS[name]), true);
    expect([request.kind, request.method, request.path, request.routeTemplate]).toEqual([
      kind,
      method,
      path,
      template,
    ]);
  });

  it('answers HTTP API 2.0 with simple responses only when they are enabled', () => {
    const event = readEvent(SAMPLE_EVENTS['http-v2']);
    expect(normalizeAuthorizerEvent(event, true).format).toBe('simple');
    expect(normalizeAuthorizerEvent(event, false).format).toBe('policy');
    expect(normalizeAuthorizerEvent(readEvent(SAMPLE_EVENTS['rest-request']), true).format).toBe('policy');
  });

  it.each([
    ['rest-token', undefined, undefined, false],
    ['rest-request (aws-lambda-go)', undefined, 'test', true],
    ['http-v2 (aws-lambda-go)', 'id.execute-api.us-east-1.amazonaws.com', '$default', true],
    ['http-v1', undefined, 'test', true],
  ] as const)(
    'reads where %s was received (domain %s, stage %s) and its client certificate (%s)',
    (name, domainName, stage, certificate) => {
      const event = readEvent(SAMPLE_EVENTS[name]);
      const request = normalizeAuthorizerEvent(event, true);

      expect([request.domainName, request.stage]).toEqual([domainName, stage]);
      // AWS's samples carry a (truncated) PEM, or the text CERT_CONTENT: passed on as given.
      expect(clientCertificatePem(event) === undefined).toBe(!certificate);
    },
  );

  it('keeps the ARN parts the policy needs', () => {
    const request = normalizeAuthorizerEvent(readEvent(SAMPLE_EVENTS.websocket), false);
    expect(request.arn).toEqual({
      stagePrefix: 'arn:aws:execute-api:us-east-1:533568316194:c5jwxq709g/production',
      apiId: 'c5jwxq709g',
      stage: 'production',
      method: '$connect',
      path: '/',
    });
  });

  it.each([
    ['a string', 'event'],
    ['an unknown type', { type: 'COOKIE', methodArn: 'arn:aws:execute-api:us-east-1:1:a/b/GET/' }],
    ['a TOKEN event without ARN', { type: 'TOKEN', authorizationToken: 'x' }],
    ['a REQUEST event with a foreign ARN', { type: 'REQUEST', methodArn: 'arn:aws:s3:::bucket' }],
    ['a 2.0 event without routeArn', { type: 'REQUEST', version: '2.0' }],
  ])('refuses %s', (_name, event) => {
    expect(() => normalizeAuthorizerEvent(event, true)).toThrow(MalformedEventError);
  });
});

describe('readBearerToken', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln';
  const read = (
    authorization: string | string[] | undefined,
    sample: keyof typeof SAMPLE_EVENTS = 'rest-request',
    query?: Record<string, string>,
  ) => {
    const event = retarget(readEvent(SAMPLE_EVENTS[sample]), { authorization });
    if (query !== undefined) {
      event.queryStringParameters = query;
      event.multiValueQueryStringParameters = Object.fromEntries(
        Object.entries(query).map(([k, v]) => [k, [v]]),
      );
      event.rawQueryString = new URLSearchParams(query).toString();
    }
    return readBearerToken(normalizeAuthorizerEvent(event, true));
  };

  it.each([[`Bearer ${jwt}`], [`bearer ${jwt}`], [`BEARER ${jwt}`]])('reads %s', (value) => {
    expect(read(value)).toEqual({ ok: true, value: jwt });
  });

  it.each([
    ['no header', undefined, 'credential_missing'],
    ['an empty header', '', 'credential_missing'],
    ['two headers', [`Bearer ${jwt}`, `Bearer ${jwt}`], 'credential_multiple'],
    ['the Basic scheme', 'Basic dXNlcjpwYXNz', 'credential_scheme'],
    ['the DPoP scheme', `DPoP ${jwt}`, 'credential_scheme'],
    ['no scheme', jwt, 'credential_malformed'],
    ['two tokens', `Bearer ${jwt} ${jwt}`, 'credential_malformed'],
    ['a token that is not a JWT', 'Bearer abc', 'credential_malformed'],
    ['an oversized header', `Bearer ${'a'.repeat(9000)}.b.c`, 'credential_malformed'],
  ] as const)('refuses %s', (_name, value, reason) => {
    expect(read(value as string | string[] | undefined)).toEqual({ ok: false, reason });
  });

  it('refuses two Authorization headers that HTTP API joined with a comma', () => {
    expect(read([`Bearer ${jwt}`, `Bearer ${jwt}`], 'http-v2')).toEqual({
      ok: false,
      reason: 'credential_malformed',
    });
  });

  it.each([['access_token'], ['token'], ['api_key']])(
    'refuses a request carrying a credential in the query parameter %s',
    (name) => {
      expect(read(`Bearer ${jwt}`, 'rest-request', { [name]: jwt })).toEqual({
        ok: false,
        reason: 'credential_in_query',
      });
      expect(read(`Bearer ${jwt}`, 'http-v2', { [name]: jwt })).toEqual({
        ok: false,
        reason: 'credential_in_query',
      });
    },
  );
});

describe('readAccessToken', () => {
  const read = (authorization: string) =>
    readAccessToken(
      normalizeAuthorizerEvent(retarget(readEvent(SAMPLE_EVENTS['rest-request']), { authorization }), true),
    );

  it.each([
    ['Bearer a.b.c', 'Bearer'],
    ['bearer a.b.c', 'Bearer'],
    ['DPoP a.b.c', 'DPoP'],
    ['dpop  a.b.c', 'DPoP'],
    ['DPOP a.b.c', 'DPoP'],
  ])('reads %j as a %s token', (authorization, scheme) => {
    expect(read(authorization)).toEqual({ ok: true, value: { scheme, token: 'a.b.c' } });
  });

  it.each([
    ['Basic dTpw', 'credential_scheme'],
    ['DPoP-Bound a.b.c', 'credential_malformed'],
    ['DPoP a.b', 'credential_malformed'],
    ['DPoP a.b.c d', 'credential_malformed'],
  ])('refuses %j (%s)', (authorization, reason) => {
    expect(read(authorization)).toEqual({ ok: false, reason });
  });

  it('keeps readBearerToken to the Bearer scheme', () => {
    const request = normalizeAuthorizerEvent(
      retarget(readEvent(SAMPLE_EVENTS['rest-request']), { authorization: 'DPoP a.b.c' }),
      true,
    );
    expect(readBearerToken(request)).toEqual({ ok: false, reason: 'credential_scheme' });
  });
});
