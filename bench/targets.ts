/**
 * The performance targets (docs/performance.md), checked against one run. A miss is reported with how
 * far off it is and where the time goes, from the measurements themselves (the timed parts, library
 * costs), so the note stays true when the numbers change.
 */
import { type BenchRun, formatNs, isUnavailable, type TargetOutcome } from './report.ts';

/** First-seen JWT decision, as a multiple of the `crypto.verify` floor, per algorithm. */
export const JWT_DECISION_TARGETS = { RS256: 1.4, ES256: 1.2, EdDSA: 1.15 } as const;
/** The verifier alone (no event, no policy), any algorithm. */
export const JWT_VERIFIER_TARGET = 1.3;
/** A repeated token's whole decision, in nanoseconds. */
export const JWT_REPEATED_TARGET_NS = 3500;
/** The observer, per decision, in nanoseconds. */
export const OBSERVER_TARGET_NS = 10_000;
/** Strict parse, and strict parse + validate, as multiples of `JSON.parse`. */
export const VALIDATION_TARGETS = { strictParse: 1.5, parseAndValidate: 1.8 } as const;

/** Minified-size budgets, in bytes (KB = 1024 B); the validator's excludes its generated schemas. */
export const SIZE_TARGETS = {
  JwtAuthorizerFunction: 45 * 1024,
  RequestValidatorFunction: 40 * 1024,
  KeyAuthorizerFunction: 250 * 1024,
} as const;

/** Cold-start budgets over an empty process, in milliseconds (the seeded case by its bench name). */
export const COLD_START_TARGETS: Readonly<Record<string, number>> = {
  JwtAuthorizerFunction: 20,
  'JwtAuthorizerFunction (seeded JWKS)': 15,
  RequestValidatorFunction: 25,
  KeyAuthorizerFunction: 55,
};

/** Credentials cache hit, in nanoseconds. */
export const CREDENTIALS_HIT_TARGET_NS = 8000;

/**
 * Where our bytes of a bundle go, by the part of the code they serve (first match wins), so that a
 * missed size target names what grew; the rest is listed by file.
 */
const CODE_AREAS: readonly [area: string, files: RegExp][] = [
  ['the tenant binding checks', /^shared\/routes\/path-binding\.ts$/],
  ['the route table (grows with the document)', /^shared\/generated\/routes\.ts$/],
  ['the sender-constraint loader and the certificate read', /^shared\/(sender-constraint|mtls)\//],
  ['token checks and issuer configuration', /^shared\/jwt\//],
  ['routing, policies and answers', /^shared\/(routes|policy|authz)\//],
  ['reading the event', /^shared\/apigw\//],
  ['the observer', /^shared\/observability\//],
];

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** Our code of a bundle by {@link CODE_AREAS}, largest first, then what no area names. */
function oursByArea(oursByInput: Readonly<Record<string, number>>): string {
  const areas = new Map<string, number>();
  const rest: [string, number][] = [];
  for (const [input, bytes] of Object.entries(oursByInput)) {
    const area = CODE_AREAS.find(([, files]) => files.test(input))?.[0];
    if (area === undefined) rest.push([input, bytes]);
    else areas.set(area, (areas.get(area) ?? 0) + bytes);
  }
  // Areas under 100 B (a type guard, a constant) would only add noise.
  const named = [...areas]
    .filter(([, n]) => n >= 100)
    .sort((x, y) => y[1] - x[1])
    .map(([a, n]) => `${a} ${kb(n)}`);
  const others = rest.sort((x, y) => y[1] - x[1]);
  const otherBytes = others.reduce((n, [, b]) => n + b, 0);
  const largest = others
    .slice(0, 3)
    .map(([i, n]) => `${i} ${kb(n)}`)
    .join(', ');
  if (others.length > 0) named.push(`other ${kb(otherBytes)} (largest: ${largest})`);
  return named.join(', ');
}

function short(measured: number, limit: number): string {
  return `short by ${(((measured - limit) / limit) * 100).toFixed(0)} %`;
}

function outcome(
  target: string,
  limit: string,
  measured: string,
  pass: boolean,
  whyShort: () => string,
  howShort: string,
): TargetOutcome {
  return pass
    ? { target, limit, measured, status: 'pass', note: '' }
    : { target, limit, measured, status: 'short', note: `${howShort}: ${whyShort()}` };
}

function unavailable(target: string, limit: string, why: string): TargetOutcome {
  return { target, limit, measured: '—', status: 'not available yet', note: why };
}

const times = (x: number) => `${x.toFixed(2)} ×`;

/** Evaluates every target. */
export function evaluateTargets(run: BenchRun): TargetOutcome[] {
  const out: TargetOutcome[] = [];
  for (const a of run.jwt) {
    const floor = a.floor.medianNs;
    const limit = JWT_DECISION_TARGETS[a.alg];
    const r = a.oursFirstSeen.medianNs / floor;
    const verifier = a.verifierFirstSeen.medianNs / floor;
    const [precheck, decision] = a.parts;
    const where = () =>
      `the floor is ${formatNs(floor)}; the verifier alone is ${times(verifier)} (its precheck — split, base64url, ` +
      `strict JSON — ${precheck === undefined ? '?' : formatNs(precheck.medianNs)}; the rest is the JWK lookup, ` +
      `claim checks and the cache insert); the decision around an instant verifier (event, Bearer, identity, ` +
      `route, policy) takes ${decision === undefined ? '?' : formatNs(decision.medianNs)}`;
    out.push(
      outcome(
        `JWT ${a.alg} first-seen decision`,
        `≤ ${limit} × crypto.verify`,
        `${times(r)} (${formatNs(a.oursFirstSeen.medianNs)} vs ${formatNs(floor)})`,
        r <= limit,
        where,
        short(r, limit),
      ),
    );
    out.push(
      outcome(
        `JWT ${a.alg} verifier alone, first-seen`,
        `≤ ${JWT_VERIFIER_TARGET} × crypto.verify`,
        `${times(verifier)} (${formatNs(a.verifierFirstSeen.medianNs)})`,
        verifier <= JWT_VERIFIER_TARGET,
        where,
        short(verifier, JWT_VERIFIER_TARGET),
      ),
    );
    out.push(
      outcome(
        `JWT ${a.alg} repeated token`,
        `≤ ${formatNs(JWT_REPEATED_TARGET_NS)}`,
        formatNs(a.oursRepeated.medianNs),
        a.oursRepeated.medianNs <= JWT_REPEATED_TARGET_NS,
        () =>
          `the verifier's cache hit alone takes ${formatNs(a.verifierRepeated.medianNs)}; the rest is the decision ` +
          'around it: event normalization, Bearer parsing, route lookup and the cached policy',
        short(a.oursRepeated.medianNs, JWT_REPEATED_TARGET_NS),
      ),
    );
  }

  const observerLimit = `≤ ${formatNs(OBSERVER_TARGET_NS)} per decision`;
  if (isUnavailable(run.observer)) out.push(unavailable('Observer', observerLimit, run.observer.unavailable));
  else
    out.push(
      outcome(
        'Observer (one decision line with EMF)',
        observerLimit,
        `${formatNs(run.observer.medianNs)} (p99 ${formatNs(run.observer.p99Ns)})`,
        run.observer.medianNs <= OBSERVER_TARGET_NS,
        () => 'one JSON.stringify of the decision, the ISO timestamp and one write to stdout',
        short(run.observer.medianNs, OBSERVER_TARGET_NS),
      ),
    );

  if (isUnavailable(run.validation)) {
    out.push(
      unavailable(
        'Validation strict parse',
        `≤ ${VALIDATION_TARGETS.strictParse} × JSON.parse`,
        run.validation.unavailable,
      ),
    );
    out.push(
      unavailable(
        'Validation parse + validate',
        `≤ ${VALIDATION_TARGETS.parseAndValidate} × JSON.parse`,
        run.validation.unavailable,
      ),
    );
  } else {
    const v = run.validation;
    const floor = v.floor.medianNs;
    const strict = v.breakdown.find((b) => b.name.includes('strict'));
    const generated = v.breakdown.find((b) => b.name.includes('generated'));
    if (strict === undefined)
      out.push(
        unavailable(
          'Validation strict parse',
          `≤ ${VALIDATION_TARGETS.strictParse} × JSON.parse`,
          'not measured',
        ),
      );
    else {
      const r = strict.medianNs / floor;
      out.push(
        outcome(
          'Validation strict parse (~1 KB order)',
          `≤ ${VALIDATION_TARGETS.strictParse} × JSON.parse`,
          `${times(r)} (${formatNs(strict.medianNs)} vs ${formatNs(floor)})`,
          r <= VALIDATION_TARGETS.strictParse,
          () =>
            'JSON.parse itself, plus one pass over the text (members, depth) and one walk of the value (own keys)',
          short(r, VALIDATION_TARGETS.strictParse),
        ),
      );
    }
    const r = v.ours.medianNs / floor;
    out.push(
      outcome(
        'Validation strict parse + validate (~1 KB order)',
        `≤ ${VALIDATION_TARGETS.parseAndValidate} × JSON.parse`,
        `${times(r)} (${formatNs(v.ours.medianNs)} vs ${formatNs(floor)})`,
        r <= VALIDATION_TARGETS.parseAndValidate,
        () =>
          `strict parse ${strict === undefined ? '?' : times(strict.medianNs / floor)}; JSON.parse + the generated ` +
          `validator ${generated === undefined ? '?' : times(generated.medianNs / floor)}`,
        short(r, VALIDATION_TARGETS.parseAndValidate),
      ),
    );
  }

  for (const [name, limit] of Object.entries(COLD_START_TARGETS)) {
    const c = run.coldStart.results.find((x) => x.name === name);
    const label = `Cold start ${name}`;
    if (c === undefined || c.problem !== undefined) {
      out.push(unavailable(label, `≤ ${limit} ms over empty`, c?.problem ?? 'not measured in this run'));
      continue;
    }
    out.push(
      outcome(
        label,
        `≤ ${limit} ms over empty`,
        `${c.overEmptyMs.toFixed(1)} ms (import ${c.importMs.toFixed(1)} ms, first invocation ${c.invokeMs.toFixed(1)} ms)`,
        c.overEmptyMs <= limit,
        () => coldStartReason(run, name),
        short(c.overEmptyMs, limit),
      ),
    );
  }

  for (const [name, limit] of Object.entries(SIZE_TARGETS)) {
    const b = run.bundles.find((x) => x.name === name);
    const label = `Bundle ${name} (minified)`;
    if (b === undefined || b.bytes < 1024) {
      out.push(unavailable(label, `≤ ${limit / 1024} KB`, 'the function is not built yet'));
      continue;
    }
    // The validator's target is "40 KB plus its schemas": the generated validation modules grow
    // with the API. Bundled, they are in the handler; copied beside it (the file loader), only their
    // file names are.
    const inHandler = name === 'RequestValidatorFunction' ? (b.byOrigin.schemas ?? 0) : 0;
    const schemas = inHandler + (name === 'RequestValidatorFunction' ? b.besideBytes : 0);
    const counted = b.bytes - inHandler;
    out.push(
      outcome(
        label,
        schemas > 0 ? `≤ ${limit / 1024} KB + schemas` : `≤ ${limit / 1024} KB`,
        schemas > 0
          ? `${(counted / 1024).toFixed(1)} KB + ${(schemas / 1024).toFixed(1)} KB schemas${b.besideBytes > 0 ? ' (copied beside it, read per route)' : ''}`
          : `${(b.bytes / 1024).toFixed(1)} KB`,
        counted <= limit,
        () => {
          const deps = Object.entries(b.byOrigin)
            .filter(([o]) => o !== 'ours' && o !== 'schemas')
            .sort((x, y) => y[1] - x[1]);
          const listed = deps
            .slice(0, 4)
            .map(([o, n]) => `${o} ${(n / 1024).toFixed(1)} KB`)
            .join(', ');
          // For the JWT authorizer, `b` is handler.mjs (what every cold start reads); dpop.mjs, read
          // only for sender-constrained tokens, is beside it and not counted.
          const beside =
            name === 'JwtAuthorizerFunction' && b.besideBytes > 0
              ? `; not counted: dpop.mjs ${kb(b.besideBytes)}, read only for sender-constrained tokens. ` +
                'Tenant-bound paths and sender-constrained tokens also grew the shared files; ' +
                'test/bundle-size.test.ts gives what each added'
              : '';
          return `ours ${kb(b.byOrigin.ours ?? 0)} (${oursByArea(b.oursByInput)}); libraries: ${listed}${beside}`;
        },
        short(counted, limit),
      ),
    );
  }

  const hitLimit = `≤ ${formatNs(CREDENTIALS_HIT_TARGET_NS)}`;
  if (isUnavailable(run.credentials)) {
    out.push(unavailable('Credentials cache hit', hitLimit, run.credentials.unavailable));
    out.push(unavailable('Credentials cache miss', 'one GetItem, nothing more', run.credentials.unavailable));
  } else {
    const c = run.credentials;
    out.push(
      outcome(
        'Credentials cache hit (API key)',
        hitLimit,
        formatNs(c.hit.medianNs),
        c.hit.medianNs <= CREDENTIALS_HIT_TARGET_NS,
        () =>
          'a hit still runs the whole decision: event normalization, key parsing with its checksum, the ' +
          'secret hash compared in constant time, identity and policy',
        short(c.hit.medianNs, CREDENTIALS_HIT_TARGET_NS),
      ),
    );
    const extra = c.miss.medianNs - c.floor.medianNs - c.hit.medianNs;
    const onlyGetItem = /^1\.00 GetItem$/.test(c.getItemsPerMiss);
    out.push({
      target: 'Credentials cache miss',
      limit: 'one GetItem, nothing more',
      measured: `${c.getItemsPerMiss} per decision; ${formatNs(c.miss.medianNs)} vs GetItem ${formatNs(c.floor.medianNs)} + hit ${formatNs(c.hit.medianNs)} (residue ${formatNs(extra)})`,
      status: onlyGetItem ? 'pass' : 'short',
      note: onlyGetItem ? '' : 'a miss sends more than one GetItem',
    });
  }
  return out;
}

function coldStartReason(run: BenchRun, name: string): string {
  const bundleName = name.startsWith('JwtAuthorizerFunction') ? 'JwtAuthorizerFunction' : name;
  const b = run.bundles.find((x) => x.name === bundleName);
  const c = run.coldStart.results.find((x) => x.name === name);
  if (b === undefined || c === undefined) return 'see section 3';
  const parts = [`importing the ${(b.bytes / 1024).toFixed(0)} KB bundle takes ${c.importMs.toFixed(1)} ms`];
  parts.push(`the first invocation ${c.invokeMs.toFixed(1)} ms`);
  if (name === 'JwtAuthorizerFunction') parts.push('the JWKS download at init is part of the import');
  return parts.join(', ');
}
