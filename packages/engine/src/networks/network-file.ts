/**
 * A LoRA / LyCORIS `.safetensors` file as A1111 v1.10.1's Lora extension groups it (fixtures/lora/README.md):
 * every key is split at its first '.', the part before names the module, the rest the tensor (`lora_up.weight`,
 * `alpha`, `hada_w1_a`, …), and each module's tensor names decide its type, tried in A1111's order (LoRA,
 * LoHa, IA3, LoKr, full, norm, GLoRA, OFT). Only the types the fixtures verify are implemented (LoRA/LoCon incl.
 * `lora_A`/`lora_B` and the `lora_mid` core, LoHa incl. Tucker, LoKr in every factor form); a network with a
 * matched module of another type is refused as a whole with a message naming it, rather than applied half-right.
 */
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { CheckpointError } from '../errors.ts';
import { Tensor } from '../tensor.ts';

export type ModuleType = 'lora' | 'loha' | 'lokr';

/** One module: its type, its tensors by name (float32), and the scalars A1111 reads from it. */
export interface NetworkModuleWeights {
  /** The module name as stored (`lora_unet_mid_block_attentions_0_proj_in`). */
  name: string;
  /** Null when the module cannot be applied (`unsupported` says why). */
  type: ModuleType | null;
  unsupported: string | null;
  w: ReadonlyMap<string, Tensor>;
  alpha: number | null;
  scale: number | null;
}

const HAS = (keys: ReadonlySet<string>, ...names: string[]) => names.every((n) => keys.has(n));

/** Types A1111 knows but this engine does not apply: how to recognise them, and their name for messages. */
const UNSUPPORTED: readonly [string, (keys: ReadonlySet<string>) => boolean][] = [
  ['IA3 (`weight`/`on_input`)', (k) => k.has('weight')],
  ['full/diff (`diff`)', (k) => k.has('diff') || k.has('diff_b')],
  ['norm (`w_norm`/`b_norm`)', (k) => HAS(k, 'w_norm', 'b_norm')],
  ['GLoRA (`a1.weight`…)', (k) => HAS(k, 'a1.weight', 'a2.weight', 'b1.weight', 'b2.weight')],
  ['OFT/BOFT (`oft_blocks`/`oft_diag`)', (k) => k.has('oft_blocks') || k.has('oft_diag')],
];

/** Extra tensors A1111 folds into any type that this engine does not implement. */
const UNSUPPORTED_EXTRAS: readonly [string, string][] = [
  ['dora_scale', 'DoRA (`dora_scale`)'],
  ['bias', 'bias deltas (`bias`)'],
];

/**
 * The type of one module from its tensor names, in A1111's order, or why it cannot be applied: a type this
 * engine does not implement (named), or tensors that fit no type. A1111 types a module only once it matched a
 * layer (an unmatched module is skipped before), and then refuses the whole network when typing fails.
 */
export function moduleTypeOf(keys: ReadonlySet<string>): { type: ModuleType } | { unsupported: string } {
  for (const [key, what] of UNSUPPORTED_EXTRAS) if (keys.has(key)) return { unsupported: `uses ${what}` };
  if (HAS(keys, 'lora_up.weight', 'lora_down.weight') || HAS(keys, 'lora_A.weight', 'lora_B.weight')) return { type: 'lora' };
  if (HAS(keys, 'hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b')) return { type: 'loha' };
  const [ia3, isIa3] = UNSUPPORTED[0];
  if (isIa3(keys)) return { unsupported: `uses ${ia3}` };
  const has1 = keys.has('lokr_w1') || HAS(keys, 'lokr_w1_a', 'lokr_w1_b');
  const has2 = keys.has('lokr_w2') || HAS(keys, 'lokr_w2_a', 'lokr_w2_b');
  if (has1 && has2) return { type: 'lokr' };
  for (const [what, test] of UNSUPPORTED.slice(1)) if (test(keys)) return { unsupported: `uses ${what}` };
  return { unsupported: `has tensors [${[...keys].join(', ')}] that fit no LoRA/LyCORIS type (LoRA, LoHa, IA3, LoKr, full, norm, GLoRA, OFT)` };
}

/** The message for a network refused because of module `module`. */
export function unsupportedMessage(module: string, why: string): string {
  return `module '${module}' ${why}; this server implements LoRA, LoCon, LoHa and LoKr, so the network is not applied`;
}

/** Groups tensor names by module (split at the first '.'); `bundle_emb.*` (bundled embeddings) are set apart. */
export function groupModules(keys: Iterable<string>): { modules: Map<string, Map<string, string>>; bundled: string[] } {
  const modules = new Map<string, Map<string, string>>();
  const bundled: string[] = [];
  for (const key of keys) {
    const dot = key.indexOf('.');
    const module = dot < 0 ? key : key.slice(0, dot);
    const part = dot < 0 ? '' : key.slice(dot + 1);
    if (module === 'bundle_emb') {
      bundled.push(key);
      continue;
    }
    let parts = modules.get(module);
    if (!parts) modules.set(module, (parts = new Map()));
    parts.set(part, key);
  }
  return { modules, bundled };
}

/** Checks what can be known from the header alone (used when listing files): there are modules at all. */
export function checkNetworkHeader(file: SafetensorsFile): void {
  const { modules } = groupModules(file.keys());
  if (modules.size === 0) throw new CheckpointError(file.path, 'has no network modules (no tensors outside bundle_emb.*)');
}

export interface NetworkFile {
  path: string;
  modules: ReadonlyMap<string, NetworkModuleWeights>;
  /** Names of bundled textual-inversion embeddings (`bundle_emb.NAME.*`), which are not applied. */
  bundledEmbeddings: string[];
}

/** Reads a network file: every module typed (or marked unsupported), its tensors widened to float32 (F16/BF16/F32 alike). */
export function readNetworkFile(path: string): NetworkFile {
  const file = SafetensorsFile.open(path);
  try {
    const { modules: grouped, bundled } = groupModules(file.keys());
    const modules = new Map<string, NetworkModuleWeights>();
    for (const [name, parts] of grouped) modules.set(name, readModule(file, name, parts));
    const bundledEmbeddings = [...new Set(bundled.map((k) => k.split('.')[1]))];
    return { path, modules, bundledEmbeddings };
  } finally {
    file.close();
  }
}

function readModule(file: SafetensorsFile, name: string, parts: ReadonlyMap<string, string>): NetworkModuleWeights {
  const typed = moduleTypeOf(new Set(parts.keys()));
  const read = (key: string) => new Tensor(file.info(key).shape, file.readFloat32(key));
  const w = new Map<string, Tensor>();
  for (const [part, key] of parts) w.set(part, read(key));
  const scalar = (part: string) => {
    const t = w.get(part);
    if (t && t.size !== 1) throw new CheckpointError(file.path, `'${name}.${part}' should hold one number, it has shape [${t.shape.join(', ')}]`);
    return t ? t.data[0] : null;
  };
  if ('unsupported' in typed) return { name, type: null, unsupported: typed.unsupported, w, alpha: null, scale: null };
  if (typed.type === 'lora' && !w.has('lora_up.weight')) {
    // PEFT names: A1111 renames lora_B/lora_A to up/down and rebuilds the module from those two alone, so a
    // stored alpha (and scale) is dropped and the scale is 1.0 (README, case lora_diffusers).
    const up = w.get('lora_B.weight') as Tensor;
    const down = w.get('lora_A.weight') as Tensor;
    return {
      name,
      type: 'lora',
      unsupported: null,
      w: new Map([
        ['lora_up.weight', up],
        ['lora_down.weight', down],
      ]),
      alpha: null,
      scale: null,
    };
  }
  return { name, type: typed.type, unsupported: null, w, alpha: scalar('alpha'), scale: scalar('scale') };
}
