import { GatewayError } from '../../gateway/src/common/errors';

/** The GatewayError code a promise rejects with, 'resolved' if it resolves, or a note when it rejects with something else. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`;
  }
}
