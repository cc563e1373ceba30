/** A small LRU bounded by entry count and by a total size (e.g. bytes of decoded frames). */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; size: number }>();
  private total = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxSize = Number.POSITIVE_INFINITY,
  ) {}

  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key); // re-insert: Map order is the recency order
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, size = 0): void {
    this.delete(key);
    if (this.maxEntries <= 0 || size > this.maxSize) return; // too big to keep: callers still get their value
    this.map.set(key, { value, size });
    this.total += size;
    while (this.map.size > this.maxEntries || this.total > this.maxSize) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): boolean {
    const hit = this.map.get(key);
    if (!hit) return false;
    this.total -= hit.size;
    return this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
