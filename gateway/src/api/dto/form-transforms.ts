import type { TransformFnParams } from 'class-transformer';

/**
 * Multipart fields arrive as strings. These transforms turn well-formed values into numbers,
 * booleans or tuples and leave anything else as it was, so the validators reject it with a message.
 */
const blank = (v: unknown): boolean => v === undefined || v === null || v === '';

export const toNumber = ({ value }: TransformFnParams): unknown => {
  if (blank(value)) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return value;
};

export const toBoolean = ({ value }: TransformFnParams): unknown => {
  if (blank(value)) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
};

/** A list of `n` integers, "a,b,…" (or a JSON array) → numbers; anything else is kept for the validator to refuse. */
function integerList(n: number) {
  return ({ value }: TransformFnParams): unknown => {
    if (blank(value)) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- class-transformer's value is any; the validators check the result
    if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? Number(v) : v));
    if (typeof value !== 'string') return value;
    const parts = value
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map((p) => p.trim());
    if (parts.length !== n || parts.some((p) => !/^-?\d+$/.test(p))) return value;
    return parts.map(Number);
  };
}

/** "top,bottom,left,right" (or a JSON array) → [t, b, l, r] of integers. */
export const toTblr = integerList(4);

export const trimString = ({ value }: TransformFnParams): unknown => (typeof value === 'string' ? value.trim() || undefined : value);

/** "x,y" (or a JSON array) → [x, y] of integers. */
export const toPoint = integerList(2);
