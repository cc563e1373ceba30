import { AVATAR_IMAGE_FORMATS, MediaKind, SniffResult } from '../media/media-sniff';

/** What each upload field accepts: a face is an image or a video; audio may come from a video's track. */
export const FIELD_KINDS = {
  face: ['image', 'video'],
  audio: ['audio', 'video'],
  file: ['image', 'video'],
} as const satisfies Record<string, readonly MediaKind[]>;

export type UploadField = keyof typeof FIELD_KINDS;

/** True when a sniffed upload fits the field; face images must be formats the avatar pipeline decodes. */
export function acceptsUpload(field: UploadField, found: SniffResult | null): boolean {
  if (!found || !(FIELD_KINDS[field] as readonly MediaKind[]).includes(found.kind)) return false;
  return found.kind !== 'image' || AVATAR_IMAGE_FORMATS.includes(found.format);
}
