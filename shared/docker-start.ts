// How each Docker engine is started from a shell: the commands "Start Docker"
// runs when settings name none, and the presets the Settings page offers. One
// list, so the fix and the page never disagree on a command.

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
