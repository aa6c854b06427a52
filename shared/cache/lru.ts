/**
 * A bounded least-recently-used map whose entries also expire. Used for verified tokens and for
 * credential lookups. `now` is passed in, so tests control time.
 */
export class ExpiringLru<K, V> {
  readonly #capacity: number;
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();

  /** @param capacity most entries kept; 0 disables the cache. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, when present and not expired at `now` (milliseconds). */
  get(key: K, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores a value until `expiresAt` (milliseconds); evicts the least recently used entry when full. */
  set(key: K, value: V, expiresAt: number): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
