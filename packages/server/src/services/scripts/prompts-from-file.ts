/**
 * "Prompts from file or textbox" (spec §5.5): one generation per non-empty line; a line with `--` is read
 * shell-style as `--key value` pairs (`--prompt`/`--negative_prompt` take every word up to the next `--key`).
 * The line's prompt goes before (start) or after (end) the request's; `checkbox_iterate` advances the seed by
 * batch_size·n_iter per line, `checkbox_iterate_batch` fixes one random seed for all lines. Result: every line's
 * images, no grid. Better than A1111: a line that does not parse (unknown `--key`, a missing value, a value
 * that is not a number, an unknown sampler or checkpoint) is a 422 naming the line before any image is made,
 * where A1111 would silently use the whole line as a prompt; `restore_faces`/`tiling` true are refused because
 * this server has neither. `outpath_*`, `prompt_for_display`, `do_not_save_*` and the legacy `sampler_index`
 * are accepted and have no effect (no file output here).
 */
import type { GeneratedImage } from '@sdapi/engine';
import { resolveSampler } from '../catalog.ts';
import { findCheckpointFuzzy } from '../refiner.ts';
import { ArgReader, emptyResult, padArgs, rejectUnknown, ScriptProgress } from './args.ts';
import { arg, type ScriptBase, type ScriptDef, type ScriptEnv, type ScriptResult } from './types.ts';

const TITLE = 'Prompts from file or textbox';
const NAMES = ['checkbox_iterate', 'checkbox_iterate_batch', 'prompt_position', 'prompt_txt'];
const DEFAULTS = [false, false, 'start', ''];

type Kind = 'str' | 'int' | 'float' | 'bool' | 'noop';
const TAGS: Record<string, Kind> = {
  sd_model: 'str',
  outpath_samples: 'noop',
  outpath_grids: 'noop',
  prompt_for_display: 'noop',
  prompt: 'str',
  negative_prompt: 'str',
  styles: 'str',
  seed: 'int',
  subseed_strength: 'float',
  subseed: 'int',
  seed_resize_from_h: 'int',
  seed_resize_from_w: 'int',
  sampler_index: 'noop',
  sampler_name: 'str',
  batch_size: 'int',
  n_iter: 'int',
  steps: 'int',
  cfg_scale: 'float',
  width: 'int',
  height: 'int',
  restore_faces: 'bool',
  tiling: 'bool',
  do_not_save_samples: 'noop',
  do_not_save_grid: 'noop',
};

/** Python shlex.split (POSIX): quotes, backslash escapes, whitespace separation. */
export function shlexSplit(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('No closing quotation');
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\' || line[i + 1] === '$' || line[i + 1] === '`')) i++;
        word += line[i];
      }
      if (i >= line.length) throw new Error('No closing quotation');
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** A line's `--key value` pairs, typed; throws Error with A1111's wording for what it rejects. */
export function parseLineArgs(line: string): Record<string, string | number | boolean> {
  const words = shlexSplit(line);
  const res: Record<string, string | number | boolean> = {};
  let pos = 0;
  while (pos < words.length) {
    const word = words[pos];
    if (!word.startsWith('--')) throw new Error(`must start with "--": ${word}`);
    if (pos + 1 >= words.length) throw new Error(`missing argument for command line option ${word}`);
    const tag = word.slice(2);
    if (tag === 'prompt' || tag === 'negative_prompt') {
      const text = [words[++pos]];
      pos++;
      while (pos < words.length && !words[pos].startsWith('--')) text.push(words[pos++]);
      res[tag] = text.join(' ');
      continue;
    }
    const kind = TAGS[tag];
    if (!kind)
      throw new Error(
        `unknown commandline option: ${word} (valid: ${Object.keys(TAGS)
          .map((t) => `--${t}`)
          .join(', ')})`,
      );
    const value = words[pos + 1];
    if (kind === 'int') {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) throw new Error(`--${tag}: invalid literal for int() with base 10: '${value}'`);
      res[tag] = Number(value);
    } else if (kind === 'float') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${tag}: could not convert string to float: '${value}'`);
      res[tag] = n;
    } else if (kind === 'bool') res[tag] = value.toLowerCase() === 'true';
    else if (kind === 'str') res[tag] = value;
    pos += 2;
  }
  return res;
}

interface LineJob {
  line: string;
  args: Record<string, string | number | boolean>;
  checkpoint: string | null;
}

export const promptsFromFile: ScriptDef = {
  title: TITLE,
  key: 'prompts_from_file',
  tabs: ['txt2img', 'img2img'],
  args: () => [
    arg('Iterate seed every line', false),
    arg('Use same random seed for all lines', false),
    arg('Insert prompts at the', 'start', { choices: ['start', 'end'] }),
    arg('List of prompt inputs', ''),
  ],
  fromTyped(t) {
    rejectUnknown('prompts_from_file', t, ['iterate_seed', 'iterate_batch_seed', 'prompt_position', 'lines', ...NAMES]);
    const lines = t.lines ?? t.prompt_txt ?? '';
    const text = Array.isArray(lines) ? lines.map(String).join('\n') : lines;
    return [t.iterate_seed ?? t.checkbox_iterate ?? false, t.iterate_batch_seed ?? t.checkbox_iterate_batch ?? false, t.prompt_position ?? 'start', text];
  },
  prepare(rawArgs, base, env) {
    const r = new ArgReader(TITLE, padArgs(rawArgs, DEFAULTS), NAMES);
    const iterate = r.bool(0);
    const iterateBatch = r.bool(1);
    const position = r.choice(2, ['start', 'end'] as const);
    const lines = r
      .string(3)
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (lines.length === 0) throw r.error(3, 'has no non-empty line: nothing to generate');
    const jobs = lines.map((line, i): LineJob => checkLine(r, line, i, env, base));
    const jobCount = jobs.reduce((n, j) => n + Number(j.args.n_iter ?? base.params.nIter), 0);
    return {
      title: TITLE,
      jobCount,
      async run(exec, hooks) {
        const progress = new ScriptProgress(hooks, jobs.length);
        let seed = base.params.seed;
        if ((iterate || iterateBatch) && seed === -1) seed = Math.floor(Math.random() * 4294967294);
        const images: GeneratedImage[] = [];
        const out: Partial<ScriptResult> & { allPrompts: string[]; allNegativePrompts: string[]; allSeeds: number[]; allSubseeds: number[] } = {
          allPrompts: [],
          allNegativePrompts: [],
          allSeeds: [],
          allSubseeds: [],
        };
        let template: ScriptResult | null = null;
        let interrupted = false;
        for (const [k, job] of jobs.entries()) {
          if (progress.interrupted) {
            interrupted = true;
            break;
          }
          const params = lineParams(base, job, seed, position);
          const result = await exec.generate(params, job.checkpoint ?? base.checkpointOverride, progress.forRun(k));
          template ??= { ...result, indexOfFirstImage: 0 };
          images.push(...result.images);
          out.allPrompts.push(...result.allPrompts);
          out.allNegativePrompts.push(...result.allNegativePrompts);
          out.allSeeds.push(...result.allSeeds);
          out.allSubseeds.push(...result.allSubseeds);
          interrupted ||= result.interrupted;
          if (iterate) seed += base.params.batchSize * base.params.nIter;
          progress.done(k);
        }
        if (!template) return emptyResult(base, interrupted);
        return { ...template, ...out, images, interrupted, detectedMaps: undefined, indexOfFirstImage: 0 };
      },
    };
  },
};

/** One line checked: parse errors, samplers, checkpoints and unsupported switches are 422s naming the line. */
function checkLine(r: ArgReader, line: string, i: number, env: ScriptEnv, base: ScriptBase): LineJob {
  let args: Record<string, string | number | boolean> = { prompt: line };
  const bad = (message: string) => r.error(3, `line ${i + 1} (${JSON.stringify(line)}): ${message}`);
  if (line.includes('--')) {
    try {
      args = parseLineArgs(line);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  if (typeof args.sampler_name === 'string') {
    try {
      args.sampler_name = resolveSampler(env.catalog, args.sampler_name, base.params.scheduler).sampler;
    } catch {
      throw bad(`unknown sampler ${JSON.stringify(args.sampler_name)} (valid: ${env.catalog.samplers.map((s) => s.name).join(', ')})`);
    }
  }
  let checkpoint: string | null = null;
  if (typeof args.sd_model === 'string') {
    const file = findCheckpointFuzzy(env.checkpoints, args.sd_model);
    if (!file || file.error) throw bad(`unknown checkpoint ${JSON.stringify(args.sd_model)}`);
    checkpoint = file.name;
  }
  if (args.restore_faces === true) throw bad('--restore_faces true: face restoration is not available on this server');
  if (args.tiling === true) throw bad('--tiling true: tiling is not supported by this server yet');
  for (const key of ['steps', 'batch_size', 'n_iter', 'width', 'height'] as const) {
    if (typeof args[key] === 'number' && (args[key] as number) < 1) throw bad(`--${key} must be at least 1`);
  }
  for (const key of ['width', 'height'] as const) {
    if (typeof args[key] === 'number' && (args[key] as number) % 8 !== 0) throw bad(`--${key} must be a multiple of 8`);
  }
  return { line, args, checkpoint };
}

const CAMEL: Record<string, string> = {
  seed: 'seed',
  subseed: 'subseed',
  subseed_strength: 'subseedStrength',
  seed_resize_from_h: 'seedResizeFromH',
  seed_resize_from_w: 'seedResizeFromW',
  sampler_name: 'samplerName',
  batch_size: 'batchSize',
  n_iter: 'nIter',
  steps: 'steps',
  cfg_scale: 'cfgScale',
  width: 'width',
  height: 'height',
};

function lineParams(base: ScriptBase, job: LineJob, seed: number, position: 'start' | 'end'): ScriptBase['params'] {
  const params: Record<string, unknown> = { ...base.params, seed };
  for (const [key, value] of Object.entries(job.args)) if (CAMEL[key]) params[CAMEL[key]] = value;
  if (typeof job.args.styles === 'string') params.styles = [...base.params.styles, job.args.styles];
  const join = (line: unknown, request: string) => {
    if (typeof line !== 'string' || line === '') return request;
    if (request === '') return line;
    return position === 'start' ? `${line} ${request}` : `${request} ${line}`;
  };
  params.prompt = join(job.args.prompt, base.params.prompt);
  params.negativePrompt = join(job.args.negative_prompt, base.params.negativePrompt);
  return params as unknown as ScriptBase['params'];
}
