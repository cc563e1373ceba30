import { LruCache } from '../../../gateway/src/face/lru-cache';

describe(LruCache.name, () => {
  it('should evict the least recently used entry beyond maxEntries', () => {
    const sut = new LruCache<number>(2);
    sut.set('a', 1);
    sut.set('b', 2);
    expect(sut.get('a')).toBe(1); // a is now the most recent
    sut.set('c', 3);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')).toBe(1);
    expect(sut.get('c')).toBe(3);
  });

  it('should evict by total size and refuse a value larger than the cap', () => {
    const sut = new LruCache<string>(10, 100);
    sut.set('a', 'A', 60);
    sut.set('b', 'B', 30);
    sut.set('c', 'C', 30);
    expect(sut.get('a')).toBeUndefined();
    expect(sut.size).toBe(2);
    sut.set('huge', 'H', 101);
    expect(sut.get('huge')).toBeUndefined();
    expect(sut.get('b')).toBe('B');
  });

  it('should delete entries', () => {
    const sut = new LruCache<number>(2);
    sut.set('a', 1);
    expect(sut.delete('a')).toBe(true);
    expect(sut.delete('a')).toBe(false);
    expect(sut.size).toBe(0);
  });
});
