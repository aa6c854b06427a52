// The gateway's access log as tests read it: the JSON lines a test captured, each with the text line
// `npm start` writes for the same entry (both renderings must keep secrets out).
import { type AccessLogEntry, accessLogText } from '../../tools/gateway/access-log.ts';

/** The captured JSON lines parsed into entries. */
export function accessEntries(lines: readonly string[]): AccessLogEntry[] {
  return lines.map((line) => JSON.parse(line) as AccessLogEntry);
}

/** Every captured JSON line followed by its text rendering, joined for `not.toContain` checks. */
export function bothRenderings(lines: readonly string[]): string {
  return lines.flatMap((line) => [line, accessLogText(JSON.parse(line) as AccessLogEntry)]).join('\n');
}
