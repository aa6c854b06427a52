/**
 * Fills the placeholders of a sample event that make a sender-constrained request: tokens bound to
 * a DPoP key or a client certificate, DPoP proofs, and client certificates, besides plain tokens
 * (docs/events.md#placeholders). Keys, certificates and proofs are made fresh for each event, so no
 * secret is ever committed:
 *
 * - `{{gatehouse:cert name=alice}}`: the PEM of a client certificate `alice` (a CA made for the
 *   event issues it), for `clientCert.clientCertPem`;
 * - `{{gatehouse:token ... dpop=1 cert=alice}}`: a token whose `cnf` binds it to the event's DPoP
 *   key (`dpop=1`) and/or to certificate `alice`; the other words are those of plain tokens;
 * - `{{gatehouse:dpop method=GET url=https://... [key=other] [token=other] [iat=-300] [replayed=1]}}`:
 *   a proof for that request by the event's DPoP key, with `ath` of the event's one `dpop=1` token.
 *   `key=other` signs with another key, `token=other` hashes another token, `iat` offsets the
 *   issue time in seconds, `replayed=1` records the proof as already used in the function's replay
 *   store before the event is handed over (only tools that reach that store can).
 */
import { randomUUID } from 'node:crypto';
import { normalizeHttpUri } from '../../shared/dpop/htu.ts';
import { type DpopKey, generateDpopKey } from '../dpop/dpop-key.ts';
import { createDpopProof } from '../dpop/proof.ts';
import { type MintOptions, parseMintWords } from './local-issuer.ts';

/** What filling needs from the tool that runs the event. */
export interface PlaceholderTools {
  /** Mints a token (the local or the published issuer). */
  mint(options: MintOptions): string;
  /**
   * Records a proof as used in the replay store the function will consult; undefined where the
   * tool cannot reach it (then `replayed=1` is refused).
   */
  claimProof?: ((jti: string, htu: string, expiresAt: number) => Promise<void>) | undefined;
  /** Clock for `iat` (epoch seconds). */
  now?: () => number;
}

const TOKEN = /\{\{gatehouse:token([^}]*)\}\}/g;
const DPOP = /\{\{gatehouse:dpop([^}]*)\}\}/g;
const CERT = /\{\{gatehouse:cert([^}]*)\}\}/g;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function words(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of raw.matchAll(/([\w-]+)=(?:'([^']*)'|"([^"]*)"|\\"([^\\]*)\\"|(\S+))/g))
    out.set(m[1] as string, m[2] ?? m[3] ?? m[4] ?? m[5] ?? '');
  return out;
}

function known(given: Map<string, string>, allowed: readonly string[], kind: string): void {
  for (const name of given.keys())
    if (!allowed.includes(name)) throw new Error(`unknown ${kind} option ${name} (${allowed.join(', ')})`);
}

/** A JSON string's inside for `value` (placeholders sit inside JSON strings). */
const inJson = (value: string) => JSON.stringify(value).slice(1, -1);

/** Whether an event has placeholders only {@link fillEventPlaceholders} fills (bound tokens, proofs, certificates). */
export function hasSenderPlaceholders(event: unknown): boolean {
  const text = JSON.stringify(event);
  return /\{\{gatehouse:(dpop|cert)[\s}]/.test(text) || /\{\{gatehouse:token[^}]*\b(dpop|cert)=/.test(text);
}

/** Whether an event asks for a replayed proof (`replayed=1`), which needs the function's replay store. */
export function asksForReplay(event: unknown): boolean {
  return /\{\{gatehouse:dpop[^}]*\breplayed=/.test(JSON.stringify(event));
}

/**
 * Replaces every `{{gatehouse:token|dpop|cert ...}}` placeholder. The same placeholder text twice
 * is the same value (`headers` and `multiValueHeaders` must agree). Throws with the reason for a
 * placeholder it cannot fill.
 */
export async function fillEventPlaceholders(event: unknown, tools: PlaceholderTools): Promise<unknown> {
  let text = JSON.stringify(event);
  const nowSeconds = Math.floor((tools.now ?? Date.now)() / 1000);

  // Certificates first: tokens bound to them need their thumbprints.
  const certNames = new Set<string>();
  for (const m of text.matchAll(CERT)) {
    const w = words(m[1] as string);
    known(w, ['name'], 'cert');
    certNames.add(w.get('name') ?? 'client');
  }
  for (const m of text.matchAll(TOKEN)) {
    const name = words(m[1] as string).get('cert');
    if (name !== undefined) certNames.add(name);
  }
  const certificates = new Map<string, { pem: string; thumbprint: string }>();
  if (certNames.size > 0) {
    // Loaded only for events that need certificates (@peculiar/x509 is a development dependency).
    const { createCa, issueCertificate } = await import('../certs/local-ca.ts');
    const ca = await createCa('Gatehouse Event CA', 1);
    for (const name of certNames) {
      if (!NAME.test(name))
        throw new Error(`cert name ${JSON.stringify(name)} must be letters, digits, . _ -`);
      const cert = await issueCertificate(ca, { commonName: name, kind: 'client', days: 1 });
      certificates.set(name, { pem: cert.certificatePem, thumbprint: cert.thumbprint });
    }
  }
  text = text.replace(CERT, (_all, raw: string) => {
    const cert = certificates.get(words(raw).get('name') ?? 'client');
    return inJson(cert?.pem ?? '');
  });

  // Tokens: one DPoP key per event, for every `dpop=1` token and for the proofs.
  let dpopKey: DpopKey | undefined;
  const keyOf = () => {
    dpopKey ??= generateDpopKey('ES256');
    return dpopKey;
  };
  const minted = new Map<string, string>();
  const dpopBound = new Set<string>();
  text = text.replace(TOKEN, (all, raw: string) => {
    const seen = minted.get(all);
    if (seen !== undefined) return seen;
    const w = words(raw);
    const dpop = w.get('dpop');
    const cert = w.get('cert');
    if (dpop !== undefined && dpop !== '1') throw new Error('token option dpop must be 1');
    // The other words are a plain token's (parseMintWords refuses unknown ones).
    const rest = raw.replace(/\b(dpop|cert)=(?:'[^']*'|"[^"]*"|\S+)/g, '');
    const options: MintOptions = {
      ...parseMintWords(rest),
      ...(dpop === undefined ? {} : { dpopJkt: keyOf().thumbprint }),
      ...(cert === undefined ? {} : { certificateThumbprint: certificates.get(cert)?.thumbprint as string }),
    };
    const token = tools.mint(options);
    minted.set(all, token);
    if (dpop !== undefined) dpopBound.add(token);
    return token;
  });

  // Proofs last: their `ath` is the hash of the event's DPoP-bound token.
  const proofs = new Map<string, string>();
  const claims: Promise<void>[] = [];
  text = text.replace(DPOP, (all, raw: string) => {
    const seen = proofs.get(all);
    if (seen !== undefined) return seen;
    const w = words(raw);
    checkProofWords(w);
    const method = w.get('method');
    const url = w.get('url');
    if (method === undefined || !/^[A-Z]+$/.test(method)) throw new Error('dpop needs method=<METHOD>');
    if (url === undefined || normalizeHttpUri(url) === undefined)
      throw new Error('dpop needs url=<absolute http(s) URL>');
    if (dpopBound.size !== 1)
      throw new Error(
        'a {{gatehouse:dpop}} placeholder needs exactly one {{gatehouse:token dpop=1}} in the event',
      );
    const boundToken = [...dpopBound][0] as string;
    const key = w.get('key') === 'other' ? generateDpopKey('ES256') : keyOf();
    const accessToken = w.get('token') === 'other' ? tools.mint({}) : boundToken;
    const iat = nowSeconds + Number(w.get('iat') ?? 0);
    const jti = randomUUID();
    const proof = createDpopProof(key, { method, url, accessToken, iat, jti });
    if (w.get('replayed') !== undefined) {
      if (tools.claimProof === undefined)
        throw new Error(
          'replayed=1 records the proof in the function replay store, which only local runs with the embedded database reach (npm run invoke)',
        );
      // Recorded for ten minutes: longer than any accepted iat window.
      claims.push(tools.claimProof(jti, normalizeHttpUri(url) as string, (iat + 600) * 1000));
    }
    proofs.set(all, proof);
    return proof;
  });
  await Promise.all(claims);
  return JSON.parse(text);
}

function checkProofWords(w: Map<string, string>): void {
  known(w, ['method', 'url', 'key', 'token', 'iat', 'replayed'], 'dpop');
  if (w.has('key') && w.get('key') !== 'other') throw new Error('dpop option key must be other');
  if (w.has('token') && w.get('token') !== 'other') throw new Error('dpop option token must be other');
  if (w.has('iat') && !/^-?\d+$/.test(w.get('iat') as string))
    throw new Error('dpop option iat must be an integer');
  if (w.has('replayed') && w.get('replayed') !== '1') throw new Error('dpop option replayed must be 1');
}
