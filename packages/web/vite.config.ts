import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Relative asset URLs so the page works under the server's --subpath.
export default defineConfig({ base: './', plugins: [preact()], build: { outDir: 'dist', emptyOutDir: true } });
