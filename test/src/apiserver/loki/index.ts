// A minimal in-memory Grafana Loki for the Kubernetes API server test double; see fake-loki.ts.
export { FakeLoki, type FakeLokiOptions } from './fake-loki.js';
export type { LokiRequest, LokiResponse } from './http.js';
