import { Logger } from '@nestjs/common';
import { randomUUID } from 'crypto';
import type { AppConfig } from '../../config/config';
import { GatewayError, toGatewayError } from '../../common/errors';
import type { BackendReadiness, InferenceBackend, InferOptions, Wav2LipBatch } from '../inference-backend';
import { splitBatch } from '../batch-check';
import { checkContract, FACE_ELEMENTS } from '../model-contract';
import { classifyInferFailure } from './triton-errors';
import { TritonGrpcClient } from './triton-grpc.client';
import { InFlightLimiter } from './in-flight-limiter';
import { backoffMs, shouldRetry, sleep } from './retry-policy';
import { buildInferRequest, extractMouth, signatureFromMetadata } from './triton-tensors';

/** Readiness probes get a short deadline of their own so a black-holed host cannot stall them. */
const PROBE_DEADLINE_MS = 5_000;

type NotReadyKind = 'unreachable' | 'contract' | 'starting';

/**
 * InferenceBackend over Triton's KServe v2 gRPC API. Readiness = ServerReady && ModelReady && the
 * ModelMetadata contract check, probed at start and every `readyPollMs`, cached for readiness().
 * infer(): bounded in-flight (backpressure), one deadline covering slot wait + retries, cancel on
 * abort, retries with jitter only for UNAVAILABLE. Batches above the served model's max_batch_size
 * (ModelConfig, read with the probe) are sent as consecutive chunks.
 */
export class TritonBackend implements InferenceBackend {
  readonly kind = 'triton' as const;
  private readonly logger = new Logger(TritonBackend.name);
  private readonly client: TritonGrpcClient;
  private readonly limiter: InFlightLimiter;
  private readonly settings: Required<AppConfig['triton']>;
  private state: BackendReadiness = { ready: false, reason: 'not started' };
  private notReadyKind: NotReadyKind = 'starting';
  private probe?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** the served model's max_batch_size (ModelConfig); undefined = no limit known (0 means no batching dimension) */
  private maxBatch?: number;

  constructor(config: AppConfig) {
    this.settings = { readyPollMs: 5_000, maxAttempts: 3, ...config.triton };
    this.client = new TritonGrpcClient(this.settings.url);
    this.limiter = new InFlightLimiter(this.settings.maxInFlight);
  }

  async start(): Promise<void> {
    await this.refreshReadiness();
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => void this.refreshReadiness(), this.settings.readyPollMs);
    this.timer.unref(); // the poller alone must not keep a CLI process alive
  }

  readiness(): BackendReadiness {
    return this.state;
  }

  /** Re-probes Triton now (deduplicated: concurrent callers share one probe). */
  refreshReadiness(): Promise<void> {
    if (!this.probe) {
      this.probe = this.probeOnce()
        .then((next) => {
          if (next.maxBatch !== undefined) this.maxBatch = next.maxBatch;
          this.setState(next.state, next.kind);
        })
        .finally(() => (this.probe = undefined));
    }
    return this.probe;
  }

  async infer(batch: Wav2LipBatch, opts: InferOptions = {}): Promise<Uint8Array> {
    const deadlineAt = Date.now() + (opts.deadlineMs ?? this.settings.deadlineMs);
    if (opts.signal?.aborted) throw new GatewayError('CANCELLED', 'the operation was cancelled');
    await this.ensureReady();
    const max = this.maxBatch;
    if (!max || batch.n <= max) return this.inferOne(batch, opts, deadlineAt);

    // Triton refuses a request above max_batch_size: send chunks; the first failure cancels the rest
    const inner = new AbortController();
    const relay = () => inner.abort();
    opts.signal?.addEventListener('abort', relay, { once: true });
    if (opts.signal?.aborted) inner.abort();
    try {
      const outs = await Promise.all(
        splitBatch(batch, max).map((chunk) =>
          this.inferOne(chunk, { ...opts, signal: inner.signal }, deadlineAt).catch((e: unknown) => {
            inner.abort();
            throw e;
          }),
        ),
      );
      const mouth = new Uint8Array(batch.n * FACE_ELEMENTS);
      outs.forEach((o, k) => mouth.set(o, k * max * FACE_ELEMENTS));
      return mouth;
    } finally {
      opts.signal?.removeEventListener('abort', relay);
    }
  }

  /** One ModelInfer request (n ≤ max_batch_size) with slot wait, retries and the caller's deadline. */
  private async inferOne(batch: Wav2LipBatch, opts: InferOptions, deadlineAt: number): Promise<Uint8Array> {
    const remaining = () => deadlineAt - Date.now();
    const request = buildInferRequest(this.settings.model, batch, randomUUID());
    const release = await this.limiter.acquire({ signal: opts.signal, timeoutMs: remaining() });
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          if (remaining() <= 0) throw this.deadlineError(opts);
          const res = await this.client.modelInfer(request, { deadlineMs: remaining(), signal: opts.signal });
          return extractMouth(res, batch.n);
        } catch (err) {
          const { retryable, error } = classifyInferFailure(err, opts.signal?.aborted ?? false);
          const waitMs = backoffMs(attempt);
          if (!retryable || !shouldRetry({ attempt, maxAttempts: this.settings.maxAttempts, waitMs, remainingMs: remaining() })) {
            if (retryable) void this.refreshReadiness();
            throw error;
          }
          this.logger.warn(`ModelInfer attempt ${attempt} failed (${(error as Error).message}); retrying in ${waitMs} ms`);
          await sleep(waitMs, opts.signal).catch(() => {
            throw new GatewayError('CANCELLED', 'the operation was cancelled');
          });
        }
      }
    } catch (err) {
      throw toGatewayError(err);
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.probe?.catch(() => undefined);
    this.client.close();
  }

  /** Fails fast when Triton is known to be down, after one fresh probe (so a recovered server is used at once). */
  private async ensureReady(): Promise<void> {
    if (this.state.ready) return;
    await this.refreshReadiness();
    if (this.state.ready) return;
    const code = this.notReadyKind === 'contract' ? 'MODEL_CONTRACT_MISMATCH' : 'BACKEND_UNAVAILABLE';
    throw new GatewayError(code, `Triton backend not ready: ${this.state.reason}`);
  }

  private deadlineError(opts: InferOptions): GatewayError {
    return new GatewayError(
      'DEADLINE_EXCEEDED',
      `Triton inference exceeded its ${opts.deadlineMs ?? this.settings.deadlineMs} ms deadline`,
    );
  }

  private async probeOnce(): Promise<{ state: BackendReadiness; kind: NotReadyKind; maxBatch?: number }> {
    const { url, model } = this.settings;
    const call = { deadlineMs: Math.min(PROBE_DEADLINE_MS, this.settings.deadlineMs) };
    try {
      if (!(await this.client.serverReady(call))) {
        return { state: { ready: false, reason: `Triton at ${url} reports the server not ready` }, kind: 'unreachable' };
      }
      if (!(await this.client.modelReady(model, call))) {
        return { state: { ready: false, reason: `Triton at ${url} reports model '${model}' not ready` }, kind: 'unreachable' };
      }
      const signature = signatureFromMetadata(await this.client.modelMetadata(model, call));
      const problems = checkContract(signature);
      if (problems.length) {
        const reason = `model '${model}' on Triton at ${url} does not match the contract: ${problems.join('; ')}`;
        return { state: { ready: false, reason, signature }, kind: 'contract' };
      }
      const config = await this.client.modelConfig(model, call);
      const maxBatch = Number(config.config?.max_batch_size ?? 0);
      return { state: { ready: true, signature }, kind: 'starting', maxBatch: Number.isInteger(maxBatch) && maxBatch > 0 ? maxBatch : 0 };
    } catch (err) {
      const reason = `Triton at ${url} unreachable: ${toGatewayError(err).message}`;
      return { state: { ready: false, reason }, kind: 'unreachable' };
    }
  }

  private setState(next: BackendReadiness, kind: NotReadyKind): void {
    const prev = this.state;
    this.state = next;
    this.notReadyKind = kind;
    // log transitions only, not every poll
    if (next.ready && !prev.ready) this.logger.log(`Triton became ready (${this.settings.url}, model '${this.settings.model}')`);
    else if (!next.ready && (prev.ready || prev.reason !== next.reason)) this.logger.warn(`Triton not ready: ${next.reason}`);
  }
}
