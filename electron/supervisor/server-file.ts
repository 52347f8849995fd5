// server.json: how clients find the running supervisor, and how a new one
// recognises a stale Kindtray holding the port. Holds the token, so 0600,
// written atomically (a reader never sees half a file).

import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

export const ServerFileSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  token: z.string().min(16),
  startedAt: z.string(),
  version: z.string(),
});
export type ServerFile = z.infer<typeof ServerFileSchema>;

export function writeServerFile(file: string, info: ServerFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // The umask could have widened nothing, but an existing tmp could have other bits.
  renameSync(tmp, file);
}

export function readServerFile(file: string): ServerFile | undefined {
  try {
    return ServerFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Removes server.json only if it is still ours: a newer supervisor may have replaced it. */
export function removeServerFile(file: string, pid = process.pid): void {
  const info = readServerFile(file);
  if (info && info.pid !== pid) return;
  rmSync(file, { force: true });
}
