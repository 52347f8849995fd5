// Who is who among local processes: whether a pid is alive, frozen, or a
// Kindtray; and which program listens on a port. A foreign process is only
// ever named, never signalled.

import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { isAlive } from '../process/index.ts';

export { isAlive };

/** Linux process state letter from /proc (R, S, D, T = stopped, Z = zombie), when known. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` runs Kindtray: its command line names the kindtray CLI, the
 * supervisor entry, or the packaged app. Where /proc is absent we cannot tell,
 * and answer `undefined` so callers stay on the safe side.
 */
export function isKindtrayProcess(pid: number): boolean | undefined {
  const cmd = commandLine(pid);
  if (cmd === undefined) return process.platform === 'linux' ? false : undefined;
  return /kindtray|electron\/cli\/bin\.js|electron\/supervisor\//i.test(cmd);
}

export interface PortHolder {
  pid?: number;
  command?: string;
  /** A person's description: `nginx (pid 812)`, or `an unknown program` where we cannot see. */
  description: string;
}

function linuxListenInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; inode is the tenth field.
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

function linuxPortHolder(port: number): PortHolder | undefined {
  const inodes = linuxListenInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return { description: 'an unknown program' };
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1] && inodes.has(m[1])) {
        const n = Number(pid);
        const command = commandLine(n) ?? '';
        let comm = '';
        try {
          comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {
          // Gone meanwhile; the command line is enough.
        }
        return { pid: n, command, description: `${comm || command.split(' ')[0] || 'a program'} (pid ${n})` };
      }
    }
  }
  return { description: 'a program this user cannot see (another user or a container)' };
}

function lsofPortHolder(port: number, deadlineMs: number): Promise<PortHolder | undefined> {
  return new Promise((resolve) => {
    execFile('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { timeout: deadlineMs }, (err, stdout) => {
      if (err && !stdout) return resolve(undefined);
      const pid = /^p(\d+)$/m.exec(stdout)?.[1];
      const comm = /^c(.+)$/m.exec(stdout)?.[1];
      resolve(pid ? { pid: Number(pid), command: comm ?? '', description: `${comm ?? 'a program'} (pid ${pid})` } : undefined);
    });
  });
}

/** Which program listens on `port`, looked up within `deadlineMs`. */
export async function findPortHolder(port: number, deadlineMs = 1_000): Promise<PortHolder | undefined> {
  if (process.platform === 'linux') return linuxPortHolder(port);
  return lsofPortHolder(port, deadlineMs);
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves when it is gone. */
export async function stopProcess(pid: number, graceMs = 2_000): Promise<void> {
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!isAlive(pid) || processState(pid) === 'Z') return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return !isAlive(pid);
  };
  try {
    process.kill(pid, 'SIGTERM');
    // A frozen (SIGSTOPped) process cannot act on SIGTERM until continued.
    process.kill(pid, 'SIGCONT');
  } catch {
    return;
  }
  if (await gone(graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(2_000);
}
