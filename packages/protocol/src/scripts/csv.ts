/**
 * The CSV that X/Y/Z plot reads its axis values with (Python's `csv` module, default dialect): quotes are
 * recognised only at the start of a field, `""` inside quotes is one quote, rows split at newlines.
 */

/** Splits `text` into fields, row after row (the script then strips them and drops empty ones). */
export function parseCsvFields(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let atStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && atStart) {
      quoted = true;
      atStart = false;
    } else if (c === ',' || c === '\n' || c === '\r') {
      if (!(c === '\n' && text[i - 1] === '\r')) fields.push(field);
      field = '';
      atStart = true;
    } else {
      field += c;
      atStart = false;
    }
  }
  if (field !== '' || !atStart || text.endsWith(',')) fields.push(field);
  return fields;
}

/** One CSV row as Python's csv.writer writes it (QUOTE_MINIMAL), without the line terminator. */
export function toCsvRow(values: readonly (string | number)[]): string {
  return values
    .map(String)
    .map((v) => (/[",\r\n]/.test(v) || (values.length === 1 && v === '') ? `"${v.replace(/"/g, '""')}"` : v))
    .join(',');
}
