/**
 * Full-size graphs without their bytes: for the published SD2 768-v, SDXL base and SDXL refiner configs, the
 * parameters the text-encoder, UNet and VAE graphs declare are exactly the checkpoint's trainable tensors (names and
 * shapes from checkpoint/layout.ts, which reproduces the fixtures key for key), so a real file binds with nothing
 * missing and nothing left over except buffers (position_ids, logit_scale, schedule buffers).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelConfig } from '../src/checkpoint/config.ts';
import { checkpointLayout } from '../src/checkpoint/layout.ts';
import { buildTextEncoderGraph } from '../src/models/clip-text.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../src/models/vae.ts';
import { SD2_768_V_CONFIG, SDXL_BASE_CONFIG, SDXL_REFINER_CONFIG } from './helpers/checkpoint-tables.ts';

const NOT_PARAMETERS = new Set(['position_ids', 'logit_scale', 'buffer']);

function declared(config: ModelConfig): Map<string, string> {
  const graphs = [buildUNetGraph(config.unet), buildVAEDecoderGraph(config.vae), buildVAEEncoderGraph(config.vae), ...config.text_encoders.map((c) => buildTextEncoderGraph(c))];
  const params = new Map<string, string>();
  for (const g of graphs) for (const p of g.params.values()) params.set(p.name, p.dims.join('x'));
  return params;
}

for (const [name, config] of [['SD2 768-v', SD2_768_V_CONFIG], ['SDXL base', SDXL_BASE_CONFIG], ['SDXL refiner', SDXL_REFINER_CONFIG]] as const) {
  test(`${name}: the graphs declare exactly the checkpoint's parameters`, () => {
    const layout = new Map(checkpointLayout(config).filter((s) => !NOT_PARAMETERS.has(s.init)).map((s) => [s.name, s.shape.join('x')]));
    const params = declared(config);
    const missing = [...layout.keys()].filter((k) => !params.has(k));
    const extra = [...params.keys()].filter((k) => !layout.has(k));
    const reshaped = [...params].filter(([k, dims]) => layout.has(k) && layout.get(k) !== dims);
    console.log(`# ${name}: ${params.size} parameters declared, ${layout.size} in the checkpoint`);
    assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), reshaped: reshaped.slice(0, 5) }, { missing: [], extra: [], reshaped: [] });
  });
}
