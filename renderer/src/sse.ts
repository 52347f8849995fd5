// Server-sent events read from a fetch body rather than with EventSource, for
// two reasons: EventSource cannot send the bearer token the Electron window
// uses, and it reconnects on its own schedule, hiding from the page that the
// connection is down. This part is pure: text in, events out.

import type { ServerEvent } from '../../shared/api.ts';
import { FIX_STEP_STATES, type FixStep } from '../../shared/fixes.ts';

export interface SseMessage {
  event: string;
  data: string;
}

/** Splits a growing text into complete messages; keeps the unfinished tail for the next chunk. */
export class SseParser {
  private buffer = '';

  push(chunk: string): SseMessage[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: SseMessage[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue; // comments are keep-alives
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) out.push({ event, data: data.join('\n') });
    }
    return out;
  }
}

/** A message's data as an object and its type (the object's own, else the SSE event name); undefined when it is not one. */
export function eventObject(m: SseMessage): { type: string; e: Record<string, unknown> } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(m.data);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  return { type: typeof e.type === 'string' ? e.type : m.event, e };
}

/** A message as a ServerEvent, or undefined for anything the dashboard does not know. */
export function toServerEvent(m: SseMessage): ServerEvent | undefined {
  const o = eventObject(m);
  if (!o) return undefined;
  const { type } = o;
  const e = o.e as Partial<ServerEvent> & Record<string, unknown>;
  if (type === 'snapshot' && typeof e.snapshot === 'object' && e.snapshot !== null) return { type, snapshot: e.snapshot } as ServerEvent;
  if (type === 'task' && typeof e.task === 'object' && e.task !== null) return { type, task: e.task } as ServerEvent;
  if (type === 'fix' && typeof e.fixId === 'string' && (e.state === 'running' || e.state === 'done' || e.state === 'failed')) {
    const step = asFixStep(e.step);
    return { type, fixId: e.fixId, state: e.state, ...(typeof e.message === 'string' ? { message: e.message } : {}), ...(step ? { step } : {}) };
  }
  return undefined;
}

/** A fix step from the wire, or undefined when it is not one. */
function asFixStep(v: unknown): FixStep | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (typeof s.id !== 'string' || typeof s.label !== 'string' || typeof s.at !== 'number') return undefined;
  const state = FIX_STEP_STATES.find((x) => x === s.state);
  if (!state) return undefined;
  return { id: s.id, label: s.label, state, at: s.at, ...(typeof s.message === 'string' ? { message: s.message } : {}) };
}

/** Wait before reconnect attempt `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s, 8 s, then 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
}
