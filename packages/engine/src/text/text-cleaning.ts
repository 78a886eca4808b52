/**
 * The text cleaning that CLIP's tokenizer applies before BPE (openai/CLIP `clip/simple_tokenizer.py`
 * `basic_clean` + `whitespace_clean`, MIT): `ftfy.fix_text`, Python `html.unescape` twice, strip, collapse
 * whitespace. ftfy is approximated by the fixes that change real prompts (see `fixText`); its mojibake repair
 * (`fix_encoding`) is not reproduced, and `htmlUnescape` knows the common named entities rather than all 2231.
 */
import { PY_SPACE_CHARS, pyStrip } from './py-compat.ts';

/** Named entities that HTML5 also accepts without ';' (Python `html.entities.html5`): U+00A0..U+00FF in order. */
const LATIN1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute ' +
  'micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig ' +
  'Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash ' +
  'Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ' +
  'ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc ' +
  'uuml yacute thorn yuml';
const LEGACY_OTHERS = 'amp:26 AMP:26 lt:3c LT:3c gt:3e GT:3e quot:22 QUOT:22 COPY:a9 REG:ae';
/** Common entities that need the ';' (name:hex code point), from Python's `html.entities.html5`. */
const SEMICOLON_ONLY =
  'apos:27 hellip:2026 mdash:2014 ndash:2013 lsquo:2018 rsquo:2019 sbquo:201a ldquo:201c rdquo:201d bdquo:201e ' +
  'lsaquo:2039 rsaquo:203a bull:2022 prime:2032 Prime:2033 euro:20ac trade:2122 dagger:2020 Dagger:2021 ' +
  'permil:2030 hearts:2665 spades:2660 clubs:2663 diams:2666 larr:2190 rarr:2192 uarr:2191 darr:2193 harr:2194 ' +
  'lArr:21d0 rArr:21d2 hArr:21d4 infin:221e minus:2212 ne:2260 le:2264 ge:2265 asymp:2248 equiv:2261 sum:2211 ' +
  'prod:220f radic:221a ensp:2002 emsp:2003 thinsp:2009 zwnj:200c zwj:200d lrm:200e rlm:200f OElig:152 oelig:153 ' +
  'Scaron:160 scaron:161 Yuml:178 fnof:192 circ:2c6 tilde:2dc star:2606 starf:2605 check:2713 cross:2717 ' +
  'sharp:266f flat:266d natural:266e loz:25ca oline:203e frasl:2044 image:2111 weierp:2118 real:211c alefsym:2135 ' +
  'crarr:21b5 forall:2200 part:2202 exist:2203 empty:2205 nabla:2207 isin:2208 notin:2209 ni:220b lowast:2217 ' +
  'prop:221d ang:2220 and:2227 or:2228 cap:2229 cup:222a int:222b there4:2234 sim:223c cong:2245 sub:2282 ' +
  'sup:2283 nsub:2284 sube:2286 supe:2287 oplus:2295 otimes:2297 perp:22a5 sdot:22c5 lceil:2308 rceil:2309 ' +
  'lfloor:230a rfloor:230b lang:27e8 rang:27e9 Alpha:391 Beta:392 Gamma:393 Delta:394 Epsilon:395 Zeta:396 ' +
  'Eta:397 Theta:398 Iota:399 Kappa:39a Lambda:39b Mu:39c Nu:39d Xi:39e Omicron:39f Pi:3a0 Rho:3a1 Sigma:3a3 ' +
  'Tau:3a4 Upsilon:3a5 Phi:3a6 Chi:3a7 Psi:3a8 Omega:3a9 alpha:3b1 beta:3b2 gamma:3b3 delta:3b4 epsilon:3b5 ' +
  'zeta:3b6 eta:3b7 theta:3b8 iota:3b9 kappa:3ba lambda:3bb mu:3bc nu:3bd xi:3be omicron:3bf pi:3c0 rho:3c1 ' +
  'sigmaf:3c2 sigma:3c3 tau:3c4 upsilon:3c5 phi:3c6 chi:3c7 psi:3c8 omega:3c9 thetasym:3d1 upsih:3d2 piv:3d6 ' +
  'NewLine:a Tab:9 excl:21 quest:3f num:23 dollar:24 percnt:25 lpar:28 rpar:29 lsqb:5b rsqb:5d lcub:7b rcub:7d ' +
  'ast:2a plus:2b equals:3d sol:2f bsol:5c verbar:7c vert:7c lowbar:5f grave:60 Hat:5e semi:3b colon:3a comma:2c ' +
  'period:2e commat:40 hyphen:2010';

/** Keys as in Python's table: 'amp;' and, for the legacy names, 'amp' too. */
const ENTITIES: ReadonlyMap<string, string> = (() => {
  const table = new Map<string, string>();
  const legacy = (name: string, char: string) => table.set(name, char).set(`${name};`, char);
  const latin1 = LATIN1_NAMES.split(' ');
  for (let i = 0; i < latin1.length; i++) legacy(latin1[i], String.fromCodePoint(0xa0 + i));
  for (const entry of LEGACY_OTHERS.split(' ')) {
    const [name, hex] = entry.split(':');
    legacy(name, String.fromCodePoint(Number.parseInt(hex, 16)));
  }
  for (const entry of SEMICOLON_ONLY.split(' ')) {
    const [name, hex] = entry.split(':');
    table.set(`${name};`, String.fromCodePoint(Number.parseInt(hex, 16)));
  }
  return table;
})();

/** HTML5's numeric-reference fix-ups for C1 code points (Windows-1252), as Python's `html._invalid_charrefs`. */
const CP1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

/** Code points that a numeric reference turns into nothing (Python `html._invalid_codepoints`). */
function isInvalidCodePoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) ||
    cp === 0xb ||
    (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe
  );
}

function numericReference(digits: string, radix: number): string {
  const cp = Number.parseInt(digits, radix);
  if (cp === 0) return '\ufffd';
  if (cp === 0x0d) return '\r';
  if (cp >= 0x80 && cp <= 0x9f) return CP1252_C1[cp - 0x80];
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  return isInvalidCodePoint(cp) ? '' : String.fromCodePoint(cp);
}

function namedReference(name: string): string {
  const whole = ENTITIES.get(name);
  if (whole !== undefined) return whole;
  // HTML5 rule (Python html.unescape): the longest known prefix wins, as in '&ampx' → '&x'
  for (let end = name.length - 1; end > 1; end--) {
    const prefix = ENTITIES.get(name.slice(0, end));
    if (prefix !== undefined) return prefix + name.slice(end);
  }
  return `&${name}`;
}

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python `html.unescape` (HTML5 character references; named ones limited to the table above). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, (_match, ref: string) => {
    if (ref[0] !== '#') return namedReference(ref);
    const hex = ref[1] === 'x' || ref[1] === 'X';
    return numericReference(ref.slice(hex ? 2 : 1).replace(/;$/, ''), hex ? 16 : 10);
  });
}

const LIGATURES: Readonly<Record<string, string>> = {
  Ĳ: 'IJ',
  ĳ: 'ij',
  ŉ: 'ʼn',
  Ǳ: 'DZ',
  ǲ: 'Dz',
  ǳ: 'dz',
  Ǆ: 'DŽ',
  ǅ: 'Dž',
  ǆ: 'dž',
  Ǉ: 'LJ',
  ǈ: 'Lj',
  ǉ: 'lj',
  Ǌ: 'NJ',
  ǋ: 'Nj',
  ǌ: 'nj',
  ﬀ: 'ff',
  ﬁ: 'fi',
  ﬂ: 'fl',
  ﬃ: 'ffi',
  ﬄ: 'ffl',
  ﬅ: 'ſt',
  ﬆ: 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what ftfy's remove_terminal_escapes looks for
const TERMINAL_ESCAPE_RE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly ftfy's remove_control_chars set
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\u0085]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The ftfy 6 `fix_text` steps that matter for prompts, in ftfy's order: HTML entities (only when the text has
 * no '<', ftfy's "auto"), terminal escapes, Latin ligatures, full-width characters, curly quotes, line breaks,
 * control characters, NFC. Lone UTF-16 surrogates (which Python could not even encode) become U+FFFD.
 */
export function fixText(text: string): string {
  if (!text.includes('<')) text = text.replace(FTFY_ENTITY_RE, (entity) => htmlUnescape(entity));
  text = text.replace(TERMINAL_ESCAPE_RE, '');
  text = text.replace(LIGATURE_RE, (c) => LIGATURES[c]);
  // ftfy fix_character_width: NFKC of U+3000 and the half/full-width forms block only
  text = text.replace(/[\u3000\uff01-\uffef]/g, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
  text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  text = text.replace(LINE_BREAK_RE, '\n');
  text = text.replace(CONTROL_RE, '').replace(LONE_SURROGATE_RE, '\ufffd');
  return text.normalize('NFC');
}

const WHITESPACE_RUN_RE = new RegExp(`[${PY_SPACE_CHARS}]+`, 'g');

/** simple_tokenizer `basic_clean`: ftfy, `html.unescape` twice, strip. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
}

/** simple_tokenizer `whitespace_clean`: every whitespace run becomes one space, then strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WHITESPACE_RUN_RE, ' '));
}
