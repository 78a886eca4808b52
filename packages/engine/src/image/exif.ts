/**
 * The one EXIF tag A1111 uses: `UserComment` carrying the infotext of JPEG/WEBP images (spec §1.10, §3.4).
 * Writing follows the layout piexif's `dump({"Exif": {UserComment: …}})` produces (big-endian TIFF, IFD0 with
 * only the Exif IFD pointer, `UNICODE\0` + UTF-16BE text, as `piexif.helper.UserComment.dump(…, "unicode")`);
 * reading goes through exif-reader. Container surgery (JPEG APP1, WEBP `EXIF` chunk) is done here because
 * sharp only writes string-valued EXIF tags, which cannot hold a UTF-16 UserComment.
 * References: EXIF 2.32 §4.6.5 (UserComment character codes), WebP container spec (VP8X, EXIF chunk).
 */
import exifReader from 'exif-reader';

const TAG_EXIF_IFD = 0x8769;
const TAG_USER_COMMENT = 0x9286;
const TYPE_LONG = 4;
const TYPE_UNDEFINED = 7;
const UNICODE_PREFIX = Buffer.from('UNICODE\0', 'latin1');
const ASCII_PREFIX = Buffer.from('ASCII\0\0\0', 'latin1');
const JIS_PREFIX = Buffer.from('JIS\0\0\0\0\0', 'latin1');

/** UTF-16BE bytes of a JS string (code units as they are, like Python's 'utf_16_be' for valid text). */
function utf16be(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

/** TIFF bytes (no `Exif\0\0` header) holding one Exif IFD with one UserComment entry. */
export function userCommentExif(text: string): Buffer {
  const comment = Buffer.concat([UNICODE_PREFIX, utf16be(text)]);
  const ifd0 = 8; // right after the 8-byte TIFF header
  const exifIfd = ifd0 + 2 + 12 + 4; // count, one entry, next-IFD offset
  const data = exifIfd + 2 + 12 + 4;
  const out = Buffer.alloc(data + comment.length);
  out.write('MM', 0, 'latin1');
  out.writeUInt16BE(42, 2);
  out.writeUInt32BE(ifd0, 4);
  writeIfd(out, ifd0, TAG_EXIF_IFD, TYPE_LONG, 1, exifIfd);
  writeIfd(out, exifIfd, TAG_USER_COMMENT, TYPE_UNDEFINED, comment.length, data);
  comment.copy(out, data);
  return out;
}

/** A one-entry IFD; `value` is the offset of the data (or the LONG itself). Next-IFD offset 0. */
function writeIfd(out: Buffer, at: number, tag: number, type: number, count: number, value: number): void {
  out.writeUInt16BE(1, at);
  out.writeUInt16BE(tag, at + 2);
  out.writeUInt16BE(type, at + 4);
  out.writeUInt32BE(count, at + 6);
  out.writeUInt32BE(value, at + 10);
  out.writeUInt32BE(0, at + 14);
}

/**
 * The text of an EXIF block's UserComment (raw TIFF bytes, with or without the `Exif\0\0` header), or '' when
 * there is none. Decoding as piexif's `UserComment.load`, with A1111's fallback to lenient UTF-8 of the whole
 * value when the character code is undefined or unknown.
 */
export function readUserComment(exif: Uint8Array): string {
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength));
  } catch {
    return '';
  }
  const raw = parsed.Photo?.UserComment as unknown;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return '';
  const prefix = raw.subarray(0, 8);
  const body = raw.subarray(8);
  if (prefix.equals(UNICODE_PREFIX)) return decodeUtf16(body);
  if (prefix.equals(ASCII_PREFIX)) return body.toString('latin1');
  if (prefix.equals(JIS_PREFIX)) return new TextDecoder('shift_jis').decode(body);
  return new TextDecoder('utf-8').decode(raw).replaceAll('\ufffd', '');
}

/** UTF-16BE as piexif writes it; a little-endian byte-order mark (some writers use the TIFF's order) is honoured. */
function decodeUtf16(body: Buffer): string {
  if (body.length >= 2 && body[0] === 0xff && body[1] === 0xfe) return new TextDecoder('utf-16le').decode(body.subarray(2));
  const swapped = Buffer.from(body.subarray(0, body.length - (body.length % 2)));
  swapped.swap16();
  return new TextDecoder('utf-16le').decode(swapped);
}

/** Inserts an APP1 `Exif` segment into a JPEG, after SOI and a leading APP0 (JFIF must stay first). */
export function insertJpegExif(jpeg: Buffer, tiff: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('insertJpegExif: not a JPEG (no SOI marker)');
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  if (payload.length + 2 > 0xffff) throw new Error(`the infotext is too long for a JPEG EXIF segment (${payload.length} bytes, at most 65533)`);
  const segment = Buffer.alloc(4 + payload.length);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(payload.length + 2, 2);
  payload.copy(segment, 4);
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + jpeg.readUInt16BE(4);
  return Buffer.concat([jpeg.subarray(0, at), segment, jpeg.subarray(at)]);
}

/** Adds an `EXIF` chunk to a WEBP file, turning a simple-format file into the extended (VP8X) format. */
export function insertWebpExif(webp: Buffer, tiff: Buffer, width: number, height: number): Buffer {
  if (webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') throw new Error('insertWebpExif: not a WEBP file');
  let body = webp.subarray(12);
  let header: Buffer;
  if (body.toString('latin1', 0, 4) === 'VP8X') {
    header = Buffer.from(body.subarray(0, 18));
    body = body.subarray(18);
  } else {
    header = Buffer.alloc(18);
    header.write('VP8X', 0, 'latin1');
    header.writeUInt32LE(10, 4);
    header.writeUIntLE(width - 1, 12, 3);
    header.writeUIntLE(height - 1, 15, 3);
  }
  header[8] |= 0x08; // EXIF metadata present
  const exif = chunk('EXIF', tiff);
  const riffSize = 4 + header.length + body.length + exif.length;
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(riffSize, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, header, body, exif]);
}

function chunk(fourcc: string, data: Buffer): Buffer {
  const out = Buffer.alloc(8 + data.length + (data.length % 2));
  out.write(fourcc, 0, 'latin1');
  out.writeUInt32LE(data.length, 4);
  data.copy(out, 8);
  return out;
}
