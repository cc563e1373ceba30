import { ErrorCode, GatewayError } from '../common/errors';

/** Text messages a client sends on the session's WebSocket. */
export type ClientMessage = { type: 'say'; text: string } | { type: 'end' };

/** Text messages the server sends (binary messages are the fMP4 bytes). */
export type SessionEvent =
  | {
      type: 'ready';
      id: string;
      /** for MediaSource.addSourceBuffer(), e.g. video/mp4; codecs="avc1.42C01E, mp4a.40.2" */
      mime: string;
      fps: number;
      width: number;
      height: number;
      /** the PCM the server expects: s16le at this rate, mono */
      sampleRate: number;
      /** how long the timeline waits for audio before it plays idle frames */
      idleAfterMs: number;
    }
  | ({ type: 'ended' } & SessionTotals)
  | { type: 'error'; code: ErrorCode; message: string; fatal: boolean };

export interface SessionTotals {
  frames: number;
  speechFrames: number;
  idleFrames: number;
  /** speech frames shown without the model's mouth because inference fell too far behind */
  droppedFrames: number;
  /** speech frames that left later than the session's late threshold after their audio arrived */
  lateFrames: number;
  /** seconds of audio received (PCM and spoken text) */
  audioSeconds: number;
  /** seconds of the output timeline (audio received + idle silence) */
  durationSeconds: number;
}

/** A session's totals before anything was sent (a fresh object each call: live sessions mutate theirs). */
export const emptyTotals = (): SessionTotals => ({
  frames: 0,
  speechFrames: 0,
  idleFrames: 0,
  droppedFrames: 0,
  lateFrames: 0,
  audioSeconds: 0,
  durationSeconds: 0,
});

const MAX_TEXT_MESSAGE = 64 * 1024;

/** Parses one text message; anything else is BAD_MESSAGE (the text's own limits are the speech validator's). */
export function parseClientMessage(raw: string): ClientMessage {
  if (raw.length > MAX_TEXT_MESSAGE)
    throw new GatewayError('BAD_MESSAGE', `a text message may hold at most ${MAX_TEXT_MESSAGE} characters`);
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    throw new GatewayError('BAD_MESSAGE', 'a text message must be JSON: {"type":"say","text":"…"} or {"type":"end"}');
  }
  const type = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
  if (type === 'end') return { type: 'end' };
  if (type === 'say') {
    const text = (msg as { text?: unknown }).text;
    if (typeof text !== 'string') throw new GatewayError('BAD_MESSAGE', 'a say message needs a string "text"');
    return { type: 'say', text };
  }
  throw new GatewayError(
    'BAD_MESSAGE',
    `unknown message type ${JSON.stringify(type)?.slice(0, 40) ?? 'undefined'} (expected "say" or "end")`,
  );
}

/** WebSocket close codes: 1000 done, 1001 server going away, 1011 server failure, 4xxx the gateway's (4000 + HTTP status). */
export function closeCodeFor(code: ErrorCode | 'ENDED' | 'SHUTDOWN'): number {
  switch (code) {
    case 'ENDED':
      return 1000;
    case 'SHUTDOWN':
      return 1001;
    case 'UNAUTHORIZED':
      return 4401;
    case 'NOT_FOUND':
      return 4404;
    case 'SESSION_TIMEOUT':
      return 4408;
    case 'CONFLICT':
      return 4409;
    case 'SLOW_CONSUMER':
      return 4429;
    case 'BACKEND_UNAVAILABLE':
      return 4503;
    default:
      return 1011;
  }
}
