import { describe, expect, it } from 'vitest';
import {
  credentialsFromEnv,
  LOOPBACK_CREDENTIALS,
  lambdaCredentials,
} from '../../../shared/aws/credentials.ts';
import { ConfigError } from '../../../shared/config/env.ts';

describe('credentialsFromEnv', () => {
  it.each([
    [
      { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      { accessKeyId: 'a', secretAccessKey: 'b' },
    ],
    [
      { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 't' },
      { accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' },
    ],
    [{ AWS_ACCESS_KEY_ID: 'a' }, undefined],
    [{ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: 'b' }, undefined],
    [{}, undefined],
  ])('reads %j as %j', (env, expected) => {
    expect(credentialsFromEnv(env)).toEqual(expected);
  });
});

describe('lambdaCredentials', () => {
  it('uses the execution role credentials Lambda sets', () => {
    const env = { AWS_ACCESS_KEY_ID: 'ASIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' };
    expect(lambdaCredentials(env, { loopbackOnly: false })).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 's',
      sessionToken: 't',
    });
  });

  it('fails the cold start, naming the variables, when a function that calls AWS has none', () => {
    const read = () => lambdaCredentials({ AWS_ACCESS_KEY_ID: 'ASIA1' }, { loopbackOnly: false });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required/);
  });

  it('signs with placeholders when every endpoint it calls is a local one', () => {
    expect(lambdaCredentials({}, { loopbackOnly: true })).toBe(LOOPBACK_CREDENTIALS);
  });
});
