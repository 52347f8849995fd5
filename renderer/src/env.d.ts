// What Vite provides to the bundle beyond the DOM.

declare module '*.css';
