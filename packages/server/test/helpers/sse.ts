/** A minimal Server-Sent Events reader for tests: frames (id, event, data) and comment lines, from a fetch body. */

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
  comments: string[];
}

/** Yields frames until the stream ends (or `signal` aborts the fetch). */
export async function* readSse(response: Response): AsyncGenerator<SseFrame> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const frame: SseFrame = { data: '', comments: [] };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) frame.id = line.slice(4);
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      frame.data = data.join('\n');
      yield frame;
    }
  }
}

/** Collects the JSON events of a stream until it closes. */
export async function collectEvents(response: Response): Promise<{ events: Record<string, any>[]; frames: SseFrame[] }> {
  const frames: SseFrame[] = [];
  for await (const frame of readSse(response)) frames.push(frame);
  const events = frames.filter((f) => f.data).map((f) => JSON.parse(f.data));
  return { events, frames };
}
