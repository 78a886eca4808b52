// Public API of @sdapi/engine.
export { decodePng, encodePng, readTextChunks, type DecodedPng } from './image/png.ts';
export {
  createInfotext,
  formatPyFloat,
  formatPyNumber,
  PyFloat,
  pyFloat,
  pyJsonDumps,
  pyRepr,
  pyReprString,
  pyStr,
  quote,
  unquote,
  RE_PARAM,
  type CreateInfotextOptions,
  type ExtraParam,
  type InfotextContext,
  type InfotextOptions,
  type InfotextParams,
  type InfotextValue,
  type PyJsonDumpsOptions,
} from './pipeline/infotext.ts';
