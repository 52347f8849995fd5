// What Vite provides to the bundle beyond the DOM.

declare module '*.css';

/** The package version, defined by vite.config.ts at build time. */
declare const __KINDTRAY_VERSION__: string;
