import type { TransformFnParams } from 'class-transformer';
import { toPoint, toTblr } from '../../../gateway/src/api/dto/form-transforms';

const run = (fn: (p: TransformFnParams) => unknown, value: unknown): unknown => fn({ value } as TransformFnParams);

describe('form transforms: integer lists', () => {
  it('should turn "t,b,l,r" and "[x, y]" form fields into integers', () => {
    expect(run(toTblr, '72, 180,170,275')).toEqual([72, 180, 170, 275]);
    expect(run(toPoint, '[10,-4]')).toEqual([10, -4]);
    expect(run(toPoint, ['3', 4])).toEqual([3, 4]);
  });

  it('should treat an empty field as not set', () => {
    expect(run(toTblr, '')).toBeUndefined();
    expect(run(toPoint, undefined)).toBeUndefined();
  });

  it('should keep anything else as it is, for the validators to refuse', () => {
    expect(run(toTblr, '1,2,3')).toBe('1,2,3');
    expect(run(toPoint, '1,2,3')).toBe('1,2,3');
    expect(run(toPoint, '1.5,2')).toBe('1.5,2');
    expect(run(toTblr, 42)).toBe(42);
  });
});
