import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParamsError } from '../errors.ts';
import { loraMultipliers, parseExtraNetworks } from './extra-networks.ts';

const lora = (prompt: string) => {
  const tag = parseExtraNetworks(prompt).networks.get('lora')?.[0];
  assert.ok(tag, prompt);
  return loraMultipliers(tag);
};

test('loraMultipliers: TE defaults to 1, UNet to TE, named arguments override positional ones', () => {
  assert.deepEqual(lora('<lora:foo>'), { name: 'foo', te: 1, unet: 1, dyn: null });
  assert.deepEqual(lora('<lora:foo:0.8>'), { name: 'foo', te: 0.8, unet: 0.8, dyn: null });
  assert.deepEqual(lora('<lora:foo:0.5:0.25>'), { name: 'foo', te: 0.5, unet: 0.25, dyn: null });
  assert.deepEqual(lora('<lora:foo:0.5:0.25:16>'), { name: 'foo', te: 0.5, unet: 0.25, dyn: 16 });
  assert.deepEqual(lora('<lora:foo:1:unet=0.3:dyn=8>'), { name: 'foo', te: 1, unet: 0.3, dyn: 8 });
  assert.deepEqual(lora('<lora:foo:te=0.2>'), { name: 'foo', te: 0.2, unet: 0.2, dyn: null });
});

test('loraMultipliers: a non-number fails with InvalidParamsError naming the tag', () => {
  assert.throws(
    () => lora('<lora:foo:strong>'),
    (e: unknown) => e instanceof InvalidParamsError && e.param === 'prompt' && e.message.includes('<lora:foo:strong>') && e.message.includes("'strong'"),
  );
  assert.throws(() => lora('<lora:foo:1:1:1.5>'), /dyn dim '1.5' is not an integer/);
});

test('tag names are Python word characters (Unicode letters too); "__proto__" is an ordinary name', () => {
  assert.deepEqual([...parseExtraNetworks('<réseau:x>').networks.keys()], ['réseau']);
  const { networks } = parseExtraNetworks('<__proto__:x:1> <lora:y:__proto__=2>');
  assert.deepEqual(networks.get('__proto__')?.[0].items, ['x', '1']);
  assert.deepEqual(Object.entries(networks.get('lora')?.[0].named ?? {}), [['__proto__', '2']]);
});
