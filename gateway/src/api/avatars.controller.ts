import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { GatewayError } from '../common/errors';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { ApiErrors } from './api-errors.decorator';
import { AvatarStore } from './avatar-store.service';
import { ApiIdempotency, markReplay } from './idempotency.decorator';
import { UrlFetcher } from '../outbound/url-fetcher';
import { CreateAvatarDto, CreateAvatarForm } from './dto/create-job.dto';
import { AvatarDto } from './dto/responses.dto';
import { sniffUpload, UploadCleanupInterceptor } from './upload.util';

@ApiTags('avatars')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('v1/avatars')
export class AvatarsController {
  constructor(
    @Inject(AvatarStore) private readonly store: AvatarStore,
    @Inject(UrlFetcher) private readonly urls: UrlFetcher,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Upload a face image or short video (or give faceUrl); the face is detected once and cached' })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({ type: CreateAvatarForm })
  @ApiResponse({ status: 201, type: AvatarDto })
  @ApiIdempotency(AvatarDto, 'the avatar an earlier request with this Idempotency-Key created (its first answer)')
  @ApiErrors(400, 401, 409, 413, 415, 422, 429)
  @UseInterceptors(UploadCleanupInterceptor, FileInterceptor('file'))
  async create(
    @Body() dto: CreateAvatarDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @UploadedFile() file?: Express.Multer.File,
  ): Promise<AvatarDto> {
    const out = await this.idempotency.run(
      { headers: req.headers, route: 'POST /v1/avatars', fields: dto, files: { file } },
      async () => {
        const avatar = await this.createAvatar(dto, file, clientGone(req, res));
        return { id: avatar.avatarId, body: avatar };
      },
      () => undefined, // an avatar's first answer is replayed as it was
    );
    return markReplay(res, out);
  }

  private async createAvatar(dto: CreateAvatarDto, file: Express.Multer.File | undefined, signal: AbortSignal): Promise<AvatarDto> {
    if (!!file === !!dto.faceUrl)
      throw new GatewayError('VALIDATION_FAILED', 'give exactly one of a multipart field "file" with the face image or video, or faceUrl');
    if (file) return this.store.create(file.path, await sniffUpload(file, 'file'), signal);
    const fetched = await this.urls.fetch(dto.faceUrl!, 'faceUrl');
    try {
      return await this.store.create(fetched.path, await sniffUpload(fetched, 'file'), signal);
    } finally {
      await this.urls.release(fetched);
    }
  }

  @Get()
  @ApiOperation({ summary: 'List avatars' })
  @ApiResponse({ status: 200, type: [AvatarDto] })
  @ApiErrors(401, 429)
  list(): AvatarDto[] {
    return this.store.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'Avatar metadata' })
  @ApiResponse({ status: 200, type: AvatarDto })
  @ApiErrors(401, 404, 429)
  get(@Param('id') id: string): AvatarDto {
    return this.store.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an avatar and its stored file' })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiErrors(401, 404, 429)
  async remove(@Param('id') id: string): Promise<void> {
    await this.store.remove(id);
  }
}

/** Aborts when the client hangs up before the answer went out (decode and detection stop). */
function clientGone(_req: Request, res: Response): AbortSignal {
  const ctl = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ctl.abort();
  };
  // res, not req: a request's 'close' also fires once its body has been read
  res.once('close', onClose);
  return ctl.signal;
}
