import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { OVERALL_STATES } from '../../shared/snapshot.ts';
import { STATE_COLOURS, TRAY_SIZES, appIcon, encodePng, statusDot, trayIconSet, type Rgba } from './icons.ts';

/** Reads back what encodePng writes (8-bit RGBA, filter 0), checking every chunk's CRC on the way. */
function decodePng(png: Buffer): Rgba {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    types.push(type);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect([body[8], body[9], body[12]]).toEqual([8, 6, 0]);
    }
    if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
  }
  expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
  const rows = inflateSync(Buffer.concat(idat));
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(rows[y * (width * 4 + 1)]).toBe(0);
    data.set(rows.subarray(y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1)), y * width * 4);
  }
  return { width, height, data };
}

const alphaAt = (img: Rgba, x: number, y: number) => img.data[(y * img.width + x) * 4 + 3]!;
const rgbAt = (img: Rgba, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)];

describe('tray icons', () => {
  it('are valid PNGs at the sizes each platform wants', () => {
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const set = trayIconSet('ok', platform);
      expect(set.representations.map((r) => [r.scaleFactor, r.size])).toEqual(TRAY_SIZES[platform].map((s) => [s.scaleFactor, s.size]));
      for (const r of set.representations) {
        const img = decodePng(r.png);
        expect([img.width, img.height]).toEqual([r.size, r.size]);
      }
    }
    expect(trayIconSet('ok', 'freebsd').representations.map((r) => r.size)).toEqual([24, 48]);
  });

  it('macOS gets black template images; the others get the state colour', () => {
    const mac = trayIconSet('error', 'darwin');
    expect(mac.template).toBe(true);
    const m = decodePng(mac.representations[1]!.png);
    expect(rgbAt(m, 16, 8)).toEqual([0, 0, 0]);
    const linux = trayIconSet('error', 'linux');
    expect(linux.template).toBe(false);
    const l = decodePng(linux.representations[1]!.png);
    expect(rgbAt(l, 24, 10)).toEqual([...STATE_COLOURS.error]);
  });

  it('each state has its own shape, so it reads without colour', () => {
    const shapes = OVERALL_STATES.map((s) => Buffer.from(decodePng(trayIconSet(s, 'darwin').representations[1]!.png).data).toString('base64'));
    expect(new Set(shapes).size).toBe(OVERALL_STATES.length);
    const at = (s: (typeof OVERALL_STATES)[number], x: number, y: number) => alphaAt(decodePng(trayIconSet(s, 'darwin').representations[1]!.png), x, y);
    // 32 px: the centre is filled for ok and warn (its dot), cut out for error (the bar); busy leaves 12 to 3 o'clock open.
    expect(at('ok', 16, 16)).toBe(255);
    expect(at('warn', 16, 16)).toBe(255);
    expect(at('warn', 16, 10)).toBe(0);
    expect(at('error', 16, 16)).toBe(0);
    expect(at('error', 16, 6)).toBe(255);
    expect(at('busy', 16, 16)).toBe(0);
    expect(at('busy', 25, 7)).toBe(0);
    expect(at('busy', 4, 16)).toBe(255);
    // Corners stay transparent.
    for (const s of OVERALL_STATES) expect(at(s, 0, 0)).toBe(0);
  });

  it('status dots and the app icon are PNGs too', () => {
    expect(statusDot('warn').map((r) => decodePng(r.png).width)).toEqual([12, 24]);
    const icon = decodePng(appIcon(256));
    expect([icon.width, icon.height]).toEqual([256, 256]);
    expect(alphaAt(icon, 128, 128)).toBe(255);
    expect(rgbAt(icon, 128, 128)).toEqual([...STATE_COLOURS.ok]);
  });

  it('encodePng round-trips pixels', () => {
    const data = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 1, 2, 3, 4]);
    expect(decodePng(encodePng({ width: 2, height: 2, data })).data).toEqual(data);
  });
});
