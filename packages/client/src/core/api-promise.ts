/**
 * The promise every SDK method returns (openai-node's APIPromise): await it for the parsed body, or use
 * `.withResponse()` / `.asResponse()` to reach the HTTP response (headers such as `X-Process-Time`).
 */

export class APIPromise<T> implements PromiseLike<T> {
  private parsed: Promise<T> | undefined;

  constructor(
    private readonly responsePromise: Promise<Response>,
    private readonly parse: (response: Response) => Promise<T>,
  ) {}

  /** The raw Response, body unread. */
  asResponse(): Promise<Response> {
    return this.responsePromise;
  }

  /** The parsed body together with the Response it came from. */
  async withResponse(): Promise<{ data: T; response: Response }> {
    const [data, response] = await Promise.all([this.parseOnce(), this.responsePromise]);
    return { data, response };
  }

  // biome-ignore lint/suspicious/noThenProperty: this class is a thenable on purpose, like openai-node's APIPromise.
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.parseOnce().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.parseOnce().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.parseOnce().finally(onfinally);
  }

  private parseOnce(): Promise<T> {
    this.parsed ??= this.responsePromise.then(this.parse);
    return this.parsed;
  }
}
