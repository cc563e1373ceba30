import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_HTTP_STATUS } from '../../common/errors';

export class ErrorDetailDto {
  @ApiProperty({ enum: Object.keys(ERROR_HTTP_STATUS), example: 'NO_FACE_FOUND' })
  code!: string;
  @ApiProperty({ example: 'no face was found in the image' })
  message!: string;
  @ApiPropertyOptional({ example: '6f1c0b7e-3c1a-4d2e-9a57-1f0f3f0a2b11' })
  jobId?: string;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto })
  error!: ErrorDetailDto;
}

export class BoxDto {
  @ApiProperty({ example: 72 }) top!: number;
  @ApiProperty({ example: 183 }) bottom!: number;
  @ApiProperty({ example: 181 }) left!: number;
  @ApiProperty({ example: 264 }) right!: number;
}

export class PointDto {
  @ApiProperty({ example: 203.2 }) x!: number;
  @ApiProperty({ example: 142.4 }) y!: number;
}

export class FacePoints5Dto {
  @ApiProperty({ type: PointDto }) leftEye!: PointDto;
  @ApiProperty({ type: PointDto }) rightEye!: PointDto;
  @ApiProperty({ type: PointDto }) nose!: PointDto;
  @ApiProperty({ type: PointDto }) mouthLeft!: PointDto;
  @ApiProperty({ type: PointDto }) mouthRight!: PointDto;
}

export class FoundFaceDto {
  @ApiProperty({ type: BoxDto, description: 'the detector box (unpadded)' }) box!: BoxDto;
  @ApiProperty({ example: 0.96 }) score!: number;
}

export class AvatarDto {
  @ApiProperty({ description: 'sha256 of the uploaded file', example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' })
  avatarId!: string;
  @ApiProperty({ enum: ['image', 'video'] }) kind!: string;
  @ApiProperty({ example: 512 }) width!: number;
  @ApiProperty({ example: 512 }) height!: number;
  @ApiProperty({ description: 'frames (1 for images)', example: 1 }) frames!: number;
  @ApiProperty({ type: BoxDto, description: 'the padded face box of the first frame' }) box!: BoxDto;
  @ApiPropertyOptional({
    type: [FoundFaceDto],
    description: 'every face found on the first frame with faces, largest first (`faceIndex` counts in this order)',
  })
  faces?: FoundFaceDto[];
  @ApiPropertyOptional({ description: 'index in `faces` of the face used by default (the largest)', example: 0 }) selectedFace?: number;
  @ApiPropertyOptional({
    enum: ['landmarks', 'second-pass', 'detector', 'manual'],
    description: 'how the box was made (README: face boxes)',
  })
  boxMethod?: string;
  @ApiPropertyOptional({ type: FacePoints5Dto, description: 'the landmarks the box came from (boxMethod "landmarks")' })
  landmarks?: FacePoints5Dto;
  @ApiProperty({ description: 'true when this content was uploaded before (no detection ran)' }) cached!: boolean;
  @ApiProperty({ example: '2025-01-01T12:00:00.000Z' }) createdAt!: string;
}

export class RenderMilestonesDto {
  @ApiPropertyOptional({ description: 'the avatar was ready (cached: its frames and crops in memory)' }) avatarReady?: number;
  @ApiPropertyOptional({ description: 'the audio was decoded' }) audioReady?: number;
  @ApiPropertyOptional({ description: 'the encoder (ffmpeg) was started' }) encoderStarted?: number;
  @ApiPropertyOptional({ description: 'the first batch came back from the model' }) firstBatch?: number;
  @ApiPropertyOptional({ description: 'the output file had its first bytes (what GET /stream waits for)' }) outputStarted?: number;
}

export class StageTimingsDto {
  @ApiPropertyOptional({ description: 'ms waiting in the queue' }) queue?: number;
  @ApiPropertyOptional({ description: 'ms of text-to-speech' }) speech?: number;
  @ApiPropertyOptional() decode?: number;
  @ApiPropertyOptional() mel?: number;
  @ApiPropertyOptional() detect?: number;
  @ApiPropertyOptional() prepare?: number;
  @ApiPropertyOptional() infer?: number;
  @ApiPropertyOptional() composite?: number;
  @ApiPropertyOptional() encode?: number;
  @ApiPropertyOptional({ description: 'wall ms of the render' }) total?: number;
  @ApiPropertyOptional({ description: 'ms from the start of the render until its first frame went to the encoder' }) firstFrame?: number;
  @ApiPropertyOptional({ type: RenderMilestonesDto, description: 'ms from the start of the render until each step of its critical path' })
  marks?: RenderMilestonesDto;
}

export class ModelProvenanceDto {
  @ApiProperty({
    description: 'the model: an official checkpoint name, wav2lip-demo-seed<N>, unknown, or fake (tests)',
    example: 'wav2lip-demo-seed0',
  })
  name!: string;
  @ApiProperty({
    enum: ['official', 'demo', 'unknown', 'fake'],
    description: 'official = identified by the published sha256 of a Wav2Lip checkpoint',
  })
  origin!: string;
  @ApiProperty({ description: 'the licence of the weights in words (official: research/non-commercial use only)' })
  licence!: string;
  @ApiPropertyOptional({ description: 'sha256 of the checkpoint the model was exported from' }) checkpointSha256?: string;
  @ApiPropertyOptional({ description: 'numeric precision of the served graph (fp32, fp16, int8 …)', example: 'fp32' }) precision?: string;
  @ApiPropertyOptional({ description: 'why the origin is unknown' }) note?: string;
}

export class JobResultInfoDto {
  @ApiProperty({ example: 512 }) width!: number;
  @ApiProperty({ example: 512 }) height!: number;
  @ApiProperty({ example: 25 }) fps!: number;
  @ApiProperty({ example: 28 }) frames!: number;
  @ApiProperty({ example: 1.12 }) audioSeconds!: number;
  @ApiProperty({ example: 'libx264' }) encoder!: string;
  @ApiProperty({ example: 'onnx' }) backend!: string;
  @ApiPropertyOptional({ type: ModelProvenanceDto, description: 'the model that rendered the job (also tagged into the MP4)' })
  model?: ModelProvenanceDto;
  @ApiPropertyOptional({ description: 'frames that show the source mouth because their audio was silent (silence=keep)', example: 12 })
  silentFrames?: number;
}

export class JobLinksDto {
  @ApiProperty({ example: '/v1/jobs/6f1c0b7e-3c1a-4d2e-9a57-1f0f3f0a2b11' }) self!: string;
  @ApiProperty({ example: '/v1/jobs/6f1c0b7e-3c1a-4d2e-9a57-1f0f3f0a2b11/result' }) result!: string;
  @ApiProperty({ example: '/v1/jobs/6f1c0b7e-3c1a-4d2e-9a57-1f0f3f0a2b11/stream' }) stream!: string;
}

export class WebhookAttemptDto {
  @ApiProperty({ example: 1 }) attempt!: number;
  @ApiProperty({ example: '2025-01-01T12:00:05.000Z' }) at!: string;
  @ApiProperty({ description: 'ms until the answer (or the failure)', example: 42 }) ms!: number;
  @ApiPropertyOptional({ description: "the receiver's HTTP status", example: 500 }) status?: number;
  @ApiPropertyOptional({ description: 'why there was no answer', example: 'refused the connection' }) error?: string;
}

export class JobWebhookDto {
  @ApiProperty({
    description: 'where job.succeeded / job.failed / job.cancelled is POSTed (query string hidden)',
    example: 'https://hooks.example.com/lipsync',
  })
  url!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'], example: 'delivered' }) state!: string;
  @ApiProperty({ type: [WebhookAttemptDto] }) attempts!: WebhookAttemptDto[];
  @ApiPropertyOptional({ description: 'when the next retry is due', example: '2025-01-01T12:00:09.000Z' }) nextAttemptAt?: string;
}

export class JobDto {
  @ApiProperty({ example: '6f1c0b7e-3c1a-4d2e-9a57-1f0f3f0a2b11' }) id!: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'], example: 'running' }) status!: string;
  @ApiProperty({ minimum: 0, maximum: 1, example: 0.5 }) progress!: number;
  @ApiProperty({ example: 14 }) framesDone!: number;
  @ApiProperty({ description: '0 until the audio has been decoded', example: 28 }) framesTotal!: number;
  @ApiPropertyOptional({ description: 'place in the queue (0 = next) while queued' }) queuePosition?: number;
  @ApiProperty({ type: StageTimingsDto }) timings!: StageTimingsDto;
  @ApiPropertyOptional({ type: ErrorDetailDto }) error?: ErrorDetailDto;
  @ApiPropertyOptional() avatarId?: string;
  @ApiProperty({ description: 'the render options as accepted', example: { fps: 25, stream: true } }) options!: Record<string, unknown>;
  @ApiPropertyOptional({ type: JobResultInfoDto }) result?: JobResultInfoDto;
  @ApiProperty({ type: JobLinksDto }) links!: JobLinksDto;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional() startedAt?: string;
  @ApiPropertyOptional() finishedAt?: string;
  @ApiPropertyOptional({ type: JobWebhookDto, description: 'present when the job has a webhook: its delivery, attempt by attempt' })
  webhook?: JobWebhookDto;
}

export class HealthDto {
  @ApiProperty({ example: 'ok' }) status!: string;
  @ApiProperty({ example: 12.5 }) uptimeSeconds!: number;
}

export class ReadinessDto {
  @ApiProperty() ready!: boolean;
  @ApiProperty({ enum: ['onnx', 'triton', 'fake'] }) backend!: string;
  @ApiPropertyOptional({ example: 'model file not found' }) reason?: string;
  @ApiProperty({ example: 0 }) queueDepth!: number;
  @ApiProperty({ type: ModelProvenanceDto, description: 'the served model: name, origin, licence, precision' }) model!: ModelProvenanceDto;
}
