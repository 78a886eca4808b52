/**
 * A1111 prompt editing `[from:to:when]` and alternation `[a|b]` (behaviour of
 * `prompt_parser.get_learned_conditioning_prompt_schedules`, spec §6.5, vector `prompt_schedules.json`).
 * A1111 parses with an ambiguous lark Earley grammar; this is a hand-written recursive-descent parser for the
 * same grammar. The grammar only lets stray `[ ] ( ) :` stand at the top level and every bracket construct
 * has a single possible end, so the one real ambiguity is "construct or literal" for a top-level bracket,
 * which A1111 resolves towards the construct; trying the construct first and falling back to a literal
 * character reproduces that.
 *
 *   start:      (prompt | /[][():]/+)*
 *   prompt:     (emphasized | scheduled | alternate | plain | WHITESPACE)*
 *   emphasized: "(" prompt ")" | "(" prompt ":" prompt ")" | "[" prompt "]"
 *   scheduled:  "[" [prompt ":"] prompt ":" [WHITESPACE] NUMBER [WHITESPACE] "]"
 *   alternate:  "[" prompt ("|" [prompt])+ "]"
 *   plain:      /([^\\\[\]():|]|\\.)+/
 */
import { PY_SPACE_CHARS } from './py-compat.ts';

/** `[endStep, text]`: the text is used while the sampler's step counter is ≤ endStep. */
export type ScheduleEntry = [endStep: number, text: string];

export interface ScheduleOptions {
  /** Hires-fix second-pass step count; `steps` is then the first pass (offsets integers and fractions). */
  hiresSteps?: number | null;
  /** A1111 option `use_old_scheduling`: `when < 1` is a fraction, anything else a step, no hires offsets. */
  useOldScheduling?: boolean;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'scheduled'; from: Node | null; to: Node; when: string }
  | { kind: 'alternate'; options: Node[] };

interface Parsed {
  node: Node;
  end: number;
}

const PLAIN_RE = /(?:[^\\[\]():|]|\\[^\n])+/y;
// lark common.SIGNED_NUMBER with optional WHITESPACE either side, up to the closing bracket
const WHEN_RE = new RegExp(
  `[${PY_SPACE_CHARS}]*([+-]?(?:[0-9]+[eE][+-]?[0-9]+|(?:[0-9]+\\.[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+))[${PY_SPACE_CHARS}]*\\]`,
  'y',
);
/** Deeper nesting is treated as unparseable rather than overflowing the JS stack (A1111's parser is not recursive). */
const MAX_DEPTH = 500;

class ScheduleParser {
  private readonly memo = new Map<number, Parsed | null>();

  constructor(private readonly text: string) {}

  /** `start`, or null when the text has no derivation (a stray `|`, a trailing lone `\`). */
  parseStart(): Node | null {
    const items: Node[] = [];
    let pos = 0;
    while (pos < this.text.length) {
      const prompt = this.parsePrompt(pos, 0);
      if (prompt.end > pos) {
        items.push(prompt.node);
        pos = prompt.end;
      } else if ('[]():'.includes(this.text[pos])) {
        items.push({ kind: 'text', text: this.text[pos++] }); // stray bracket or colon: literal text
      } else {
        return null;
      }
    }
    return { kind: 'seq', items };
  }

  /** `prompt`: the longest run of plain text and complete bracket constructs from `pos` (may be empty). */
  private parsePrompt(pos: number, depth: number): Parsed {
    const items: Node[] = [];
    for (;;) {
      PLAIN_RE.lastIndex = pos;
      const plain = PLAIN_RE.exec(this.text);
      if (plain) {
        items.push({ kind: 'text', text: plain[0] });
        pos += plain[0].length;
        continue;
      }
      const bracket = this.parseBracket(pos, depth + 1);
      if (!bracket) return { node: { kind: 'seq', items }, end: pos };
      items.push(bracket.node);
      pos = bracket.end;
    }
  }

  /** A construct opening at `pos`; memoised because a failed top-level bracket is re-read as text. */
  private parseBracket(pos: number, depth: number): Parsed | null {
    const open = this.text[pos];
    if ((open !== '(' && open !== '[') || depth > MAX_DEPTH) return null;
    let parsed = this.memo.get(pos);
    if (parsed === undefined) {
      parsed = open === '(' ? this.parseRound(pos, depth) : this.parseSquare(pos, depth);
      this.memo.set(pos, parsed);
    }
    return parsed;
  }

  /** `"(" prompt ")"` or `"(" prompt ":" prompt ")"`, kept verbatim (emphasis is parsed later). */
  private parseRound(pos: number, depth: number): Parsed | null {
    const first = this.parsePrompt(pos + 1, depth);
    const items: Node[] = [{ kind: 'text', text: '(' }, first.node];
    let end = first.end;
    if (this.text[end] === ':') {
      const weight = this.parsePrompt(end + 1, depth);
      items.push({ kind: 'text', text: ':' }, weight.node);
      end = weight.end;
    }
    if (this.text[end] !== ')') return null;
    items.push({ kind: 'text', text: ')' });
    return { node: { kind: 'seq', items }, end: end + 1 };
  }

  /** `[x]` (kept verbatim), `[a|b|…]`, `[to:when]` or `[from:to:when]`. */
  private parseSquare(pos: number, depth: number): Parsed | null {
    const first = this.parsePrompt(pos + 1, depth);
    const next = this.text[first.end];
    if (next === ']') {
      const node: Node = { kind: 'seq', items: [{ kind: 'text', text: '[' }, first.node, { kind: 'text', text: ']' }] };
      return { node, end: first.end + 1 };
    }
    if (next === '|') return this.parseAlternate(first, depth);
    if (next !== ':') return null;
    const short = this.matchWhen(first.end + 1);
    if (short) return { node: { kind: 'scheduled', from: null, to: first.node, when: short.when }, end: short.end };
    const second = this.parsePrompt(first.end + 1, depth);
    if (this.text[second.end] !== ':') return null;
    const long = this.matchWhen(second.end + 1);
    if (!long) return null;
    return { node: { kind: 'scheduled', from: first.node, to: second.node, when: long.when }, end: long.end };
  }

  private parseAlternate(first: Parsed, depth: number): Parsed | null {
    const options = [first.node];
    let end = first.end;
    while (this.text[end] === '|') {
      const option = this.parsePrompt(end + 1, depth); // an empty option is the empty string
      options.push(option.node);
      end = option.end;
    }
    if (this.text[end] !== ']') return null;
    return { node: { kind: 'alternate', options }, end: end + 1 };
  }

  /** `[WHITESPACE] NUMBER [WHITESPACE] "]"` at `pos`. */
  private matchWhen(pos: number): { when: string; end: number } | null {
    WHEN_RE.lastIndex = pos;
    const match = WHEN_RE.exec(this.text);
    return match ? { when: match[1], end: pos + match[0].length } : null;
  }
}

/** Parses the prompt-editing syntax; null when A1111's parser would reject the text. */
function parseSchedule(prompt: string): Node | null {
  return new ScheduleParser(prompt).parseStart();
}

interface StepContext {
  steps: number;
  intOffset: number;
  fltOffset: number;
  useOldScheduling: boolean;
}

/** The step after which `[from:to:when]` shows `to` (A1111 CollectSteps). */
function whenToStep(when: string, ctx: StepContext): number {
  let v = Number(when);
  if (ctx.useOldScheduling) v = v < 1 ? v * ctx.steps : v;
  else v = when.includes('.') ? (v - ctx.fltOffset) * ctx.steps : v - ctx.intOffset;
  return Math.min(ctx.steps, Math.trunc(v));
}

/** Sorted distinct boundaries: `steps`, every `when ≥ 1`, and every step when there is an alternation. */
function collectSteps(root: Node, ctx: StepContext): number[] {
  const boundaries = new Set<number>([ctx.steps]);
  const visit = (node: Node | null): void => {
    if (!node || node.kind === 'text') return;
    if (node.kind === 'seq') node.items.forEach(visit);
    else if (node.kind === 'alternate') {
      for (let s = 1; s <= ctx.steps; s++) boundaries.add(s);
      node.options.forEach(visit);
    } else {
      const step = whenToStep(node.when, ctx);
      if (step >= 1) boundaries.add(step);
      visit(node.from);
      visit(node.to);
    }
  };
  visit(root);
  return [...boundaries].sort((a, b) => a - b);
}

/** The prompt text at sampling step `step` (1-based, as A1111's AtStep). */
function renderAt(node: Node | null, step: number, ctx: StepContext): string {
  if (!node) return '';
  switch (node.kind) {
    case 'text':
      return node.text;
    case 'seq':
      return node.items.map((item) => renderAt(item, step, ctx)).join('');
    case 'alternate':
      return renderAt(node.options[(step - 1) % node.options.length], step, ctx);
    case 'scheduled':
      return step <= whenToStep(node.when, ctx) ? renderAt(node.from, step, ctx) : renderAt(node.to, step, ctx);
  }
}

/**
 * A1111 `get_learned_conditioning_prompt_schedules`: for each prompt, the list of `[endStep, text]`.
 *
 * @example
 * getPromptSchedules(['a [cat:dog:0.5]'], 10) // [[[5, 'a cat'], [10, 'a dog']]]
 */
export function getPromptSchedules(prompts: readonly string[], steps: number, options: ScheduleOptions = {}): ScheduleEntry[][] {
  const { hiresSteps = null, useOldScheduling = false } = options;
  const hires = hiresSteps !== null && !useOldScheduling;
  const ctx: StepContext = {
    steps: hires ? hiresSteps : steps,
    intOffset: hires ? steps : 0,
    fltOffset: hires ? 1 : 0,
    useOldScheduling,
  };
  const cache = new Map<string, ScheduleEntry[]>();
  return prompts.map((prompt) => {
    let schedule = cache.get(prompt);
    if (!schedule) {
      const root = parseSchedule(prompt);
      schedule = root ? collectSteps(root, ctx).map((t): ScheduleEntry => [t, renderAt(root, t, ctx)]) : [[ctx.steps, prompt]];
      cache.set(prompt, schedule);
    }
    return schedule;
  });
}

/**
 * Index of the entry in force at a 0-based model-call counter: the first with `step ≤ endStep`, and entry 0
 * past the end, as A1111's `reconstruct_cond_batch` (its default index is 0).
 */
export function scheduleIndexAt(schedule: readonly ScheduleEntry[], step: number): number {
  const index = schedule.findIndex(([endStep]) => step <= endStep);
  return Math.max(0, index);
}
