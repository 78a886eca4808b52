/**
 * The page: a mode switch (txt2img, img2img, Extras, PNG info), the form, the queue's progress, the results of the
 * latest job and the history. All state lives here; jobs go through `/sdapi/v2/jobs` and their events come from
 * LiveJobs, so other tabs' jobs show up too and a reload picks the running job up again.
 */
import type { Job, JobEvent, JobImage } from '@sdapi/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { errorText, fetchServer, fieldErrors, isUnauthorized, rememberApiKey, sd } from './api.ts';
import { ControlNetUnits } from './components/controlnet-units.tsx';
import { ExtrasForm } from './components/extras-form.tsx';
import type { Errors } from './components/fields.tsx';
import { Gallery, History } from './components/gallery.tsx';
import { GenerateForm, type Lists } from './components/generate-form.tsx';
import { Img2ImgInputs } from './components/img2img-inputs.tsx';
import type { MaskHandle } from './components/mask-painter.tsx';
import { ModelPicker } from './components/model-picker.tsx';
import { PngInfo } from './components/png-info.tsx';
import { type LiveProgress, ProgressPanel } from './components/progress-panel.tsx';
import { ScriptPicker } from './components/script-picker.tsx';
import { XyzPlotForm } from './components/xyz-plot.tsx';
import {
  type ControlNetSlot,
  controlNetScripts,
  DEFAULT_EXTRAS,
  DEFAULT_FORM,
  DEFAULT_XYZ,
  defaultScriptArgs,
  EXTRAS_FIELDS,
  type ExtrasState,
  extrasBatchParams,
  extrasParams,
  FORM_FIELDS,
  type FormState,
  formFromInfotext,
  formFromParameters,
  type InitImage,
  img2imgParams,
  type NamedImage,
  resizeSlots,
  scriptParams,
  selectableScripts,
  txt2imgParams,
  XYZ_SCRIPT,
  type XyzState,
  xyzScripts,
} from './form.ts';
import { loadImage } from './images.ts';
import { LiveJobs } from './live.ts';

type Mode = 'txt2img' | 'img2img' | 'extras' | 'png-info';
const MODES: [Mode, string][] = [
  ['txt2img', 'txt2img'],
  ['img2img', 'img2img / inpaint'],
  ['extras', 'Extras (upscale)'],
  ['png-info', 'PNG info'],
];
const HISTORY_PAGE = 8;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export function App() {
  const [mode, setMode] = useState<Mode>('txt2img');
  const [form, setForm] = useState<FormState>(DEFAULT_FORM);
  const [lists, setLists] = useState<Lists>({
    samplers: [],
    schedulers: [],
    styles: [],
    hrUpscalers: ['Latent'],
    upscalers: ['None'],
    loras: [],
    cnModules: ['none'],
    cnModels: [],
    xyzAxes: ['Nothing', 'Seed'],
    scripts: [],
  });
  const [xyz, setXyz] = useState<XyzState>(DEFAULT_XYZ);
  /** The Script menu's choice per tab ('' = None) and each script's arguments, by `tab:name`. */
  const [scriptChoice, setScriptChoice] = useState<Record<'txt2img' | 'img2img', string>>({ txt2img: '', img2img: '' });
  const [scriptArgs, setScriptArgs] = useState<Record<string, unknown[]>>({});
  /** Each tab's Script menu (the selectable scripts of /sdapi/v1/script-info). */
  const menus = useMemo(
    () => ({ txt2img: selectableScripts(lists.scripts, 'txt2img'), img2img: selectableScripts(lists.scripts, 'img2img') }),
    [lists.scripts],
  );
  const [cnSlots, setCnSlots] = useState<ControlNetSlot[]>(() => resizeSlots([], 3));
  const [extras, setExtras] = useState<ExtrasState>(DEFAULT_EXTRAS);
  const [extrasImages, setExtrasImages] = useState<NamedImage[]>([]);
  const [errors, setErrors] = useState<Errors>({});
  const [banner, setBannerText] = useState<string | null>(null);
  const [needsKey, setNeedsKey] = useState(false);
  const setBanner = useCallback((text: string | null, error?: unknown) => {
    setBannerText(text);
    if (isUnauthorized(error)) setNeedsKey(true);
  }, []);
  const [submitting, setSubmitting] = useState(false);
  const [active, setActive] = useState<Job[]>([]);
  const [live, setLive] = useState<Record<string, LiveProgress>>({});
  const [shown, setShown] = useState<Job | null>(null);
  const [history, setHistory] = useState<{ jobs: Job[]; cursor: string | null; loading: boolean }>({ jobs: [], cursor: null, loading: false });
  const [init, setInit] = useState<InitImage | null>(null);
  const [connected, setConnected] = useState(false);
  // Said once per change by screen readers (the step counter itself is not live: it would talk every step).
  const [announcement, setAnnouncement] = useState('');
  const mask = useRef<MaskHandle | null>(null);
  const feed = useRef<LiveJobs | null>(null);

  const lastSeed = shown?.result?.images?.[0]?.seed ?? null;

  const showError = useCallback((error: unknown) => {
    const found = fieldErrors(error, [...FORM_FIELDS, ...EXTRAS_FIELDS]);
    const { '': rest, ...byField } = found;
    setErrors(byField);
    setBanner(rest ?? null, error);
    // Focus the first field the server complained about, so keyboard and screen-reader users land on it.
    const first = Object.keys(byField)[0];
    if (first)
      requestAnimationFrame(() =>
        document.querySelector<HTMLElement>(`[data-field="${first}"]`)?.parentElement?.querySelector<HTMLElement>('input, select, textarea')?.focus(),
      );
  }, []);

  const resync = useCallback(async () => {
    try {
      const [queue, done] = await Promise.all([
        sd.jobs.list({ status: ['queued', 'running'], limit: 100 }),
        sd.jobs.list({ status: [...FINISHED], limit: HISTORY_PAGE }),
      ]);
      setActive(queue.jobs.reverse()); // oldest first: queue order
      setHistory({ jobs: done.jobs, cursor: done.next_cursor, loading: false });
      setShown((current) => current ?? done.jobs.find((j) => (j.result?.images?.length ?? 0) > 0) ?? null);
      if (feed.current?.degraded) for (const job of queue.jobs) feed.current.followOverSse(job.id);
    } catch (error) {
      setBanner(errorText(error), error);
    }
  }, []);

  const onEvent = useCallback((event: JobEvent) => {
    if (event.event === 'progress') {
      setLive((l) => ({
        ...l,
        [event.job]: {
          step: event.step ?? 0,
          steps: event.steps ?? 0,
          fraction: event.fraction ?? 0,
          eta: event.eta_seconds ?? null,
          preview: event.preview ?? l[event.job]?.preview ?? null,
        },
      }));
      return;
    }
    if (event.event === 'image') return;
    void sd.jobs.retrieve(event.job).then(
      (job) => {
        if (FINISHED.has(job.status)) {
          setActive((a) => a.filter((j) => j.id !== job.id));
          setLive(({ [job.id]: _, ...rest }) => rest);
          setHistory((h) => ({ ...h, jobs: [job, ...h.jobs.filter((j) => j.id !== job.id)] }));
          setShown(job);
          setAnnouncement(job.status === 'succeeded' ? `Done: ${job.result?.images?.length ?? 0} image(s).` : `The job ${job.status}.`);
        } else {
          if (job.status === 'running') setAnnouncement('Generating…');
          setActive((a) => (a.some((j) => j.id === job.id) ? a.map((j) => (j.id === job.id ? job : j)) : [...a, job]));
        }
      },
      () => undefined,
    );
  }, []);

  // Without the websocket, nobody tells this tab about other tabs' jobs: look every few seconds.
  useEffect(() => {
    if (connected) return;
    const timer = setInterval(() => void resync(), 4000);
    return () => clearInterval(timer);
  }, [connected, resync]);

  useEffect(() => {
    const settle = async <T,>(p: PromiseLike<T[]>): Promise<T[]> => {
      try {
        return await p;
      } catch (error) {
        setBanner(errorText(error), error);
        return [];
      }
    };
    void (async () => {
      // A1111's option control_net_unit_count (3 unless set); units past it would be refused.
      const unitCount = sd.controlnet.settings().then(
        (s) => s.control_net_unit_count,
        () => 3,
      );
      const [samplers, schedulers, styles, latent, upscalers, loras, cnModules, cnModels, scripts] = await Promise.all([
        settle(sd.samplers.list()),
        settle(sd.schedulers.list()),
        settle(sd.promptStyles.list()),
        settle(sd.latentUpscaleModes.list()),
        settle(sd.upscalers.list()),
        settle(sd.loras.list()),
        settle(sd.controlnet.moduleList().then((m) => m.module_list)),
        settle(sd.controlnet.modelList()),
        settle(sd.scriptInfo.list()),
      ]);
      const units = await unitCount;
      setCnSlots((slots) => resizeSlots(slots, units));
      setLists({
        samplers: samplers.map((s) => s.name),
        schedulers: schedulers.map((s) => s.label),
        styles: styles.map((s) => s.name),
        hrUpscalers: [...latent.map((m) => m.name), ...upscalers.map((u) => u.name).filter((n) => n !== 'None')],
        upscalers: upscalers.length > 0 ? upscalers.map((u) => u.name) : ['None'],
        loras: loras.map((l) => l.alias),
        cnModules: cnModules.length > 0 ? cnModules : ['none'],
        cnModels,
        xyzAxes: scripts.find((x) => x.name === XYZ_SCRIPT && !x.is_img2img)?.args[0]?.choices ?? ['Nothing', 'Seed'],
        scripts,
      });
    })();
    feed.current = new LiveJobs({ onEvent, onResync: () => void resync(), onStatus: setConnected });
    feed.current.start();
    void resync();
    const onRejection = (e: PromiseRejectionEvent) => setBanner(errorText(e.reason), e.reason);
    window.addEventListener('unhandledrejection', onRejection);
    return () => {
      feed.current?.stop();
      window.removeEventListener('unhandledrejection', onRejection);
    };
  }, [onEvent, resync]);

  /** A generation's params with the ControlNet units and the chosen script, each only when it is on. */
  const withScripts = (params: object, tab: 'txt2img' | 'img2img'): Record<string, unknown> => {
    const alwayson = controlNetScripts(cnSlots, lists.cnModels);
    const chosen = menus[tab].find((s) => s.name === scriptChoice[tab]);
    const plot = chosen?.name === XYZ_SCRIPT ? { scripts: xyzScripts(xyz) } : {};
    return { ...params, ...(alwayson ? { alwayson_scripts: alwayson } : {}), ...plot, ...scriptParams(chosen, scriptArgs[`${tab}:${chosen?.name}`]) };
  };

  const generate = async () => {
    if (submitting) return;
    setErrors({});
    setBanner(null);
    if ((mode === 'img2img' && !init) || (mode === 'extras' && extrasImages.length === 0)) return showError(new Error('Drop or choose an image first.'));
    setSubmitting(true);
    try {
      const job =
        mode === 'extras'
          ? await sd.jobs.create(
              extrasImages.length === 1
                ? { type: 'extra-single-image', params: extrasParams(extras, extrasImages[0]) as Record<string, unknown> }
                : { type: 'extra-batch-images', params: extrasBatchParams(extras, extrasImages) as Record<string, unknown> },
            )
          : mode === 'img2img' && init
            ? await sd.jobs.create({
                type: 'img2img',
                params: withScripts(img2imgParams(form, init, mask.current?.export() ?? null), 'img2img'),
                preview: 1,
              })
            : await sd.jobs.create({ type: 'txt2img', params: withScripts(txt2imgParams(form), 'txt2img'), preview: 1 });
      setActive((a) => (a.some((j) => j.id === job.id) ? a : [...a, job]));
      if (feed.current?.degraded) feed.current.followOverSse(job.id);
    } catch (error) {
      showError(error);
    } finally {
      setSubmitting(false);
    }
  };

  const actions = useMemo(
    () => ({
      onReuse: (job: Job, image: JobImage) => {
        setForm((f) => formFromParameters(f, job.result?.parameters ?? {}, image.seed));
        setMode(job.type === 'img2img' ? 'img2img' : 'txt2img');
        requestAnimationFrame(() => document.getElementById('prompt')?.focus());
      },
      onSendToExtras: async (image: JobImage) => {
        try {
          setExtrasImages([{ ...(await loadImage(await (await fetchServer(image.url)).blob())), name: `${image.index}.png` }]);
          setMode('extras');
        } catch (error) {
          setBanner(errorText(error), error);
        }
      },
      onSendToImg2img: async (job: Job, image: JobImage) => {
        try {
          const blob = await (await fetchServer(image.url)).blob();
          setInit(await loadImage(blob));
          // An Extras job's parameters are not generation ones (its resize_mode 1 means "scale to", img2img's "crop").
          if (!job.type.startsWith('extra')) setForm((f) => formFromParameters(f, job.result?.parameters ?? {}, image.seed));
          setMode('img2img');
        } catch (error) {
          setBanner(errorText(error), error);
        }
      },
    }),
    [],
  );

  const moreHistory = async () => {
    if (!history.cursor) return;
    setHistory((h) => ({ ...h, loading: true }));
    try {
      const page = await sd.jobs.list({ status: [...FINISHED], limit: HISTORY_PAGE, cursor: history.cursor });
      setHistory((h) => ({ jobs: [...h.jobs, ...page.jobs], cursor: page.next_cursor, loading: false }));
    } catch (error) {
      setHistory((h) => ({ ...h, loading: false }));
      setBanner(errorText(error), error);
    }
  };

  /** A script chosen in the menu starts from its script-info defaults (kept per tab and script after that). */
  const chooseScript = (tab: 'txt2img' | 'img2img', name: string) => {
    setScriptChoice((c) => ({ ...c, [tab]: name }));
    const info = menus[tab].find((s) => s.name === name);
    setScriptArgs((all) => (info && !all[`${tab}:${name}`] ? { ...all, [`${tab}:${name}`]: defaultScriptArgs(info) } : all));
  };
  const setScriptArg = (tab: 'txt2img' | 'img2img', index: number, value: unknown) => {
    const key = `${tab}:${scriptChoice[tab]}`;
    setScriptArgs((all) => {
      const args = [...(all[key] ?? [])];
      args[index] = value;
      return { ...all, [key]: args };
    });
  };

  const setCnSlot = (index: number, update: (slot: ControlNetSlot) => ControlNetSlot) =>
    setCnSlots((slots) => slots.map((slot, i) => (i === index ? update(slot) : slot)));

  /** A dropped or chosen image file, decoded and handed to `use`; a file the browser cannot read is an error under `field`. */
  const pickImage = (field: string, use: (image: InitImage, file: File) => void) => async (file: File) => {
    try {
      use(await loadImage(file), file);
      setErrors(({ [field]: _, ...rest }) => rest);
    } catch (error) {
      setErrors((e) => ({ ...e, [field]: errorText(error) }));
    }
  };

  return (
    <>
      <header class="top">
        <h1>sdapi</h1>
        <ModelPicker onError={(e) => setErrors((x) => ({ ...x, ...fieldErrors(e, ['sd_model_checkpoint']) }))} errors={errors} />
        <span class={`status ${connected ? 'on' : 'off'}`} title={connected ? 'Live updates connected' : 'Live updates reconnecting'}>
          {connected ? 'live' : 'offline'}
        </span>
      </header>
      {needsKey && <ApiKeyForm />}
      {banner && (
        <div class="error-box" role="alert">
          <p>{banner}</p>
          <button type="button" class="link" onClick={() => setBanner(null)}>
            Dismiss
          </button>
        </div>
      )}
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      <main class="layout">
        <section class="left" aria-label="Generation settings">
          <fieldset class="modes">
            <legend class="visually-hidden">Mode</legend>
            {MODES.map(([m, text]) => (
              <button key={m} type="button" aria-pressed={mode === m} onClick={() => setMode(m)}>
                {text}
              </button>
            ))}
          </fieldset>
          {mode === 'extras' ? (
            <ExtrasForm
              extras={extras}
              setExtras={setExtras}
              images={extrasImages}
              onFile={pickImage('image', (image, file) => setExtrasImages((list) => [...list, { ...image, name: file.name }]))}
              onRemove={() => setExtrasImages([])}
              upscalers={lists.upscalers}
              errors={errors}
              onSubmit={() => void generate()}
              submitting={submitting}
            />
          ) : mode === 'png-info' ? (
            <PngInfo
              onSend={(parameters) => {
                setForm((f) => formFromInfotext(f, parameters));
                setMode('txt2img');
              }}
            />
          ) : (
            <GenerateForm
              form={form}
              setForm={setForm}
              lists={lists}
              errors={errors}
              lastSeed={lastSeed}
              onGenerate={() => void generate()}
              submitting={submitting}
              label={mode}
            >
              <ControlNetUnits
                slots={cnSlots}
                setUnit={(index, update) => setCnSlot(index, (slot) => ({ ...slot, unit: update(slot.unit) }))}
                onFile={(index, file) => void pickImage('controlnet_image', (image) => setCnSlot(index, (slot) => ({ ...slot, image })))(file)}
                onRemove={(index) => setCnSlot(index, (slot) => ({ ...slot, image: null }))}
                modules={lists.cnModules}
                models={lists.cnModels}
                errors={errors}
              />
              {(mode === 'txt2img' || mode === 'img2img') && (
                <ScriptPicker
                  scripts={menus[mode]}
                  selected={scriptChoice[mode]}
                  onSelect={(name) => chooseScript(mode, name)}
                  args={scriptArgs[`${mode}:${scriptChoice[mode]}`] ?? []}
                  setArg={(index, value) => setScriptArg(mode, index, value)}
                  errors={errors}
                >
                  {scriptChoice[mode] === XYZ_SCRIPT ? <XyzPlotForm xyz={xyz} setXyz={setXyz} axes={lists.xyzAxes} errors={errors} /> : undefined}
                </ScriptPicker>
              )}
              {mode === 'img2img' && (
                <Img2ImgInputs
                  form={form}
                  setForm={setForm}
                  init={init}
                  onFile={pickImage('init_images', (image) => setInit(image))}
                  onRemove={() => setInit(null)}
                  mask={mask}
                  errors={errors}
                />
              )}
            </GenerateForm>
          )}
        </section>
        <section class="right" aria-label="Results">
          <ProgressPanel
            active={active}
            live={live}
            onInterrupt={() => void sd.interrupt().catch(showError)}
            onSkip={() => void sd.skip().catch(showError)}
            onCancel={(id) => void sd.jobs.cancel(id).catch(showError)}
          />
          <h2>Results</h2>
          <Gallery job={shown} actions={actions} />
          <History jobs={history.jobs} more={history.cursor !== null} loading={history.loading} onMore={() => void moreHistory()} onShow={setShown} />
        </section>
      </main>
    </>
  );
}

/** Shown after a 401: a key for a server started with `--api-keys` (Basic credentials come from the browser). */
function ApiKeyForm() {
  const [key, setKey] = useState('');
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) rememberApiKey(key.trim());
      }}
    >
      <label for="api_key">API key (--api-keys)</label>
      <input id="api_key" type="password" autocomplete="off" value={key} onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit">Use this key</button>
    </form>
  );
}
