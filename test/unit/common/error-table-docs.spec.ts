import * as fs from 'fs';
import * as path from 'path';
import { ERROR_HTTP_STATUS, ErrorCode } from '../../../gateway/src/common/errors';

/** The README's error table is the users' reference: it must list every code with the status the filter sends. */
describe('README error table', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
  const rows = readme.split('\n').filter((l) => /^\| `[A-Z_]+`.*\| [1-5]\d\d \|/.test(l));
  const documented = new Map<string, number>();
  for (const row of rows) {
    const [codes, status] = row.split('|').slice(1, 3);
    for (const m of codes.matchAll(/`([A-Z_]+)`/g)) documented.set(m[1], Number(status.trim()));
  }

  it('should list every error code with its HTTP status', () => {
    const missing = (Object.keys(ERROR_HTTP_STATUS) as ErrorCode[]).filter((c) => documented.get(c) !== ERROR_HTTP_STATUS[c]);
    expect(missing).toEqual([]);
  });

  it('should list no code the gateway does not have', () => {
    expect([...documented.keys()].filter((c) => !(c in ERROR_HTTP_STATUS))).toEqual([]);
  });
});
