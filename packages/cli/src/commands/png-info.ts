/**
 * `sdapi png-info IMAGE`: the A1111 infotext an image carries and its parsed parameters, read locally (PNG text
 * chunks) or by the server's POST /sdapi/v1/png-info with --remote (which also reads JPEG/WEBP EXIF).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseGenerationParameters, readTextChunks } from '@sdapi/engine';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from '../output.ts';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient, remoteURL } from '../remote.ts';

const HELP = `usage: sdapi png-info IMAGE [--json] [--remote URL]

  prints the image's infotext (the "parameters" text A1111 writes); --json prints {info, items, parameters}

${REMOTE_HELP}

${EXIT_CODES_HELP}`;

const OPTIONS = { json: { type: 'boolean' }, ...REMOTE_OPTIONS, help: { type: 'boolean', short: 'h' } } as const;

interface PngInfo {
  info: string;
  items: Record<string, unknown>;
  parameters: Record<string, unknown>;
}

function localPngInfo(bytes: Buffer): PngInfo {
  let chunks: Record<string, string>;
  try {
    chunks = readTextChunks(bytes);
  } catch (error) {
    throw new CliError(`${(error as Error).message}`, EXIT.INPUT, 'local reading supports PNG; pass --remote URL for JPEG/WEBP');
  }
  const { parameters: info = '', ...items } = chunks;
  return { info, items, parameters: parseGenerationParameters(info) };
}

export async function pngInfo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw new CliError('give exactly one image', EXIT.USAGE, 'sdapi png-info out.png');
  const bytes = readFileSync(positionals[0]);
  const url = remoteURL(values);
  const result: PngInfo = url
    ? await remoteClient(url, values).pngInfoFrom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    : localPngInfo(bytes);
  if (values.json) printJson(result);
  else console.log(result.info === '' ? '(no infotext)' : result.info);
  return EXIT.OK;
}
