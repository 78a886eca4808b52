// Worker threads (and the engine process, forked with its own flags) do not inherit the parent's tsx loader (`node --import tsx`): register it here, then load the
// TypeScript entry. Plain JavaScript on purpose, so that it runs before any loader is in place.
import { register } from 'tsx/esm/api';

register();
await import('./generator-worker.ts');
