// Minimal typings for the part of pngjs@7 that image/png.ts uses (the package ships no types).
declare module 'pngjs' {
  export interface PNGSyncOptions {
    colorType?: 0 | 2 | 4 | 6;
    inputColorType?: 0 | 2 | 4 | 6;
    inputHasAlpha?: boolean;
    bitDepth?: 8 | 16;
    deflateLevel?: number;
  }
  export interface PNGData {
    width: number;
    height: number;
    data: Buffer;
  }
  export const PNG: {
    sync: {
      read(buffer: Buffer, options?: { skipRescale?: boolean }): PNGData & { alpha: boolean; color: boolean };
      write(png: PNGData, options?: PNGSyncOptions): Buffer;
    };
  };
}
