import { Body, Controller, Inject, Post, Res, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FileFieldsInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { GatewayError } from '../common/errors';
import { JOBS, type JobsDriver } from '../jobs/jobs-driver';
import { isTerminal } from '../jobs/job.types';
import { ApiErrors, ApiVideoResponse } from './api-errors.decorator';
import { CreateJobDto, CreateJobForm } from './dto/create-job.dto';
import { JobSubmission } from './job-submission.service';
import { JOB_FILE_FIELDS } from './jobs.controller';
import { sendMp4 } from './send-file.util';
import { fieldFile, UploadCleanupInterceptor } from './upload.util';

@ApiTags('lipsync')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('v1/lipsync')
export class LipsyncController {
  constructor(
    @Inject(JOBS) private readonly jobs: JobsDriver,
    @Inject(JobSubmission) private readonly submission: JobSubmission,
  ) {}

  @Post()
  @ApiOperation({ summary: 'One-shot: same form as POST /v1/jobs, waits for the render and answers with the MP4' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: CreateJobForm })
  @ApiVideoResponse(200, 'the MP4 (header X-Job-Id names the job)')
  @ApiErrors(400, 401, 404, 413, 415, 422, 429, 500, 503, 504)
  @UseInterceptors(UploadCleanupInterceptor, FileFieldsInterceptor(JOB_FILE_FIELDS))
  async lipsync(
    @Body() dto: CreateJobDto,
    @Res() res: Response,
    @UploadedFiles() files?: Record<string, Express.Multer.File[]>,
  ): Promise<void> {
    // A client that hangs up before the MP4 is ready cancels the render; listen before submitting,
    // since submission (speech, probing) takes a while and the client may leave during it.
    const gone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) gone.abort();
    };
    res.on('close', onClose);
    if (res.destroyed) gone.abort(); // left during the upload, before the listener existed
    try {
      const job = await this.submission.submit(dto, { face: fieldFile(files, 'face'), audio: fieldFile(files, 'audio') });
      res.setHeader('X-Job-Id', job.id);
      const done = await this.jobs.waitForEnd(job.id, gone.signal).catch(async (err) => {
        // Only a client that left cancels; a shutdown (BACKEND_UNAVAILABLE) leaves the job to resume.
        const leftEarly = err instanceof GatewayError && err.code === 'CANCELLED';
        if (leftEarly && !isTerminal((await this.jobs.get(job.id)).status)) await this.jobs.cancel(job.id).catch(() => undefined);
        throw err;
      });
      if (done.status !== 'succeeded') {
        const code = done.error?.code ?? 'INTERNAL';
        throw new GatewayError(code, done.error?.message ?? `job ${done.status}`, { jobId: job.id });
      }
      res.status(200);
      await sendMp4(res, this.jobs.outputPath(done), `${job.id}.mp4`);
    } finally {
      res.off('close', onClose);
    }
  }
}
