/**
 * LOG_FORMAT=text: pino's JSON lines turned into one readable line each, for people at a terminal
 * (pino-pretty is not a dependency). Time, level, [context], message, then the other fields as
 * key=value; a stack, the one thing that needs more lines, follows indented.
 */
const KNOWN = new Set(['time', 'level', 'context', 'msg', 'requestId', 'stack']);

export function formatTextLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = String(entry.level ?? '').toUpperCase().padEnd(5);
  const context = entry.context ? ` [${String(entry.context)}]` : '';
  const request = entry.requestId ? ` (request ${String(entry.requestId)})` : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !KNOWN.has(key))
    .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('');
  const stack = typeof entry.stack === 'string' ? `\n${entry.stack.replace(/^/gm, '    ')}` : '';
  return `${String(entry.time ?? '')} ${level}${context} ${String(entry.msg ?? '')}${fields}${request}${stack}\n`;
}
