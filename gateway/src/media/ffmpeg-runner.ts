import { spawn, ChildProcess } from 'child_process';
import * as path from 'path';
import { Readable, Writable } from 'stream';
import { GatewayError } from '../common/errors';

/**
 * The one owner of ffmpeg/ffprobe child processes. Everything else builds argument lists (pure,
 * tested) and calls this class. It guarantees: stderr is kept (last 4 KiB) for error messages,
 * an AbortSignal kills the process, and no process outlives the promise that owns it.
 */
export interface FfmpegPaths {
  ffmpegPath: string;
  ffprobePath: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** bytes written to stdin, then stdin is closed */
  input?: Buffer;
  /** kill after this many ms (DEADLINE_EXCEEDED); default DEFAULT_TIMEOUT_MS, so no call can hang for ever */
  timeoutMs?: number;
  /** refuse to buffer more than this on stdout */
  maxStdoutBytes?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

const STDERR_TAIL_BYTES = 4096;

/** Bound on any run()/probe()/stream() that names no timeout of its own (issue 10, item 6). */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** `file:` + absolute path stops ffmpeg from reading a name such as `concat:…`, `http:…` or `take:1.wav` as a protocol. */
export function ffmpegInputUrl(file: string): string {
  return `file:${path.resolve(file)}`;
}

/** Keeps the last N bytes of a stream as text. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit = STDERR_TAIL_BYTES) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** Last non-empty lines of ffmpeg's stderr, for one-line error messages. */
export function stderrTail(stderr: string, lines = 3): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}

/** A running ffmpeg with a writable stdin (frames) and a readable stdout (e.g. a fragmented MP4). */
export interface FfmpegProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly pid: number | undefined;
  /** writes one chunk, awaiting 'drain' when the pipe is full (backpressure) */
  write(chunk: Uint8Array): Promise<void>;
  /** the same for extra input pipe k (fd 3 + k, read by ffmpeg as `pipe:3`, …); see open()'s extraInputs */
  writeExtra(k: number, chunk: Uint8Array): Promise<void>;
  /** closes stdin and waits for exit; rejects with FFMPEG_FAILED (stderr tail) on a non-zero exit */
  end(): Promise<RunResult>;
  /** kills the process (SIGKILL) and waits for it to be gone */
  kill(): Promise<void>;
  /** resolves when the process has exited (any code) */
  readonly exited: Promise<number | null>;
}

export class FfmpegRunner {
  constructor(private readonly paths: FfmpegPaths = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe' }) {}

  /** Runs ffmpeg to completion and buffers stdout. */
  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.runBinary(this.paths.ffmpegPath, args, opts);
  }

  /** Runs ffprobe to completion and buffers stdout. */
  probe(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.runBinary(this.paths.ffprobePath, args, opts);
  }

  /** Runs ffmpeg and streams stdout chunks to `onData` without buffering the whole output. */
  async stream(args: string[], onData: (chunk: Buffer) => void, opts: RunOptions = {}): Promise<RunResult> {
    const proc = this.spawnProcess(this.paths.ffmpegPath, args, opts.signal);
    proc.child.stdout!.on('data', onData);
    if (opts.input) proc.child.stdin!.end(opts.input);
    else proc.child.stdin!.end();
    return proc.finish(Buffer.alloc(0), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /**
   * Starts ffmpeg with stdin open for raw frames. The caller writes with `write()` (which honours
   * backpressure) and calls `end()`; on any failure it must call `kill()`.
   */
  open(args: string[], opts: { signal?: AbortSignal; extraInputs?: number } = {}): FfmpegProcess {
    const proc = this.spawnProcess(this.paths.ffmpegPath, args, opts.signal, opts.extraInputs ?? 0);
    const child = proc.child;
    const inputs = [child.stdin!, ...Array.from({ length: opts.extraInputs ?? 0 }, (_, k) => child.stdio[3 + k] as Writable)];
    const errors: (Error | undefined)[] = inputs.map(() => undefined);
    // EPIPE when ffmpeg dies early: remember it; the exit code and stderr explain why.
    inputs.forEach((w, k) => w.on('error', (e) => (errors[k] = e)));
    const exited = proc.exitPromise.then(({ code }) => code);
    const writeTo = async (k: number, chunk: Uint8Array) => {
      const w = inputs[k];
      if (!w) throw new RangeError(`ffmpeg has no input pipe ${k}`);
      if (!errors[k] && !proc.hasExited() && !w.write(chunk)) {
        // wait for room in the pipe, or for the pipe to break / ffmpeg to exit (EPIPE comes first)
        await new Promise<void>((resolve) => {
          const done = () => {
            w.off('drain', done);
            w.off('error', done);
            resolve();
          };
          w.on('drain', done);
          w.on('error', done);
          void proc.exitPromise.then(done);
        });
      }
      if (errors[k] || proc.hasExited()) {
        // the exit code and stderr say why, not the EPIPE
        await proc.exitPromise;
        throw proc.failure(k === 0 ? 'ffmpeg exited while receiving frames' : 'ffmpeg exited while receiving input');
      }
    };
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      pid: child.pid,
      exited,
      write: (chunk) => writeTo(0, chunk),
      writeExtra: (k, chunk) => writeTo(k + 1, chunk),
      end: async () => {
        for (const w of inputs) w.end();
        return proc.finish(Buffer.alloc(0));
      },
      kill: async () => {
        if (!proc.hasExited()) child.kill('SIGKILL');
        await proc.exitPromise;
      },
    };
  }

  private async runBinary(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
    const proc = this.spawnProcess(bin, args, opts.signal);
    const out: Buffer[] = [];
    let outSize = 0;
    proc.child.stdout!.on('data', (c: Buffer) => {
      outSize += c.length;
      if (opts.maxStdoutBytes && outSize > opts.maxStdoutBytes) {
        proc.child.kill('SIGKILL');
        return;
      }
      out.push(c);
    });
    proc.child.stdin!.on('error', () => undefined);
    if (opts.input) proc.child.stdin!.end(opts.input);
    else proc.child.stdin!.end();
    const res = await proc.finish(null, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (opts.maxStdoutBytes && outSize > opts.maxStdoutBytes) {
      throw new GatewayError('FFMPEG_FAILED', `${path.basename(bin)} produced more than ${opts.maxStdoutBytes} bytes`);
    }
    return { stdout: Buffer.concat(out), stderr: res.stderr };
  }

  private spawnProcess(bin: string, args: string[], signal?: AbortSignal, extraPipes = 0) {
    if (signal?.aborted) throw new GatewayError('CANCELLED', 'the operation was cancelled');
    const stdio: 'pipe'[] = Array.from({ length: 3 + extraPipes }, () => 'pipe');
    const child: ChildProcess = spawn(bin, args, { stdio });
    const tail = new TailBuffer();
    const tool = path.basename(bin);
    child.stderr!.on('data', (c: Buffer) => tail.push(c));
    let exitInfo: { code: number | null; sig: NodeJS.Signals | null; spawnError?: Error } | undefined;
    let aborted = false;
    const exitPromise = new Promise<{ code: number | null; sig: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
      child.once('error', (e) => {
        exitInfo = { code: null, sig: null, spawnError: e };
        resolve(exitInfo);
      });
      child.once('close', (code, sig) => {
        exitInfo ??= { code, sig };
        resolve(exitInfo);
      });
    });
    const onAbort = () => {
      aborted = true;
      if (!exitInfo) child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void exitPromise.then(() => signal?.removeEventListener('abort', onAbort));

    const failure = (what: string): GatewayError => {
      if (aborted) return new GatewayError('CANCELLED', 'the operation was cancelled');
      if (exitInfo?.spawnError) {
        const code = (exitInfo.spawnError as NodeJS.ErrnoException).code ?? 'error';
        return new GatewayError('FFMPEG_FAILED', `cannot start ${tool} (${code})`, { bin, spawnError: exitInfo.spawnError.message });
      }
      const how = exitInfo ? (exitInfo.sig ? `signal ${exitInfo.sig}` : `code ${exitInfo.code}`) : 'still running';
      // stderr names server paths and library internals: it goes to details (logged), not to the message
      return new GatewayError('FFMPEG_FAILED', `${what} (${how})`, { stderr: tail.text() });
    };
    const finish = async (_unused: Buffer | null, timeoutMs?: number): Promise<RunResult> => {
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (timeoutMs) {
        timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs);
      }
      const info = await exitPromise;
      if (timer) clearTimeout(timer);
      if (timedOut) throw new GatewayError('DEADLINE_EXCEEDED', `${tool} timed out after ${timeoutMs} ms`);
      if (info.spawnError || info.code !== 0 || aborted) throw failure(`${tool} failed`);
      return { stdout: Buffer.alloc(0), stderr: tail.text() };
    };
    return { child, exitPromise, failure, finish, hasExited: () => exitInfo !== undefined };
  }
}
