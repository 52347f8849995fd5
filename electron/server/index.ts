// The API worker room's door. The worker runs as its own process
// (worker-main.ts), spawned by the supervisor and never imported by it; its
// HTTP helpers are the HTTP room's (electron/http/).
export {};
