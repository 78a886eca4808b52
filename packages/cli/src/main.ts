/**
 * `sdapi` command line: dispatches to commands/<name>.ts. Each command is `(argv) => Promise<exit code>` and
 * uses only the packages' public APIs. Errors end as one line on stderr plus a hint, with the exit codes of
 * output.ts (EXIT).
 */
import { EXIT, EXIT_CODES_HELP, fail, reportError } from './output.ts';

type Run = (argv: string[]) => Promise<number>;

// Commands load on use: remote-only work never loads onnxruntime and the graph code.
const COMMANDS: Record<string, { run: Run; summary: string }> = {
  serve: { run: async (a) => (await import('./commands/serve.ts')).serve(a), summary: 'run the A1111-compatible HTTP API (default command of `npm start`)' },
  worker: {
    run: async (a) => (await import('./commands/worker.ts')).worker(a),
    summary: 'run jobs from a --redis queue, with no HTTP (scale-out: many workers, many API nodes)',
  },
  generate: {
    run: async (a) => (await import('./commands/generate.ts')).generate(a),
    summary: 'make images in-process (or on a server with --remote) and write PNGs with their infotext',
  },
  upscale: { run: async (a) => (await import('./commands/upscale.ts')).upscale(a), summary: "upscale an image with a server's upscalers (A1111 extras)" },
  xyz: { run: async (a) => (await import('./commands/xyz.ts')).xyz(a), summary: 'an X/Y/Z plot (grid of settings) on a server (--remote)' },
  'png-info': { run: async (a) => (await import('./commands/png-info.ts')).pngInfo(a), summary: 'print the generation parameters stored in an image' },
  models: { run: async (a) => (await import('./commands/models.ts')).models(a), summary: 'list checkpoints (local folders, or a server with --remote)' },
  inspect: {
    run: async (a) => (await import('./commands/inspect.ts')).inspect(a),
    summary: 'print what a .safetensors checkpoint contains and how it was detected',
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    'usage: sdapi <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'run `sdapi <command> --help` for its options; --remote URL (or $SDAPI_REMOTE) sends work to a running server',
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? EXIT.OK : EXIT.USAGE;
  }
  const command = COMMANDS[name];
  if (!command) return fail(`unknown command '${name}'`, `valid commands: ${Object.keys(COMMANDS).join(', ')}`, EXIT.USAGE);
  try {
    return await command.run(rest);
  } catch (error) {
    return reportError(error);
  }
}
