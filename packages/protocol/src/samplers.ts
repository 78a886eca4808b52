/** GET /sdapi/v1/samplers and /schedulers items (spec §3.11). Sampler option values are strings (`"True"`). */
import Type, { type Static } from 'typebox';

const nullableOf = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Optional(Type.Union([t, Type.Null()], { default: null }));

export const SamplerItem = Type.Object(
  { name: Type.String(), aliases: Type.Array(Type.String()), options: Type.Record(Type.String(), Type.String()) },
  { $id: 'SamplerItem', title: 'SamplerItem' },
);
export type SamplerItem = Static<typeof SamplerItem>;

export const SchedulerItem = Type.Object(
  {
    name: Type.String(),
    label: Type.String(),
    aliases: nullableOf(Type.Array(Type.String())),
    default_rho: nullableOf(Type.Number()),
    need_inner_model: nullableOf(Type.Boolean()),
  },
  { $id: 'SchedulerItem', title: 'SchedulerItem' },
);
export type SchedulerItem = Static<typeof SchedulerItem>;

export const SamplerList = Type.Array(SamplerItem);
export type SamplerList = Static<typeof SamplerList>;
export const SchedulerList = Type.Array(SchedulerItem);
export type SchedulerList = Static<typeof SchedulerList>;
