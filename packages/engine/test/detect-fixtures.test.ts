/**
 * Oracle tests for checkpoint detection and layout against the tiny SD1.5 / SD2-v / SDXL fixtures (made by the
 * genuine ldm/sgm code): the detected config must equal each fixture's model-config.json, the layout implied by
 * that config must equal the file's key/shape table exactly, and LoRA / ControlNet files must be refused with a
 * message that says what they are.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { CLIPTextConfig, ModelConfig } from '../src/checkpoint/config.ts';
import { detectModel } from '../src/checkpoint/detect.ts';
import { describeCheckpoint } from '../src/checkpoint/inspect.ts';
import { checkpointLayout } from '../src/checkpoint/layout.ts';
import { numel } from '../src/checkpoint/tensor-index.ts';
import { UnsupportedModelError } from '../src/errors.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';

// model-config.json is untyped oracle output
type Json = any;

function hfText(t: Json): CLIPTextConfig {
  return {
    key_prefix: t.key_prefix,
    layout: 'hf',
    vocab_size: t.vocab_size,
    hidden_size: t.hidden_size,
    intermediate_size: t.intermediate_size,
    num_hidden_layers: t.num_hidden_layers,
    num_attention_heads: t.num_attention_heads,
    max_position_embeddings: t.max_position_embeddings,
    hidden_act: t.hidden_act,
    layer_norm_eps: t.layer_norm_eps,
    // HF CLIPTextModel has no projection; the JSON's projection_dim is CLIPTextConfig's unused default.
    projection_dim: null,
  };
}

function openClipText(t: Json): CLIPTextConfig {
  return {
    key_prefix: t.key_prefix,
    layout: 'open_clip',
    vocab_size: t.vocab_size,
    hidden_size: t.width,
    intermediate_size: 4 * t.width, // open_clip mlp_ratio 4 (not listed in the JSON)
    num_hidden_layers: t.layers,
    num_attention_heads: t.heads,
    max_position_embeddings: t.context_length,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
    projection_dim: t.embed_dim,
  };
}

/** model-config.json (ldm/sgm YAML argument names) → our ModelConfig, field by field. */
function expectedConfig(mc: Json): ModelConfig {
  const u = mc.unet;
  const depths: number[] = Array.isArray(u.transformer_depth) ? u.transformer_depth : u.channel_mult.map(() => u.transformer_depth);
  const dd = mc.vae.ddconfig;
  const text =
    mc.model_type === 'sd1'
      ? [hfText(mc.text_encoder)]
      : mc.model_type === 'sd2'
        ? [openClipText(mc.text_encoder)]
        : [hfText(mc.text_encoder_0_clip_l), openClipText(mc.text_encoder_1_openclip_bigg)];
  return {
    family: mc.model_type,
    prediction_type: mc.prediction_type,
    unet: {
      in_channels: u.in_channels,
      out_channels: u.out_channels,
      model_channels: u.model_channels,
      attention_resolutions: u.attention_resolutions,
      num_res_blocks: u.num_res_blocks,
      channel_mult: u.channel_mult,
      num_heads: u.num_heads ?? -1,
      num_head_channels: u.num_head_channels ?? -1,
      // A depth at a level without attention builds nothing and cannot be read back: it is reported as 0.
      transformer_depth: depths.map((d, level) => (u.attention_resolutions.includes(2 ** level) ? d : 0)),
      transformer_depth_middle: depths[depths.length - 1],
      context_dim: u.context_dim,
      use_linear_in_transformer: u.use_linear_in_transformer ?? false,
      adm_in_channels: u.adm_in_channels ?? null,
    },
    vae: {
      ch: dd.ch,
      ch_mult: dd.ch_mult,
      num_res_blocks: dd.num_res_blocks,
      z_channels: dd.z_channels,
      embed_dim: mc.vae.embed_dim,
      in_channels: dd.in_channels,
      out_ch: dd.out_ch,
      scale_factor: mc.scale_factor,
    },
    text_encoders: text,
    schedule: { linear_start: mc.schedule.linear_start, linear_end: mc.schedule.linear_end, num_train_timesteps: mc.schedule.num_train_timesteps },
  };
}

const FIXTURES = ['tiny-sd15', 'tiny-sd2v', 'tiny-sdxl'];

for (const name of FIXTURES) {
  for (const file of ['model.safetensors', 'model.fp16.safetensors']) {
    test(`${name}/${file}: detected config equals model-config.json`, { skip: needFixture(name, file) }, () => {
      const expected = expectedConfig(JSON.parse(readFileSync(fixturePath(name, 'model-config.json'), 'utf8')));
      const st = openFixture(name, file);
      assert.deepEqual(detectModel(st), expected);
      st.close();
    });
  }

  test(`${name}: the layout of the detected config is exactly the file's key/shape table`, { skip: needFixture(name, 'model.safetensors') }, () => {
    const st = openFixture(name, 'model.safetensors');
    const layout = new Map(checkpointLayout(detectModel(st)).map((s) => [s.name, s.shape]));
    const file = new Map(st.keys().map((k) => [k, st.info(k).shape]));
    assert.deepEqual(
      [...layout.keys()].filter((k) => !file.has(k)),
      [],
      'layout keys the file lacks',
    );
    assert.deepEqual(
      [...file.keys()].filter((k) => !layout.has(k)),
      [],
      'file keys the layout lacks',
    );
    for (const [k, shape] of file) assert.deepEqual(layout.get(k), shape, k);
    st.close();
  });

  test(`${name}: schedule buffers match the genuine ldm/sgm values`, { skip: needFixture(name, 'model.safetensors') }, () => {
    const st = openFixture(name, 'model.safetensors');
    const buffers = checkpointLayout(detectModel(st)).filter((s) => s.values);
    assert.ok(buffers.length >= 1);
    let max = 0;
    for (const spec of buffers) {
      const stored = st.readFloat32(spec.name);
      const values = spec.values as Float64Array;
      for (let i = 0; i < stored.length; i++) max = Math.max(max, Math.abs(stored[i] - values[i]) / Math.max(Math.abs(values[i]), 1e-30)); // posterior_variance[0] is 0
    }
    console.log(`# ${name}: ${buffers.length} schedule buffers, max relative diff ${max.toExponential(3)}`);
    assert.ok(max < 2e-7, `max relative diff ${max}`);
    st.close();
  });
}

test('tiny-sd15: layout parameter counts per prefix equal model-config.json param_counts', { skip: needFixture('tiny-sd15', 'model.safetensors') }, () => {
  const mc = JSON.parse(readFileSync(fixturePath('tiny-sd15', 'model-config.json'), 'utf8'));
  const counts: Record<string, number> = {};
  for (const spec of checkpointLayout(expectedConfig(mc))) {
    if (spec.init === 'buffer') continue; // top-level schedule buffers; the JSON counts position_ids under CLIP
    const prefix = spec.name.startsWith('model.diffusion_model.') ? 'model.diffusion_model' : spec.name.slice(0, spec.name.indexOf('.'));
    counts[prefix] = (counts[prefix] ?? 0) + numel(spec.shape);
  }
  assert.deepEqual(counts, mc.param_counts);
});

test('a LoRA file is refused as a LoRA, with where it belongs', { skip: needFixture('lora', 'lora_kohya.safetensors') }, () => {
  for (const file of ['lora_kohya.safetensors', 'locon_kohya.safetensors', 'loha.safetensors', 'lokr.safetensors', 'lora_diffusers.safetensors']) {
    const st = openFixture('lora', file);
    assert.throws(
      () => detectModel(st),
      (e: unknown) => {
        assert.ok(e instanceof UnsupportedModelError, String(e));
        assert.equal(e.code, 'UNSUPPORTED_MODEL');
        assert.match(e.message, /no 'model\.diffusion_model\.\*' keys — this looks like a LoRA/);
        assert.match(e.message, /models\/Lora.*<lora:NAME:1>/);
        assert.ok(e.message.includes(st.path), 'message names the file');
        return true;
      },
      file,
    );
    st.close();
  }
});

test('a ControlNet file is refused as a ControlNet', { skip: needFixture('controlnet', 'tiny-controlnet.safetensors') }, () => {
  const st = openFixture('controlnet', 'tiny-controlnet.safetensors');
  assert.throws(
    () => detectModel(st),
    (e: unknown) =>
      e instanceof UnsupportedModelError && /this looks like a ControlNet .*'control_model\./.test(e.message) && /alwayson_scripts\.controlnet/.test(e.message),
  );
  st.close();
});

test('describeCheckpoint summarises a fixture', { skip: needFixture('tiny-sd2v', 'model.fp16.safetensors') }, () => {
  const text = describeCheckpoint(fixturePath('tiny-sd2v', 'model.fp16.safetensors'));
  assert.match(text, /^family {4}sd2, prediction v \(SD2 default/m);
  assert.match(text, /^unet {6}model_channels 64, channel_mult \[1, 2\].*32-channel heads.*proj_in linear/m);
  assert.match(text, /^text\[0\] {3}OpenCLIP at cond_stage_model\.model\.: 3 layers × 32 \(2 heads\)/m);
  assert.match(text, /^dtypes {4}F16 × 442$/m); // OpenCLIP has no position_ids buffer
  assert.match(text, /^tensors {3}442: 442 in the detected layout, 0 unknown \(ignored\), 0 of the layout absent$/m);
  assert.match(text, /^metadata {2}format=pt\n {10}oracle=tiny-sd2-v/m);
});
