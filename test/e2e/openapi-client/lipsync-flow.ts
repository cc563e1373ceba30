// A client program written against the types openapi-typescript generates from /docs-json (./lipsync-api,
// generated at test time next to a copy of this file): test/e2e/openapi-client.e2e-spec.ts type-checks
// it with tsc, then runs it against a live gateway. It is not part of the main tsconfig (no types yet).
import * as fs from 'fs';
import createClient from 'openapi-fetch';
import type { components, paths } from './lipsync-api';

type Job = components['schemas']['JobDto'];
type FormValue = string | number | boolean | Blob | undefined;

/** openapi-fetch sends JSON by default; the gateway's upload routes take multipart forms. */
function toForm(body: Record<string, FormValue>): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(body)) {
    if (value instanceof Blob) form.append(key, value, key);
    else if (value !== undefined) form.append(key, String(value));
  }
  return form;
}

async function main(): Promise<void> {
  const [baseUrl, apiKey, facePath, audioPath] = process.argv.slice(2);
  const client = createClient<paths>({ baseUrl, headers: { 'X-API-Key': apiKey } });
  const out: Record<string, unknown> = {};

  const health = await client.GET('/healthz');
  out.health = health.data?.status;

  const face = new Blob([fs.readFileSync(facePath)], { type: 'image/png' });
  const avatar = await client.POST('/v1/avatars', { body: { file: face }, bodySerializer: toForm });
  if (!avatar.data) throw new Error(`POST /v1/avatars: ${avatar.response.status} ${JSON.stringify(avatar.error)}`);
  out.avatar = { id: avatar.data.avatarId, kind: avatar.data.kind, box: avatar.data.box };

  const audio = new Blob([fs.readFileSync(audioPath)], { type: 'audio/wav' });
  const created = await client.POST('/v1/jobs', { body: { avatarId: avatar.data.avatarId, audio, fps: 25 }, bodySerializer: toForm });
  if (!created.data) throw new Error(`POST /v1/jobs: ${created.response.status} ${JSON.stringify(created.error)}`);
  out.createdStatus = created.response.status;

  let job: Job = created.data;
  const seen = new Set<string>([job.status]);
  while (!['succeeded', 'failed', 'cancelled'].includes(job.status)) {
    await new Promise((r) => setTimeout(r, 200));
    const polled = await client.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } });
    if (!polled.data) throw new Error(`GET /v1/jobs/{id}: ${polled.response.status}`);
    job = polled.data;
    seen.add(job.status);
  }
  out.job = { status: job.status, framesDone: job.framesDone, framesTotal: job.framesTotal, result: job.result, seen: [...seen] };

  const result = await client.GET('/v1/jobs/{id}/result', { params: { path: { id: job.id } }, parseAs: 'arrayBuffer' });
  const bytes = Buffer.from(result.data ?? new ArrayBuffer(0));
  out.result = {
    status: result.response.status,
    contentType: result.response.headers.get('content-type'),
    bytes: bytes.length,
    box: bytes.subarray(4, 8).toString('latin1'),
  };

  // errors come back typed as the documented error body
  const missing = await client.GET('/v1/jobs/{id}', { params: { path: { id: 'no-such-job' } } });
  out.missing = { status: missing.response.status, code: missing.error?.error.code };
  const incomplete = await client.POST('/v1/jobs', { body: { avatarId: avatar.data.avatarId }, bodySerializer: toForm });
  out.incomplete = { status: incomplete.response.status, code: incomplete.error?.error.code };
  const early = await client.GET('/v1/jobs/{id}/result', { params: { path: { id: 'no-such-job' } }, parseAs: 'arrayBuffer' });
  out.resultError = { status: early.response.status, contentType: early.response.headers.get('content-type') };

  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
