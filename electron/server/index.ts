// The API worker room's door. The worker runs as its own process
// (worker-main.ts); other rooms use only these helpers.
export { sendJson, sendError, readBody, HttpError, Router, MAX_BODY_BYTES, type Handler } from './http.ts';
