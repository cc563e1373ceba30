import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { AVATAR_ID_PATTERN } from '../../api/dto/create-job.dto';
import { SAFE_VOICE } from '../../speech/speech-synthesizer';

@ValidatorConstraint({ name: 'even' })
class IsEven implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return typeof v === 'number' && v % 2 === 0;
  }
  defaultMessage(): string {
    return 'outputHeight must be even';
  }
}

/** POST /v1/sessions (JSON). */
export class CreateSessionDto {
  @ApiProperty({ description: 'an avatar created with POST /v1/avatars (its face is cached)', example: 'a3f1…(64 hex)' })
  @IsString()
  @Matches(AVATAR_ID_PATTERN, { message: 'avatarId must be 64 lowercase hex characters' })
  avatarId!: string;

  @ApiPropertyOptional({ description: 'frames per second of the live video', default: 25, minimum: 1, maximum: 60 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  fps?: number;

  @ApiPropertyOptional({ description: 'scale the video to this even height (width keeps the aspect ratio)', minimum: 32, maximum: 4320 })
  @IsOptional()
  @IsInt()
  @Min(32)
  @Max(4320)
  @Validate(IsEven)
  outputHeight?: number;

  @ApiPropertyOptional({ description: 'espeak-ng voice for `say` messages', example: 'en-us' })
  @IsOptional()
  @IsString()
  @Matches(SAFE_VOICE, { message: 'voice must be a voice name such as en-us or en-us+f3' })
  voice?: string;
}

export class SessionTotalsDto {
  @ApiProperty() frames!: number;
  @ApiProperty() speechFrames!: number;
  @ApiProperty({ description: 'frames with the closed, still mouth (no speech buffered)' }) idleFrames!: number;
  @ApiProperty({ description: 'speech frames shown without the model because inference fell behind' }) droppedFrames!: number;
  @ApiProperty({ description: 'speech frames that left more than 1 s after their audio arrived' }) lateFrames!: number;
  @ApiProperty({ description: 'seconds of audio received (PCM and spoken text)' }) audioSeconds!: number;
  @ApiProperty({ description: 'seconds of output (audio received plus idle silence)' }) durationSeconds!: number;
}

export class SessionLinksDto {
  @ApiProperty({ example: '/v1/sessions/0b6f…' }) self!: string;
  @ApiProperty({
    example: '/v1/sessions/0b6f…/ws',
    description: 'WebSocket: binary PCM s16le 16 kHz mono and JSON say/end in; fMP4 bytes and JSON events out',
  })
  ws!: string;
}

export class SessionDto {
  @ApiProperty() id!: string;
  @ApiProperty() avatarId!: string;
  @ApiProperty({ enum: ['created', 'live', 'ended'] }) status!: string;
  @ApiProperty({ example: 25 }) fps!: number;
  @ApiProperty({ example: 512 }) width!: number;
  @ApiProperty({ example: 512 }) height!: number;
  @ApiProperty({ description: 'MSE type for addSourceBuffer()', example: 'video/mp4; codecs="avc1.42C01E, mp4a.40.2"' }) mime!: string;
  @ApiPropertyOptional() voice?: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional() endedAt?: string;
  @ApiProperty({ type: SessionTotalsDto }) totals!: SessionTotalsDto;
  @ApiProperty({ type: SessionLinksDto }) links!: SessionLinksDto;
}
