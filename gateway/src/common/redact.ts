/**
 * Public messages never carry server paths (issue 10, item 8): absolute paths, also behind `file:`,
 * become `<path>`. Callers log the full text with the job id; clients get the redacted one.
 */
const ABSOLUTE_PATH = /(?:file:)?(?<![\w.~-])\/(?:[^\s'"`,;:()<>[\]{}|]+)/g;

export function redactPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, (m) => (m === '/' ? m : '<path>'));
}
