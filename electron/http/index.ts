// The HTTP room's door: what every Kindtray HTTP server uses, the supervisor's
// public port and the API worker's loopback one alike.
export { HttpError, MAX_BODY_BYTES, NO_STORE_HEADERS, readBody, readJson, sendError, sendJson, sendNoRoute } from './respond.ts';
export { Router, type Handler } from './router.ts';
export { sameSecret } from './secret.ts';
