/**
 * Tiling (circular padding in every UNet/VAE convolution) on the tiny SD1.5 checkpoint. With circular padding
 * the networks commute with circular shifts of their input (convolutions wrap, attention and GroupNorm do not
 * care about position), which zero padding breaks at the borders: the UNet shifted by its total downsampling
 * (2 latent pixels here) and the VAE decoder (1 latent pixel = 8 image pixels) must give the shifted output.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildVAEEncoderGraph } from '../src/models/vae.ts';
import { withCircularConvPadding } from '../src/onnx/circular-padding.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { Tensor } from '../src/tensor.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';

const skip = needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;

before(() => {
  if (!skip) sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
});

/** torch.roll(x, shifts=(dy, dx), dims=(2, 3)) on NCHW. */
function roll(x: Tensor, dy: number, dx: number): Tensor {
  const [n, c, h, w] = x.shape;
  const out = new Tensor(x.shape);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) out.data[p * h * w + ((y + dy) % h) * w + ((xx + dx) % w)] = x.data[p * h * w + y * w + xx];
    }
  }
  return out;
}

const maxDiff = (a: Tensor, b: Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
const maxAbs = (a: Tensor) => a.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test('only symmetric conv padding becomes circular (the VAE Downsample keeps its explicit zero pad)', () => {
  const vae = { ch: 32, ch_mult: [1, 2], num_res_blocks: 1, z_channels: 4, embed_dim: 4, in_channels: 3, out_ch: 3, scale_factor: 0.18215 };
  const plain = buildVAEEncoderGraph(vae);
  const convs = plain.nodes.filter((n) => n.opType === 'Conv');
  const symmetric = convs.filter((n) => (n.attributes.pads as number[]).every((p) => p === 1)).length;
  const tiled = withCircularConvPadding(buildVAEEncoderGraph(vae));
  const tiledConvs = tiled.nodes.filter((n) => n.opType === 'Conv');
  assert.equal(tiledConvs.length, convs.length);
  assert.equal(tiledConvs.filter((n) => (n.attributes.pads as number[]).join() === '0,0,1,1').length, 1); // the Downsample
  assert.equal(tiled.nodes.filter((n) => n.opType === 'Concat').length, 2 * symmetric);
});

test('tiling: UNet and VAE decoder commute with circular shifts; without it they do not', { skip }, async () => {
  const model = sd.model;
  const ref = openFixture('tiny-sd15', 'reference.safetensors');
  const x = new Tensor([1, 4, 8, 8], ref.readFloat32('unet.x'));
  const context = new Tensor([1, 77, 32], ref.readFloat32('text.last_hidden_state').subarray(0, 77 * 32));
  const check = async (tiling: boolean) => {
    model.tiling = tiling;
    const out = await model.unet(x, [500], context);
    const shifted = await model.unet(roll(x, 2, 4), [500], context);
    const z = new Tensor([1, 4, 8, 8], ref.readFloat32('vae.decode.latent'));
    const image = await model.decode(z);
    const imageShifted = await model.decode(roll(z, 1, 3));
    return { unet: maxDiff(shifted, roll(out, 2, 4)) / maxAbs(out), vae: maxDiff(imageShifted, roll(image, 8, 24)) / maxAbs(image) };
  };
  const circular = await check(true);
  const zeros = await check(false);
  model.tiling = false;
  console.log(
    `# shift equivariance, relative max error: circular UNet ${circular.unet.toExponential(2)}, VAE ${circular.vae.toExponential(2)}; zero padding UNet ${zeros.unet.toExponential(2)}, VAE ${zeros.vae.toExponential(2)}`,
  );
  assert.ok(circular.unet < 1e-4 && circular.vae < 1e-4, 'circular padding must make both networks shift-equivariant');
  assert.ok(zeros.unet > 1e-2 && zeros.vae > 1e-2, 'zero padding is not shift-equivariant (the check has teeth)');
});

test('txt2img with tiling writes Tiling: True and differs from the untiled image', { skip }, async () => {
  const params = defaultTxt2ImgParams({ prompt: 'a cat', seed: 9, steps: 3, width: 64, height: 64 });
  const tiled = await sd.txt2img({ ...params, tiling: true });
  const plain = await sd.txt2img(params);
  assert.match(tiled.images[0].infotext, /, Tiling: True, Version/);
  assert.doesNotMatch(plain.images[0].infotext, /Tiling/);
  assert.notDeepEqual(tiled.images[0].rgb, plain.images[0].rgb);
});
