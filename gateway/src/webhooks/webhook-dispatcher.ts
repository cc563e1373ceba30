import { Logger } from '@nestjs/common';
import { toJobView } from '../api/job-view';
import { GatewayError } from '../common/errors';
import { withJobLogContext } from '../common/log-context';
import type { WebhookConfig } from '../config/config';
import { isTerminal, JobRecord, JobWebhook, WebhookAttempt } from '../jobs/job.types';
import { classify, OutboundError, OutboundHttp, parseOutboundUrl } from '../outbound/outbound-http';
import { urlError } from '../outbound/url-download';
import { AttemptOutcome, delivered, eventFor, isRetryable, retryDelayMs } from './webhook-policy';
import type { WebhookSchedule } from './webhook-schedule';
import { WebhookSigner } from './webhook-signer';

/** What the dispatcher needs of the jobs driver (JobsService and RedisJobsDriver both have it). */
export interface WebhookJobs {
  /** called with each job this process records as final */
  onFinal(listener: (job: JobRecord) => void): () => void;
  /** throws NOT_FOUND once the job is swept */
  get(id: string): JobRecord | Promise<JobRecord>;
  /** records a change on the job; false when it is gone */
  update(id: string, change: (job: JobRecord) => void): boolean | Promise<boolean>;
}

/**
 * Delivers a job's webhook once its final state is recorded: asynchronously (a render never waits
 * for a receiver), signed per Standard Webhooks, retried with backoff and jitter, every attempt
 * recorded on the job (GET /v1/jobs/:id shows them). The body is fixed before the first attempt
 * and every attempt carries webhook-id msg_<jobId>, so a receiver dedupes at-least-once deliveries.
 * When attempts are due and which process makes them is the schedule's business (webhook-schedule.ts):
 * this process's timers (embedded queue; pending deliveries resume at the next start) or a claimed
 * set in Redis shared by every replica (QUEUE=redis; a delivery whose process died is taken over).
 */
export class WebhookDispatcher {
  private readonly log = new Logger(WebhookDispatcher.name);
  private readonly signer?: WebhookSigner;
  private readonly inFlight = new Map<string, AbortController>();
  private unsubscribe?: () => void;
  private closed = false;

  constructor(
    private readonly jobs: WebhookJobs,
    private readonly schedule: WebhookSchedule,
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

  /** Subscribes to final states and starts the schedule (which resumes deliveries left pending). Without a secret nothing is sent. */
  start(): void {
    if (!this.signer) return;
    this.unsubscribe = this.jobs.onFinal((job) => {
      if (!this.closed && eventFor(job.status) && job.webhook?.state === 'pending') this.schedule.begin(job.id);
    });
    // every line a delivery logs carries its job's id, whichever process or timer makes it
    this.schedule.start((id) =>
      withJobLogContext(id, () => this.attempt(id)).catch((e) => this.log.warn(`webhook for job ${id}: ${String(e)}`)),
    );
  }

  /** Stops the schedule and in-flight attempts; what is pending stays recorded (and, with Redis, is handed back). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    const interrupted = [...this.inFlight.keys()];
    for (const a of this.inFlight.values()) a.abort();
    await this.schedule.close(interrupted);
  }

  private async findJob(id: string): Promise<JobRecord | undefined> {
    try {
      return await this.jobs.get(id);
    } catch {
      return undefined; // swept (result expired) while a delivery was pending
    }
  }

  private async attempt(id: string): Promise<void> {
    if (this.closed || !this.signer) return;
    const job = await this.findJob(id);
    const event = job && eventFor(job.status);
    let hook = job?.webhook;
    if (!job || !event || !hook || hook.state !== 'pending' || !isTerminal(job.status)) return this.schedule.settled(id);
    if (!hook.payload) {
      // The body is fixed now, before any attempt: the job as GET /v1/jobs/:id shows it at its final state.
      const payload = JSON.stringify({ type: event, timestamp: job.finishedAt ?? new Date().toISOString(), data: toJobView(job) });
      await this.jobs.update(id, (j) => {
        if (j.webhook) j.webhook.payload = payload;
      });
      hook = { ...hook, payload };
    }
    const n = hook.attempts.length + 1;
    const started = Date.now();
    const abort = new AbortController();
    this.inFlight.set(id, abort);
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(this.config.timeoutMs)]);
    let outcome: AttemptOutcome;
    let error: string | undefined;
    try {
      const headers = this.signer.headers(`msg_${id}`, new Date(), hook.payload!);
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
    if (this.closed) return; // interrupted by shutdown: not an attempt, it is made again
    const record: WebhookAttempt = { attempt: n, at: new Date(started).toISOString(), ms: Date.now() - started };
    if ('status' in outcome) record.status = outcome.status;
    else record.error = error;
    const ok = delivered(outcome);
    const retry = !ok && isRetryable(outcome) && n < this.config.maxAttempts;
    const delay = retry ? retryDelayMs(n, this.config.retryBaseMs, this.config.retryMaxMs, this.random) : 0;
    const still = await this.jobs.update(id, (j) => {
      const w = j.webhook!;
      w.attempts.push(record);
      w.state = ok ? 'delivered' : retry ? 'pending' : 'failed';
      if (retry) w.nextAttemptAt = new Date(Date.now() + delay).toISOString();
      else delete w.nextAttemptAt;
    });
    if (!ok && !retry) this.log.warn(`webhook for job ${id} failed after ${n} attempt(s)`);
    if (retry && still) await this.schedule.retryAt(id, Date.now() + delay);
    else await this.schedule.settled(id);
  }
}
