import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { ClaimResult, IdempotencyRecord, IdempotencyStore } from './idempotency-store';

/**
 * Idempotency records as files: DATA_DIR/idempotency/<sha256 of scope+key>.json (0600), always
 * written to a temp file first. A claim hard-links the temp file to the record's name (link fails
 * if the name exists: atomic, so two requests or processes sharing the directory cannot both own a
 * key, and the record is complete the moment it appears); completion renames a temp file over it.
 * A restart keeps every record.
 */
export class FileIdempotencyStore implements IdempotencyStore {
  constructor(private readonly dir: string) {}

  private file(name: string): string {
    if (!/^[a-f0-9]{64}$/.test(name)) throw new Error('idempotency record names are sha256 hex');
    return path.join(this.dir, `${name}.json`);
  }

  async claim(name: string, pending: IdempotencyRecord, now: number): Promise<ClaimResult> {
    const tmp = await this.writeTemp(name, pending);
    try {
      for (let tries = 0; tries < 5; tries++) {
        try {
          await fs.promises.link(tmp, this.file(name));
          return { kind: 'claimed' };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const existing = await this.read(name);
        if (existing && Date.parse(existing.expiresAt) > now) return { kind: 'exists', record: existing };
        // expired: remove it and try the exclusive link again
        await fs.promises.rm(this.file(name), { force: true });
      }
      throw new Error('could not claim an idempotency key');
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  async complete(name: string, record: IdempotencyRecord): Promise<void> {
    await fs.promises.rename(await this.writeTemp(name, record), this.file(name));
  }

  private async writeTemp(name: string, record: IdempotencyRecord): Promise<string> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    await fs.promises.writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    return tmp;
  }

  async release(name: string): Promise<void> {
    await fs.promises.rm(this.file(name), { force: true });
  }

  async sweep(now: number, pendingOlderThanMs: number): Promise<number> {
    const names = await fs.promises.readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const n of names) {
      if (n.endsWith('.tmp')) {
        // left by a crash mid-write (a live one is gone within milliseconds)
        const p = path.join(this.dir, n);
        const st = await fs.promises.stat(p).catch(() => undefined);
        if (st && now - st.mtimeMs > 60_000) await fs.promises.rm(p, { force: true });
        continue;
      }
      const m = /^([a-f0-9]{64})\.json$/.exec(n);
      if (!m) continue;
      const rec = await this.read(m[1]);
      const stalePending = rec?.state === 'pending' && now - Date.parse(rec.createdAt) >= pendingOlderThanMs;
      if (rec && (Date.parse(rec.expiresAt) <= now || stalePending)) {
        await fs.promises.rm(path.join(this.dir, n), { force: true });
        removed++;
      }
    }
    return removed;
  }

  private async read(name: string): Promise<IdempotencyRecord | undefined> {
    try {
      return JSON.parse(await fs.promises.readFile(this.file(name), 'utf8')) as IdempotencyRecord;
    } catch {
      return undefined;
    }
  }
}
