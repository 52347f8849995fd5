// The last hour as GET /api/history answers it (the supervisor records it, the
// dashboard's History page draws it): every state change, and the server's latency.

export interface StateChange {
  at: string;
  /** `docker`, `cluster:NAME`, `context:NAME`, `server`. */
  subject: string;
  state: string;
  cause?: string;
}

export interface LatencySample {
  at: string;
  ms: number;
}

export interface HistoryResponse {
  changes: StateChange[];
  latency: LatencySample[];
}
