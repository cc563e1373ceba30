import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../../gateway/src/config/config';
import {
  FAKE_MODEL,
  identifyModel,
  LICENCE_TEXT,
  loadCheckpointTable,
  modelProvenanceFor,
  OFFICIAL_CHECKPOINTS,
  parseStamp,
  readModelProvenance,
  stampPathFor,
} from '../../../gateway/src/inference/model-provenance';

const GAN = 'ca9ab7b7b812c0e80a6e70a5977c545a1e8a365a6c49d5e533023c034d7ac3d8';

describe('model provenance', () => {
  it('should carry the published hashes and sizes of the two official checkpoints', () => {
    expect(OFFICIAL_CHECKPOINTS).toEqual([
      {
        name: 'wav2lip',
        file: 'wav2lip.pth',
        sha256: 'b78b681b68ad9fe6c6fb1debc6ff43ad05834a8af8a62ffc4167b7b34ef63c37',
        bytes: 435_807_851,
      },
      { name: 'wav2lip_gan', file: 'wav2lip_gan.pth', sha256: GAN, bytes: 435_801_865 },
    ]);
  });

  it('should parse both stamp lines into key=value pairs', () => {
    expect(
      parseStamp('random-seed=0 bn-calibrate=1 exporter=abc precision=fp32\nname=x origin=demo licence=demo-random-weights\n'),
    ).toEqual({
      'random-seed': '0',
      'bn-calibrate': '1',
      exporter: 'abc',
      precision: 'fp32',
      name: 'x',
      origin: 'demo',
      licence: 'demo-random-weights',
    });
  });

  it('should identify an official checkpoint by its sha256 (and size), with its licence and precision', () => {
    const p = identifyModel(parseStamp(`checkpoint=/m/w.pth sha256=${GAN} bytes=435801865 exporter=e precision=fp16`));
    expect(p).toEqual({
      name: 'wav2lip_gan',
      origin: 'official',
      licence: LICENCE_TEXT.official,
      checkpointSha256: GAN,
      precision: 'fp16',
    });
    expect(p.licence).toMatch(/non-commercial/);
  });

  it('should call a checkpoint unknown when its hash or size is not published, whatever its name or stamp claims', () => {
    const renamed = identifyModel(
      parseStamp(`checkpoint=/m/wav2lip_gan.pth sha256=${'0'.repeat(64)} bytes=435801865 origin=official name=wav2lip_gan`),
    );
    expect(renamed).toMatchObject({
      name: 'unknown',
      origin: 'unknown',
      licence: LICENCE_TEXT.unknown,
      note: expect.stringMatching(/not one of the published/),
    });
    expect(identifyModel(parseStamp(`sha256=${GAN} bytes=12`)).origin).toBe('unknown');
    expect(identifyModel(parseStamp('exporter=e precision=fp32'))).toMatchObject({
      origin: 'unknown',
      note: expect.stringMatching(/no checkpoint hash/),
    });
    expect(identifyModel(undefined)).toMatchObject({ origin: 'unknown', note: expect.stringMatching(/no model stamp/) });
  });

  it('should call a seeded model the demo model and keep an int8 precision', () => {
    expect(identifyModel(parseStamp('random-seed=7 bn-calibrate=1 exporter=e precision=int8'))).toEqual({
      name: 'wav2lip-demo-seed7',
      origin: 'demo',
      licence: LICENCE_TEXT.demo,
      precision: 'int8',
    });
  });

  it('should find the stamp of each model variant', () => {
    expect(stampPathFor('/r/wav2lip/1/model.onnx')).toBe('/r/wav2lip/1/SOURCE');
    expect(stampPathFor('/r/wav2lip/1/model.fp16.onnx')).toBe('/r/wav2lip/1/SOURCE.fp16');
    expect(stampPathFor('/r/wav2lip/1/model.int8.onnx')).toBe('/r/wav2lip/1/SOURCE.int8');
    expect(stampPathFor('/x/custom.onnx')).toBe('/x/SOURCE');
  });

  describe('from files', () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-prov-'))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('should identify a checkpoint listed in a table the test points MODEL_CHECKPOINT_TABLE at', () => {
      const sha = 'ab'.repeat(32);
      const table = path.join(dir, 'table.json');
      fs.writeFileSync(table, JSON.stringify([{ name: 'wav2lip_gan', file: 'wav2lip_gan.pth', sha256: sha, bytes: 1234 }]));
      fs.writeFileSync(path.join(dir, 'SOURCE'), `checkpoint=/c.pth sha256=${sha} bytes=1234 exporter=e precision=fp32\n`);
      const modelPath = path.join(dir, 'model.onnx');
      const config = loadConfig({ MODEL_PATH: modelPath, MODEL_CHECKPOINT_TABLE: table });
      expect(modelProvenanceFor(config)).toMatchObject({ name: 'wav2lip_gan', origin: 'official', precision: 'fp32' });
      // without the table the same stamp is unknown; the fake backend has no model at all
      expect(readModelProvenance(modelPath).origin).toBe('unknown');
      expect(modelProvenanceFor(loadConfig({ MODEL_PATH: modelPath, INFERENCE_BACKEND: 'fake' }))).toEqual(FAKE_MODEL);
    });

    it('should refuse a malformed checkpoint table', () => {
      const table = path.join(dir, 'bad.json');
      fs.writeFileSync(table, JSON.stringify([{ name: 'x', sha256: 'nothex' }]));
      expect(() => loadCheckpointTable(table)).toThrow(/JSON array of/);
    });
  });
});
