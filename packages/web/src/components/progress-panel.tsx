/** The queue as every tab sees it: the running job's progress bar, step, ETA and live preview; Interrupt/Skip. */
import type { Job } from '@sdapi/client';

export interface LiveProgress {
  step: number;
  steps: number;
  fraction: number;
  eta: number | null;
  preview: string | null;
}

interface Props {
  active: Job[];
  live: Record<string, LiveProgress>;
  onInterrupt: () => void;
  onSkip: () => void;
  onCancel: (id: string) => void;
}

const eta = (s: number | null) => {
  if (s === null) return '';
  const left = Math.ceil(s); // rounded once, so 119.5 s reads "2 min 0 s", not "1 min 60 s"
  return left < 60 ? `${left} s left` : `${Math.floor(left / 60)} min ${left % 60} s left`;
};

export function ProgressPanel({ active, live, onInterrupt, onSkip, onCancel }: Props) {
  const running = active.find((j) => j.status === 'running');
  const queued = active.filter((j) => j.status === 'queued');
  if (!running && queued.length === 0) return null;
  const p = running
    ? (live[running.id] ?? {
        step: running.progress.step,
        steps: running.progress.steps,
        fraction: running.progress.fraction,
        eta: running.progress.eta_seconds,
        preview: null,
      })
    : null;
  return (
    <section class="progress-panel" aria-labelledby="progress-heading">
      <h2 id="progress-heading">{running ? `Generating (${running.type})` : 'Waiting in the queue'}</h2>
      {running && p && (
        <>
          <progress id="job-progress" max={1} value={p.fraction} aria-label="Generation progress" data-step={p.step} />
          <p class="progress-text">
            Step {p.step} of {p.steps || '?'} · {Math.round(p.fraction * 100)} % {p.eta !== null && `· ${eta(p.eta)}`}
          </p>
          {p.preview && <img class="preview" src={p.preview} alt="Live preview of the generation" />}
          <div class="actions">
            <button type="button" onClick={onInterrupt}>
              Interrupt
            </button>
            <button type="button" onClick={onSkip}>
              Skip
            </button>
          </div>
        </>
      )}
      {queued.length > 0 && (
        <ol class="queue" aria-label="Queued jobs">
          {queued.map((job) => (
            <li key={job.id}>
              #{job.queue_position} {job.type} {String((job.result?.parameters as { prompt?: string } | undefined)?.prompt ?? '')}
              <button type="button" class="link" onClick={() => onCancel(job.id)} aria-label={`Cancel queued job ${job.queue_position}`}>
                Cancel
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
