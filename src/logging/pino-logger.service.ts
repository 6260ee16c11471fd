/**
 * The logger Nest uses (NestFactory.create's `logger`), so that every `new Logger('X').log(...)` in
 * the code writes through pino: one JSON object a line with time, level, context (the Logger's
 * name), msg and, while a request or a job caused by one is being handled, its requestId (from
 * request-context.ts). LOG_FORMAT=text writes the same lines readable (text-log-format.ts).
 *
 * Messages must carry UIDs and request ids, never patient names, IDs, birth dates or accession
 * numbers: callers log identifiers and counts, not attribute values or query strings; as a safety
 * net, the values of the current request's query string are redacted (query-redactions.ts).
 */
import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Level, Logger as Pino } from 'pino';
import { GatewayConfig } from '../config/gateway-config';
import { redact } from './query-redactions';
import { currentRequestContext, currentRequestId } from './request-context';
import { formatTextLine } from './text-log-format';

export interface LogOptions {
  level: GatewayConfig['logLevel'];
  format: 'json' | 'text';
  /** Where lines go; standard output by default (synchronous for files and pipes on Linux, so
   *  nothing is lost when the process exits right after a line). */
  destination?: { write(line: string): unknown };
}

/** What Nest's Logger passes after the message: [...extra, stack?, context?] (see split()). */
type Params = unknown[];

export class PinoLoggerService implements LoggerService {
  readonly pino: Pino;

  constructor(options: LogOptions) {
    const out = options.destination ?? process.stdout;
    const destination: DestinationStream = options.format === 'text' ? { write: (line: string) => out.write(formatTextLine(line)) } : { write: (line: string) => out.write(line) };
    this.pino = pino(
      {
        level: options.level,
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => {
          const requestId = currentRequestId();
          return requestId ? { requestId } : {};
        },
      },
      destination,
    );
  }

  log(message: unknown, ...params: Params): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: Params): void {
    this.write('error', message, params, true);
  }

  warn(message: unknown, ...params: Params): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: Params): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: Params): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: Params): void {
    this.write('fatal', message, params, true);
  }

  private write(level: Level, message: unknown, params: Params, mayHaveStack = false): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const { context, stack, extra } = split(params, mayHaveStack);
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    let msg: string;
    if (message instanceof Error) {
      msg = message.message;
      fields.stack = stack ?? message.stack;
    } else if (message !== null && typeof message === 'object') {
      const { msg: m, message: text, ...rest } = message as Record<string, unknown>;
      Object.assign(fields, rest);
      msg = String(m ?? text ?? '');
    } else {
      msg = String(message);
    }
    if (stack && !fields.stack) fields.stack = stack;
    for (const value of extra) {
      if (value !== null && typeof value === 'object' && !(value instanceof Error)) Object.assign(fields, value);
      else if (value instanceof Error) fields.stack ??= value.stack;
      else if (value !== undefined) msg += ` ${String(value)}`;
    }
    const redactions = currentRequestContext()?.redactions;
    if (redactions) {
      msg = redact(msg, redactions);
      if (typeof fields.stack === 'string') fields.stack = redact(fields.stack, redactions);
    }
    this.pino[level](fields, msg);
  }
}

/**
 * Nest's Logger appends its context to the parameters ([..., context]); `error` also passes a
 * stack (or undefined) before it. A lone string after an error message is a stack when it looks
 * like one, as Nest's ConsoleLogger decides.
 */
function split(params: Params, mayHaveStack: boolean): { context?: string; stack?: string; extra: unknown[] } {
  const rest = [...params];
  if (mayHaveStack && rest.length === 1 && isStack(rest[0])) return { stack: rest[0] as string, extra: [] };
  const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
  let stack: string | undefined;
  if (mayHaveStack && rest.length > 0 && (typeof rest[rest.length - 1] === 'string' || rest[rest.length - 1] === undefined)) {
    stack = rest.pop() as string | undefined;
  }
  return { context, stack, extra: rest };
}

function isStack(value: unknown): boolean {
  return typeof value === 'string' && /^(.)+\n\s+at .+:\d+:\d+/.test(value);
}
