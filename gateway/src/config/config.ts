import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultDataDir } from '../common/data-dir';
import { REMOTE_INFER_DEPTH } from '../inference/inference-backend';
import { AllowEntry, literalHostRefusal, parseAllowHosts } from '../outbound/allow-hosts';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';

/**
 * Environment configuration, validated once at boot. This is the only file that reads
 * `process.env`: everything else receives an `AppConfig`.
 */
// Standard Webhooks secrets: "whsec_" + base64 of 24–64 random bytes (32–88 base64 characters).
const WEBHOOK_SECRET_PATTERN = /^whsec_(?=[A-Za-z0-9+/=]{32,88}$)[A-Za-z0-9+/]+={0,2}$/;
const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

export class EnvDto {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT?: number;
  @IsOptional() @IsIn(['onnx', 'triton', 'fake']) INFERENCE_BACKEND?: 'onnx' | 'triton' | 'fake';
  @IsOptional() @IsString() MODEL_PATH?: string;
  @IsOptional() @IsString() MODEL_CHECKPOINT_TABLE?: string;
  // INT8 on the CPU (issue 13): which model file the embedded backend loads by default
  @IsOptional() @IsIn(['fp32', 'int8']) MODEL_PRECISION?: ModelPrecision;
  @IsOptional() @Transform(toInt) @IsNumber() @Min(-100) @Max(0) SILENCE_THRESHOLD_DB?: number;
  @IsOptional() @IsString() TRITON_URL?: string;
  @IsOptional() @IsString() TRITON_MODEL?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(600_000) TRITON_DEADLINE_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(4096) TRITON_MAX_IN_FLIGHT?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(600_000) TRITON_READY_POLL_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10) TRITON_MAX_ATTEMPTS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(128) BATCH_SIZE?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(16) ONNX_THREADS?: number;
  @IsOptional() @IsIn(['auto', 'libx264', 'h264_nvenc']) ENCODER?: 'auto' | 'libx264' | 'h264_nvenc';
  @IsOptional() @IsString() FFMPEG_PATH?: string;
  @IsOptional() @IsString() FFPROBE_PATH?: string;
  @IsOptional() @IsString() DATA_DIR?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(7200) MAX_AUDIO_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(600) MAX_VIDEO_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) MAX_UPLOAD_BYTES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(64 * 64) MAX_IMAGE_PIXELS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64) JOB_CONCURRENCY?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) QUEUE_MAX?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) RESULT_TTL_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(7 * 24 * 3600) JOB_TIMEOUT_SECONDS?: number;
  @IsOptional() @IsString() API_KEYS?: string;
  @IsOptional() @IsString() TRUST_PROXY?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) AVATAR_TTL_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64) AVATAR_CONCURRENCY?: number;
  @IsOptional() @IsString() ESPEAK_PATH?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000) TTS_MAX_CHARS?: number;
  @IsOptional() @IsString() @Matches(/^[A-Za-z][A-Za-z0-9_/-]{0,39}(\+[A-Za-z0-9_-]{1,20})?$/) TTS_DEFAULT_VOICE?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_PER_MINUTE?: number;
  @IsOptional() @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL?: string;
  @IsOptional() @IsIn(['json', 'pretty']) LOG_FORMAT?: 'json' | 'pretty';
  @IsOptional() @IsString() OUTBOUND_ALLOW_HOSTS?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(600_000) URL_FETCH_TIMEOUT_MS?: number;
  @IsOptional()
  @IsString()
  @Matches(WEBHOOK_SECRET_PATTERN, { message: 'WEBHOOK_SECRET must be whsec_ followed by base64 (24–64 bytes)' })
  WEBHOOK_SECRET?: string;
  @IsOptional() @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'WEBHOOK_URL must be an http(s) URL' }) WEBHOOK_URL?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(20) WEBHOOK_MAX_ATTEMPTS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(120_000) WEBHOOK_TIMEOUT_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(3_600_000) WEBHOOK_RETRY_BASE_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(86_400_000) WEBHOOK_RETRY_MAX_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(60) @Max(30 * 86_400) IDEMPOTENCY_TTL_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1000) MAX_SESSIONS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(3600) SESSION_IDLE_TIMEOUT_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(7200) SESSION_MAX_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64) SESSION_BATCH_SIZE?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(60_000) SESSION_IDLE_AFTER_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(600_000) SESSION_MAX_LAG_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(64 * 1024) SESSION_MAX_BUFFERED_BYTES?: number;
  @IsOptional() @IsIn(['embedded', 'redis']) QUEUE?: 'embedded' | 'redis';
  @IsOptional() @IsString() @Matches(/^rediss?:\/\/[^\s]+$/) REDIS_URL?: string;
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_:-]{1,40}$/) REDIS_PREFIX?: string;
  @IsOptional() @IsIn(['all', 'api', 'worker']) ROLE?: 'all' | 'api' | 'worker';
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(20) JOB_MAX_ATTEMPTS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) JOB_LOCK_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(60_000) FAKE_BATCH_DELAY_MS?: number;
}

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

export class ConfigError extends Error {}

/** Precisions the embedded backend can serve: the FP32 export or the QDQ int8 one (scripts/setup-model.sh --int8). */
export type ModelPrecision = 'fp32' | 'int8';

/** Where scripts/setup-model.sh puts each precision's model (Triton model names wav2lip / wav2lip_int8). */
/**
 * TRITON_MAX_IN_FLIGHT when unset: every request this process can have open at once (each job and each
 * live session keeps REMOTE_INFER_DEPTH in flight), so the bound never holds back the requests Triton's
 * dynamic batcher would merge. With a lower bound the requests that wait here reach Triton one by one as
 * slots free, mostly outside its 2 ms queue delay: merging drops to about one request per execution.
 */
export function defaultTritonInFlight(jobConcurrency: number, maxSessions: number): number {
  return Math.max(1, REMOTE_INFER_DEPTH * (jobConcurrency + maxSessions));
}

export function defaultModelPath(precision: ModelPrecision): string {
  return path.join(REPO_ROOT, 'model_repository', precision === 'int8' ? 'wav2lip_int8' : 'wav2lip', '1', 'model.onnx');
}

/** The repository (or image) root: the nearest folder up with package.json, from gateway/src (ts) or dist/ (compiled). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start, '..', '..', '..');
    dir = up;
  }
}

/** This process's environment with some variables replaced (CLI flags that map to env config, child processes); undefined values change nothing. */
export function envWith(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) env[k] = v;
  return env;
}

/** Validates an environment (default: process.env) and returns the typed config; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const dto = plainToInstance(EnvDto, { ...env }, { excludeExtraneousValues: false });
  const errors = validateSync(dto, { whitelist: false, forbidUnknownValues: false });
  if (errors.length) {
    const lines = errors.map((e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  let allowHosts: AllowEntry[];
  try {
    allowHosts = parseAllowHosts(dto.OUTBOUND_ALLOW_HOSTS);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${(err as Error).message}`);
  }
  if (dto.WEBHOOK_URL && !dto.WEBHOOK_SECRET)
    throw new ConfigError('invalid configuration:\n  WEBHOOK_URL needs WEBHOOK_SECRET (webhooks are always signed)');
  const webhookUrl = dto.WEBHOOK_URL && URL.canParse(dto.WEBHOOK_URL) ? new URL(dto.WEBHOOK_URL) : undefined;
  if (dto.WEBHOOK_URL && !webhookUrl) throw new ConfigError('invalid configuration:\n  WEBHOOK_URL is not a URL');
  const webhookRefusal = webhookUrl ? literalHostRefusal(webhookUrl, allowHosts) : undefined;
  if (webhookRefusal) throw new ConfigError(`invalid configuration:\n  WEBHOOK_URL ${webhookRefusal} (add it to OUTBOUND_ALLOW_HOSTS)`);
  const trust = parseTrustProxy(dto.TRUST_PROXY);
  if ('error' in trust) throw new ConfigError(`invalid configuration:\n  TRUST_PROXY=${JSON.stringify(dto.TRUST_PROXY)}: ${trust.error}`);
  const backend = dto.INFERENCE_BACKEND ?? 'onnx';
  const driver = dto.QUEUE ?? 'embedded';
  const role = dto.ROLE ?? 'all';
  // Separate API and worker processes only make sense around a shared queue.
  if (driver === 'embedded' && role !== 'all')
    throw new ConfigError(`invalid configuration:\n  ROLE=${role} needs QUEUE=redis (the embedded queue lives in one process)`);
  const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  // onnx on CPU fills the cores with one job; on Triton the GPU is shared and several jobs in
  // flight let its dynamic batcher merge their requests (per-job CPU work is compositing + x264)
  const jobConcurrency = dto.JOB_CONCURRENCY ?? (backend === 'triton' ? 8 : 1);
  const maxSessions = dto.MAX_SESSIONS ?? DEFAULT_SESSIONS_CONFIG.maxSessions;
  return {
    port: dto.PORT ?? 8080,
    backend,
    modelPath: path.resolve(dto.MODEL_PATH ?? defaultModelPath(dto.MODEL_PRECISION ?? 'fp32')),
    silenceThresholdDb: dto.SILENCE_THRESHOLD_DB ?? -40,
    modelCheckpointTable: dto.MODEL_CHECKPOINT_TABLE ? path.resolve(dto.MODEL_CHECKPOINT_TABLE) : undefined,
    modelPrecision: dto.MODEL_PRECISION ?? 'fp32',
    triton: {
      url: dto.TRITON_URL ?? 'localhost:8001',
      model: dto.TRITON_MODEL ?? 'wav2lip',
      deadlineMs: dto.TRITON_DEADLINE_MS ?? 30_000,
      maxInFlight: dto.TRITON_MAX_IN_FLIGHT ?? defaultTritonInFlight(jobConcurrency, maxSessions),
      readyPollMs: dto.TRITON_READY_POLL_MS ?? 5_000,
      maxAttempts: dto.TRITON_MAX_ATTEMPTS ?? 3,
    },
    batchSize: dto.BATCH_SIZE ?? (backend === 'triton' ? 64 : 32),
    onnxThreads: dto.ONNX_THREADS ?? cores,
    encoder: dto.ENCODER ?? 'auto',
    ffmpegPath: dto.FFMPEG_PATH ?? 'ffmpeg',
    ffprobePath: dto.FFPROBE_PATH ?? 'ffprobe',
    // a private state folder by default, never the shared temp folder (issue 10, item 3)
    dataDir: path.resolve(dto.DATA_DIR || defaultDataDir(env)),
    limits: {
      maxAudioSeconds: dto.MAX_AUDIO_SECONDS ?? 600,
      maxVideoSeconds: dto.MAX_VIDEO_SECONDS ?? 60,
      maxUploadBytes: dto.MAX_UPLOAD_BYTES ?? 100 * 1024 * 1024,
      maxImagePixels: dto.MAX_IMAGE_PIXELS ?? 4096 * 4096,
    },
    jobs: {
      concurrency: jobConcurrency,
      queueMax: dto.QUEUE_MAX ?? 100,
      resultTtlSeconds: dto.RESULT_TTL_SECONDS ?? 24 * 3600,
      timeoutSeconds: dto.JOB_TIMEOUT_SECONDS ?? 0,
    },
    apiKeys: (dto.API_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
    trustProxy: trust.value,
    avatars: { ttlSeconds: dto.AVATAR_TTL_SECONDS ?? 30 * 24 * 3600, concurrency: dto.AVATAR_CONCURRENCY ?? 2 },
    rateLimitPerMinute: dto.RATE_LIMIT_PER_MINUTE ?? 120,
    speech: {
      espeakPath: dto.ESPEAK_PATH ?? 'espeak-ng',
      maxChars: dto.TTS_MAX_CHARS ?? 2000,
      defaultVoice: dto.TTS_DEFAULT_VOICE ?? 'en-us',
    },
    logLevel: dto.LOG_LEVEL ?? 'log',
    logFormat: dto.LOG_FORMAT ?? 'json',
    outbound: { allowHosts, fetchTimeoutMs: dto.URL_FETCH_TIMEOUT_MS ?? 30_000 },
    webhooks: {
      secret: dto.WEBHOOK_SECRET,
      defaultUrl: dto.WEBHOOK_URL,
      maxAttempts: dto.WEBHOOK_MAX_ATTEMPTS ?? 6,
      timeoutMs: dto.WEBHOOK_TIMEOUT_MS ?? 10_000,
      retryBaseMs: dto.WEBHOOK_RETRY_BASE_MS ?? 2_000,
      retryMaxMs: dto.WEBHOOK_RETRY_MAX_MS ?? 300_000,
    },
    idempotency: { ttlSeconds: dto.IDEMPOTENCY_TTL_SECONDS ?? 86_400 },
    sessions: {
      maxSessions,
      idleTimeoutSeconds: dto.SESSION_IDLE_TIMEOUT_SECONDS ?? DEFAULT_SESSIONS_CONFIG.idleTimeoutSeconds,
      maxSeconds: dto.SESSION_MAX_SECONDS ?? DEFAULT_SESSIONS_CONFIG.maxSeconds,
      batchSize: dto.SESSION_BATCH_SIZE ?? DEFAULT_SESSIONS_CONFIG.batchSize,
      idleAfterMs: dto.SESSION_IDLE_AFTER_MS ?? DEFAULT_SESSIONS_CONFIG.idleAfterMs,
      maxLagMs: dto.SESSION_MAX_LAG_MS ?? DEFAULT_SESSIONS_CONFIG.maxLagMs,
      maxBufferedBytes: dto.SESSION_MAX_BUFFERED_BYTES ?? DEFAULT_SESSIONS_CONFIG.maxBufferedBytes,
    },
    queue: {
      driver,
      role,
      redisUrl: dto.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: dto.REDIS_PREFIX ?? 'lipsync',
      maxAttempts: dto.JOB_MAX_ATTEMPTS ?? 3,
      lockMs: dto.JOB_LOCK_MS ?? 30_000,
    },
    fakeBatchDelayMs: dto.FAKE_BATCH_DELAY_MS,
  };
}
