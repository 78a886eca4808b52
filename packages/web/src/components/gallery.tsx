/** A finished job's images, each with its parameters and its buttons; and the paged history of past jobs. */
import type { Job, JobImage } from '@sdapi/client';
import { useState } from 'preact/hooks';
import { useServerImage } from '../api.ts';

export interface ImageActions {
  onReuse: (job: Job, image: JobImage) => void;
  onSendToImg2img: (job: Job, image: JobImage) => void;
  onSendToExtras: (image: JobImage) => void;
  onShow?: (job: Job) => void;
}

function modelOf(job: Job): string {
  const info = job.result?.info as { sd_model_name?: string } | null | undefined;
  const override = (job.result?.parameters?.override_settings as { sd_model_checkpoint?: string } | undefined)?.sd_model_checkpoint;
  return info?.sd_model_name ?? override ?? '';
}

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (a plain-http LAN address is not a secure context): the old way.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

const isUpscale = (job: Job) => job.type.startsWith('extra');

/** `Lanczos`, or `Lanczos + Nearest` when a second upscaler was blended in. */
function upscalersOf(job: Job): string {
  const p = job.result?.parameters ?? {};
  const used = [p.upscaler_1, Number(p.extras_upscaler_2_visibility) > 0 ? p.upscaler_2 : null].filter((u) => u && u !== 'None');
  return used.join(' + ') || 'None';
}

export function ImageCard({ job, image, actions }: { job: Job; image: JobImage; actions: ImageActions }) {
  const [copied, setCopied] = useState(false);
  const p = job.result?.parameters ?? {};
  const url = useServerImage(image.url);
  // An Extras job's image has no prompt, seed or sampler: its card says how it was upscaled instead.
  const upscaled = isUpscale(job);
  return (
    <figure class="image-card" data-seed={upscaled ? undefined : image.seed}>
      <a href={url} target="_blank" rel="noopener">
        <img
          src={url}
          width={image.width}
          height={image.height}
          alt={upscaled ? `Upscaled to ${image.width} by ${image.height}` : `Generated image, seed ${image.seed}: ${String(p.prompt ?? '')}`}
          loading="lazy"
        />
      </a>
      <figcaption>
        {upscaled ? (
          <dl class="params">
            <dt>Size</dt>
            <dd class="size">
              {image.width}×{image.height}
            </dd>
            <dt>Upscaler</dt>
            <dd>{upscalersOf(job)}</dd>
          </dl>
        ) : (
          <dl class="params">
            <dt>Seed</dt>
            <dd class="seed">{image.seed}</dd>
            <dt>Steps</dt>
            <dd>{String(p.steps ?? '')}</dd>
            <dt>Sampler</dt>
            <dd>
              {String(p.sampler_name ?? '')} {p.scheduler && p.scheduler !== 'Automatic' ? String(p.scheduler) : ''}
            </dd>
            <dt>Size</dt>
            <dd class="size">
              {image.width}×{image.height}
            </dd>
            <dt>Model</dt>
            <dd>{modelOf(job)}</dd>
          </dl>
        )}
        <div class="actions small">
          <a class="button" href={url} download={`${job.id}-${image.index}.png`}>
            Download
          </a>
          <button
            type="button"
            onClick={async () => {
              await copyText(image.infotext);
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            }}
          >
            {copied ? 'Copied' : 'Copy parameters'}
          </button>
          {!upscaled && (
            <button type="button" onClick={() => actions.onReuse(job, image)}>
              Reuse parameters
            </button>
          )}
          <button type="button" onClick={() => actions.onSendToImg2img(job, image)}>
            Send to img2img
          </button>
          <button type="button" onClick={() => actions.onSendToExtras(image)}>
            Send to extras
          </button>
        </div>
      </figcaption>
    </figure>
  );
}

export function Gallery({ job, actions }: { job: Job | null; actions: ImageActions }) {
  if (!job) return <p class="hint">Generated images appear here.</p>;
  if (job.status === 'failed') return <p class="error-box">The job failed: {job.error?.message ?? 'no reason given'}</p>;
  const images = job.result?.images ?? [];
  return (
    <>
      {job.result?.interrupted && <p class="hint">Interrupted: these are the images made so far.</p>}
      {job.status === 'cancelled' && images.length === 0 && <p class="hint">The job was cancelled.</p>}
      <div class="gallery" data-job={job.id}>
        {images.map((image) => (
          <ImageCard key={image.url} job={job} image={image} actions={actions} />
        ))}
      </div>
    </>
  );
}

function Thumb({ path }: { path: string }) {
  return <img src={useServerImage(path)} alt="" width={48} height={48} loading="lazy" />;
}

interface HistoryProps {
  jobs: Job[];
  more: boolean;
  loading: boolean;
  onMore: () => void;
  onShow: (job: Job) => void;
}

export function History({ jobs, more, loading, onMore, onShow }: HistoryProps) {
  return (
    <section class="history" aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      {jobs.length === 0 && <p class="hint">No finished jobs yet.</p>}
      <ul>
        {jobs.map((job) => {
          const first = job.result?.images?.[0];
          const prompt = isUpscale(job) ? `Upscaled (${upscalersOf(job)})` : String(job.result?.parameters?.prompt ?? '');
          return (
            <li key={job.id}>
              <button
                type="button"
                class="history-item"
                onClick={() => onShow(job)}
                aria-label={`Show ${job.type} job ${prompt ? `"${prompt}"` : ''} from ${new Date(job.created_at).toLocaleString()} (${job.status})`}
              >
                {first ? <Thumb path={first.url} /> : <span class="thumb-none">{job.status}</span>}
                <span class="history-text">
                  <span>{prompt || '(no prompt)'}</span>
                  <small>
                    {job.type} · {job.result?.images?.length ?? 0} image(s) · {new Date(job.created_at).toLocaleString()}
                  </small>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {more && (
        <button type="button" onClick={onMore} disabled={loading}>
          {loading ? 'Loading…' : 'Older jobs'}
        </button>
      )}
    </section>
  );
}
