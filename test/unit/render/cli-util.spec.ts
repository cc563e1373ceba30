import { InvalidArgumentError } from 'commander';
import { GatewayError } from '../../../gateway/src/common/errors';
import { EXIT_BAD_INPUT, EXIT_FAILED, parseIntOption, parseTblr, reportError } from '../../../gateway/src/cli/cli-util';
import { formatSummary } from '../../../gateway/src/cli/render.command';
import { envWith, loadConfig, ConfigError } from '../../../gateway/src/config/config';
import type { RenderResult } from '../../../gateway/src/render/render.types';

describe('reportError', () => {
  it('should exit 2 with one line for bad input and 1 for server-side failures', () => {
    const lines: string[] = [];
    expect(reportError(new GatewayError('NO_FACE_FOUND', 'no face in x.png\nsecond line'), (s) => lines.push(s))).toBe(EXIT_BAD_INPUT);
    expect(reportError(new GatewayError('FFMPEG_FAILED', 'boom'), (s) => lines.push(s))).toBe(EXIT_FAILED);
    expect(reportError(new GatewayError('OUTPUT_UNWRITABLE', 'no dir'), () => undefined)).toBe(EXIT_BAD_INPUT);
    expect(reportError(new Error('plain'), (s) => lines.push(s))).toBe(EXIT_FAILED);
    expect(lines).toEqual(['error NO_FACE_FOUND: no face in x.png\n', 'error FFMPEG_FAILED: boom\n', 'error INTERNAL: plain\n']);
  });
});

describe('option parsers', () => {
  it('should parse top,bottom,left,right boxes and refuse malformed ones', () => {
    expect(parseTblr('--box')('10, 20,30,40')).toEqual([10, 20, 30, 40]);
    expect(() => parseTblr('--box')('1,2,3')).toThrow(InvalidArgumentError);
    expect(() => parseTblr('--box')('1,2,3,-4')).toThrow(InvalidArgumentError);
    expect(() => parseTblr('--box')('a,b,c,d')).toThrow(InvalidArgumentError);
  });

  it('should bound integer options', () => {
    expect(parseIntOption('--batch', 1, 128)('32')).toBe(32);
    expect(() => parseIntOption('--batch', 1, 128)('0')).toThrow(/1\.\.128/);
    expect(() => parseIntOption('--batch', 1, 128)('2.5')).toThrow(InvalidArgumentError);
  });
});

describe('formatSummary', () => {
  const base = (): RenderResult => ({
    outPath: '/o.mp4',
    frames: 50,
    fps: 25,
    width: 512,
    height: 512,
    audioSeconds: 2,
    encoder: 'libx264',
    backend: 'onnx',
    avatarCached: true,
    batchSizes: [32, 18],
    timings: { decode: 10, mel: 5, infer: 1500, composite: 40, encode: 100, total: 2000 },
  });
  it('should list every stage with its share and the frame rate', () => {
    const text = formatSummary(base(), 900);
    expect(text).toMatch(/infer\s+1500\s+75%/);
    expect(text).toMatch(/25\.0 frames\/s, 1\.00× real time, peak RSS 900 MB/);
    expect(text).toContain('avatar from cache');
    expect(
      formatSummary({ ...base(), model: { name: 'wav2lip-demo-seed0', origin: 'demo', licence: 'demo', precision: 'int8' } }),
    ).toContain('model wav2lip-demo-seed0 (int8), demo');
  });

  it('should name the model, its origin and licence when the result carries it', () => {
    const r = {
      outPath: '/o.mp4',
      frames: 1,
      fps: 25,
      width: 2,
      height: 2,
      audioSeconds: 1,
      encoder: 'libx264',
      backend: 'onnx' as const,
      avatarCached: false,
      batchSizes: [1],
      timings: { total: 10 },
    };
    expect(formatSummary(r)).not.toMatch(/model/);
    const text = formatSummary({
      ...r,
      model: { name: 'unknown', origin: 'unknown', licence: 'unknown: check it', note: 'no stamp', precision: 'int8' },
    });
    expect(text).toContain('  model unknown (int8), unknown: unknown: check it (no stamp)');
  });
});

describe('config', () => {
  it('should apply defaults and parse numbers', () => {
    const c = loadConfig({ PORT: '9090', BATCH_SIZE: '8', API_KEYS: ' a, b ,,' });
    expect(c.port).toBe(9090);
    expect(c.batchSize).toBe(8);
    expect(c.backend).toBe('onnx');
    expect(c.apiKeys).toEqual(['a', 'b']);
    expect(c.modelPath.endsWith('model_repository/wav2lip/1/model.onnx')).toBe(true);
  });

  it('should list every invalid variable at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', INFERENCE_BACKEND: 'gpu', BATCH_SIZE: '0' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/PORT/);
    expect((err as Error).message).toMatch(/INFERENCE_BACKEND/);
    expect((err as Error).message).toMatch(/BATCH_SIZE/);
  });

  it('should override only the variables that are given', () => {
    const env = envWith({ LIPSYNC_TEST_VAR: 'x', PATH: undefined });
    expect(env.LIPSYNC_TEST_VAR).toBe('x');
    expect(env.PATH).toBe(process.env.PATH);
  });
});
