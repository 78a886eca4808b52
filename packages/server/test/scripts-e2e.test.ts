/**
 * Selectable scripts through the API on the real engine (tiny SD1.5 fixture): X/Y/Z plot, prompt matrix, prompts
 * from textbox and SD upscale, by `script_name` + `script_args` and in the typed `scripts` form; /scripts and
 * /script-info; and bad script input refused with a 422 before any image is made.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodePng, encodePng } from '@sdapi/engine';
import { needFiles, startTinyEngineServer, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
let server: TinyEngineServer | undefined;

before(async () => {
  if (skip) return;
  server = await startTinyEngineServer('scripts');
});
after(() => server?.close());

async function post(path: string, body: unknown) {
  const response = await fetch(`${server?.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
async function get(path: string) {
  return (await (await fetch(`${server?.base}${path}`)).json()) as any;
}

const BASE = {
  prompt: 'a red cube',
  negative_prompt: '',
  steps: 2,
  width: 64,
  height: 64,
  sampler_name: 'Euler',
  cfg_scale: 5,
  override_settings: { randn_source: 'CPU' },
};
const png = (b64: string) => decodePng(Buffer.from(b64, 'base64'));
/** Max absolute difference of two PNGs' pixels (PNGs are lossless: 0 for the same image). */
function maxDiff(a: string, b: string): number {
  const [x, y] = [png(a), png(b)];
  assert.deepEqual([x.width, x.height], [y.width, y.height]);
  let max = 0;
  for (let i = 0; i < x.rgb.length; i++) max = Math.max(max, Math.abs(x.rgb[i] - y.rgb[i]));
  return max;
}

/** X/Y/Z arguments: Seed "1,2" on X, Steps "2,3" on Y, lone images on. */
const SEED_BY_STEPS = [1, '1,2', [], 4, '2,3', [], 0, '', [], true, true, false, false, false, false, false, 0, false];

describe('X/Y/Z plot', { skip }, () => {
  test('Seed "1,2" × Steps "2,3" with lone images: the grid and four cells, each equal to the same txt2img sent directly', async () => {
    const { status, body } = await post('/sdapi/v1/txt2img', { ...BASE, script_name: 'x/y/z plot', script_args: SEED_BY_STEPS });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 5);
    const info = JSON.parse(body.info);
    assert.equal(info.index_of_first_image, 1);
    assert.equal(info.infotexts.length, 5);
    assert.deepEqual(info.all_seeds, [1, 2, 1, 2]);
    const grid = png(body.images[0]);
    // 2×2 cells of 64 px with a left legend column (3/4 cell) and a top legend band.
    assert.equal(grid.width, 128 + 48);
    assert.ok(grid.height > 128 && grid.height < 128 + 40, `grid height ${grid.height}`);
    for (const [i, [seed, steps]] of [
      [1, 2],
      [2, 2],
      [1, 3],
      [2, 3],
    ].entries()) {
      const direct = await post('/sdapi/v1/txt2img', { ...BASE, seed, steps });
      const diff = maxDiff(body.images[1 + i], direct.body.images[0]);
      console.log(`cell seed ${seed} steps ${steps}: max |Δ| vs direct txt2img = ${diff}`);
      assert.equal(diff, 0);
      assert.equal(info.infotexts[1 + i], JSON.parse(direct.body.info).infotexts[0]);
    }
    const gridInfotext: string = info.infotexts[0];
    assert.match(gridInfotext, /Script: X\/Y\/Z plot, X Type: Seed, X Values: "1,2", Fixed X Values: "1, 2", Y Type: Steps, Y Values: "2,3"/);
    assert.match(gridInfotext, /^a red cube\nSteps: 2, Sampler: Euler, .*Seed: 1,/);
  });

  test('typed form: scripts.xyz_plot gives the same grid as the script_args vector', async () => {
    const typed = await post('/sdapi/v1/txt2img', {
      ...BASE,
      scripts: { xyz_plot: { x: { axis: 'Seed', values: [1, 2] }, y: { axis: 'steps', values: '2,3' }, include_lone_images: true } },
    });
    const vector = await post('/sdapi/v1/txt2img', { ...BASE, script_name: 'X/Y/Z plot', script_args: SEED_BY_STEPS });
    assert.equal(typed.status, 200, JSON.stringify(typed.body));
    assert.equal(typed.body.images.length, 5);
    assert.equal(maxDiff(typed.body.images[0], vector.body.images[0]), 0);
  });

  test('sub-grids without lone images; a short script_args is padded with the defaults (X = Seed)', async () => {
    const { status, body } = await post('/sdapi/v1/txt2img', {
      ...BASE,
      seed: 5,
      script_name: 'X/Y/Z plot',
      script_args: [4, '2,3', [], 0, '', [], 6, '3,5', [], false, false, true],
    });
    assert.equal(status, 200, JSON.stringify(body));
    const info = JSON.parse(body.info);
    assert.equal(body.images.length, 3); // full grid + one sub-grid per z value
    assert.equal(info.infotexts.length, 3);
    assert.match(info.infotexts[0], /X Type: Steps, X Values: "2,3", Z Type: CFG Scale, Z Values: "3,5"/);
    assert.doesNotMatch(info.infotexts[1], /Z Type/);
    const full = png(body.images[0]);
    assert.deepEqual([full.width, full.height], [256, 64]); // no legend: two 128×64 sub-grids side by side
    const padded = await post('/sdapi/v1/txt2img', { ...BASE, seed: 5, script_name: 'X/Y/Z plot', script_args: [] });
    assert.equal(padded.status, 422, 'the default X axis (Seed) with empty values gives no cell');
  });

  test('bad input is a 422 naming the argument, before anything is queued', async () => {
    const cases: [unknown[], RegExp][] = [
      [[4, '1.5', []], /script_args\[1\] \(x_values\).*invalid literal for int\(\) with base 10: '1.5'/],
      [[4, '5-1', []], /x_values\) gives no Steps values/],
      [[9, '', ['Euler', 'nope']], /x_values_dropdown\).*Unknown sampler: nope/],
      [
        [11, 'no-such-model', [], 0, '', [], 0, '', [], true, false, false, false, false, false, false, 0, true],
        /x_values\).*Unknown checkpoint: no-such-model/,
      ],
      [[29, 'x', ['nope.safetensors']], /x_values_dropdown\).*Unknown VAE: nope.safetensors \(valid: Automatic, None/],
      [[32, '1', []], /x_type\) selects the axis "Face restore", which this server cannot run/],
      [[99, '1', []], /x_type\) is not an axis of the txt2img table/],
      [[7, 'dog,cat', []], /Prompt S\/R did not find dog in prompt or negative prompt/],
      [[1, '1-100000', []], /grid would be too large/],
    ];
    for (const [args, message] of cases) {
      const { status, body } = await post('/sdapi/v1/txt2img', { ...BASE, script_name: 'X/Y/Z plot', script_args: args });
      assert.equal(status, 422, JSON.stringify(args));
      assert.match(body.detail, message);
    }
    const unknown = await post('/sdapi/v1/txt2img', { ...BASE, script_name: 'Nope' });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.detail, "Script 'Nope' not found");
    const typo = await post('/sdapi/v1/txt2img', { ...BASE, scripts: { xyz_plot: { x: { axis: 'Steps', values: [2] }, lone: true } } });
    assert.equal(typo.status, 422);
    assert.match(typo.body.detail, /scripts\.xyz_plot\.lone is not an argument/);
  });

  test("VAE axis (the job's sd_vae): Automatic and None both decode with the checkpoint's own VAE here", async () => {
    const { status, body } = await post('/sdapi/v1/txt2img', {
      ...BASE,
      seed: 4,
      scripts: { xyz_plot: { x: { axis: 'VAE', values: ['automatic', 'None'] }, include_lone_images: true } },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(maxDiff(body.images[1], body.images[2]), 0);
  });

  test('img2img: Denoising on X', async () => {
    const init = encodePng(new Uint8Array(64 * 64 * 3).fill(128), 64, 64).toString('base64');
    const { status, body } = await post('/sdapi/v1/img2img', {
      ...BASE,
      init_images: [init],
      scripts: { xyz_plot: { x: { axis: 'Denoising', values: [0.5, 0.75] } } },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 1);
    assert.match(JSON.parse(body.info).infotexts[0], /X Type: Denoising, X Values: "0.5,0.75"/);
  });
});

describe('Prompt matrix', { skip }, () => {
  test('two variable parts: the grid and four images with the combined prompts', async () => {
    const { status, body } = await post('/sdapi/v1/txt2img', { ...BASE, seed: 3, prompt: 'a cube|red|shiny', script_name: 'Prompt matrix', script_args: [] });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 5);
    const info = JSON.parse(body.info);
    assert.equal(info.index_of_first_image, 1);
    assert.deepEqual(info.all_prompts, ['a cube', 'a cube, red', 'a cube, shiny', 'a cube, red, shiny']);
    assert.deepEqual(info.all_seeds, [3, 3, 3, 3]);
    const direct = await post('/sdapi/v1/txt2img', { ...BASE, seed: 3, prompt: 'a cube, red, shiny' });
    assert.equal(maxDiff(body.images[4], direct.body.images[0]), 0);
    const grid = png(body.images[0]);
    assert.ok(grid.width > 128 && grid.height > 128, `grid ${grid.width}x${grid.height}`);
  });
});

describe('Prompts from file or textbox', { skip }, () => {
  test('three lines: three images with their own --steps and --seed', async () => {
    const lines = ['--prompt "a blue ball" --steps 2 --seed 11', '--prompt "a green ball" --steps 3 --seed 12', 'a yellow ball'];
    const { status, body } = await post('/sdapi/v1/txt2img', {
      ...BASE,
      prompt: '',
      seed: 13,
      script_name: 'Prompts from file or textbox',
      script_args: [false, false, 'start', lines.join('\n')],
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 3);
    const info = JSON.parse(body.info);
    assert.deepEqual(info.all_prompts, ['a blue ball', 'a green ball', 'a yellow ball']);
    assert.deepEqual(info.all_seeds, [11, 12, 13]);
    assert.match(info.infotexts[0], /Steps: 2,/);
    assert.match(info.infotexts[1], /Steps: 3,/);
    const direct = await post('/sdapi/v1/txt2img', { ...BASE, prompt: 'a green ball', steps: 3, seed: 12 });
    assert.equal(maxDiff(body.images[1], direct.body.images[0]), 0);
    const bad = await post('/sdapi/v1/txt2img', {
      ...BASE,
      script_name: 'Prompts from file or textbox',
      script_args: [false, false, 'start', 'ok\n--stepz 3'],
    });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /line 2 .*unknown commandline option: --stepz/);
  });
});

describe('SD upscale', { skip }, () => {
  test('["", 8, "Lanczos", 2.0] doubles a 64×64 image', async () => {
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7) % 256;
    const init = encodePng(rgb, 64, 64).toString('base64');
    const { status, body } = await post('/sdapi/v1/img2img', {
      ...BASE,
      init_images: [init],
      denoising_strength: 0.3,
      script_name: 'SD upscale',
      script_args: ['', 8, 'Lanczos', 2.0],
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 1);
    const out = png(body.images[0]);
    assert.deepEqual([out.width, out.height], [128, 128]);
    assert.match(JSON.parse(body.info).infotexts[0], /SD upscale overlap: 8, SD upscale upscaler: Lanczos/);
    const tooSmall = await post('/sdapi/v1/img2img', {
      ...BASE,
      width: 256,
      height: 256,
      init_images: [init],
      script_name: 'SD upscale',
      script_args: ['', 8, 'Lanczos', 2.0],
    });
    assert.equal(tooSmall.status, 422);
    assert.match(tooSmall.body.detail, /scale_factor\) makes a 128x128 image, smaller than one 256x256 tile/);
  });
});

describe("Loopback and Poor man's outpainting", { skip }, () => {
  const init = () => {
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 13) % 256;
    return encodePng(rgb, 64, 64).toString('base64');
  };

  test("loopback: 3 loops → a one-row grid and three images, each fed to the next with seed + 1 and the curve's strength", async () => {
    const { status, body } = await post('/sdapi/v1/img2img', {
      ...BASE,
      seed: 21,
      init_images: [init()],
      denoising_strength: 0.6,
      script_name: 'Loopback',
      script_args: [3, 0.2, 'Linear', 'None'],
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 4);
    const info = JSON.parse(body.info);
    assert.equal(info.index_of_first_image, 1);
    assert.deepEqual(info.all_seeds, [21, 22, 23]);
    assert.deepEqual([png(body.images[0]).width, png(body.images[0]).height], [192, 64]);
    assert.match(info.infotexts[1], /Denoising strength: 0.6,.*Final denoising strength: 0.2, Denoising curve: Linear/);
    assert.match(info.infotexts[2], /Denoising strength: 0.4,/);
    assert.match(info.infotexts[3], /Denoising strength: 0.2,/);
    // The second loop is an img2img of the first loop's output.
    const second = await post('/sdapi/v1/img2img', { ...BASE, seed: 22, init_images: [body.images[1]], denoising_strength: 0.4, inpainting_fill: 1 });
    const diff = maxDiff(body.images[2], second.body.images[0]);
    console.log(`loopback loop 2 vs img2img of loop 1: max |Δ| = ${diff}`);
    assert.equal(diff, 0);
    const bad = await post('/sdapi/v1/img2img', { ...BASE, init_images: [init()], script_name: 'Loopback', script_args: [2, 0.5, 'Linear', 'CLIP'] });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /append_interrogation/);
  });

  test("poor man's outpainting: 32 px left and right on a 64×64 image → a 128×64 image", async () => {
    const source = init();
    const { status, body } = await post('/sdapi/v1/img2img', {
      ...BASE,
      init_images: [source],
      denoising_strength: 0.8,
      scripts: { poor_mans_outpainting: { pixels: 32, mask_blur: 2, inpainting_fill: 'original', direction: ['left', 'right'] } },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 1);
    const out = png(body.images[0]);
    assert.deepEqual([out.width, out.height], [128, 64]);
    const bad = await post('/sdapi/v1/img2img', {
      ...BASE,
      init_images: [source],
      script_name: "Poor man's outpainting",
      script_args: [32, 4, 0, ['sideways']],
    });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /direction\) has "sideways"/);
  });
});

describe('Outpainting mk2', { skip }, () => {
  test('64 px to the left of a 64×64 image → 128×64, the original kept on the right; a bad direction is a 422', async () => {
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 5) % 256;
    const source = encodePng(rgb, 64, 64).toString('base64');
    const { status, body } = await post('/sdapi/v1/img2img', {
      ...BASE,
      init_images: [source],
      denoising_strength: 0.8,
      scripts: { outpainting_mk2: { pixels: 64, mask_blur: 4, direction: ['left'] } },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.images.length, 1);
    const out = png(body.images[0]);
    assert.deepEqual([out.width, out.height], [128, 64]);
    // Only the left 64×64 region was redrawn; the mask reaches mask_blur (4) px into the old image, so from x = 68 on
    // the init image is untouched.
    let diff = 0;
    for (let y = 0; y < 64; y++)
      for (let x = 4; x < 64; x++) for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs(out.rgb[(y * 128 + 64 + x) * 3 + c] - rgb[(y * 64 + x) * 3 + c]));
    assert.equal(diff, 0);
    const bad = await post('/sdapi/v1/img2img', { ...BASE, init_images: [source], script_name: 'Outpainting mk2', script_args: ['', 64, 4, ['north']] });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /direction\) has "north"/);
  });
});

describe('/scripts and /script-info', { skip }, () => {
  test('list exactly the scripts we have, with argument definitions', async () => {
    const scripts = await get('/sdapi/v1/scripts');
    assert.deepEqual(scripts, {
      txt2img: ['prompt matrix', 'prompts from file or textbox', 'x/y/z plot', 'controlnet'],
      img2img: [
        'loopback',
        'outpainting mk2',
        "poor man's outpainting",
        'prompt matrix',
        'prompts from file or textbox',
        'sd upscale',
        'x/y/z plot',
        'controlnet',
      ],
    });
    const info = (await get('/sdapi/v1/script-info')) as {
      name: string;
      is_img2img: boolean;
      args: { label: string; value: unknown; choices: string[] | null }[];
    }[];
    const xyz = info.find((s) => s.name === 'x/y/z plot' && !s.is_img2img);
    assert.equal(xyz?.args.length, 18);
    assert.equal(xyz?.args[0].choices?.[4], 'Steps');
    const upscale = info.find((s) => s.name === 'sd upscale');
    assert.deepEqual(upscale?.args[2].choices, ['None', 'Lanczos', 'Nearest']);
    assert.ok(info.some((s) => s.name === 'controlnet' && s.is_img2img));
  });
});
