import type { LoggerService } from '@nestjs/common';

/**
 * The CLI's logger for the shared services: stdout carries the command's result (a table or JSON),
 * so service logs go to stderr, and only warnings and errors unless --verbose.
 */
export class CliLogger implements LoggerService {
  constructor(private readonly chatty = false) {}

  log(message: unknown, context?: string): void {
    if (this.chatty) this.write('log', message, context);
  }
  debug(message: unknown, context?: string): void {
    if (this.chatty) this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.debug(message, context);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    this.write('error', message, context);
  }

  private write(level: string, message: unknown, context?: string): void {
    process.stderr.write(`[${level}]${context ? ` ${context}:` : ''} ${message instanceof Error ? message.message : String(message)}\n`);
  }
}
