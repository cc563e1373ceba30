import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../common/atomic-file';
import { GatewayError } from '../common/errors';
import { DataLayout, moveFile, randomName } from '../jobs/job-files';
import type { AvatarPort } from '../render/render-pipeline';
import type { AvatarDto } from './dto/responses.dto';
import { AVATAR_ID_PATTERN } from './dto/create-job.dto';
import type { SniffResult } from '../media/media-sniff';
import type { FaceReport } from '../face/face.types';
import { Slots } from './avatar-slots';

interface AvatarMeta extends AvatarDto {
  /** random file name inside the avatar's directory */
  file: string;
}

const META = 'meta.json';

export interface AvatarStoreSettings {
  /** AVATAR_TTL_SECONDS: avatars older than this are deleted by sweep(); 0/undefined = kept */
  ttlSeconds?: number;
  /** AVATAR_CONCURRENCY: uploads prepared at once (8× that may wait; beyond: 503) */
  concurrency?: number;
}

/** sha256 of a file, streamed (uploads can be large). */
export async function hashFile(p: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Avatars on disk: DATA_DIR/avatars/<sha256>/{<random>.<ext>, meta.json}. The face is detected
 * once, when the avatar is created; AvatarService's cache serves later jobs.
 */
export class AvatarStore {
  /** creations in progress per avatarId: a second upload of the same bytes waits for the first */
  private readonly creating = new Map<string, Promise<AvatarDto>>();
  private readonly slots: Slots;

  constructor(
    private readonly layout: DataLayout,
    private readonly avatars: Pick<AvatarPort, 'prepare'> & { forgetContent?(sourceHash: string): Promise<void> },
    private readonly settings: AvatarStoreSettings = {},
  ) {
    const max = settings.concurrency ?? 2;
    this.slots = new Slots(max, max * 8);
  }

  /**
   * Stores an upload (moved away from multer's temp name) and prepares it; same content → same
   * avatarId. Two uploads of the same bytes at once share one creation (neither can delete the
   * other's folder). `signal`: the client hung up (preparation stops, nothing is kept).
   */
  async create(uploadPath: string, sniff: SniffResult, signal?: AbortSignal): Promise<AvatarDto> {
    const avatarId = await hashFile(uploadPath);
    const existing = this.readMeta(avatarId);
    if (existing) return { ...publicMeta(existing), cached: true };
    const pending = this.creating.get(avatarId);
    if (pending) {
      const first = await pending.catch(() => undefined);
      if (first) return { ...first, cached: true };
      return this.create(uploadPath, sniff, signal); // the first failed (its client left, say): try ours
    }
    const job = this.createNew(avatarId, uploadPath, sniff, signal).finally(() => this.creating.delete(avatarId));
    this.creating.set(avatarId, job);
    return job;
  }

  private async createNew(avatarId: string, uploadPath: string, sniff: SniffResult, signal?: AbortSignal): Promise<AvatarDto> {
    const release = await this.slots.acquire(signal);
    try {
      return await this.createLocked(avatarId, uploadPath, sniff, signal);
    } finally {
      release();
    }
  }

  private async createLocked(avatarId: string, uploadPath: string, sniff: SniffResult, signal?: AbortSignal): Promise<AvatarDto> {
    const dir = this.layout.avatarDir(avatarId);
    await fs.promises.mkdir(dir, { recursive: true });
    const file = randomName('face', sniff.format);
    try {
      await moveFile(uploadPath, path.join(dir, file));
      const prepared = await this.avatars.prepare(path.join(dir, file), { signal });
      const b = prepared.box(0);
      const meta: AvatarMeta = {
        avatarId,
        kind: sniff.kind === 'video' ? 'video' : 'image',
        width: prepared.width,
        height: prepared.height,
        frames: prepared.frameCount,
        box: toBoxDto(b),
        ...faceFields(prepared.face),
        cached: prepared.cached,
        createdAt: new Date().toISOString(),
        file,
      };
      // unique temp + rename: a reader (any replica) never sees half a meta.json, even with two writers
      await writeFileAtomic(path.join(dir, META), JSON.stringify(meta));
      return publicMeta(meta);
    } catch (err) {
      // Only this creation's own file goes: another replica on the shared DATA_DIR may be creating
      // (or have created) the same avatar in this folder. The folder and the face's cached boxes go
      // only when no replica completed it.
      await fs.promises.rm(path.join(dir, file), { force: true });
      if (!this.readMeta(avatarId)) {
        await fs.promises.rmdir(dir).catch(() => undefined); // only when empty: another creation may be under way
        await this.avatars.forgetContent?.(avatarId);
      }
      throw err;
    }
  }

  get(avatarId: string): AvatarDto {
    return publicMeta(this.mustRead(avatarId));
  }

  /** The stored face file of an avatar (for jobs that name an avatarId). */
  facePath(avatarId: string): string {
    const meta = this.mustRead(avatarId);
    return path.join(this.layout.avatarDir(avatarId), meta.file);
  }

  list(): AvatarDto[] {
    const ids = fs.existsSync(this.layout.avatarsDir) ? fs.readdirSync(this.layout.avatarsDir) : [];
    return ids
      .map((id) => this.readMeta(id))
      .filter((m): m is AvatarMeta => !!m)
      .map(publicMeta)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /**
   * Deletes an avatar and every trace of the face (issue 10, item 5): its folder (upload and meta)
   * and, through AvatarService, decoded frames, crops and boxes in memory and box records on disk.
   */
  async remove(avatarId: string): Promise<void> {
    this.mustRead(avatarId);
    await this.purge(avatarId);
  }

  private async purge(avatarId: string): Promise<void> {
    await fs.promises.rm(this.layout.avatarDir(avatarId), { recursive: true, force: true });
    await this.avatars.forgetContent?.(avatarId);
  }

  /** Deletes avatars older than AVATAR_TTL_SECONDS (0 = keep for ever); returns how many went. */
  async sweep(now = Date.now()): Promise<number> {
    const ttl = this.settings.ttlSeconds ?? 0;
    if (!(ttl > 0)) return 0;
    let n = 0;
    for (const a of this.list()) {
      if (Date.parse(a.createdAt) + ttl * 1000 > now || this.creating.has(a.avatarId)) continue;
      await this.purge(a.avatarId);
      n++;
    }
    return n;
  }

  private mustRead(avatarId: string): AvatarMeta {
    const meta = this.readMeta(avatarId);
    if (!meta) throw new GatewayError('NOT_FOUND', `avatar ${avatarId.slice(0, 64)} does not exist`);
    return meta;
  }

  private readMeta(avatarId: string): AvatarMeta | undefined {
    // The id becomes a path segment: only accept the exact hash shape.
    if (!AVATAR_ID_PATTERN.test(avatarId)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(path.join(this.layout.avatarDir(avatarId), META), 'utf8')) as AvatarMeta;
    } catch {
      return undefined;
    }
  }
}

const toBoxDto = (b: { x1: number; y1: number; x2: number; y2: number }) => ({
  top: Math.round(b.y1),
  bottom: Math.round(b.y2),
  left: Math.round(b.x1),
  right: Math.round(b.x2),
});

/** What a client needs to choose a face and to show what was used (absent for ports that do not report faces). */
function faceFields(face: FaceReport | undefined): Pick<AvatarDto, 'faces' | 'selectedFace' | 'boxMethod' | 'landmarks'> {
  if (!face) return {};
  return {
    faces: face.faces.map((f) => ({ box: toBoxDto(f.box), score: Math.round(f.score * 1000) / 1000 })),
    selectedFace: face.selected,
    boxMethod: face.method,
    landmarks: face.landmarks,
  };
}

function publicMeta(meta: AvatarMeta): AvatarDto {
  const { file: _file, ...rest } = meta;
  return rest;
}
