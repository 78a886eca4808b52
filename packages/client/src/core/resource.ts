/** Base of the SDK resources (`client.sdModels`, `client.options`, …): each method is one request. */
import type { SDClient } from '../client.ts';

export class APIResource {
  constructor(protected readonly _client: SDClient) {}
}
