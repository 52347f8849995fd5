// Whether a process is alive: signal 0 asks the kernel without sending
// anything. A process we may not signal (EPERM) exists all the same.

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
