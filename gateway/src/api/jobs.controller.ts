import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FileFieldsInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { JOBS, type JobsDriver } from '../jobs/jobs-driver';
import { ApiErrors, ApiVideoResponse } from './api-errors.decorator';
import { ApiIdempotency, markReplay } from './idempotency.decorator';
import { CreateJobDto, CreateJobForm } from './dto/create-job.dto';
import { JobDto } from './dto/responses.dto';
import { JobSubmission } from './job-submission.service';
import { toJobView } from './job-view';
import { assertResultReady, streamJobOutput } from './result-stream';
import { sendMp4 } from './send-file.util';
import { fieldFile, UploadCleanupInterceptor } from './upload.util';

export const JOB_FILE_FIELDS = [
  { name: 'face', maxCount: 1 },
  { name: 'audio', maxCount: 1 },
];

@ApiTags('jobs')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    @Inject(JOBS) private readonly jobs: JobsDriver,
    @Inject(JobSubmission) private readonly submission: JobSubmission,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a lip-sync job: avatarId, face file or faceUrl, plus audio file, audioUrl or text' })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({ type: CreateJobForm })
  @ApiResponse({ status: 202, type: JobDto, description: 'queued' })
  @ApiIdempotency(JobDto, 'the job an earlier request with this Idempotency-Key created (its current state)')
  @ApiErrors(400, 401, 404, 409, 413, 415, 422, 429, 503)
  @UseInterceptors(UploadCleanupInterceptor, FileFieldsInterceptor(JOB_FILE_FIELDS))
  async create(
    @Body() dto: CreateJobDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @UploadedFiles() files?: Record<string, Express.Multer.File[]>,
  ): Promise<JobDto> {
    const inputs = { face: fieldFile(files, 'face'), audio: fieldFile(files, 'audio') };
    const out = await this.idempotency.run(
      { headers: req.headers, route: 'POST /v1/jobs', fields: dto, files: inputs },
      async () => {
        const job = await this.submission.submit(dto, inputs);
        return { id: job.id, body: toJobView(job, await this.jobs.queuePosition(job.id)) };
      },
      (id) => this.currentView(id),
    );
    return markReplay(res, out);
  }

  private async currentView(id: string): Promise<JobDto | undefined> {
    try {
      return toJobView(await this.jobs.get(id), await this.jobs.queuePosition(id));
    } catch {
      return undefined; // expired: the stored first answer is replayed
    }
  }

  @Get(':id')
  @ApiOperation({ summary: 'Job status, progress, per-stage timings and error' })
  @ApiResponse({ status: 200, type: JobDto })
  @ApiErrors(401, 404, 429)
  async get(@Param('id') id: string): Promise<JobDto> {
    return toJobView(await this.jobs.get(id), await this.jobs.queuePosition(id));
  }

  @Get(':id/result')
  @ApiOperation({ summary: 'Download the MP4 (Range requests supported)' })
  @ApiVideoResponse(200, 'the MP4')
  @ApiVideoResponse(206, 'a byte range of the MP4')
  @ApiErrors(401, 404, 409, 416, 429)
  async result(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const job = await this.jobs.get(id);
    const file = this.jobs.outputPath(job);
    assertResultReady(job, file);
    await sendMp4(res, file, `${id}.mp4`);
  }

  @Get(':id/stream')
  @ApiOperation({
    summary: 'Fragmented MP4 that flows while the job renders (create the job with stream=true); other jobs are sent when finished',
  })
  @ApiVideoResponse(200, 'the (growing) MP4')
  @ApiErrors(401, 404, 409, 429)
  async stream(@Param('id') id: string, @Res() res: Response): Promise<void> {
    await streamJobOutput(this.jobs, id, res);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a queued or running job (stops inference and ffmpeg, removes its files)' })
  @ApiResponse({ status: 200, type: JobDto, description: 'the cancelled job' })
  @ApiErrors(401, 404, 409, 429)
  async cancel(@Param('id') id: string): Promise<JobDto> {
    return toJobView(await this.jobs.cancel(id));
  }
}
