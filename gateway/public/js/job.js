// A render job from the page: POST /v1/jobs, poll GET /v1/jobs/:id for progress, then fetch the MP4.

const POLL_MS = 500;
const FINAL = ['succeeded', 'failed', 'cancelled'];

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason ?? new Error('aborted'));
      },
      { once: true },
    );
  });

/**
 * Runs one job to the end. `speech` is `{ text, voice }` or `{ audioFile }`. Calls
 * `onUpdate(job)` after every poll; resolves with `{ job, blob }` once it succeeded, rejects with
 * the job's error otherwise.
 */
export async function runJob(client, { avatarId, speech }, { onUpdate, signal } = {}) {
  const fields = speech.audioFile ? { avatarId } : { avatarId, text: speech.text, voice: speech.voice };
  let job = await client.createJob(fields, speech.audioFile);
  onUpdate?.(job);
  while (!FINAL.includes(job.status)) {
    await sleep(POLL_MS, signal);
    job = await client.getJob(job.id, signal);
    onUpdate?.(job);
  }
  if (job.status !== 'succeeded') {
    const err = new Error(job.error ? `${job.error.code}: ${job.error.message}` : `job ${job.status}`);
    err.job = job;
    throw err;
  }
  return { job, blob: await client.jobResult(job.id, signal) };
}
