import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayError } from '../../../gateway/src/common/errors';
import { JobJournal } from '../../../gateway/src/jobs/job-journal';
import type { JobRecord } from '../../../gateway/src/jobs/job.types';
import { JobsService, JobsSettings } from '../../../gateway/src/jobs/jobs.service';

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with the journal as `this`
const put = JobJournal.prototype.put;
import type { RenderHooks, RenderRequest, RenderResult, Renderer } from '../../../gateway/src/render/render.types';

/** A renderer the test drives: each render waits until released (or aborted). */
class ManualRenderer implements Renderer {
  readonly calls: { req: RenderRequest; hooks: RenderHooks; release: (fail?: GatewayError) => void }[] = [];
  render(req: RenderRequest, hooks: RenderHooks = {}): Promise<RenderResult> {
    return new Promise((resolve, reject) => {
      hooks.signal?.addEventListener('abort', () => reject(new GatewayError('CANCELLED', 'cancelled')));
      this.calls.push({
        req,
        hooks,
        release: (fail) => {
          if (fail) return reject(fail);
          fs.writeFileSync(req.outPath, 'mp4');
          hooks.onProgress?.({ framesDone: 5, framesTotal: 5, progress: 1 });
          resolve({
            outPath: req.outPath,
            frames: 5,
            fps: 25,
            width: 8,
            height: 8,
            audioSeconds: 0.2,
            encoder: 'libx264',
            backend: 'fake',
            avatarCached: false,
            batchSizes: [5],
            timings: { total: 3 },
            model: { name: 'demo', origin: 'demo', licence: 'demo', precision: 'int8' },
          });
        },
      });
    });
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));
/** Waits for `cond` (a fixed tick races with the service's own I/O on a loaded machine). */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

describe(JobsService.name, () => {
  let settings: JobsSettings;
  let renderer: ManualRenderer;
  let sut: JobsService;
  const finished: string[] = [];

  const addJob = (s: JobsService) =>
    s.create({}, async (dir) => {
      fs.writeFileSync(path.join(dir, 'face.png'), 'f');
      fs.writeFileSync(path.join(dir, 'audio.wav'), 'a');
      return { input: { facePath: path.join(dir, 'face.png'), audioPath: path.join(dir, 'audio.wav') } };
    });

  beforeEach(() => {
    settings = { dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'jobs-')), concurrency: 1, queueMax: 5, resultTtlSeconds: 60 };
    renderer = new ManualRenderer();
    finished.length = 0;
    sut = new JobsService(settings, renderer, { jobFinished: (s) => finished.push(s) });
    sut.start();
  });
  afterEach(() => sut.close());

  it('should run a job to success, keep only its result and record timings', async () => {
    const job = await addJob(sut);
    expect(job.status).toBe('running');
    renderer.calls[0].release();
    const done = await sut.waitForEnd(job.id);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, framesDone: 5, resultPath: path.join(job.workDir, 'result.mp4') });
    expect(done.timings.total).toBe(3);
    expect(done.result).toMatchObject({ backend: 'fake', model: { precision: 'int8' } }); // job status says which precision served
    expect(fs.readdirSync(job.workDir)).toEqual(['result.mp4']);
    expect(finished).toEqual(['succeeded']);
  });

  it('should record a failure with its code and remove the job directory', async () => {
    const job = await addJob(sut);
    renderer.calls[0].release(new GatewayError('NO_FACE_FOUND', 'no face'));
    const done = await sut.waitForEnd(job.id);
    expect(done.error).toEqual({ code: 'NO_FACE_FOUND', message: 'no face' });
    expect(fs.existsSync(job.workDir)).toBe(false);
  });

  it('should abort a running render on cancel and resolve after it stopped', async () => {
    const job = await addJob(sut);
    const signal = renderer.calls[0].hooks.signal!;
    const cancelled = await sut.cancel(job.id);
    expect(signal.aborted).toBe(true);
    expect(cancelled.status).toBe('cancelled');
    expect(fs.existsSync(job.workDir)).toBe(false);
    await expect(sut.cancel(job.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(sut.cancel('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('should delete finished jobs after the TTL, not before', async () => {
    const job = await addJob(sut);
    renderer.calls[0].release();
    await sut.waitForEnd(job.id);
    const finishedAt = Date.parse(sut.get(job.id).finishedAt!);
    expect(await sut.sweep(finishedAt + 59_000)).toBe(0);
    expect(await sut.sweep(finishedAt + 60_000)).toBe(1);
    expect(() => sut.get(job.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(fs.existsSync(job.workDir)).toBe(false);
  });

  it('should, after a clean shutdown, resume the interrupted and the queued job in order and fail one whose inputs vanished', async () => {
    const running = await addJob(sut);
    renderer.calls[0].hooks.onProgress?.({ framesDone: 2, framesTotal: 5, progress: 0.4 });
    const queued = await addJob(sut);
    const lost = await addJob(sut);
    fs.rmSync(path.join(lost.workDir, 'audio.wav'));
    await sut.close();
    // The interrupted job was journaled back to queued, from scratch.
    expect(sut.get(running.id)).toMatchObject({ status: 'queued', progress: 0, framesDone: 0, framesTotal: 0 });
    expect(sut.get(running.id).startedAt).toBeUndefined();

    const renderer2 = new ManualRenderer();
    const restarted = new JobsService(settings, renderer2);
    restarted.start();
    try {
      expect(restarted.get(lost.id)).toMatchObject({ status: 'failed', error: { code: 'JOB_INTERRUPTED' } });
      // a clean stop does not count as an attempt: the render now running is its first counted one
      expect(restarted.get(running.id).attempts).toBe(1);
      expect(restarted.get(running.id).progress).toBe(0);
      await until(() => renderer2.calls.length > 0, 'the first render');
      const rendered = () => renderer2.calls.map((c) => path.basename(path.dirname(c.req.outPath)));
      expect(rendered()).toEqual([running.id]);
      renderer2.calls[0].release();
      expect((await restarted.waitForEnd(running.id)).status).toBe('succeeded');
      await until(() => renderer2.calls.length > 1, 'the second render');
      expect(rendered()).toEqual([running.id, queued.id]);
      renderer2.calls[1].release();
      expect((await restarted.waitForEnd(queued.id)).status).toBe('succeeded');
    } finally {
      await restarted.close();
    }
  });

  it('should run a job the journal still shows running (a crash) again from the start, and fail it with JOB_INTERRUPTED after 3 attempts', async () => {
    const job = await addJob(sut);
    const again = await addJob(sut);
    // what a crash leaves behind: the last journal line of each job says running (with progress)
    const crashed = (id: string, attempts: number) =>
      JSON.stringify({
        op: 'put',
        job: { ...sut.get(id), status: 'running', attempts, progress: 0.5, framesDone: 2, startedAt: new Date().toISOString() },
      });
    const lines = [crashed(job.id, 1), crashed(again.id, 3)];
    await sut.close();
    fs.appendFileSync(path.join(settings.dataDir, 'jobs.jsonl'), lines.join('\n') + '\n');

    const renderer2 = new ManualRenderer();
    const restarted = new JobsService(settings, renderer2);
    restarted.start();
    try {
      expect(restarted.get(again.id)).toMatchObject({ status: 'failed', error: { code: 'JOB_INTERRUPTED' } });
      expect(fs.existsSync(again.workDir)).toBe(false);
      expect(restarted.get(job.id)).toMatchObject({ status: 'running', progress: 0, framesDone: 0, attempts: 2 });
      await until(() => renderer2.calls.length > 0, 'the render');
      expect(renderer2.calls.map((c) => c.req.audioPath)).toEqual([path.join(job.workDir, 'audio.wav')]);
      renderer2.calls[0].release();
      expect((await restarted.waitForEnd(job.id)).status).toBe('succeeded');
    } finally {
      await restarted.close();
    }
  });

  it('should journal the final state before removing the inputs, and tidy what a crash between the two left behind', async () => {
    const ok = await addJob(sut);
    const bad = await addJob(sut);
    // when the succeeded record reaches the journal, the inputs are still there (they go after it)
    const journal = path.join(settings.dataDir, 'jobs.jsonl');
    const seen: string[][] = [];
    const spy = jest.spyOn(JobJournal.prototype, 'put').mockImplementation(function (this: JobJournal, job: JobRecord) {
      if (job.status === 'succeeded') seen.push(fs.readdirSync(job.workDir).sort());
      return put.call(this, job);
    });
    renderer.calls[0].release();
    await sut.waitForEnd(ok.id);
    spy.mockRestore();
    expect(seen).toEqual([['audio.wav', 'face.png', 'result.mp4']]);
    expect(fs.readdirSync(ok.workDir)).toEqual(['result.mp4']);
    // a crash after the final record and before the cleanup: a succeeded record beside its inputs, a failed one with its folder
    const lines = [
      { op: 'put', job: { ...sut.get(ok.id) } },
      { op: 'put', job: { ...sut.get(bad.id), status: 'failed', error: { code: 'INFERENCE_FAILED', message: 'x' } } },
    ];
    await sut.close();
    fs.writeFileSync(path.join(ok.workDir, 'audio.wav'), 'a');
    fs.appendFileSync(journal, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const restarted = new JobsService(settings, new ManualRenderer());
    restarted.start();
    try {
      expect(restarted.get(ok.id).status).toBe('succeeded');
      expect(fs.readdirSync(ok.workDir)).toEqual(['result.mp4']);
      expect(restarted.get(bad.id).status).toBe('failed');
      expect(fs.existsSync(bad.workDir)).toBe(false);
    } finally {
      await restarted.close();
    }
  });

  it('should derive every replayed path from the job id and drop records that name anything else', async () => {
    const job = await addJob(sut);
    await sut.close();
    // a tampered journal: the workDir and inputs point elsewhere, another record has a foreign id
    const victim = fs.mkdtempSync(path.join(os.tmpdir(), 'victim-'));
    fs.writeFileSync(path.join(victim, 'keep.txt'), 'x');
    const tampered = {
      ...sut.get(job.id),
      status: 'running',
      attempts: 5,
      workDir: victim,
      input: { facePath: path.join(victim, 'face.png'), audioPath: '/etc/passwd' },
    };
    const foreign = { ...sut.get(job.id), id: '../../victim', workDir: victim };
    const journal = path.join(settings.dataDir, 'jobs.jsonl');
    fs.appendFileSync(journal, [tampered, foreign].map((j) => JSON.stringify({ op: 'put', job: j })).join('\n') + '\n');

    const restarted = new JobsService(settings, new ManualRenderer());
    restarted.start();
    try {
      // the record failed (too many attempts) and its *own* folder was removed, never the victim
      expect(restarted.get(job.id)).toMatchObject({ status: 'failed', workDir: path.join(settings.dataDir, 'jobs', job.id) });
      expect(restarted.get(job.id).input.audioPath).toBe(path.join(settings.dataDir, 'jobs', job.id, 'passwd'));
      expect(() => restarted.get('../../victim')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
      expect(fs.readdirSync(victim)).toEqual(['keep.txt']);
    } finally {
      await restarted.close();
      fs.rmSync(victim, { recursive: true, force: true });
    }
  });

  it('should remove job folders that no journal record owns (a crash between mkdir and the record) at start', async () => {
    const job = await addJob(sut);
    await sut.close();
    const orphan = path.join(settings.dataDir, 'jobs', '0b0e7d2a-3c1f-4c59-9a51-1d2f3e4a5b6c');
    fs.mkdirSync(orphan);
    fs.writeFileSync(path.join(orphan, 'face.png'), 'f');
    const restarted = new JobsService(settings, new ManualRenderer());
    restarted.start();
    try {
      expect(fs.existsSync(orphan)).toBe(false);
      expect(fs.existsSync(job.workDir)).toBe(true);
    } finally {
      await restarted.close();
    }
  });

  it('should answer 503 (not a 202 for a job the closed journal would lose) when close() begins while inputs are built', async () => {
    let release!: () => void;
    let entered!: () => void;
    const inBuild = new Promise<void>((r) => (entered = r));
    const building = sut.create({}, async (dir) => {
      await new Promise<void>((r) => {
        release = r;
        entered();
      });
      fs.writeFileSync(path.join(dir, 'face.png'), 'f');
      fs.writeFileSync(path.join(dir, 'audio.wav'), 'a');
      return { input: { facePath: path.join(dir, 'face.png'), audioPath: path.join(dir, 'audio.wav') } };
    });
    await inBuild; // the inputs are being built (a fixed wait raced with create()'s own I/O on a loaded machine)
    const closed = sut.close();
    release();
    await expect(building).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await closed;
    expect(fs.readdirSync(path.join(settings.dataDir, 'jobs'))).toEqual([]);
  });

  it('should fail a job past its deadline with DEADLINE_EXCEEDED, stop its render, remove its files and free the slot', async () => {
    await sut.close();
    // 1 s: long enough for the second job to be released in time on a loaded machine
    sut = new JobsService({ ...settings, jobTimeoutSeconds: 1 }, renderer);
    sut.start();
    const stalled = await addJob(sut);
    const next = await addJob(sut);
    const ended = await sut.waitForEnd(stalled.id);
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'DEADLINE_EXCEEDED' } });
    expect(renderer.calls[0].hooks.signal?.aborted).toBe(true);
    expect(fs.existsSync(stalled.workDir)).toBe(false);
    // the slot went to the next job
    while (renderer.calls.length < 2) await tick();
    renderer.calls[1].release();
    expect((await sut.waitForEnd(next.id)).status).toBe('succeeded');
  });

  it('should wake waiters with BACKEND_UNAVAILABLE on close and start no queued job', async () => {
    const running = await addJob(sut);
    const queued = await addJob(sut);
    // caught at once: they reject while close() is still stopping the running render
    const waits = [sut.waitForEnd(running.id), sut.waitForEnd(queued.id)].map((w) =>
      w.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    await sut.close();
    expect(sut.isClosing).toBe(true);
    for (const w of waits) expect(await w).toMatchObject({ code: 'BACKEND_UNAVAILABLE', details: { jobId: expect.any(String) } });
    await expect(sut.waitForEnd(queued.id)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await tick();
    expect(renderer.calls).toHaveLength(1);
  });

  it('should compact the journal during a sweep once it holds far more lines than live jobs', async () => {
    const journal = path.join(settings.dataDir, 'jobs.jsonl');
    const lines = () => fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    let last = 0;
    for (let i = 0; i < 25; i++) {
      const job = await addJob(sut);
      renderer.calls[i].release();
      last = Date.parse((await sut.waitForEnd(job.id)).finishedAt!);
    }
    const kept = await addJob(sut); // still running: the one live record
    expect(lines().length).toBeGreaterThan(75);
    expect(await sut.sweep(last + 60_000)).toBe(25);
    expect(lines().map((l) => JSON.parse(l).job?.id)).toEqual([kept.id]);
    // Appends keep going to the compacted file.
    renderer.calls[25].release();
    await sut.waitForEnd(kept.id);
    expect(lines()).toHaveLength(2);
    expect(JSON.parse(lines()[1]).job).toMatchObject({ id: kept.id, status: 'succeeded' });
  });

  it('should remove the directory and record nothing when building the inputs fails', async () => {
    await expect(sut.create({}, async () => Promise.reject(new GatewayError('AUDIO_TOO_LONG', 'long')))).rejects.toMatchObject({
      code: 'AUDIO_TOO_LONG',
    });
    expect(fs.readdirSync(path.join(settings.dataDir, 'jobs'))).toEqual([]);
  });
});
