import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../../gateway/src/config/config';
import { EspeakSynthesizer, espeakArgs, speechFromConfig } from '../../../gateway/src/speech/espeak-synthesizer';
import { DEFAULT_SPEECH_LIMITS, SAFE_VOICE, validateSpeechInput } from '../../../gateway/src/speech/speech-synthesizer';

describe('speech input validation', () => {
  it('should accept espeak voice names and refuse anything shell- or option-like', () => {
    for (const v of ['en', 'en-us', 'en-us+f3', 'gmw/en-GB-x-rp', 'de']) expect(SAFE_VOICE.test(v)).toBe(true);
    for (const v of ['-w /etc/passwd', 'en; rm -rf /', '../../x', '', 'en us', '$(id)']) expect(SAFE_VOICE.test(v)).toBe(false);
  });

  it('should trim text and enforce the length, voice and rate limits', () => {
    const limits = { ...DEFAULT_SPEECH_LIMITS, maxChars: 10 };
    expect(validateSpeechInput({ text: '  hello  ' }, limits)).toBe('hello');
    expect(() => validateSpeechInput({ text: '   ' }, limits)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => validateSpeechInput({ text: 'x'.repeat(11) }, limits)).toThrow(/longer than 10/);
    expect(() => validateSpeechInput({ text: 'hi', voice: '-v' }, limits)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => validateSpeechInput({ text: 'hi', rate: 10 }, limits)).toThrow(/rate/);
  });

  it('should pass text on stdin, never in the argument list', () => {
    const args = espeakArgs('en-us', 165, '/tmp/out.wav');
    expect(args).toEqual(['-v', 'en-us', '-s', '165', '-b', '1', '--stdin', '-w', '/tmp/out.wav']);
  });
});

describe(EspeakSynthesizer.name, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speech-'));

  it('should write a WAV with the spoken text, even text that looks like an option', async () => {
    const out = path.join(dir, 'a.wav');
    const res = await new EspeakSynthesizer().synthesize({ text: '--help me please', rate: 200 }, out);
    expect(res.outPath).toBe(out);
    const wav = fs.readFileSync(out);
    expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(wav.length).toBeGreaterThan(10_000);
  });

  it('should refuse an unknown voice and leave no file', async () => {
    const out = path.join(dir, 'b.wav');
    await expect(new EspeakSynthesizer().synthesize({ text: 'hello', voice: 'zz-nope' }, out)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('should stop when cancelled', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(new EspeakSynthesizer().synthesize({ text: 'hello' }, path.join(dir, 'c.wav'), ctl.signal)).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });
});

describe('speechFromConfig', () => {
  it('should apply TTS_MAX_CHARS from the environment', () => {
    const sut = speechFromConfig(loadConfig({ TTS_MAX_CHARS: '5' }));
    expect(() => sut.validate({ text: 'abcdef' })).toThrow(/longer than 5/);
    expect(sut.validate({ text: 'abcde' })).toBe('abcde');
  });
});
