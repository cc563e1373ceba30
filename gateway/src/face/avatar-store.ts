import { promises as fs } from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../common/atomic-file';
import type { DetectedFace, FaceBox, FaceReport } from './face.types';

/** Bumped when the box maths change, so old disk entries are ignored. */
export const AVATAR_RECORD_VERSION = 2; // 2: landmark boxes, relative pads, frames without the face (null)

/** What survives a restart: the boxes and the raw detections, never the frames (re-decoding is cheap). */
export interface AvatarRecord {
  version: number;
  key: string;
  width: number;
  height: number;
  frameCount: number;
  isVideo: boolean;
  fps?: number;
  detector: string;
  /** frames that ran detection and what they found (before pads/smoothing) */
  detections: { frame: number; faces: DetectedFace[] }[];
  /** final per-frame boxes; null where the chosen face was not found (frame rendered unchanged) */
  boxes: ([number, number, number, number] | null)[];
  /** the faces found, the one chosen and how its box was made */
  face: FaceReport;
  createdAt: string;
  /** sha256 of the source bytes (the REST avatarId): lets a delete purge every record of a face */
  sourceHash?: string;
}

const KEY_RE = /^[0-9a-f]{16,128}$/;

/** The JSON disk cache of avatar boxes, one file per key under `dir`. */
export class AvatarStore {
  constructor(private readonly dir: string) {}

  private file(key: string): string {
    if (!KEY_RE.test(key)) throw new RangeError('bad avatar key');
    return path.join(this.dir, `${key}.json`);
  }

  /** The record, or undefined when missing, unreadable or from another version. */
  async read(key: string): Promise<AvatarRecord | undefined> {
    try {
      const rec = JSON.parse(await fs.readFile(this.file(key), 'utf8')) as AvatarRecord;
      if (rec.version !== AVATAR_RECORD_VERSION || rec.key !== key || !Array.isArray(rec.boxes) || !rec.face) return undefined;
      return rec;
    } catch {
      return undefined;
    }
  }

  /** Atomic write (unique temp file + rename), so neither a crash nor a second writer (another replica) leaves half a record. */
  async write(rec: AvatarRecord): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(rec.key), JSON.stringify(rec));
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  /** Removes every record (any version; unreadable ones too when `pred` says so) matching `pred`; returns their keys. */
  async removeWhere(pred: (rec: AvatarRecord) => boolean): Promise<string[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const key = name.replace(/\.json$/, '');
      if (!name.endsWith('.json') || !KEY_RE.test(key)) continue;
      let rec: AvatarRecord;
      try {
        rec = JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as AvatarRecord;
      } catch {
        continue;
      }
      if (!pred(rec)) continue;
      await fs.rm(path.join(this.dir, name), { force: true });
      removed.push(key);
    }
    return removed;
  }
}

export const boxToTuple = (b: FaceBox): [number, number, number, number] => [b.x1, b.y1, b.x2, b.y2];
export const tupleToBox = ([x1, y1, x2, y2]: [number, number, number, number]): FaceBox => ({ x1, y1, x2, y2 });
