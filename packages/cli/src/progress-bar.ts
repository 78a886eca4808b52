/**
 * A one-line progress bar on stderr, drawn only on a TTY (pipes and --json output stay clean):
 * `[██████░░░░░░░░]  45%  step 9/20  batch 1/2  ETA 3s`.
 */

export interface ProgressReading {
  /** 0..1 */
  fraction: number;
  step?: number;
  steps?: number;
  job?: number;
  jobs?: number;
  etaSeconds?: number;
}

export class ProgressBar {
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled: boolean = Boolean(stream.isTTY),
    private readonly width = 24,
  ) {}

  update(p: ProgressReading): void {
    if (!this.enabled) return;
    const fraction = Math.min(1, Math.max(0, p.fraction));
    const filled = Math.round(fraction * this.width);
    const parts = [`[${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}]`, `${Math.round(fraction * 100)}%`.padStart(4)];
    if (p.steps) parts.push(`step ${p.step ?? 0}/${p.steps}`);
    if (p.jobs && p.jobs > 1) parts.push(`batch ${Math.min((p.job ?? 0) + 1, p.jobs)}/${p.jobs}`);
    if (p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds) && p.etaSeconds > 0) parts.push(`ETA ${Math.ceil(p.etaSeconds)}s`);
    this.stream.write(`\r${parts.join('  ')}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line so that what follows starts clean. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
