import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDivisibleBy,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { Tblr } from '../../render/render.types';
import { SAFE_VOICE } from '../../speech/speech-synthesizer';
import { toBoolean, toNumber, toPoint, toTblr, trimString } from './form-transforms';

export const AVATAR_ID_PATTERN = /^[a-f0-9]{64}$/;
const URL_MAX_LENGTH = 2048;

/** The text fields of POST /v1/jobs and POST /v1/lipsync (files come separately: `face`, `audio`). */
export class CreateJobDto {
  // Swagger UI's "Try it out" pre-fills every form field with its example, or with a type placeholder
  // ("string", 0) when there is none; the empty example keeps fields that change the render empty.
  @ApiPropertyOptional({ description: 'an avatar from POST /v1/avatars (instead of a `face` file): 64 hex characters', example: '' })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @Matches(AVATAR_ID_PATTERN, { message: 'avatarId must be 64 lowercase hex characters' })
  avatarId?: string;

  @ApiPropertyOptional({
    description:
      'fetch the face image or video from this http(s) URL (instead of a `face` file or avatarId); public addresses or OUTBOUND_ALLOW_HOSTS only',
    example: '',
  })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  faceUrl?: string;

  @ApiPropertyOptional({
    description:
      'fetch the speech audio from this http(s) URL (instead of an `audio` file or text); public addresses or OUTBOUND_ALLOW_HOSTS only',
    example: '',
  })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  audioUrl?: string;

  @ApiPropertyOptional({
    description:
      'POST job.succeeded / job.failed / job.cancelled here (Standard Webhooks signature; default WEBHOOK_URL); needs WEBHOOK_SECRET on the server',
    example: '',
  })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  webhookUrl?: string;

  @ApiPropertyOptional({
    description: 'text to speak with espeak-ng (instead of an `audio` file), e.g. "Hello from the lip-sync gateway."',
    example: '',
  })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @MaxLength(20_000)
  text?: string;

  @ApiPropertyOptional({ description: 'espeak-ng voice for `text` (ignored for an audio file)', example: 'en-us', default: 'en-us' })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @Matches(SAFE_VOICE, { message: 'voice must be a voice name such as en-us or en-us+f3' })
  voice?: string;

  @ApiPropertyOptional({
    description: 'speaking rate for `text`, words per minute (ignored for an audio file)',
    example: 165,
    minimum: 80,
    maximum: 450,
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(80)
  @Max(450)
  rate?: number;

  @ApiPropertyOptional({ description: 'output frames per second', example: 25, default: 25, minimum: 1, maximum: 60 })
  @IsOptional()
  @Transform(toNumber)
  @IsNumber()
  @Min(1)
  @Max(60)
  fps?: number;

  // a string in the schema: the form field may be sent empty (Swagger UI does), which means "not set"
  @ApiPropertyOptional({
    description: 'scale the video to this even height, e.g. "480" (default: the avatar size)',
    type: String,
    pattern: '^([0-9]+)?$',
    example: '',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(32)
  @Max(4320)
  @IsDivisibleBy(2, { message: 'outputHeight must be even' })
  outputHeight?: number;

  @ApiPropertyOptional({
    description: 'manual face box "top,bottom,left,right" in pixels, e.g. "72,180,170,275"; skips detection',
    type: String,
    example: '',
  })
  @IsOptional()
  @Transform(toTblr)
  @IsArray({ message: 'box must be "top,bottom,left,right" integers' })
  @ArrayMinSize(4)
  @ArrayMaxSize(4)
  @IsInt({ each: true })
  @Min(0, { each: true })
  box?: Tblr;

  // a string in the schema like outputHeight: an empty form field means "not set" (the largest face)
  @ApiPropertyOptional({
    description:
      'which face when the avatar has several: its index in the avatar\'s `faces` (largest first), e.g. "1"; default: the largest',
    type: String,
    pattern: '^([0-9]+)?$',
    example: '',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(99)
  faceIndex?: number;

  @ApiPropertyOptional({
    description: 'which face: a point "x,y" in pixels inside its box (first frame), e.g. "120,90"',
    type: String,
    example: '',
  })
  @IsOptional()
  @Transform(toPoint)
  @IsArray({ message: 'facePoint must be "x,y" integers' })
  @ArrayMinSize(2)
  @ArrayMaxSize(2)
  @IsInt({ each: true })
  @Min(0, { each: true })
  facePoint?: [number, number];

  @ApiPropertyOptional({
    description: 'pads in pixels around the detected face "top,bottom,left,right"; default: a tenth of the box height below the chin',
    example: '',
    type: String,
  })
  @IsOptional()
  @Transform(toTblr)
  @IsArray({ message: 'pads must be "top,bottom,left,right" integers' })
  @ArrayMinSize(4)
  @ArrayMaxSize(4)
  @IsInt({ each: true })
  @Min(-1024, { each: true })
  @Max(1024, { each: true })
  pads?: Tblr;

  @ApiPropertyOptional({ description: 'smooth face boxes over 5 frames (video avatars)', example: true, default: true })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  smooth?: boolean;

  @ApiPropertyOptional({ enum: ['auto', 'libx264', 'h264_nvenc'], default: 'auto' })
  @IsOptional()
  @IsIn(['auto', 'libx264', 'h264_nvenc'])
  encoder?: 'auto' | 'libx264' | 'h264_nvenc';

  @ApiPropertyOptional({ description: 'x264 CRF / NVENC CQ, lower is better', example: 20, minimum: 0, maximum: 51 })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(51)
  quality?: number;

  @ApiPropertyOptional({ enum: ['loop', 'pingpong'], default: 'loop', description: 'how a video avatar covers longer audio' })
  @IsOptional()
  @IsIn(['loop', 'pingpong'])
  loop?: 'loop' | 'pingpong';

  @ApiPropertyOptional({
    enum: ['keep', 'model'],
    default: 'keep',
    description:
      'keep: frames whose audio window is silent (below SILENCE_THRESHOLD_DB) show the source mouth, faded in and out, so pauses do not mumble; model: paste the generated mouth on every frame',
  })
  @IsOptional()
  @IsIn(['keep', 'model'])
  silence?: 'keep' | 'model';

  @ApiPropertyOptional({
    description: 'write a fragmented MP4 so GET /v1/jobs/{id}/stream plays while rendering',
    example: false,
    default: false,
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  stream?: boolean;
}

/** Swagger-only: the multipart form including its file fields (so "Try it out" shows file pickers). */
export class CreateJobForm extends CreateJobDto {
  @ApiPropertyOptional({ type: 'string', format: 'binary', description: 'face image (PNG, JPEG, WebP) or short video; or use avatarId' })
  face?: unknown;

  @ApiPropertyOptional({
    type: 'string',
    format: 'binary',
    description: 'speech audio (WAV, MP3, OGG, FLAC, M4A, or a video with audio); or use text',
  })
  audio?: unknown;
}

/** The text fields of POST /v1/avatars (the file comes separately as `file`). */
export class CreateAvatarDto {
  @ApiPropertyOptional({ description: 'fetch the face image or video from this http(s) URL instead of uploading `file`', example: '' })
  @IsOptional()
  @Transform(trimString)
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  faceUrl?: string;
}

/** Swagger-only: POST /v1/avatars form. */
export class CreateAvatarForm extends CreateAvatarDto {
  @ApiPropertyOptional({ type: 'string', format: 'binary', description: 'face image (PNG, JPEG, WebP) or short video; or use faceUrl' })
  file?: unknown;
}
