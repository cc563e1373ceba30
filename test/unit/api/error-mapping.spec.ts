import { BadRequestException, NotFoundException, PayloadTooLargeException, HttpException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { mapError, publicError } from '../../../gateway/src/api/error-mapping';
import { ERROR_HTTP_STATUS, GatewayError } from '../../../gateway/src/common/errors';

describe('mapError', () => {
  it('should use the errors.ts status table for every GatewayError code', () => {
    for (const [code, status] of Object.entries(ERROR_HTTP_STATUS)) {
      const m = mapError(new GatewayError(code as keyof typeof ERROR_HTTP_STATUS, 'msg'));
      expect(m.status).toBe(status);
      expect(m.body.error.code).toBe(code);
    }
  });

  it('should carry the job id when given or present in the details', () => {
    expect(mapError(new GatewayError('NO_FACE_FOUND', 'x'), 'job-1').body.error.jobId).toBe('job-1');
    expect(mapError(new GatewayError('QUEUE_FULL', 'x', { jobId: 'job-2' })).body.error.jobId).toBe('job-2');
    expect(mapError(new GatewayError('QUEUE_FULL', 'x')).body.error).not.toHaveProperty('jobId');
  });

  it('should never publish server paths or ffmpeg stderr in a GatewayError message (issue 10, item 8)', () => {
    const m = mapError(new GatewayError('OUTPUT_UNWRITABLE', 'cannot write /srv/data/jobs/j1/result.mp4', { stderr: '/srv/x: denied' }));
    expect(m.body.error.message).toBe('cannot write <path>');
    expect(JSON.stringify(m.body)).not.toContain('/srv');
    expect(publicError('FFMPEG_FAILED', 'ffmpeg failed on file:/srv/data/a.wav').message).toBe('ffmpeg failed on <path>');
  });

  it('should map Nest exceptions to gateway codes', () => {
    const validation = mapError(new BadRequestException(['fps must be a number', 'box must be an array']));
    expect(validation).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', message: 'fps must be a number; box must be an array' } },
    });
    expect(mapError(new NotFoundException('Cannot GET /x')).body.error.code).toBe('NOT_FOUND');
    expect(mapError(new PayloadTooLargeException('File too large'))).toMatchObject({
      status: 413,
      body: { error: { code: 'PAYLOAD_TOO_LARGE' } },
    });
    expect(mapError(new ThrottlerException())).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
    expect(mapError(new HttpException('Range Not Satisfiable', 416))).toMatchObject({
      status: 416,
      body: { error: { code: 'RANGE_NOT_SATISFIABLE' } },
    });
    expect(mapError(new HttpException('teapot', 418))).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('should map body-parser errors by their status', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' });
    expect(mapError(tooLarge)).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    const badJson = Object.assign(new SyntaxError('Unexpected token'), { status: 400 });
    expect(mapError(badJson).body.error.code).toBe('VALIDATION_FAILED');
  });

  it('should hide the message of unexpected errors and flag them for the log', () => {
    const m = mapError(new Error('ENOENT: /var/secret/path'));
    expect(m).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } }, unexpected: true });
    expect(mapError(new GatewayError('INTERNAL', 'stack-ish /src/x.ts:12')).body.error.message).toBe('internal error');
    expect(mapError(new HttpException('boom', 500)).body.error).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });
});
