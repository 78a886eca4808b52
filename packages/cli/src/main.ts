export async function main(argv: string[]): Promise<number> { console.error('sdapi: not yet'); return 1; }
