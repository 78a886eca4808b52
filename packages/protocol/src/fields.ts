/**
 * Field builders for A1111's pydantic-v1 request models: every field is optional with a default, and (unless
 * A1111 says otherwise) nullable. `x-python-default: 'int'` marks a float field whose default is an int (0, not
 * 0.0) so that serialisers can echo it the way Python does.
 */
import Type, { type TNull, type TOptional, type TSchema, type TUnion } from 'typebox';

/** An optional, nullable field with a default: pydantic's `Optional[T] = default`. */
export function nullable<T extends TSchema>(schema: T, defaultValue: unknown, extra: Record<string, unknown> = {}): TOptional<TUnion<[T, TNull]>> {
  return Type.Optional(Type.Union([schema, Type.Null()], { default: defaultValue, ...extra }));
}

/** An optional, non-nullable field with a default: pydantic's `T = default`. */
export function withDefault<T extends TSchema>(schema: T, defaultValue: unknown) {
  return Type.Optional({ ...schema, default: defaultValue } as T);
}

/** Marks a float field whose Python default is an int (`subseed_strength: float = 0`). */
export const PYTHON_INT_DEFAULT = { 'x-python-default': 'int' } as const;
