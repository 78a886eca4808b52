/**
 * Module base, like torch.nn.Module: children are discovered by walking own properties, so a module's path
 * (`model.diffusion_model.input_blocks.1.0.in_layers.2`) is the checkpoint key prefix with no name table.
 */
import type { Graph, Value } from '../onnx/graph.ts';

export abstract class Module {
  /** Dotted path from the root, set by `bindNames`; '' for the root. */
  path = '';

  /** Own properties that are modules (arrays of modules count, indexed like nn.ModuleList). */
  children(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v instanceof Module) out.push([`${key}.${i}`, v]);
        });
      }
    }
    return out;
  }

  /** Assigns every descendant its dotted path under `prefix` (call once on the root). */
  bindNames(prefix: string): this {
    this.path = prefix;
    for (const [key, child] of this.children()) child.bindNames(prefix ? `${prefix}.${key}` : key);
    return this;
  }

  /** Declares this module's parameter `name` (e.g. 'weight') in `graph`. */
  protected param(graph: Graph, name: string, dims: readonly number[]): Value {
    return graph.param(this.path ? `${this.path}.${name}` : name, dims);
  }
}
