import { InvalidArgumentError } from 'commander';
import { ERROR_HTTP_STATUS, ErrorCode, GatewayError, toGatewayError } from '../common/errors';
import { ConfigError } from '../config/config';
import type { Tblr } from '../render/render.types';

/** Exit codes of every lipsync subcommand. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** On the command line the output path is the user's input, unlike on the server. */
const CLI_BAD_INPUT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['OUTPUT_UNWRITABLE']);

/** Bad input (a 4xx-class code) exits 2, anything else 1; the message is one line. */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof ConfigError) {
    // the environment is the user's input too; every bad variable is listed, so keep all lines
    write(`error CONFIG: ${err.message}\n`);
    return EXIT_BAD_INPUT;
  }
  const gw = toGatewayError(err);
  write(`error ${gw.code}: ${gw.message.split('\n')[0]}\n`);
  return ERROR_HTTP_STATUS[gw.code] < 500 || CLI_BAD_INPUT.has(gw.code) ? EXIT_BAD_INPUT : EXIT_FAILED;
}

export function parseIntOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

export function parseNumberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in ${min}..${max}`);
    return n;
  };
}

/** "top,bottom,left,right" → Tblr of non-negative integers. */
export function parseTblr(name: string) {
  return (value: string): Tblr => {
    const parts = value.split(',').map((p) => Number(p.trim()));
    if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new InvalidArgumentError(`${name} must be four non-negative integers: top,bottom,left,right`);
    }
    return parts as Tblr;
  };
}

/** "x,y" → [x, y] of non-negative integers. */
export function parsePoint(name: string) {
  return (value: string): [number, number] => {
    const parts = value.split(',').map((p) => Number(p.trim()));
    if (parts.length !== 2 || parts.some((n) => !Number.isInteger(n) || n < 0))
      throw new InvalidArgumentError(`${name} must be two non-negative integers: x,y`);
    return parts as [number, number];
  };
}

export function badInput(message: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', message);
}
