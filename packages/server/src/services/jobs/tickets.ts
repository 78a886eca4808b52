/**
 * Short-lived, single-use tickets for websocket logins from browsers, which cannot set an `Authorization` header
 * on a websocket: an authenticated `POST /sdapi/v2/ws-ticket` issues one, `?ticket=` on the upgrade spends it.
 */
import { randomBytes } from 'node:crypto';

export class TicketStore {
  private readonly tickets = new Map<string, number>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  issue(): { ticket: string; expiresAt: number } {
    this.prune();
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.tickets.set(ticket, expiresAt);
    return { ticket, expiresAt };
  }

  /** True once for a ticket that was issued and has not expired. */
  consume(ticket: string): boolean {
    const expiresAt = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  private prune(): void {
    const now = this.now();
    for (const [ticket, expiresAt] of this.tickets) if (expiresAt <= now) this.tickets.delete(ticket);
  }
}
