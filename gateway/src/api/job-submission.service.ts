import * as path from 'path';
import { GatewayError } from '../common/errors';
import { linkOrCopy, moveFile, randomName } from '../jobs/job-files';
import type { JobsDriver } from '../jobs/jobs-driver';
import type { JobOptions, JobRecord, JobWebhook } from '../jobs/job.types';
import type { SpeechSynthesizer } from '../speech/speech-synthesizer';
import type { AvatarService } from '../face/avatar.service';
import type { AvatarStore } from './avatar-store.service';
import type { CreateJobDto } from './dto/create-job.dto';
import type { UrlFetcher } from '../outbound/url-fetcher';
import type { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { sniffUpload } from './upload.util';

/** An uploaded (multer) or downloaded (URL input) file: only its path is used. */
export interface InputFile {
  path: string;
}

export interface JobFiles {
  face?: InputFile;
  audio?: InputFile;
}

/** The render options of a request, without the input fields. */
export function jobOptionsOf(dto: CreateJobDto): JobOptions {
  const { avatarId: _a, text: _t, voice: _v, rate: _r, faceUrl: _f, audioUrl: _u, webhookUrl: _w, ...options } = dto;
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** A manual face box must have a size: top < bottom and left < right. */
export function assertBoxHasArea(box: CreateJobDto['box']): void {
  if (!box) return;
  const [top, bottom, left, right] = box;
  if (top >= bottom || left >= right) {
    throw new GatewayError('VALIDATION_FAILED', `box ${box.join(',')} is empty: it needs top < bottom and left < right`);
  }
}

/**
 * Turns a validated multipart request into a queued job: checks which inputs were given, sniffs
 * uploads by content, speaks text, checks the audio's limits, and moves files into the job's own
 * directory. Everything that can be refused is refused here, before the 202.
 */
export class JobSubmission {
  constructor(
    private readonly jobs: JobsDriver,
    private readonly avatars: AvatarStore,
    private readonly speech: SpeechSynthesizer,
    private readonly audio: { probe(file: string): Promise<{ durationSec: number | null }> },
    private readonly urls?: UrlFetcher,
    private readonly webhooks?: Pick<WebhookDispatcher, 'forNewJob'>,
    private readonly faces?: Pick<AvatarService, 'checkFaceFile'>,
  ) {}

  async submit(dto: CreateJobDto, uploads: JobFiles): Promise<JobRecord> {
    if ([dto.avatarId, uploads.face, dto.faceUrl].filter(Boolean).length !== 1) {
      throw new GatewayError('VALIDATION_FAILED', 'give exactly one of avatarId, a face file or faceUrl');
    }
    if ([dto.text !== undefined, !!uploads.audio, !!dto.audioUrl].filter(Boolean).length !== 1) {
      throw new GatewayError('VALIDATION_FAILED', 'give exactly one of text, an audio file or audioUrl');
    }
    assertBoxHasArea(dto.box);
    if (dto.faceIndex !== undefined && dto.facePoint)
      throw new GatewayError('VALIDATION_FAILED', 'give at most one of faceIndex or facePoint');
    if (dto.webhookUrl && !this.webhooks) throw new GatewayError('VALIDATION_FAILED', 'webhooks are not enabled on this server');
    const webhook = this.webhooks?.forNewJob(dto.webhookUrl);
    if ((dto.faceUrl || dto.audioUrl) && !this.urls)
      throw new GatewayError('VALIDATION_FAILED', 'URL inputs are not enabled on this server');
    // Refuse early (full queue, shutdown) before spending time on downloads.
    if (dto.faceUrl || dto.audioUrl) await this.jobs.assertAccepting();
    const [faceUrlFile, audioUrlFile] = await Promise.allSettled([
      dto.faceUrl ? this.urls!.fetch(dto.faceUrl, 'faceUrl') : undefined,
      dto.audioUrl ? this.urls!.fetch(dto.audioUrl, 'audioUrl') : undefined,
    ]);
    const fetched = [faceUrlFile, audioUrlFile].map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    try {
      for (const r of [faceUrlFile, audioUrlFile]) if (r.status === 'rejected') throw r.reason;
      return await this.submitFiles(dto, { face: uploads.face ?? fetched[0], audio: uploads.audio ?? fetched[1] }, webhook);
    } finally {
      // Downloads moved into the job are gone already; anything left (a refusal) is removed here.
      await this.urls?.release(...fetched);
    }
  }

  private async submitFiles(dto: CreateJobDto, files: JobFiles, webhook: JobWebhook | undefined): Promise<JobRecord> {
    // voice and rate only matter for text; with an audio file they are ignored (forms such as
    // Swagger UI's "Try it out" send their defaults whatever the input is)
    const speech =
      dto.text !== undefined
        ? { text: this.speech.validate({ text: dto.text, voice: dto.voice, rate: dto.rate }), voice: dto.voice, rate: dto.rate }
        : undefined;
    const faceSniff = files.face ? await sniffUpload(files.face, 'face') : undefined;
    // a face video is probed now (pinned demuxer, size, duration), so it is a 415/422 before the 202
    if (files.face && faceSniff && this.faces) await this.faces.checkFaceFile(files.face.path, faceSniff);
    const audioSniff = files.audio ? await sniffUpload(files.audio, 'audio') : undefined;
    const avatarFace = dto.avatarId ? this.avatars.facePath(dto.avatarId) : undefined;
    await this.jobs.assertAccepting();

    return this.jobs.create(
      jobOptionsOf(dto),
      async (workDir) => {
        let facePath: string;
        if (avatarFace) {
          // The job keeps its own link to the avatar's file: deleting the avatar must not break a queued job.
          facePath = path.join(workDir, randomName('face', path.extname(avatarFace).slice(1) || 'bin'));
          await linkOrCopy(avatarFace, facePath).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
            throw new GatewayError('NOT_FOUND', `avatar ${dto.avatarId} was deleted`);
          });
        } else {
          facePath = path.join(workDir, randomName('face', faceSniff!.format));
          await moveFile(files.face!.path, facePath);
        }
        let audioPath: string;
        const timings: JobRecord['timings'] = {};
        if (speech) {
          audioPath = path.join(workDir, randomName('speech', 'wav'));
          timings.speech = (await this.speech.synthesize(speech, audioPath)).ms;
        } else {
          audioPath = path.join(workDir, randomName('audio', audioSniff!.format));
          await moveFile(files.audio!.path, audioPath);
        }
        // Probe now so AUDIO_TOO_LONG / AUDIO_UNDECODABLE come back as 422 instead of a failed job.
        const { durationSec } = await this.audio.probe(audioPath);
        return { input: { facePath, audioPath, avatarId: dto.avatarId, audioSeconds: durationSec }, timings };
      },
      webhook ? { webhook } : {},
    );
  }
}
