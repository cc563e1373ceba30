import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

/**
 * The one owner of ioredis connections. Commands wait in ioredis's offline queue while Redis is
 * away (maxRetriesPerRequest null, as BullMQ requires), so a Redis restart delays requests
 * instead of failing them; pub/sub needs a connection of its own.
 */
export class RedisConnections {
  private readonly log = new Logger(RedisConnections.name);
  private readonly opened: Redis[] = [];
  /** commands: job records, cancel flags, rate limits, key-value store */
  readonly client: Redis;
  private sub?: Redis;

  constructor(
    readonly url: string,
    readonly prefix: string,
  ) {
    this.client = this.open('client');
  }

  /** A fresh connection (BullMQ queues and workers each want their own). */
  open(name: string): Redis {
    const conn = new Redis(this.url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      connectionName: `lipsync-${name}`,
      lazyConnect: false,
    });
    let down = false;
    conn.on('error', (e: Error) => {
      if (!down) this.log.warn(`redis (${name}) unavailable: ${e.message}`);
      down = true;
    });
    conn.on('ready', () => {
      if (down) this.log.log(`redis (${name}) is back`);
      down = false;
    });
    this.opened.push(conn);
    return conn;
  }

  /** The subscriber connection (created on first use). */
  get subscriber(): Redis {
    this.sub ??= this.open('subscriber');
    return this.sub;
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
