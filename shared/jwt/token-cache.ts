/**
 * The verified-token cache: tokens already verified, until their `exp`, so a repeated token skips
 * every check. Keyed by the last 43 characters of the signature (256 bits of it), folded into a
 * 32-bit number (FNV-1a: no cryptographic hash, no substring to allocate and hash); an entry answers
 * only for the very token it was made for (full-string equality), so a token sharing the key —
 * crafted or by chance — never borrows another's claims.
 *
 * Bounded, with second-chance ("CLOCK") eviction rather than the strict LRU of shared/cache/lru.ts:
 * a hit only sets a flag, where moving the entry to the back of the map (delete + insert) cost more
 * than the rest of the lookup on this, the hottest path of the JWT authorizer.
 */
interface Entry<V> {
  readonly token: string;
  readonly value: V;
  readonly expiresAt: number;
  used: boolean;
}

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
  readonly #capacity: number;
  readonly #entries = new Map<number, Entry<V>>();

  /** @param capacity most entries kept; 0 disables the cache. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value stored for exactly this token (under its key), unless expired at `now` (ms). */
  get(key: number, token: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry.value;
  }

  /** Stores a value for a token until `expiresAt` (ms), evicting when full. */
  set(key: number, token: string, value: V, expiresAt: number): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    // Oldest first: an entry used since it was last passed gets one more round at the back; the
    // first one not used goes. At most one pass clears every flag, so this ends.
    while (this.#entries.size >= this.#capacity) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [number, Entry<V>];
      this.#entries.delete(oldestKey);
      if (oldest.used) {
        oldest.used = false;
        this.#entries.set(oldestKey, oldest);
      }
    }
    this.#entries.set(key, { token, value, expiresAt, used: false });
  }
}
