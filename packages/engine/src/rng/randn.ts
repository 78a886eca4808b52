/**
 * torch-CPU-compatible `randn` in float32: the exact values of `torch.randn(shape, generator=g)` on the CPU, for
 * both builds of the kernel. Port of pytorch aten/src/ATen/native/cpu/DistributionTemplates.h (`normal_kernel`,
 * `normal_fill`, `normal_fill_16[_AVX2]`) and aten/src/ATen/core/DistributionsHelper.h (`normal_distribution`,
 * `uniform_real_distribution`) at v1.13.0 (BSD-3-Clause).
 *
 * - `'avx2'`: the vectorised kernel of the official x86-64 wheels (the usual A1111 CPU-noise case), float32 Cephes
 *   polynomials from avx_mathfun.h with FMA contraction.
 * - `'default'`: the scalar kernel (ATEN_CPU_CAPABILITY=default); float32 glibc logf/cosf/sinf. Non-x86 hosts such as
 *   Apple silicon run this kernel against their own libm, so their last bits may differ from ours.
 */
import { InvalidParamsError } from '../errors.ts';
import { numel, type Shape, Tensor } from '../tensor.ts';
import { log256Ps, sincos256Ps, sincosOut } from './avx-mathfun.ts';
import { cosf, logf, sinf } from './libm-f32.ts';
import { MT19937 } from './mt19937.ts';

export type CpuKernel = 'avx2' | 'default';
export const CPU_KERNELS: readonly CpuKernel[] = ['avx2', 'default'];

const f = Math.fround;
const TWO_PI_F32 = f(2 * Math.PI); // _mm256_set1_ps(2.0f * c10::pi<double>)
const MASK53 = (1n << 53n) - 1n;

/** Throws unless `seed` is a safe integer (torch accepts any int64/uint64 and keeps the low 32 bits). */
export function checkSeed(seed: number, param = 'seed'): void {
  if (!Number.isSafeInteger(seed)) {
    throw new InvalidParamsError(param, `${param} must be a safe integer, got ${seed}`);
  }
}

/** Throws unless `shape` is a list of non-negative integers. */
export function checkShape(shape: Shape): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InvalidParamsError('shape', `shape must hold non-negative integers, got [${shape.join(', ')}]`);
  }
}

/**
 * A CPU `torch.Generator`: successive `randn` calls continue one Mersenne Twister stream exactly as torch does,
 * including the cached second Box–Muller value of the small-tensor path.
 *
 * @example
 * const g = new TorchGenerator(1234);          // torch.Generator().manual_seed(1234)
 * const x0 = g.randn([4, 64, 64]);             // torch.randn((4, 64, 64), generator=g)
 * const x1 = g.randn([4, 64, 64]);             // the next draw from the same stream
 */
export class TorchGenerator {
  readonly kernel: CpuKernel;
  private engine!: MT19937;
  private nextDoubleNormal: number | null = null;

  constructor(seed: number, { kernel = 'avx2' }: { kernel?: CpuKernel } = {}) {
    if (!CPU_KERNELS.includes(kernel)) {
      throw new InvalidParamsError('kernel', `kernel must be one of ${CPU_KERNELS.join(', ')}, got ${String(kernel)}`);
    }
    this.kernel = kernel;
    this.manualSeed(seed);
  }

  /** `manual_seed`: restarts the stream and drops the cached normal, as `CPUGeneratorImpl::set_current_seed` does. */
  manualSeed(seed: number): this {
    checkSeed(seed);
    this.engine = new MT19937(seed);
    this.nextDoubleNormal = null;
    return this;
  }

  /** One raw uint32 word of the underlying stream. */
  random(): number {
    return this.engine.random();
  }

  /** Standard normal float32 samples of `shape` (`torch.randn(shape, generator=this)`). */
  randn(shape: Shape): Tensor {
    checkShape(shape);
    const out = new Float32Array(numel(shape));
    if (out.length >= 16) this.normalFill(out);
    else for (let i = 0; i < out.length; i++) out[i] = f(this.normalDouble());
    return new Tensor(shape, out);
  }

  /** `normal_fill`: all uniforms first, Box–Muller per block of 16, a freshly drawn overlapping tail block. */
  private normalFill(data: Float32Array): void {
    const fill16 = this.kernel === 'avx2' ? normalFill16Avx2 : normalFill16Default;
    const n = data.length;
    for (let i = 0; i < n; i++) data[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= n; i += 16) fill16(data, i);
    if (n % 16 !== 0) {
      for (let i = n - 16; i < n; i++) data[i] = this.uniformFloat();
      fill16(data, n - 16);
    }
  }

  /** `uniform_real_distribution<float>(0, 1)`: 24 random bits of one word. */
  private uniformFloat(): number {
    return (this.engine.random() & 0xffffff) * 2 ** -24;
  }

  /** `uniform_real_distribution<double>(0, 1)`: 53 bits of a 64-bit draw. */
  private uniformDouble(): number {
    return Number(this.engine.random64() & MASK53) * 2 ** -53;
  }

  /** `normal_distribution<double>` (numel < 16): Box–Muller in double, caching the sine value for the next call. */
  private normalDouble(): number {
    if (this.nextDoubleNormal !== null) {
      const cached = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    // torch 1.13 writes log(1 - u2); torch ≥ 2.1 writes log1p(-u2) (the same floats after the cast in practice).
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** `normal_fill_16_AVX2` with mean 0, std 1 (the final fmadd(n, 1, 0) is the identity). */
function normalFill16Avx2(data: Float32Array, off: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[off + j]); // [0, 1) → (0, 1] for the log
    const radius = f(Math.sqrt(f(-2 * log256Ps(u1))));
    sincos256Ps(f(TWO_PI_F32 * data[off + j + 8]));
    data[off + j] = f(radius * sincosOut.cos);
    data[off + j + 8] = f(radius * sincosOut.sin);
  }
}

/** Scalar `normal_fill_16`: float32 radius and θ (`const scalar_t theta`), so the float libm overloads run. */
function normalFill16Default(data: Float32Array, off: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[off + j]);
    const radius = f(Math.sqrt(f(-2 * logf(u1))));
    const theta = f(2 * Math.PI * data[off + j + 8]); // 2.0f * pi<double> * u2 in double, stored as float
    data[off + j] = f(radius * cosf(theta));
    data[off + j + 8] = f(radius * sinf(theta));
  }
}

/**
 * `torch.manual_seed(seed); torch.randn(shape)` on the CPU: a fresh generator's first draw.
 *
 * @example
 * const noise = randn(1234, [4, 64, 64]);      // A1111 "CPU" initial latent for seed 1234
 */
export function randn(seed: number, shape: Shape, opts: { kernel?: CpuKernel } = {}): Tensor {
  return new TorchGenerator(seed, opts).randn(shape);
}
