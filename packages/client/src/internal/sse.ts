/**
 * A Server-Sent Events parser over a fetch body (the WHATWG event-stream format: `id:`, `event:`, `data:` fields,
 * comment lines, blank-line dispatch). Uses only ReadableStream and TextDecoder, so it runs in every runtime.
 */

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Yields each dispatched message; comments and `retry:` lines are skipped. Cancels the body when left early. */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let message: SseMessage = { data: '' };
  let dataLines: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (dataLines.length > 0) yield { ...message, data: dataLines.join('\n') };
          message = { data: '' };
          dataLines = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') dataLines.push(value);
        else if (field === 'id') message.id = value;
        else if (field === 'event') message.event = value;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
