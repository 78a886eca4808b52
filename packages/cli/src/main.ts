/**
 * `sdapi` command line: dispatches to commands/<name>.ts. Each command is `(argv) => Promise<exit code>` and
 * uses only the packages' public APIs.
 */
import { generate } from './commands/generate.ts';
import { inspect } from './commands/inspect.ts';
import { serve } from './commands/serve.ts';
import { fail } from './output.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; summary: string }> = {
  serve: { run: serve, summary: 'run the A1111-compatible HTTP API (default command of `npm start`)' },
  generate: { run: generate, summary: 'make images in-process and write PNGs with their infotext' },
  inspect: { run: inspect, summary: 'print what a .safetensors checkpoint contains and how it was detected' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['usage: sdapi <command> [options]', '', 'commands:', ...lines, '', 'run `sdapi <command> --help` for its options'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) return fail(`unknown command '${name}'`, `valid commands: ${Object.keys(COMMANDS).join(', ')}`);
  try {
    return await command.run(rest);
  } catch (error) {
    return fail((error as Error).message);
  }
}
