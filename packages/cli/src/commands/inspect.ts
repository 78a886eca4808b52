/** `sdapi inspect FILE`: what a checkpoint holds and what architecture it was detected as. */
import { parseArgs } from 'node:util';
import { describeCheckpoint } from '@sdapi/engine';

export async function inspect(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help || positionals.length !== 1) {
    console.log('usage: sdapi inspect FILE.safetensors');
    return values.help ? 0 : 2;
  }
  console.log(describeCheckpoint(positionals[0]));
  return 0;
}
