import type { AllowEntry } from '../outbound/allow-hosts';
import type { TrustProxy } from './trust-proxy';

/** The typed configuration every other module receives (built from the environment by loadConfig, config.ts). */
export interface AppConfig {
  port: number;
  backend: 'onnx' | 'triton' | 'fake';
  modelPath: string;
  /** dBFS below which a frame's audio window counts as silent (render/silence.ts); optional so hand-built test configs stay valid */
  silenceThresholdDb?: number;
  /** a JSON table of checkpoints {name, file, sha256, bytes} to identify instead of the published ones (tests) */
  modelCheckpointTable?: string;
  /** precision the embedded backend must serve (MODEL_PRECISION); optional so hand-built test configs stay valid (fp32) */
  modelPrecision?: ModelPrecision;
  triton: {
    url: string;
    model: string;
    deadlineMs: number;
    maxInFlight: number;
    /** readiness poll period (ServerReady/ModelReady/ModelMetadata); optional so hand-built test configs stay valid */
    readyPollMs?: number;
    /** attempts per batch when Triton answers UNAVAILABLE (1 = no retry) */
    maxAttempts?: number;
  };
  batchSize: number;
  onnxThreads: number;
  encoder: 'auto' | 'libx264' | 'h264_nvenc';
  ffmpegPath: string;
  ffprobePath: string;
  dataDir: string;
  limits: {
    maxAudioSeconds: number;
    maxVideoSeconds: number;
    maxUploadBytes: number;
    maxImagePixels: number;
  };
  /** timeoutSeconds 0: each job's deadline scales with its audio (jobs/job-deadline.ts) */
  jobs: { concurrency: number; queueMax: number; resultTtlSeconds: number; timeoutSeconds: number };
  apiKeys: string[];
  /** Express `trust proxy`: false, a hop count or trusted proxy addresses/CIDRs (config/trust-proxy.ts) */
  trustProxy: TrustProxy;
  /** uploaded avatars: kept ttlSeconds (0 = for ever), prepared `concurrency` at once */
  avatars: { ttlSeconds: number; concurrency: number };
  rateLimitPerMinute: number;
  /** text-to-speech (espeak-ng); optional so hand-built test configs stay valid */
  speech?: { espeakPath: string; maxChars: number; defaultVoice: string };
  logLevel: string;
  /** server logs: one JSON object a line (default) or pino-pretty for a terminal; optional for hand-built test configs */
  logFormat?: 'json' | 'pretty';
  /** URL inputs and webhooks (optional so hand-built test configs stay valid) */
  outbound?: { allowHosts: AllowEntry[]; fetchTimeoutMs: number };
  webhooks?: WebhookConfig;
  idempotency?: { ttlSeconds: number };
  /** live sessions; optional so hand-built test configs stay valid (defaults: DEFAULT_SESSIONS_CONFIG) */
  sessions?: SessionsConfig;
  /** job queue driver, process role and Redis; optional so hand-built test configs stay valid (embedded, all) */
  queue?: {
    driver: 'embedded' | 'redis';
    role: 'all' | 'api' | 'worker';
    redisUrl: string;
    /** key prefix of everything the gateway keeps in Redis */
    prefix: string;
    /** runs of a job whose worker died (stalled) before it fails with JOB_ATTEMPTS_EXHAUSTED */
    maxAttempts: number;
    /** BullMQ lock: a worker that stops renewing it for this long is presumed dead (its job runs again) */
    lockMs: number;
  };
  /** per-batch latency of the fake backend (tests, the GPU stand-in of the scale bench) */
  fakeBatchDelayMs?: number;
}

export interface WebhookConfig {
  /** whsec_… (Standard Webhooks); webhooks are off without it */
  secret?: string;
  /** sent for jobs that name no webhookUrl of their own */
  defaultUrl?: string;
  maxAttempts: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface SessionsConfig {
  maxSessions: number;
  /** no client message (or no connection) for this long ends a session */
  idleTimeoutSeconds: number;
  /** longest session (wall time and timeline) */
  maxSeconds: number;
  batchSize: number;
  /** how long the timeline waits for audio before it plays idle frames */
  idleAfterMs: number;
  /** speech frames later than this for the model are shown without it (counted as dropped) */
  maxLagMs: number;
  /** bytes a slow reader may leave unread before the session is closed (SLOW_CONSUMER) */
  maxBufferedBytes: number;
}

export const DEFAULT_SESSIONS_CONFIG: SessionsConfig = {
  maxSessions: 4,
  idleTimeoutSeconds: 30,
  maxSeconds: 600,
  batchSize: 4,
  idleAfterMs: 300,
  maxLagMs: 3000,
  maxBufferedBytes: 8 * 1024 * 1024,
};

/** Precisions the embedded backend can serve: the FP32 export or the QDQ int8 one (scripts/setup-model.sh --int8). */
export type ModelPrecision = 'fp32' | 'int8';
