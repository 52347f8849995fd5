// How each Docker engine is started and restarted from a shell: the commands
// "Start Docker" runs when settings name none, the presets the Settings page
// offers, and the platform's real restart "Restart Docker" runs for an engine
// that is up but hung. One list, so the fixes and the page never disagree.

export const DOCKER_START_COMMANDS = {
  dockerDesktopMac: 'open -a Docker',
  // `start ""` returns at once; the bare .exe path would hold the shell (and the fix) until Docker Desktop quits.
  dockerDesktopWindows: 'start "" "C:\\Program Files\\Docker\\Docker\\Docker Desktop.exe"',
  dockerDesktopLinux: 'systemctl --user start docker-desktop',
  systemd: 'systemctl start docker',
  colima: 'colima start',
  rancherDesktop: 'rdctl start',
  podmanSocket: 'systemctl --user start podman.socket',
  podmanMachine: 'podman machine start',
} as const;

/** The command that starts the engine the user has, when settings name none. `endpointSource` says where the socket was found ("Colima", "Docker Desktop", ...). */
export function defaultDockerStartCommand(platform: string, endpointSource: string | undefined): string {
  const source = endpointSource ?? '';
  const c = DOCKER_START_COMMANDS;
  if (source.includes('Colima')) return c.colima;
  if (source.includes('Rancher')) return c.rancherDesktop;
  if (source.includes('Podman')) return platform === 'linux' ? c.podmanSocket : c.podmanMachine;
  if (platform === 'darwin') return c.dockerDesktopMac;
  if (platform === 'win32') return c.dockerDesktopWindows;
  if (source.includes('Docker Desktop')) return c.dockerDesktopLinux;
  return c.systemd;
}

/** Ready-made start commands for the Settings page; empty means the platform's default. */
export const DOCKER_START_PRESETS: readonly { label: string; command: string; note: string }[] = [
  { label: 'Platform default', command: '', note: 'Docker Desktop on macOS and Windows, systemd on Linux' },
  { label: 'Docker Desktop (macOS)', command: DOCKER_START_COMMANDS.dockerDesktopMac, note: '' },
  { label: 'Docker Desktop (Windows)', command: DOCKER_START_COMMANDS.dockerDesktopWindows, note: '' },
  { label: 'Docker Desktop (Linux)', command: DOCKER_START_COMMANDS.dockerDesktopLinux, note: '' },
  { label: 'systemd', command: DOCKER_START_COMMANDS.systemd, note: 'may ask for your password (polkit)' },
  { label: 'Colima', command: DOCKER_START_COMMANDS.colima, note: '' },
];

/**
 * Each engine's own restart: a hung engine is running, so its start command
 * would do nothing (and the fix would wait for nothing).
 */
export const DOCKER_RESTART_COMMANDS = {
  dockerDesktop: 'docker desktop restart',
  dockerDesktopLinux: 'systemctl --user restart docker-desktop',
  systemd: 'systemctl restart docker',
  colima: 'colima restart',
  rancherDesktop: 'rdctl shutdown && rdctl start',
  podmanSocket: 'systemctl --user restart podman.socket podman.service',
  podmanMachine: 'podman machine stop && podman machine start',
} as const;

/** The sockets a system docker.service listens on. */
const SYSTEM_SOCKETS: ReadonlySet<string> = new Set(['unix:///var/run/docker.sock', 'unix:///run/docker.sock']);

/** How Restart Docker restarts this engine: a command, or (where none applies) what the user can do, said plainly. */
export type DockerRestartPlan = { kind: 'command'; command: string; engine: string } | { kind: 'advice'; message: string };

/**
 * Picks the restart by where the socket was found (`endpointSource`, see
 * electron/monitor/docker-endpoint.ts). `systemdManagesDocker` says whether a
 * Linux system engine is a systemd unit: if not, Kindtray cannot restart it.
 */
export function dockerRestartPlan(platform: string, endpointSource: string | undefined, endpoint: string, systemdManagesDocker: boolean): DockerRestartPlan {
  const source = endpointSource ?? '';
  const c = DOCKER_RESTART_COMMANDS;
  if (source.includes('Colima')) return { kind: 'command', command: c.colima, engine: 'Colima' };
  if (source.includes('Rancher')) return { kind: 'command', command: c.rancherDesktop, engine: 'Rancher Desktop' };
  if (source.includes('Podman')) {
    return platform === 'linux' ? { kind: 'command', command: c.podmanSocket, engine: 'Podman' } : { kind: 'command', command: c.podmanMachine, engine: 'the Podman machine' };
  }
  if (platform === 'darwin' || platform === 'win32') return { kind: 'command', command: c.dockerDesktop, engine: 'Docker Desktop' };
  if (source.includes('Docker Desktop')) return { kind: 'command', command: c.dockerDesktopLinux, engine: 'Docker Desktop' };
  if (source.includes('rootless')) {
    return { kind: 'command', command: 'systemctl --user restart docker', engine: 'rootless Docker' };
  }
  // docker.service serves the system socket: restarting it for another socket (DOCKER_HOST elsewhere) would restart the wrong engine.
  if (systemdManagesDocker && SYSTEM_SOCKETS.has(endpoint)) return { kind: 'command', command: c.systemd, engine: 'the docker service' };
  return {
    kind: 'advice',
    message:
      `Kindtray cannot restart the engine at ${endpoint}: systemd does not manage it${SYSTEM_SOCKETS.has(endpoint) ? '' : ' (its docker.service serves /var/run/docker.sock)'}, and no other engine (Docker Desktop, Colima, Rancher Desktop, Podman) owns that socket. ` +
      'Restart dockerd the way it was started (stop the process, start it again), then Kindtray picks it up by itself.',
  };
}
