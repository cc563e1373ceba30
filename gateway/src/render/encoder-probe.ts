import { GatewayError } from '../common/errors';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { buildEncoderProbeArgs, VideoEncoder } from './encoder-args';

export type EncoderChoice = 'auto' | VideoEncoder;

/**
 * Chooses the H.264 encoder once at start. NVENC is listed by Debian's ffmpeg whether or not a GPU
 * with an encoder exists (H100/H200 have none), so only a real one-frame encode tells.
 */
export async function chooseEncoder(runner: FfmpegRunner, choice: EncoderChoice): Promise<VideoEncoder> {
  if (choice === 'libx264') return 'libx264';
  const nvencWorks = await runner
    .run(buildEncoderProbeArgs('h264_nvenc'), { timeoutMs: 15_000 })
    .then(() => true)
    .catch(() => false);
  if (choice === 'h264_nvenc') {
    if (!nvencWorks) {
      throw new GatewayError(
        'VALIDATION_FAILED',
        'encoder h264_nvenc was forced but does not work here (no NVIDIA GPU with an encoder, or no driver)',
      );
    }
    return 'h264_nvenc';
  }
  if (nvencWorks) return 'h264_nvenc';
  await runner.run(buildEncoderProbeArgs('libx264'), { timeoutMs: 15_000 }).catch((e: unknown) => {
    throw new GatewayError('FFMPEG_FAILED', `neither h264_nvenc nor libx264 can encode: ${(e as Error).message}`);
  });
  return 'libx264';
}
