// The real SAM CLI path, end to end without Docker: what `npm run -s event -- <file>` prints is
// what `sam local invoke <Function> -e - --env-vars events/env.json` hands the function. Here the
// real built bundle gets that event and the environment SAM would give it (the template's
// variables resolved, then overridden by events/env.json as `--env-vars` does), and nothing else:
// no local issuer, no embedded database. The trusted issuer's host cannot resolve (`.invalid`), so
// an Allow proves that the inline JWKS of events/env.json sufficed, without any network.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asksForReplay } from '../../tools/issuer/event-placeholders.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { findFunction, functionEnvironment } from '../../tools/template/functions.ts';
import { localStack } from '../../tools/template/resolve.ts';
import { loadTemplate } from '../../tools/template/template.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { type Outcome, outcomeOf } from '../support/outcome.ts';

/** `npm run -s event -- <file>`, as a process. */
function eventCli(file: string): Record<string, unknown> {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'tools/event.ts', file], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** The function's environment under `sam local invoke --env-vars events/env.json [--parameter-overrides]`. */
function samEnvironment(logicalId: string, overrides: Record<string, string> = {}): Record<string, string> {
  const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  const envVars = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/env.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const { env, ignored } = functionEnvironment(
    localStack(template, overrides, { region: 'us-east-1' }),
    findFunction(template, logicalId),
    envVars,
  );
  expect(ignored).toEqual([]);
  return env;
}

const files = (dir: string) => readdirSync(join(PROJECT_ROOT, dir)).sort();

describe('sam local invoke JwtAuthorizerFunction -e - --env-vars events/env.json', () => {
  let authorizer: ReturnType<typeof bundleEnvironment>;
  beforeAll(() => {
    authorizer = bundleEnvironment('JwtAuthorizerFunction', samEnvironment('JwtAuthorizerFunction'));
  });
  afterAll(async () => {
    await authorizer?.lambda.close();
  });

  /** The outcome a sample event's name announces (`…-allow.json`, `…-deny.json`, `…-unauthorized.json`). */
  const named = (file: string): Outcome =>
    /(?:^|-)(allow|deny|unauthorized)\.json$/.exec(file)?.[1] as Outcome;

  it('starts from events/env.json alone (no configuration error at cold start)', async () => {
    expect(await authorizer.lambda.warm()).toBeUndefined();
  });

  // A replayed proof must be recorded in the function's replay table first: only the local tools
  // reach it (docs/events.md#what-the-sam-path-does-not-cover); npm run event refuses the event.
  const replayed = files('events/jwt-authorizer').filter((f) =>
    asksForReplay(JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/jwt-authorizer', f), 'utf8'))),
  );

  it('refuses the events with a replayed proof, saying why', () => {
    expect(replayed).toEqual(['rest-dpop-replayed-unauthorized.json']);
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/event.ts', `events/jwt-authorizer/${replayed[0]}`],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect([run.status, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toContain('replayed DPoP proof (replayed=1)');
  });

  it.each(
    files('events/jwt-authorizer')
      .filter((f) => !replayed.includes(f))
      .map((f) => [f, named(f)]),
  )('gives %s its named outcome (%s)', async (file, expected) => {
    // Arrange
    const event = eventCli(`events/jwt-authorizer/${file}`);

    // Act
    const result = await authorizer.lambda.invoke(event);

    // Assert
    expect(outcomeOf(result, event)).toBe(expected);
  });
});

describe('sam local invoke RequestValidatorFunction -e - --env-vars events/env.json --parameter-overrides UpstreamUrl=https://…', () => {
  let validator: ReturnType<typeof bundleEnvironment>;
  beforeAll(() => {
    // An https backend nobody answers for: the events below are refused before any forwarding.
    validator = bundleEnvironment(
      'RequestValidatorFunction',
      samEnvironment('RequestValidatorFunction', { UpstreamUrl: 'https://upstream.gatehouse.invalid' }),
    );
  });
  afterAll(async () => {
    await validator?.lambda.close();
  });

  const refused = files('events/request-validator').filter((f) => /-\d{3}\.json$/.test(f));

  it.each(refused)('gives %s its named status', async (file) => {
    // Arrange
    const event = eventCli(`events/request-validator/${file}`);

    // Act
    const result = await validator.lambda.invoke(event);

    // Assert
    expect(result.ok).toBe(true);
    expect((result as { result: { statusCode: number } }).result.statusCode).toBe(
      Number(/-(\d{3})\.json$/.exec(file)?.[1]),
    );
  });
});
