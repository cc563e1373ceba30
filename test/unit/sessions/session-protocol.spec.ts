import { GatewayError } from '../../../gateway/src/common/errors';
import { Fmp4Scanner } from '../../../gateway/src/sessions/fmp4-scanner';
import { buildSessionEncodeArgs, h264Level, sessionMime } from '../../../gateway/src/sessions/session-encode-args';
import { closeCodeFor, parseClientMessage } from '../../../gateway/src/sessions/session-protocol';
import { upgradeApiKey } from '../../../gateway/src/sessions/sessions-socket';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as GatewayError).code;
  }
  return undefined;
};

describe(parseClientMessage.name, () => {
  it('should accept say and end', () => {
    expect(parseClientMessage('{"type":"end"}')).toEqual({ type: 'end' });
    expect(parseClientMessage('{"type":"say","text":"hi","extra":1}')).toEqual({ type: 'say', text: 'hi' });
  });

  it('should refuse non-JSON, unknown types and a say without text with BAD_MESSAGE', () => {
    for (const raw of ['nope', '[]', 'null', '{"type":"dance"}', '{"type":"say"}', '{"type":"say","text":5}', 'x'.repeat(70_000)]) {
      expect(codeOf(() => parseClientMessage(raw))).toBe('BAD_MESSAGE');
    }
  });
});

describe(closeCodeFor.name, () => {
  it('should map outcomes to WebSocket close codes', () => {
    expect([closeCodeFor('ENDED'), closeCodeFor('SHUTDOWN'), closeCodeFor('UNAUTHORIZED'), closeCodeFor('NOT_FOUND')]).toEqual([
      1000, 1001, 4401, 4404,
    ]);
    expect([closeCodeFor('SLOW_CONSUMER'), closeCodeFor('SESSION_TIMEOUT'), closeCodeFor('FFMPEG_FAILED')]).toEqual([4429, 4408, 1011]);
  });
});

describe('session encode args', () => {
  it('should pick the smallest H.264 level for the size and rate, and name it in the codec string', () => {
    expect(h264Level(512, 512, 25)).toBe(30);
    expect(h264Level(1280, 720, 25)).toBe(31);
    expect(h264Level(1920, 1080, 30)).toBe(40);
    expect(sessionMime(30)).toBe('video/mp4; codecs="avc1.42C01E, mp4a.40.2"');
    expect(sessionMime(40)).toBe('video/mp4; codecs="avc1.42C028, mp4a.40.2"');
  });

  it('should read frames on stdin and PCM on pipe 3 without probing, and write a flushed fMP4 to stdout', () => {
    const args = buildSessionEncodeArgs({ width: 512, height: 512, fps: 25, encoder: 'libx264', outputHeight: 720 });
    const at = (x: string) => args.indexOf(x);
    expect(args.slice(at('s16le') - 1, at('pipe:3') + 1)).toEqual([
      '-f',
      's16le',
      '-ar',
      '16000',
      '-ac',
      '1',
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-i',
      'pipe:3',
    ]);
    expect(args[at('-level') + 1]).toBe('3.1'); // 720×720 output
    expect(args[at('-profile:v') + 1]).toBe('baseline');
    expect(args).toEqual(
      expect.arrayContaining(['-tune', 'zerolatency', '-flush_packets', '1', '-movflags', 'frag_keyframe+empty_moov+default_base_moof']),
    );
    expect(args.slice(-3)).toEqual(['-f', 'mp4', 'pipe:1']);
  });
});

const box = (type: string, body: Buffer) => {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, body]);
};
const full = (fields: number[]) =>
  Buffer.concat(
    fields.map((f) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(f);
      return b;
    }),
  );
const fragment = (videoSamples: number, audioSamples: number) =>
  Buffer.concat([
    box(
      'moof',
      Buffer.concat([
        box('mfhd', full([0, 1])),
        box('traf', Buffer.concat([box('tfhd', full([0x20000, 1])), box('trun', full([0, videoSamples]))])),
        box('traf', Buffer.concat([box('tfhd', full([0x20000, 2])), box('trun', full([0, audioSamples]))])),
      ]),
    ),
    box('mdat', Buffer.alloc(100)),
  ]);

describe(Fmp4Scanner.name, () => {
  it('should count samples per track once each fragment is complete, across any chunking', () => {
    const stream = Buffer.concat([
      box('ftyp', Buffer.alloc(12)),
      box('moov', Buffer.alloc(50)),
      fragment(1, 2),
      fragment(1, 1),
      fragment(2, 3),
    ]);
    for (const step of [1, 7, 64, stream.length]) {
      const sut = new Fmp4Scanner();
      const seen: number[] = [];
      for (let o = 0; o < stream.length; o += step) {
        sut.push(stream.subarray(o, o + step));
        seen.push(sut.samples(1));
      }
      expect(sut.samples(1)).toBe(4);
      expect(sut.samples(2)).toBe(6);
      expect(sut.initSegmentBytes).toBe(20 + 58);
      expect(seen).toEqual([...seen].sort((a, b) => a - b)); // never goes back
    }
    const partial = new Fmp4Scanner();
    partial.push(stream.subarray(0, stream.length - 1)); // last mdat incomplete
    expect(partial.samples(1)).toBe(2);
  });
});

describe(upgradeApiKey.name, () => {
  it('should take the key from Authorization, X-API-Key or ?key=', () => {
    const url = new URL('http://h/v1/sessions/x/ws?key=q');
    expect(upgradeApiKey({ headers: { authorization: 'Bearer b' } }, url)).toBe('b');
    expect(upgradeApiKey({ headers: { 'x-api-key': 'x' } }, new URL('http://h/'))).toBe('x');
    expect(upgradeApiKey({ headers: {} }, url)).toBe('q');
    expect(upgradeApiKey({ headers: {} }, new URL('http://h/'))).toBeUndefined();
  });
});
