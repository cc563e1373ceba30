// Wires the page: API key, avatar list and upload, speech input, job and live-session buttons.

import { GatewayClient, loadApiKey, saveApiKey } from './api.js';
import { runJob } from './job.js';
import { LiveSession } from './live.js';
import { fileToPcm16k } from './pcm.js';

const $ = (id) => document.getElementById(id);
const ui = {
  key: $('api-key'),
  avatar: $('avatar-select'),
  faceFile: $('face-file'),
  upload: $('upload-face'),
  text: $('speech-text'),
  voice: $('voice'),
  audioFile: $('audio-file'),
  textRow: $('text-row'),
  audioRow: $('audio-row'),
  startJob: $('start-job'),
  startLive: $('start-live'),
  endLive: $('end-live'),
  progress: $('job-progress'),
  status: $('status'),
  player: $('player'),
  modelInfo: $('model-info'),
};

const client = new GatewayClient(() => ui.key.value.trim());
let live;
let resultUrl;

function status(text, isError = false) {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', isError);
}

const speechKind = () => document.querySelector('input[name=speech-kind]:checked').value;

function showSpeechKind() {
  const audio = speechKind() === 'audio';
  ui.textRow.hidden = audio;
  ui.audioRow.hidden = !audio;
}

async function refreshAvatars(select) {
  try {
    const list = await client.listAvatars();
    ui.avatar.replaceChildren(...list.map((a) => new Option(`${a.kind} ${a.width}×${a.height} · ${a.avatarId.slice(0, 12)}…`, a.avatarId)));
    if (!list.length) ui.avatar.append(new Option('(none yet: upload a face)', ''));
    if (select) ui.avatar.value = select;
  } catch (err) {
    ui.avatar.replaceChildren(new Option(`(could not list avatars: ${err.code ?? err.message})`, ''));
  }
}

async function showModel() {
  try {
    const r = await client.readiness();
    const m = r.model;
    ui.modelInfo.textContent = m
      ? `Model: ${m.name} (${m.licence})${r.ready ? '' : ` · not ready: ${r.reason}`}`
      : `Backend ${r.backend}${r.ready ? '' : `, not ready: ${r.reason}`}`;
  } catch {
    ui.modelInfo.textContent = '';
  }
}

function requireAvatar() {
  const id = ui.avatar.value;
  if (!id) throw new Error('pick an avatar or upload a face first');
  return id;
}

async function speechInput() {
  if (speechKind() === 'text') {
    const text = ui.text.value.trim();
    if (!text) throw new Error('type some text to speak');
    return { text, voice: ui.voice.value.trim() };
  }
  const file = ui.audioFile.files[0];
  if (!file) throw new Error('choose an audio file');
  return { audioFile: file };
}

async function guarded(button, fn) {
  button.disabled = true;
  try {
    await fn();
  } catch (err) {
    status(err.code ? `${err.code}: ${err.message}` : err.message, true);
  } finally {
    button.disabled = false;
  }
}

function stopLive() {
  live?.close();
  live = undefined;
  ui.endLive.disabled = true;
}

async function onUpload() {
  const file = ui.faceFile.files[0];
  if (!file) throw new Error('choose a face image or video to upload');
  status('Uploading and detecting the face…');
  const avatar = await client.uploadAvatar(file);
  await refreshAvatars(avatar.avatarId);
  status(`Avatar ready (${avatar.width}×${avatar.height}${avatar.cached ? ', already known' : ''}).`);
}

async function onJob() {
  const avatarId = requireAvatar();
  const speech = await speechInput();
  stopLive();
  ui.progress.hidden = false;
  ui.progress.value = 0;
  status('Submitting the job…');
  const { job, blob } = await runJob(
    client,
    { avatarId, speech },
    {
      onUpdate: (j) => {
        ui.progress.value = j.progress ?? 0;
        const pos = j.queuePosition !== undefined ? ` (queue position ${j.queuePosition})` : '';
        status(`Job ${j.status}${pos}: ${j.framesDone}/${j.framesTotal || '?'} frames.`);
      },
    },
  );
  ui.progress.value = 1;
  if (resultUrl) URL.revokeObjectURL(resultUrl);
  resultUrl = URL.createObjectURL(blob);
  ui.player.src = resultUrl;
  ui.player.dataset.jobId = job.id;
  await ui.player.play().catch(() => undefined);
  status(`Done: ${job.result?.frames ?? job.framesTotal} frames, ${(job.timings?.total / 1000).toFixed(1)} s to render.`);
}

async function onLive() {
  const avatarId = requireAvatar();
  const speech = await speechInput();
  stopLive();
  ui.progress.hidden = true;
  const pcm = speech.audioFile ? await fileToPcm16k(speech.audioFile) : undefined;
  status('Starting a live session…');
  live = new LiveSession(client, ui.player, { onStatus: status });
  ui.endLive.disabled = false;
  await live.start({ avatarId, voice: speech.voice, text: speech.text, pcm });
}

ui.key.value = loadApiKey();
ui.key.addEventListener('change', () => {
  saveApiKey(ui.key.value.trim());
  refreshAvatars();
});
for (const r of document.querySelectorAll('input[name=speech-kind]')) r.addEventListener('change', showSpeechKind);
ui.upload.addEventListener('click', () => guarded(ui.upload, onUpload));
ui.startJob.addEventListener('click', () => guarded(ui.startJob, onJob));
ui.startLive.addEventListener('click', () => guarded(ui.startLive, onLive));
ui.endLive.addEventListener('click', () => {
  live?.end();
  ui.endLive.disabled = true;
});
window.addEventListener('pagehide', stopLive);

// for people debugging in the console and for the browser test
window.lipsyncPage = { liveStats: () => live?.stats(), refreshAvatars };

showSpeechKind();
refreshAvatars();
showModel();
