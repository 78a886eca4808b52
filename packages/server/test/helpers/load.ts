/**
 * A mixed-load driver (issue 13 §9–10), shared by the load test (16 clients × 60 s) and `npm run soak` (64 clients ×
 * 10 min). Each client loops over a seeded random mix: txt2img naming a checkpoint in override_settings (its
 * infotext must name that model), v2 jobs (some cancelled at once), GET/POST options, model switches, /progress
 * (its latency recorded), interrupt. Every request has a deadline: one that passes it is a hang. Nothing here
 * asserts; callers judge the report.
 */

export interface LoadOptions {
  base: string;
  clients: number;
  durationMs: number;
  /** Checkpoint names (`tiny-a`, …) the clients pick from. */
  models: string[];
  /** A request not answered within this is counted as a hang (default 120 s). */
  requestTimeoutMs?: number;
  seed?: number;
}

export interface LoadReport {
  requests: number;
  byAction: Record<string, number>;
  statuses: Record<string, number>;
  status5xx: number;
  /** Responses other than the expected ones (5xx and unexpected 4xx), first 20. */
  failures: string[];
  hangs: number;
  /** Images whose infotext names another model than the request asked for, first 20. */
  wrongModel: string[];
  images: number;
  /** v2 jobs the server acknowledged with 202 (ids), for a lost-job check afterwards. */
  acknowledgedJobs: string[];
  /** When each of `acknowledgedJobs` was acknowledged (ms since the epoch, this machine's clock). */
  acknowledgedAt: number[];
  progressLatenciesMs: number[];
}

type Action = 'txt2img' | 'job' | 'job-cancel' | 'options-get' | 'options-post' | 'switch' | 'progress' | 'interrupt';
const MIX: Array<[Action, number]> = [
  ['txt2img', 20],
  ['job', 8],
  ['job-cancel', 6],
  ['options-get', 8],
  ['options-post', 8],
  ['switch', 6],
  ['progress', 40],
  ['interrupt', 4],
];
const TOTAL = MIX.reduce((a, [, w]) => a + w, 0);

function lcg(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = {
    requests: 0,
    byAction: {},
    statuses: {},
    status5xx: 0,
    failures: [],
    hangs: 0,
    wrongModel: [],
    images: 0,
    acknowledgedJobs: [],
    acknowledgedAt: [],
    progressLatenciesMs: [],
  };
  const timeout = options.requestTimeoutMs ?? 120_000;
  const end = Date.now() + options.durationMs;
  const fail = (what: string) => {
    if (report.failures.length < 20) report.failures.push(what);
  };

  const request = async (action: Action, path: string, init: { method?: string; json?: unknown } = {}) => {
    report.requests++;
    report.byAction[action] = (report.byAction[action] ?? 0) + 1;
    const started = performance.now();
    try {
      const res = await fetch(options.base + path, {
        method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
        headers: init.json === undefined ? {} : { 'content-type': 'application/json' },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
        signal: AbortSignal.timeout(timeout),
      });
      const text = await res.text();
      const ms = performance.now() - started;
      report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
      if (res.status >= 500) {
        report.status5xx++;
        fail(`${action} ${path}: ${res.status} ${text.slice(0, 200)}`);
      }
      return { status: res.status, text, ms };
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        report.hangs++;
        fail(`${action} ${path}: no answer within ${timeout} ms`);
      } else fail(`${action} ${path}: ${(error as Error).message}`);
      return null;
    }
  };

  const client = async (index: number) => {
    const random = lcg((options.seed ?? 1) * 7919 + index);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    let n = 0;
    while (Date.now() < end) {
      let r = random() * TOTAL;
      const action = (MIX.find(([, w]) => (r -= w) < 0) ?? MIX[0])[0];
      const model = pick(options.models);
      const params = {
        prompt: `load ${index}-${n}`,
        seed: index * 1000 + n,
        steps: 1 + Math.floor(random() * 3),
        width: 64,
        height: 64,
        sampler_name: 'Euler',
      };
      n++;
      switch (action) {
        case 'txt2img': {
          const res = await request(action, '/sdapi/v1/txt2img', { json: { ...params, override_settings: { sd_model_checkpoint: model } } });
          if (!res) break;
          if (res.status !== 200) {
            fail(`txt2img: ${res.status} ${res.text.slice(0, 200)}`);
            break;
          }
          const infotexts = (JSON.parse(JSON.parse(res.text).info) as { infotexts: string[] }).infotexts;
          for (const infotext of infotexts) {
            report.images++;
            const named = /Model: ([^,\n]+)/.exec(infotext)?.[1];
            if (named !== model && report.wrongModel.length < 20) report.wrongModel.push(`asked ${model}, infotext says ${named}`);
          }
          break;
        }
        case 'job':
        case 'job-cancel': {
          const id = `load-${options.seed ?? 1}-${index}-${n}`;
          const res = await request(action, '/sdapi/v2/jobs', {
            json: { type: 'txt2img', id, params: { ...params, override_settings: { sd_model_checkpoint: model } } },
          });
          if (!res) break;
          if (res.status !== 202) {
            if (res.status !== 429) fail(`job: ${res.status} ${res.text.slice(0, 200)}`);
            break;
          }
          report.acknowledgedJobs.push(id);
          report.acknowledgedAt.push(Date.now());
          if (action === 'job-cancel') {
            const del = await request(action, `/sdapi/v2/jobs/${id}`, { method: 'DELETE' });
            if (del && ![200, 202, 409].includes(del.status)) fail(`cancel: ${del.status} ${del.text.slice(0, 200)}`);
          }
          break;
        }
        case 'options-get':
          await request(action, '/sdapi/v1/options');
          break;
        case 'options-post': {
          const res = await request(action, '/sdapi/v1/options', {
            json: { eta_noise_seed_delta: Math.floor(random() * 3), live_previews_enable: random() < 0.5 },
          });
          if (res && res.status !== 200) fail(`options: ${res.status} ${res.text.slice(0, 200)}`);
          break;
        }
        case 'switch': {
          const res = await request(action, '/sdapi/v1/options', { json: { sd_model_checkpoint: model } });
          if (res && res.status !== 200) fail(`switch: ${res.status} ${res.text.slice(0, 200)}`);
          break;
        }
        case 'progress': {
          const res = await request(action, '/sdapi/v1/progress?skip_current_image=true');
          if (res) report.progressLatenciesMs.push(res.ms);
          break;
        }
        case 'interrupt':
          await request(action, '/sdapi/v1/interrupt', { method: 'POST' });
          break;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i)));
  return report;
}

/** After the load: every acknowledged job must still be known (any status); returns the ids that are not. */
export async function lostJobs(base: string, ids: readonly string[]): Promise<string[]> {
  const lost: string[] = [];
  for (const id of ids) {
    const res = await fetch(`${base}/sdapi/v2/jobs/${encodeURIComponent(id)}`);
    await res.arrayBuffer();
    if (res.status !== 200) lost.push(id);
  }
  return lost;
}

/**
 * The lost-job check when the store keeps only its newest finished jobs (retention): a job missing afterwards was
 * lost only if it was acknowledged after the oldest finish among the jobs still there, since it finished later than
 * that one and retention keeps the newest. Missing jobs acknowledged before are counted as swept; with no
 * finished job left at all, every missing one counts as lost (a wiped store must not read as "0 lost").
 */
export async function lostJobsUnderRetention(
  base: string,
  ids: readonly string[],
  acknowledgedAt: readonly number[],
): Promise<{ lost: string[]; swept: number; checked: number }> {
  const missing: number[] = [];
  let oldestFinish = Number.POSITIVE_INFINITY;
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`${base}/sdapi/v2/jobs/${encodeURIComponent(id)}`);
    const body = (await res.json().catch(() => null)) as { finished_at?: string | null } | null;
    if (res.status !== 200) missing.push(i);
    else if (body?.finished_at) oldestFinish = Math.min(oldestFinish, Date.parse(body.finished_at));
  }
  // No finished job left at all: retention (which keeps the newest) cannot explain that; every missing one is lost.
  if (!Number.isFinite(oldestFinish)) return { lost: missing.map((i) => ids[i]), swept: 0, checked: ids.length };
  const lost = missing.filter((i) => acknowledgedAt[i] >= oldestFinish).map((i) => ids[i]);
  const checked = acknowledgedAt.filter((t) => t >= oldestFinish).length;
  return { lost, swept: missing.length - lost.length, checked };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * `switches` model switches (POST /options, alternating `models`), each followed by one small generation; RSS
 * is read after every generation. Returns the RSS series in MiB (index i = after switch i+1).
 */
export async function switchModels(base: string, models: readonly string[], switches: number, rssMiB: () => number | Promise<number>): Promise<number[]> {
  const series: number[] = [];
  for (let i = 0; i < switches; i++) {
    const model = models[i % models.length];
    const sw = await fetch(`${base}/sdapi/v1/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sd_model_checkpoint: model }),
    });
    if (sw.status !== 200) throw new Error(`switch ${i + 1} to ${model}: ${sw.status} ${await sw.text()}`);
    const gen = await fetch(`${base}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: `switch ${i}`, seed: i, steps: 2, width: 64, height: 64 }),
    });
    const body = (await gen.json()) as { info?: string };
    if (gen.status !== 200) throw new Error(`generation after switch ${i + 1}: ${gen.status} ${JSON.stringify(body).slice(0, 200)}`);
    const named = /Model: ([^,\n]+)/.exec(JSON.parse(body.info ?? '{}').infotexts?.[0] ?? '')?.[1];
    if (named !== model) throw new Error(`after switch ${i + 1} to ${model} the image says Model: ${named}`);
    series.push(await rssMiB());
  }
  return series;
}
