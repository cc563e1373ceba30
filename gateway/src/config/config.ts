import 'reflect-metadata';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { defaultDataDir } from '../common/data-dir';
import { REMOTE_INFER_DEPTH } from '../inference/inference-backend';
import { AllowEntry, literalHostRefusal, parseAllowHosts } from '../outbound/allow-hosts';
import { AppConfig, DEFAULT_SESSIONS_CONFIG, type ModelPrecision } from './app-config';
import { EnvDto } from './env.dto';
import { parseTrustProxy } from './trust-proxy';

export { DEFAULT_SESSIONS_CONFIG, type AppConfig, type ModelPrecision, type SessionsConfig, type WebhookConfig } from './app-config';
export { EnvDto } from './env.dto';

/**
 * Environment configuration, validated once at boot (the rules: env.dto.ts; the result:
 * app-config.ts). This is the only file that reads `process.env`: everything else receives an
 * `AppConfig`.
 */
export class ConfigError extends Error {}

/**
 * TRITON_MAX_IN_FLIGHT when unset: every request this process can have open at once (each job and each
 * live session keeps REMOTE_INFER_DEPTH in flight), so the bound never holds back the requests Triton's
 * dynamic batcher would merge. With a lower bound the requests that wait here reach Triton one by one as
 * slots free, mostly outside its 2 ms queue delay: merging drops to about one request per execution.
 */
export function defaultTritonInFlight(jobConcurrency: number, maxSessions: number): number {
  return Math.max(1, REMOTE_INFER_DEPTH * (jobConcurrency + maxSessions));
}

/** Where scripts/setup-model.sh puts each precision's model (Triton model names wav2lip / wav2lip_int8). */
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
