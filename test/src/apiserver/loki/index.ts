// A minimal in-memory Grafana Loki for the Kubernetes API server test double; see fake-loki.ts.
export { FakeLoki, type FakeLokiOptions, type PatternIngesters } from './fake-loki.js';
export type { LokiRequest, LokiResponse } from './http.js';
