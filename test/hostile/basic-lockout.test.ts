// Online password guessing against the Basic lockout as Lambda runs the function: several warm
// execution environments (real built bundles, each in its own Node process) sharing one DynamoDB
// table, hit by concurrent bursts. The bound is exact: no interleaving lets more than
// BASIC_MAX_FAILURES passwords be checked in a window, a lock refuses the right password too, and a
// success never lifts a lock. Also: a container whose record cache predates another container's lock,
// and a table whose writes fail while its reads work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { type BundleUnderTest, startBundle } from './support/bundle.ts';
import { basicEvent, decisionReasons, decisionsWithReason } from './support/credential-events.ts';
import { type DynamoProxy, startDynamoProxy } from './support/dynamo-proxy.ts';
import { type Status, statusOfInvocation } from './support/jwt-harness.ts';

/** Warm execution environments sharing the table. */
const FLEET = 6;
/** Concurrent wrong passwords sent to each environment per burst. */
const PER_CONTAINER = 4;
const MAX_FAILURES = 5;
// Cheap scrypt for the users made here; the parameters are stored with each hash.
const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });

const ENV = {
  CREDENTIALS_TABLE: TABLE,
  HTTP_API_SIMPLE_RESPONSES: 'false',
  BASIC_MAX_FAILURES: String(MAX_FAILURES),
  BASIC_FAILURE_WINDOW_SECONDS: '900',
  BASIC_LOCKOUT_SECONDS: '900',
  // The attack works on warm containers: records stay cached for the default TTL.
  CREDENTIAL_CACHE_TTL_SECONDS: '30',
};

let dynamo: TestDynamo;
let fleet: BundleUnderTest[];

async function newUser(username: string): Promise<string> {
  const made = await createUser(
    dynamo.store,
    hasher,
    {
      username,
      password: undefined,
      clientId: undefined,
      scopes: ['orders:read'],
      tier: 'basic',
      allowedCidrs: [],
      usageKeys: dynamo.usageKeys,
    },
    Date.now(),
  );
  return made.secret;
}

async function status(bundle: BundleUnderTest, username: string, password: string): Promise<Status> {
  const event = basicEvent(username, password);
  return statusOfInvocation(await bundle.runtime.invoke(event), event.methodArn);
}

/** What the fleet logged from now on. */
function logsFrom(bundles: readonly BundleUnderTest[]): () => string {
  const marks = bundles.map((b) => b.logs().length);
  return () => bundles.map((b, n) => b.logs().slice(marks[n])).join('\n');
}

beforeAll(async () => {
  dynamo = await startTestDynamo();
  fleet = await Promise.all(
    Array.from({ length: FLEET }, () =>
      startBundle('KeyAuthorizerFunction', { ...ENV, DYNAMODB_ENDPOINT: dynamo.endpoint }),
    ),
  );
  // Cold starts happen here, each container with a user of its own (so that every container is warm):
  // concurrent checks of one user's password count against its limit while they are in flight.
  const warm = await Promise.all(
    fleet.map(async (b, n) => status(b, `warm-up-${n}`, await newUser(`warm-up-${n}`))),
  );
  expect(warm).toEqual(fleet.map(() => 200));
}, 120_000);

afterAll(async () => {
  await Promise.all((fleet ?? []).map((b) => b.close()));
  await dynamo?.close();
});

describe('Basic lockout across warm containers (real bundles, one dynalite)', () => {
  it(`checks exactly ${MAX_FAILURES} of ${FLEET * PER_CONTAINER} concurrent wrong passwords, then refuses the right one everywhere`, async () => {
    // Arrange
    const password = await newUser('burst');
    const logs = logsFrom(fleet);

    // Act: every container gets a burst of wrong passwords at once, then the right password.
    const burst = await Promise.all(
      fleet.flatMap((b, c) =>
        Array.from({ length: PER_CONTAINER }, (_, i) => status(b, 'burst', `wrong-${c}-${i}-password`)),
      ),
    );
    const right = await Promise.all(fleet.map((b) => status(b, 'burst', password)));
    const stored = await dynamo.store.findUser('burst');

    // Assert
    expect(burst).toEqual(burst.map(() => 401));
    expect(decisionsWithReason(logs(), 'password_mismatch')).toBe(MAX_FAILURES);
    expect(decisionsWithReason(logs(), 'user_locked')).toBe(FLEET * PER_CONTAINER - MAX_FAILURES + FLEET);
    expect(right).toEqual(fleet.map(() => 401));
    expect(stored?.lockedUntil).toBeGreaterThan(Date.now() + 800_000);
  });

  it('refuses guesses and the right password in a container whose cached record predates the lock', async () => {
    // Arrange: container A reads (and caches) the user with one failure; the others then lock it.
    const password = await newUser('stale');
    const [a, ...others] = fleet as [BundleUnderTest, ...BundleUnderTest[]];
    const logs = logsFrom(fleet);
    expect(await status(a, 'stale', 'first-wrong-password')).toBe(401);
    const locking = await Promise.all(
      others.slice(0, MAX_FAILURES - 1).map((b, n) => status(b, 'stale', `other-wrong-${n}`)),
    );
    const aLogs = logsFrom([a]);

    // Act: A, with its record cache from before the lock, gets more guesses and then the right one.
    const guesses: Status[] = [];
    for (let n = 0; n < 3; n++) guesses.push(await status(a, 'stale', `late-wrong-${n}`));
    const rightInA = await status(a, 'stale', password);
    const stored = await dynamo.store.findUser('stale');

    // Assert
    expect(locking).toEqual(locking.map(() => 401));
    expect([...guesses, rightInA]).toEqual([401, 401, 401, 401]);
    expect(decisionReasons(aLogs())).toEqual(['user_locked', 'user_locked', 'user_locked', 'user_locked']);
    expect(decisionsWithReason(logs(), 'password_mismatch')).toBe(MAX_FAILURES);
    expect(stored?.lockedUntil).toBeGreaterThan(Date.now());
  });

  it('refuses right passwords beyond the limit while checks are in flight, without locking the user', async () => {
    // Arrange: a fresh user, and more concurrent right passwords than the limit, across the fleet.
    const password = await newUser('crowd');
    const logs = logsFrom(fleet);

    // Act
    const first = await Promise.all(
      fleet.flatMap((b) => Array.from({ length: 2 }, () => status(b, 'crowd', password))),
    );
    const retried: Status[] = [];
    for (const [n, s] of first.entries())
      retried.push(
        s === 200 ? s : await status(fleet[Math.floor(n / 2)] as BundleUnderTest, 'crowd', password),
      );
    const stored = await dynamo.store.findUser('crowd');

    // Assert: every answer is a success or an in-flight refusal, no password was wrong, no lock
    // was taken, and each refused request succeeds when retried (one at a time, in its container).
    const refused = first.filter((s) => s === 401).length;
    expect(first.filter((s) => s !== 200 && s !== 401)).toEqual([]);
    expect(decisionsWithReason(logs(), 'user_locked')).toBe(refused);
    expect(decisionsWithReason(logs(), 'password_mismatch')).toBe(0);
    expect(retried).toEqual(first.map(() => 200));
    expect(stored?.lockedUntil ?? 0).toBeLessThan(Date.now());
  });

  it('counts attempts for names that do not exist the same way (password spraying is limited per name)', async () => {
    // Arrange
    const logs = logsFrom(fleet);

    // Act
    const answers = await Promise.all(
      fleet.flatMap((b, c) =>
        Array.from({ length: PER_CONTAINER }, (_, i) => status(b, 'no-such-user', `spray-${c}-${i}-pass`)),
      ),
    );

    // Assert
    expect(answers).toEqual(answers.map(() => 401));
    expect(decisionsWithReason(logs(), 'user_unknown')).toBe(MAX_FAILURES);
    expect(decisionsWithReason(logs(), 'user_locked')).toBe(FLEET * PER_CONTAINER - MAX_FAILURES);
  });
});

describe('Basic lockout when counting fails (UpdateItem throttled, GetItem working)', () => {
  let proxy: DynamoProxy;
  let bundle: BundleUnderTest;

  beforeAll(async () => {
    proxy = await startDynamoProxy(dynamo.endpoint);
    bundle = await startBundle('KeyAuthorizerFunction', {
      ...ENV,
      DYNAMODB_ENDPOINT: proxy.endpoint,
      DYNAMODB_TIMEOUT_MS: '300',
      DYNAMODB_BUDGET_MS: '800',
      // One attempt per call: the SDK's backoff after a throttle would only slow the test down.
      DYNAMODB_MAX_ATTEMPTS: '1',
    });
  }, 60_000);
  afterAll(async () => {
    await bundle?.close();
    await proxy?.close();
  });

  it('checks no password while the count cannot be written: 30 wrong ones and then the right one all fail (503)', async () => {
    // Arrange
    const password = await newUser('throttled');
    const logs = logsFrom([bundle]);
    proxy.setMode('throttle', 'UpdateItem');

    // Act
    const wrong: Status[] = [];
    for (let n = 0; n < 30; n++) wrong.push(await status(bundle, 'throttled', `wrong-${n}-password`));
    const right = await status(bundle, 'throttled', password);
    proxy.setMode('ok');
    const recovered = await status(bundle, 'throttled', password);

    // Assert
    expect(wrong).toEqual(wrong.map(() => 503));
    expect(right).toBe(503);
    expect(decisionsWithReason(logs(), 'password_mismatch')).toBe(0);
    expect(decisionsWithReason(logs(), 'dependency_failure')).toBe(31);
    expect(logs()).toContain('DependencyFailures');
    expect(proxy.requestsOf('GetItem')).toBeGreaterThan(0);
    expect(recovered).toBe(200);
  }, 120_000);
});
