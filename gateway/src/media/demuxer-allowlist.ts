import { GatewayError } from '../common/errors';
import { ffmpegInputUrl } from './ffmpeg-runner';
import type { MediaFormat, SniffResult } from './media-sniff';

/**
 * Pinned demuxers (issue 10, item 1). ffmpeg picks a demuxer by probing the content, and some
 * demuxers (hls, concat, image2, sdp, …) open further files or URLs named inside the file. So every
 * ffmpeg/ffprobe that reads user media is told which demuxer to use (`-f`), derived from the
 * content sniffer, and may only use the file and pipe protocols; the probe's `format_name` must
 * then be one this table allows. Pure: reused by every reader of user media (audio, avatars, URLs).
 */
export interface PinnedFormat {
  /** the sniffed format */
  format: MediaFormat;
  /** ffmpeg demuxer passed as `-f` */
  demuxer: string;
  /** ffprobe `format_name` values this demuxer may report */
  formatNames: readonly string[];
}

/** The protocols an input may use: its own file (given as file:/abs/path) and pipes. */
export const PROTOCOL_WHITELIST = 'file,pipe';

const MOV_NAMES = ['mov,mp4,m4a,3gp,3g2,mj2'];

/** Sniffed media format → demuxer; formats absent here are never handed to ffmpeg. */
const DEMUXERS: Partial<Record<MediaFormat, { demuxer: string; formatNames: readonly string[] }>> = {
  wav: { demuxer: 'wav', formatNames: ['wav'] },
  mp3: { demuxer: 'mp3', formatNames: ['mp3'] },
  ogg: { demuxer: 'ogg', formatNames: ['ogg'] },
  flac: { demuxer: 'flac', formatNames: ['flac'] },
  mp4: { demuxer: 'mov', formatNames: MOV_NAMES },
  webm: { demuxer: 'matroska', formatNames: ['matroska,webm'] },
  avi: { demuxer: 'avi', formatNames: ['avi'] },
  flv: { demuxer: 'flv', formatNames: ['flv'] },
  mpeg: { demuxer: 'mpeg', formatNames: ['mpeg'] },
  ts: { demuxer: 'mpegts', formatNames: ['mpegts'] },
};

/** The pinned demuxer of a sniffed audio/video file, or null when ffmpeg must not read it. */
export function pinnedFormatOf(found: SniffResult | null): PinnedFormat | null {
  if (!found || found.kind === 'image') return null;
  const d = DEMUXERS[found.format];
  return d ? { format: found.format, ...d } : null;
}

/** Like pinnedFormatOf(), refusing with UNSUPPORTED_MEDIA; `role` names the input ("the audio file"). */
export function requirePinnedFormat(found: SniffResult | null, role: string): PinnedFormat {
  const pinned = pinnedFormatOf(found);
  if (!pinned) throw new GatewayError('UNSUPPORTED_MEDIA', `${role} is not in a supported audio or video format`);
  return pinned;
}

/** Input options placed before the input: the pinned demuxer and the protocol whitelist. */
export function pinnedInputOptions(pinned: PinnedFormat): string[] {
  return ['-f', pinned.demuxer, '-protocol_whitelist', PROTOCOL_WHITELIST];
}

/** `-f … -protocol_whitelist … -i file:/abs/path` for ffmpeg. */
export function pinnedInputArgs(pinned: PinnedFormat, file: string): string[] {
  return [...pinnedInputOptions(pinned), '-i', ffmpegInputUrl(file)];
}

/** `-f … -protocol_whitelist … file:/abs/path` for ffprobe (the input is positional). */
export function pinnedProbeInput(pinned: PinnedFormat, file: string): string[] {
  return [...pinnedInputOptions(pinned), ffmpegInputUrl(file)];
}

/** The probe must report the pinned demuxer's format; anything else is UNSUPPORTED_MEDIA. */
export function assertProbedFormat(pinned: PinnedFormat, formatName: string | undefined, role: string): void {
  if (formatName === undefined || !pinned.formatNames.includes(formatName)) {
    throw new GatewayError('UNSUPPORTED_MEDIA', `${role} is not a valid ${pinned.format} file`, { formatName });
  }
}
