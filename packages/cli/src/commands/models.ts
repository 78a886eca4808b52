/** `sdapi models`: the checkpoints a server lists (--remote) or that `sdapi serve` would find here. */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SDModelItem } from '@sdapi/client';
import { CheckpointCatalog } from '@sdapi/engine';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from '../output.ts';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient, remoteURL } from '../remote.ts';

const HELP = `usage: sdapi models [--remote URL] [--data-dir DIR] [--ckpt-dir DIR] [--json]

  lists checkpoint titles (the loaded one marked with *, remote only); --json prints the /sdapi/v1/sd-models items
  --data-dir DIR           where models/Stable-diffusion lives (default: the current directory)
  --ckpt-dir DIR           another folder of checkpoints

${REMOTE_HELP}

${EXIT_CODES_HELP}`;

const OPTIONS = {
  'data-dir': { type: 'string', default: '.' },
  'ckpt-dir': { type: 'string' },
  json: { type: 'boolean' },
  ...REMOTE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

export async function models(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`, EXIT.USAGE, 'sdapi models [--remote URL]');
  const url = remoteURL(values);
  let list: SDModelItem[];
  let current: string | null = null;
  if (url) {
    const client = remoteClient(url, values);
    [list, current] = await Promise.all([client.sdModels.list(), client.currentModel()]);
  } else {
    const catalog = CheckpointCatalog.scan({
      modelsDir: join(resolve(values['data-dir']), 'models'),
      ckptDir: values['ckpt-dir'] ? resolve(values['ckpt-dir']) : null,
    });
    list = catalog
      .list()
      .map((e) => ({ title: e.title, model_name: e.model_name, hash: e.shorthash, sha256: e.sha256, filename: e.filename, config: e.config }));
  }
  if (values.json) printJson(list);
  else if (list.length === 0) console.error('no checkpoints found (put .safetensors files in models/Stable-diffusion)');
  else for (const m of list) console.log(`${m.title === current ? '*' : ' '} ${m.title}`);
  return EXIT.OK;
}
