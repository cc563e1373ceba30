import { Logger } from '@nestjs/common';
import { toJobView } from '../api/job-view';
import { GatewayError } from '../common/errors';
import type { WebhookConfig } from '../config/config';
import type { JobsService } from '../jobs/jobs.service';
import { isTerminal, JobRecord, JobWebhook, WebhookAttempt } from '../jobs/job.types';
import { classify, OutboundError, OutboundHttp, parseOutboundUrl } from '../outbound/outbound-http';
import { urlError } from '../outbound/url-download';
import { AttemptOutcome, delivered, eventFor, isRetryable, retryDelayMs } from './webhook-policy';
import { WebhookSigner } from './webhook-signer';

/**
 * Delivers a job's webhook once its final state is recorded: asynchronously (a render never waits
 * for a receiver), signed per Standard Webhooks, retried with backoff and jitter, every attempt
 * journaled on the job (GET /v1/jobs/:id shows them). A delivery still pending at shutdown resumes
 * at the next start with the same webhook-id and body (at-least-once: receivers dedupe on the id).
 */
export class WebhookDispatcher {
  private readonly log = new Logger(WebhookDispatcher.name);
  private readonly signer?: WebhookSigner;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, AbortController>();
  private unsubscribe?: () => void;
  private closed = false;

  constructor(
    private readonly jobs: JobsService,
    private readonly http: OutboundHttp,
    private readonly config: WebhookConfig,
    private readonly random: () => number = Math.random,
  ) {
    if (config.secret) this.signer = new WebhookSigner(config.secret);
  }

  /** The webhook a new job gets (its own URL, else WEBHOOK_URL), checked before the 202; undefined for none. */
  forNewJob(requested: string | undefined): JobWebhook | undefined {
    const raw = requested ?? this.config.defaultUrl;
    if (!raw) return undefined;
    if (!this.signer)
      throw new GatewayError('VALIDATION_FAILED', 'webhookUrl needs WEBHOOK_SECRET on the server (webhooks are always signed)');
    try {
      const url = parseOutboundUrl(raw);
      this.http.checkUrl(url);
      return { url: url.toString(), state: 'pending', attempts: [] };
    } catch (err) {
      throw urlError('webhookUrl', err);
    }
  }

  /** Subscribes to final states and resumes deliveries left pending by a previous run. */
  start(): void {
    this.unsubscribe = this.jobs.onFinal((job) => this.begin(job));
    for (const job of this.jobs.list()) {
      if (!isTerminal(job.status) || job.webhook?.state !== 'pending') continue;
      if (!job.webhook.payload) this.begin(job);
      else this.schedule(job.id, Math.max(0, Date.parse(job.webhook.nextAttemptAt ?? '') - Date.now() || 0));
    }
  }

  /** Stops timers and in-flight attempts; what is pending stays journaled for the next start. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const a of this.inFlight.values()) a.abort();
  }

  private begin(job: JobRecord): void {
    const event = eventFor(job.status);
    if (this.closed || !event || job.webhook?.state !== 'pending' || !this.signer) return;
    // The body is fixed now: the job as GET /v1/jobs/:id shows it at its final state.
    const payload = JSON.stringify({ type: event, timestamp: job.finishedAt ?? new Date().toISOString(), data: toJobView(job) });
    this.jobs.update(job.id, (j) => {
      if (j.webhook) j.webhook.payload = payload;
    });
    this.schedule(job.id, 0);
  }

  private findJob(id: string): JobRecord | undefined {
    try {
      return this.jobs.get(id);
    } catch {
      return undefined; // swept (result expired) while a delivery was pending
    }
  }

  private schedule(id: string, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => void this.attempt(id).catch((e) => this.log.warn(`webhook for job ${id}: ${String(e)}`)), delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  private async attempt(id: string): Promise<void> {
    this.timers.delete(id);
    const hook = this.findJob(id)?.webhook;
    if (this.closed || !hook || hook.state !== 'pending' || !hook.payload || !this.signer) return;
    const n = hook.attempts.length + 1;
    const started = Date.now();
    const abort = new AbortController();
    this.inFlight.set(id, abort);
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(this.config.timeoutMs)]);
    let outcome: AttemptOutcome;
    let error: string | undefined;
    try {
      const headers = this.signer.headers(`msg_${id}`, new Date(), hook.payload);
      const res = await this.http.send(hook.url, { method: 'POST', headers, body: hook.payload, signal });
      res.body.resume();
      outcome = { status: res.status };
    } catch (err) {
      const e = err instanceof OutboundError ? err : classify(err, signal);
      outcome = { failure: e.kind };
      error = e.message;
    } finally {
      this.inFlight.delete(id);
    }
    if (this.closed) return; // interrupted by shutdown: not an attempt, the next start tries again
    const record: WebhookAttempt = { attempt: n, at: new Date(started).toISOString(), ms: Date.now() - started };
    if ('status' in outcome) record.status = outcome.status;
    else record.error = error;
    const ok = delivered(outcome);
    const retry = !ok && isRetryable(outcome) && n < this.config.maxAttempts;
    const delay = retry ? retryDelayMs(n, this.config.retryBaseMs, this.config.retryMaxMs, this.random) : 0;
    this.jobs.update(id, (j) => {
      const w = j.webhook!;
      w.attempts.push(record);
      w.state = ok ? 'delivered' : retry ? 'pending' : 'failed';
      if (retry) w.nextAttemptAt = new Date(Date.now() + delay).toISOString();
      else delete w.nextAttemptAt;
    });
    if (!ok && !retry) this.log.warn(`webhook for job ${id} failed after ${n} attempt(s)`);
    if (retry) this.schedule(id, delay);
  }
}
