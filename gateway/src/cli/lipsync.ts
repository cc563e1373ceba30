import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Command, CommanderError } from 'commander';
import { registerBenchCommand } from './bench.command';
import { registerCalibDataCommand } from './calib-data.command';
import { EXIT_BAD_INPUT, EXIT_FAILED } from './cli-util';
import { CliLogger } from './cli-logger';
import { registerInspectCommand } from './inspect.command';
import { registerMelCommand } from './mel.command';
import { registerRenderCommand } from './render.command';

/** `lipsync`: the command-line front door (same services as the HTTP API). */
export function buildProgram(): Command {
  const program = new Command('lipsync')
    .description('lip-synced MP4s from a face and speech (Wav2Lip on ONNX Runtime or Triton)')
    .option('-v, --verbose', 'log what the services do (to stderr)')
    .exitOverride()
    .hook('preAction', (cmd) => {
      Logger.overrideLogger(new CliLogger(Boolean(cmd.opts<{ verbose?: boolean }>().verbose)));
    });
  registerRenderCommand(program);
  registerMelCommand(program);
  registerInspectCommand(program);
  registerBenchCommand(program);
  registerCalibDataCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  Logger.overrideLogger(new CliLogger(false));
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit 0; usage errors (unknown option, missing argument) are bad input.
      return err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    throw err;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
