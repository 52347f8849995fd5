// The tray's icons, drawn in code: one shape per overall state, so the state
// reads without colour (macOS template images are monochrome, and some people
// do not tell red from green), coloured where the platform shows colour. Also
// the app icon electron-builder packages. Plain Node (zlib for PNG), no
// Electron: the build script writes files from it, tray.ts makes NativeImages.
//
// ok: a full disc · warn: a ring with a dot · error: a disc with a bar cut out
// (a no-entry sign) · busy: three quarters of a ring (a spinner at rest).

import { crc32, deflateSync } from 'node:zlib';
import type { OverallState } from '../../shared/snapshot.ts';

export type Rgb = readonly [number, number, number];

export const STATE_COLOURS: Record<OverallState, Rgb> = {
  ok: [0x16, 0xa3, 0x4a],
  warn: [0xf5, 0x9e, 0x0b],
  error: [0xdc, 0x26, 0x26],
  busy: [0x25, 0x63, 0xeb],
};

/** macOS tints template images itself: black plus alpha is what it wants. */
const TEMPLATE_INK: Rgb = [0, 0, 0];

// ---------------------------------------------------------------------------
// Shapes as signed distances (negative inside), in a unit square centred at 0

type Shape = (x: number, y: number) => number;

const disc =
  (r: number): Shape =>
  (x, y) =>
    Math.hypot(x, y) - r;

const ring =
  (r: number, width: number): Shape =>
  (x, y) =>
    Math.abs(Math.hypot(x, y) - (r - width / 2)) - width / 2;

const box =
  (halfW: number, halfH: number): Shape =>
  (x, y) => {
    const dx = Math.abs(x) - halfW;
    const dy = Math.abs(y) - halfH;
    return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
  };

const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    Math.min(...shapes.map((s) => s(x, y)));

const minus =
  (a: Shape, b: Shape): Shape =>
  (x, y) =>
    Math.max(a(x, y), -b(x, y));

/** A ring with the quarter from 12 to 3 o'clock left out, its ends rounded. */
const arc = (r: number, width: number): Shape => {
  const mid = r - width / 2;
  const full = ring(r, width);
  const capAt = (angle: number): Shape => {
    const cx = mid * Math.cos(angle);
    const cy = mid * Math.sin(angle);
    return (x, y) => Math.hypot(x - cx, y - cy) - width / 2;
  };
  // y grows downwards in images: 12 o'clock is -π/2, 3 o'clock is 0.
  const inGap = (x: number, y: number) => x > 0 && y < 0;
  const body: Shape = (x, y) => (inGap(x, y) ? Math.max(full(x, y), Math.min(x, -y)) : full(x, y));
  return union(body, capAt(-Math.PI / 2), capAt(0));
};

const R = 0.42;
const W = 0.13;

export const STATE_SHAPES: Record<OverallState, Shape> = {
  ok: disc(R),
  warn: union(ring(R, W), disc(0.13)),
  error: minus(disc(R), box(0.25, 0.075)),
  busy: arc(R, W),
};

// ---------------------------------------------------------------------------
// Raster

export interface Rgba {
  width: number;
  height: number;
  /** width × height × 4 bytes, not premultiplied. */
  data: Uint8Array;
}

/** Draws `shape` filled with `colour` on a transparent square of `size` pixels, edges anti-aliased. */
export function draw(shape: Shape, size: number, colour: Rgb): Rgba {
  const data = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Pixel centre in unit coordinates; the distance in pixels decides coverage.
      const x = (px + 0.5) / size - 0.5;
      const y = (py + 0.5) / size - 0.5;
      const coverage = Math.min(1, Math.max(0, 0.5 - shape(x, y) * size));
      const i = (py * size + px) * 4;
      data[i] = colour[0];
      data[i + 1] = colour[1];
      data[i + 2] = colour[2];
      data[i + 3] = Math.round(coverage * 255);
    }
  }
  return { width: size, height: size, data };
}

/** Paints `top` over `bottom` (same size), in place on `bottom`. */
export function over(bottom: Rgba, top: Rgba): Rgba {
  const b = bottom.data;
  const t = top.data;
  for (let i = 0; i < b.length; i += 4) {
    const ta = t[i + 3]! / 255;
    const ba = b[i + 3]! / 255;
    const a = ta + ba * (1 - ta);
    for (let c = 0; c < 3; c++) b[i + c] = a === 0 ? 0 : Math.round((t[i + c]! * ta + b[i + c]! * ba * (1 - ta)) / a);
    b[i + 3] = Math.round(a * 255);
  }
  return bottom;
}

// ---------------------------------------------------------------------------
// PNG (8-bit RGBA, no interlace, filter 0 on every row)

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

export function encodePng(image: Rgba): Buffer {
  const { width, height, data } = image;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  // compression, filter, interlace: 0
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0;
    rows.set(data.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

// ---------------------------------------------------------------------------
// What each platform wants

export interface IconRepresentation {
  /** 1 for standard displays, 2 for HiDPI ("@2x"). */
  scaleFactor: number;
  /** Pixels per side. */
  size: number;
  png: Buffer;
}

export interface TrayIconSet {
  state: OverallState;
  /** macOS: a template image, tinted by the system for light and dark menu bars. */
  template: boolean;
  representations: IconRepresentation[];
}

/**
 * Tray icon sizes: macOS menu bar 16 pt (16 px and 32 px @2x, as a template);
 * Windows notification area 16 px at 100 % (24 at 150 %, 32 at 200 %); Linux
 * status notifier hosts draw 22–24 px (48 for HiDPI).
 */
export const TRAY_SIZES: Record<'darwin' | 'win32' | 'linux', { scaleFactor: number; size: number }[]> = {
  darwin: [
    { scaleFactor: 1, size: 16 },
    { scaleFactor: 2, size: 32 },
  ],
  win32: [
    { scaleFactor: 1, size: 16 },
    { scaleFactor: 1.5, size: 24 },
    { scaleFactor: 2, size: 32 },
  ],
  linux: [
    { scaleFactor: 1, size: 24 },
    { scaleFactor: 2, size: 48 },
  ],
};

const platformKey = (platform: NodeJS.Platform): keyof typeof TRAY_SIZES => (platform === 'darwin' || platform === 'win32' ? platform : 'linux');

export function trayIconSet(state: OverallState, platform: NodeJS.Platform): TrayIconSet {
  const key = platformKey(platform);
  const template = key === 'darwin';
  const colour = template ? TEMPLATE_INK : STATE_COLOURS[state];
  return {
    state,
    template,
    representations: TRAY_SIZES[key].map(({ scaleFactor, size }) => ({ scaleFactor, size, png: encodePng(draw(STATE_SHAPES[state], size, colour)) })),
  };
}

/** The small coloured dot before a status line in the tray menu (12 pt). */
export function statusDot(state: OverallState): IconRepresentation[] {
  return [
    { scaleFactor: 1, size: 12, png: encodePng(draw(disc(0.3), 12, STATE_COLOURS[state])) },
    { scaleFactor: 2, size: 24, png: encodePng(draw(disc(0.3), 24, STATE_COLOURS[state])) },
  ];
}

/** The application icon: the ok mark on a dark rounded square. */
export function appIcon(size: number): Buffer {
  const background = draw((x, y) => box(0.4, 0.4)(x, y) - 0.08, size, [0x1f, 0x29, 0x37]);
  const mark = draw(union(ring(0.3, 0.07), disc(0.13)), size, STATE_COLOURS.ok);
  return encodePng(over(background, mark));
}
