import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AudioService } from '../../../gateway/src/audio/audio.service';
import { GatewayError } from '../../../gateway/src/common/errors';
import { FfmpegRunner, RunOptions, RunResult } from '../../../gateway/src/media/ffmpeg-runner';
import { codeOf } from '../../helpers/errors';

/** Strict fake: only what a test sets up may be called. */
class FakeRunner {
  probeResult?: () => Promise<RunResult>;
  streamResult?: (onData: (c: Buffer) => void) => Promise<RunResult>;
  calls: string[][] = [];
  probe(args: string[], _opts?: RunOptions): Promise<RunResult> {
    this.calls.push(['ffprobe', ...args]);
    if (!this.probeResult) throw new Error('unexpected probe');
    return this.probeResult();
  }
  stream(args: string[], onData: (c: Buffer) => void, _opts?: RunOptions): Promise<RunResult> {
    this.calls.push(['ffmpeg', ...args]);
    if (!this.streamResult) throw new Error('unexpected stream');
    return this.streamResult(onData);
  }
  run(): never {
    throw new Error('unexpected run');
  }
}

const probeJson =
  (duration: string | undefined, channels = 1) =>
  async (): Promise<RunResult> => ({
    stdout: Buffer.from(
      JSON.stringify({
        streams: [{ codec_type: 'audio', codec_name: 'pcm_s16le', sample_rate: '16000', channels, duration }],
        format: { format_name: 'wav' },
      }),
    ),
    stderr: '',
  });

const pcmBytes = (n: number) => Buffer.from(new Float32Array(n).fill(0.25).buffer);

describe(AudioService.name, () => {
  let dir: string;
  let file: string;
  let runner: FakeRunner;
  let sut: AudioService;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'audio-svc-'));
    file = path.join(dir, 'in.wav');
    // a WAV header, so the content sniffer pins the wav demuxer; the runner is fake
    await fs.writeFile(file, Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), Buffer.alloc(32)]));
    runner = new FakeRunner();
    sut = new AudioService(runner as unknown as FfmpegRunner, { maxAudioSeconds: 2 });
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('should refuse a missing file with VALIDATION_FAILED before running anything', async () => {
    expect(await codeOf(sut.decode(path.join(dir, 'nope.wav')))).toBe('VALIDATION_FAILED');
    expect(await codeOf(sut.decode(dir))).toBe('VALIDATION_FAILED');
    expect(runner.calls).toEqual([]);
  });

  it('should refuse a 0-byte file with AUDIO_EMPTY before running anything', async () => {
    await fs.writeFile(file, '');
    expect(await codeOf(sut.probe(file))).toBe('AUDIO_EMPTY');
    expect(runner.calls).toEqual([]);
  });

  it('should refuse from the probe alone when the audio is too long', async () => {
    runner.probeResult = probeJson('2.5');
    expect(await codeOf(sut.decode(file))).toBe('AUDIO_TOO_LONG');
    expect(runner.calls.map((c) => c[0])).toEqual(['ffprobe']);
  });

  it('should turn an ffprobe failure into AUDIO_UNDECODABLE carrying the stderr tail', async () => {
    runner.probeResult = () =>
      Promise.reject(
        new GatewayError('FFMPEG_FAILED', 'ffprobe failed (code 1): x', {
          stderr: 'line one\nin.wav: Invalid data found when processing input\n',
        }),
      );
    const err = await sut.probe(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('AUDIO_UNDECODABLE');
    // stderr goes to the logs (details), never to the client's message; the input is named by role
    expect((err as GatewayError).message).toBe('the audio file cannot be decoded');
    expect((err as GatewayError).details?.stderr).toContain('Invalid data found when processing input');
  });

  it('should refuse content without a pinned demuxer (UNSUPPORTED_MEDIA) before running anything', async () => {
    const cases = [
      '#EXTM3U\n#EXTINF:10,\nfile:/srv/other/result.mp4\n#EXT-X-ENDLIST\n',
      'ID3\x03\x00\x00\x00\x00\x00\x00#EXTM3U\n#EXTINF:10,\nfile:/srv/other/result.mp4\n',
      'ffconcat version 1.0\nfile /srv/other/result.mp4\n',
      'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nm=audio 5004 RTP/AVP 0\n',
      'img%03d.png',
    ];
    for (const text of cases) {
      await fs.writeFile(file, Buffer.from(text, 'latin1'));
      expect(await codeOf(sut.probe(file))).toBe('UNSUPPORTED_MEDIA');
    }
    expect(runner.calls).toEqual([]);
  });

  it('should run ffprobe and ffmpeg with the sniffed demuxer pinned and only file/pipe protocols', async () => {
    runner.probeResult = probeJson('1');
    runner.streamResult = async (onData) => (onData(pcmBytes(16000)), { stdout: Buffer.alloc(0), stderr: '' });
    await sut.decode(file);
    for (const call of runner.calls)
      expect(call.join(' ')).toContain(`-f wav -protocol_whitelist file,pipe ${call[0] === 'ffmpeg' ? '-i ' : ''}file:${file}`);
  });

  it('should refuse a probe that reports another container than the pinned one', async () => {
    runner.probeResult = async () => ({
      stdout: Buffer.from(JSON.stringify({ streams: [{ codec_type: 'audio', duration: '1' }], format: { format_name: 'hls' } })),
      stderr: '',
    });
    expect(await codeOf(sut.probe(file))).toBe('UNSUPPORTED_MEDIA');
  });

  it('should keep FFMPEG_FAILED when the tool could not run at all', async () => {
    runner.probeResult = () => Promise.reject(new GatewayError('FFMPEG_FAILED', 'cannot start ffprobe: ENOENT'));
    expect(await codeOf(sut.probe(file))).toBe('FFMPEG_FAILED');
  });

  it('should decode the streamed float32 samples, split at odd byte boundaries', async () => {
    runner.probeResult = probeJson('1');
    runner.streamResult = async (onData) => {
      const all = pcmBytes(16000);
      onData(all.subarray(0, 5));
      onData(all.subarray(5, 40003));
      onData(all.subarray(40003));
      return { stdout: Buffer.alloc(0), stderr: '' };
    };
    const pcm = await sut.decode(file);
    expect(pcm.length).toBe(16000);
    expect(pcm.every((v) => v === 0.25)).toBe(true);
    const ffmpegArgs = runner.calls[1];
    expect(ffmpegArgs[ffmpegArgs.indexOf('-t') + 1]).toBe('3');
  });

  it('should refuse AUDIO_EMPTY when nothing decodes (a header-only file) and AUDIO_TOO_LONG past the limit', async () => {
    runner.probeResult = probeJson(undefined);
    runner.streamResult = async () => ({ stdout: Buffer.alloc(0), stderr: '' });
    expect(await codeOf(sut.decode(file))).toBe('AUDIO_EMPTY');
    runner.streamResult = async (onData) => {
      onData(pcmBytes(2 * 16000 + 1));
      return { stdout: Buffer.alloc(0), stderr: '' };
    };
    expect(await codeOf(sut.decode(file))).toBe('AUDIO_TOO_LONG');
  });

  it('should turn an ffmpeg decode failure into AUDIO_UNDECODABLE and pass CANCELLED through', async () => {
    runner.probeResult = probeJson('1');
    runner.streamResult = () =>
      Promise.reject(new GatewayError('FFMPEG_FAILED', 'ffmpeg failed (code 1)', { stderr: 'Error while decoding stream #0:0' }));
    expect(await codeOf(sut.decode(file))).toBe('AUDIO_UNDECODABLE');
    runner.streamResult = () => Promise.reject(new GatewayError('CANCELLED', 'the operation was cancelled'));
    expect(await codeOf(sut.decode(file))).toBe('CANCELLED');
  });
});
