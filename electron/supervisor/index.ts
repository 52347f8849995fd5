// The supervisor room's door.
export { Supervisor, AlreadyRunningError, VERSION, type SupervisorOptions, type StartedSupervisor } from './supervisor.ts';
export { kindtrayPaths, kindtrayHome, type KindtrayPaths } from './home.ts';
export { readServerFile, removeServerFile, type ServerFile } from './server-file.ts';
export { isAlive, isKindtrayProcess, processState, stopProcess, findPortHolder } from './processes.ts';
export { answersHealth } from './port.ts';
export { loadSettings, saveSettings, defaultSettings, type Settings } from './settings.ts';
