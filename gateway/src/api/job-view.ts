import type { JobRecord } from '../jobs/job.types';
import type { JobDto } from './dto/responses.dto';

/** The public view of a job: no server paths, no inputs. */
export function toJobView(job: JobRecord, queuePosition = -1): JobDto {
  const base = `/v1/jobs/${job.id}`;
  const view: JobDto = {
    id: job.id,
    status: job.status,
    progress: Math.round(job.progress * 1000) / 1000,
    framesDone: job.framesDone,
    framesTotal: job.framesTotal,
    timings: job.timings,
    options: { ...job.options },
    links: { self: base, result: `${base}/result`, stream: `${base}/stream` },
    createdAt: job.createdAt,
  };
  if (job.status === 'queued' && queuePosition >= 0) view.queuePosition = queuePosition;
  if (job.input.avatarId) view.avatarId = job.input.avatarId;
  if (job.error) view.error = { ...job.error };
  if (job.result) view.result = { ...job.result };
  if (job.startedAt) view.startedAt = job.startedAt;
  if (job.finishedAt) view.finishedAt = job.finishedAt;
  if (job.webhook) {
    const { url, state, attempts, nextAttemptAt } = job.webhook;
    view.webhook = { url: redactQuery(url), state, attempts: attempts.map((a) => ({ ...a })) };
    if (nextAttemptAt) view.webhook.nextAttemptAt = nextAttemptAt;
  }
  return view;
}

/** A webhook URL without its query string, which often carries the receiver's token. */
function redactQuery(url: string): string {
  const u = new URL(url);
  return u.search ? `${u.origin}${u.pathname}?…` : u.toString();
}
