import 'reflect-metadata';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { ModelPrecision } from './app-config';

/**
 * The environment as validated at boot: one optional field per variable, with its rules. loadConfig
 * (config.ts) maps it into the typed AppConfig with defaults.
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
