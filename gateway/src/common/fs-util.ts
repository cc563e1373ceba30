import { constants, promises as fs } from 'fs';
import * as path from 'path';
import { GatewayError } from './errors';

/** Refuses early (OUTPUT_UNWRITABLE) when the folder an output file goes to is missing or not writable. */
export async function assertWritableDirFor(outFile: string): Promise<void> {
  const dir = path.dirname(path.resolve(outFile));
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    await fs.access(dir, constants.W_OK);
  } catch {
    throw new GatewayError('OUTPUT_UNWRITABLE', `cannot write ${outFile}: ${dir} is not a writable directory`);
  }
}
