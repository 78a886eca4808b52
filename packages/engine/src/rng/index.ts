/** Seeded noise compatible with A1111: torch CPU `randn` (both kernels), the NV philox source, `ImageRNG`, `slerp`. */
export { MT19937, seedToUint32 } from './mt19937.ts';
export { CPU_KERNELS, type CpuKernel, randn, TorchGenerator } from './randn.ts';
export { boxMullerSin, PhiloxGenerator, philox4x32 } from './philox.ts';
export { slerp } from './slerp.ts';
export {
  createGenerator,
  ImageRNG,
  type ImageRNGOptions,
  type NoiseGenerator,
  pasteCentred,
  RNG_SOURCES,
  type RngSource,
  seededRandn,
} from './image-rng.ts';
