/**
 * The verified-token cache: tokens already verified, until their `exp`, so a repeated token skips
 * every check. Keyed by the last 43 characters of the signature (256 bits of it), folded into a
 * 32-bit number (FNV-1a: no cryptographic hash, no substring to allocate and hash); an entry answers
 * only for the very token it was made for (full-string equality), so a token sharing the key —
 * crafted or by chance — never borrows another's claims.
 *
 * A two-way set-associative table in flat arrays rather than a `Map` with LRU order (as in
 * shared/cache/lru.ts): the key picks a pair of slots, and a new token takes the free one or the
 * one of the pair used less recently. A `Map` kept in LRU order deletes and re-inserts on every
 * miss once full, which cost 1.5–2.5 µs per first-seen token here; this costs a few compares.
 */

/** Characters of the token's end (its signature) that make the key. */
export const KEY_CHARS = 43;

/** The cache key of a token: FNV-1a over its last {@link KEY_CHARS} characters. */
export function tokenKey(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - KEY_CHARS); i < token.length; i++)
    hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  return hash;
}

export class VerifiedTokenCache<V> {
  readonly #sets: number;
  readonly #ways: number;
  readonly #keys: Int32Array;
  readonly #expires: Float64Array;
  readonly #tokens: (string | undefined)[];
  readonly #values: (V | undefined)[];
  /** Per set, the way used last. */
  readonly #recent: Uint8Array;
  #size = 0;

  /** @param capacity most entries kept; 0 disables the cache. */
  constructor(capacity: number) {
    this.#ways = capacity >= 2 ? 2 : 1;
    this.#sets = capacity === 0 ? 0 : Math.floor(capacity / this.#ways);
    const slots = this.#sets * this.#ways;
    this.#keys = new Int32Array(slots);
    this.#expires = new Float64Array(slots);
    this.#tokens = new Array<string | undefined>(slots).fill(undefined);
    this.#values = new Array<V | undefined>(slots).fill(undefined);
    this.#recent = new Uint8Array(this.#sets);
  }

  get size(): number {
    return this.#size;
  }

  /** The value stored for exactly this token (under its key), unless expired at `now` (ms). */
  get(key: number, token: string, now: number): V | undefined {
    if (this.#sets === 0) return undefined;
    const set = (key >>> 0) % this.#sets;
    for (let way = 0; way < this.#ways; way++) {
      const slot = set * this.#ways + way;
      if (this.#keys[slot] !== key || this.#tokens[slot] !== token) continue;
      if ((this.#expires[slot] as number) <= now) {
        this.#clear(slot);
        return undefined;
      }
      this.#recent[set] = way;
      return this.#values[slot];
    }
    return undefined;
  }

  /** Stores a value for a token until `expiresAt` (ms), in place of the pair's older entry. */
  set(key: number, token: string, value: V, expiresAt: number): void {
    if (this.#sets === 0) return;
    const set = (key >>> 0) % this.#sets;
    const base = set * this.#ways;
    // The same token again, else a free slot, else the slot of the pair used less recently.
    let way = -1;
    for (let w = 0; w < this.#ways && way < 0; w++)
      if (this.#keys[base + w] === key && this.#tokens[base + w] === token) way = w;
    for (let w = 0; w < this.#ways && way < 0; w++) if (this.#tokens[base + w] === undefined) way = w;
    if (way < 0) way = this.#ways === 1 ? 0 : 1 - (this.#recent[set] as number);
    const slot = base + way;
    if (this.#tokens[slot] === undefined) this.#size++;
    this.#keys[slot] = key;
    this.#tokens[slot] = token;
    this.#values[slot] = value;
    this.#expires[slot] = expiresAt;
    this.#recent[set] = way;
  }

  #clear(slot: number): void {
    this.#tokens[slot] = undefined;
    this.#values[slot] = undefined;
    this.#size--;
  }
}
