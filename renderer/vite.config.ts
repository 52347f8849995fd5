// Builds the dashboard into renderer/dist, which the supervisor serves at `/`
// (and the Electron window loads). `base: './'` keeps asset URLs relative, so
// the same files work from `/` and from a file:// URL; routing is by hash, so
// the page itself is always index.html. Under `vite` (dev) and `vite preview`,
// renderer/dev/mock-server.ts answers the server's routes from fixtures.

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { mockServer } from './dev/mock-server.ts';

export default defineConfig(({ command }) => ({
  root: import.meta.dirname,
  base: './',
  // `command` is 'serve' for both `vite` and `vite preview`: the mock never reaches a build.
  plugins: [react(), ...(command === 'serve' ? [mockServer({ proxyTo: process.env.KINDTRAY_API, token: process.env.KINDTRAY_TOKEN })] : [])],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The CSP allows no inline script; keep every asset a file (no data: URLs for scripts).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2023',
  },
  server: { port: 5173, strictPort: false, fs: { allow: ['..'] } },
  preview: { port: 4173 },
}));
