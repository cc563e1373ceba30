import { Webhook } from 'standardwebhooks';
import { delivered, eventFor, isRetryable, retryDelayMs } from '../../../gateway/src/webhooks/webhook-policy';
import { WebhookSigner } from '../../../gateway/src/webhooks/webhook-signer';

describe('webhook policy', () => {
  it('should name one event per final status', () => {
    expect(eventFor('succeeded')).toBe('job.succeeded');
    expect(eventFor('failed')).toBe('job.failed');
    expect(eventFor('cancelled')).toBe('job.cancelled');
    expect(eventFor('queued')).toBeUndefined();
    expect(eventFor('running')).toBeUndefined();
  });

  it('should retry 5xx, 429, timeouts and refused or broken connections, and nothing else', () => {
    for (const status of [500, 502, 503, 504, 429]) expect(isRetryable({ status })).toBe(true);
    for (const status of [200, 204, 301, 400, 401, 404, 410]) expect(isRetryable({ status })).toBe(false);
    for (const failure of ['timeout', 'refused', 'unreachable'] as const) expect(isRetryable({ failure })).toBe(true);
    for (const failure of ['forbidden', 'bad-url', 'redirects'] as const) expect(isRetryable({ failure })).toBe(false);
    expect(delivered({ status: 204 })).toBe(true);
    expect(delivered({ status: 302 })).toBe(false);
    expect(delivered({ failure: 'timeout' })).toBe(false);
  });

  it('should back off exponentially with equal jitter, capped', () => {
    const low = (n: number) => retryDelayMs(n, 1000, 60_000, () => 0);
    const high = (n: number) => retryDelayMs(n, 1000, 60_000, () => 1);
    expect([1, 2, 3, 4].map(low)).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map(high)).toEqual([1000, 2000, 4000, 8000]);
    expect(high(20)).toBe(60_000);
    expect(low(20)).toBe(30_000);
    const mid = retryDelayMs(3, 1000, 60_000, () => 0.5);
    expect(mid).toBe(3000);
  });
});

describe(WebhookSigner.name, () => {
  const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

  it('should sign so that the Standard Webhooks library verifies, and not with another secret', () => {
    const body = JSON.stringify({ type: 'job.succeeded', data: { id: 'j1' } });
    const headers = new WebhookSigner(secret).headers('msg_j1', new Date(), body);
    expect(headers['webhook-id']).toBe('msg_j1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ type: 'job.succeeded', data: { id: 'j1' } });
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('j1', 'j2'), headers)).toThrow();
  });
});
