// One Nomad API double per test file and a client of it with the double's ACL token; the spec the Nomad tests
// deploy (S3 storage, credentials from the job's Nomad Variable); the CLI as a process of its own.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NomadClient, type LokiStackInput } from 'loki-microservices';
import { closeHclParser } from '../../src/hcl.js';
import { startNomadApiServer, type NomadApiServer, type NomadApiServerOptions } from '../../src/nomad-api/index.js';

export const S3 = {
  type: 's3',
  s3: { bucket: 'loki-chunks', endpoint: 'http://minio.service.consul:9000', forcePathStyle: true },
} as const;

/** A stack named `name` on S3 with its credentials in the Nomad Variable `nomad/jobs/<name>`, `extra` merged in. */
export const specOf = (name: string, extra: LokiStackInput['spec'] = {}): LokiStackInput => ({
  metadata: { name },
  spec: { storage: S3, nomad: { credentials: { source: 'nomadVariable', path: `nomad/jobs/${name}` } }, ...extra },
});

export const ref = (name: string) => ({ name, namespace: 'default' });

export interface NomadFixture {
  server: NomadApiServer;
  client: NomadClient;
  /** Stops the double and the HCL parser the tests' checks started. */
  close(): Promise<void>;
}

export async function startNomadFixture(options: NomadApiServerOptions): Promise<NomadFixture> {
  const server = await startNomadApiServer(options);
  const client = new NomadClient({ address: server.url, token: options.aclToken }, {});
  return {
    server,
    client,
    close: async () => {
      await server.close();
      await closeHclParser();
    },
  };
}

const BIN = fileURLToPath(new URL('../../../shared/bin/loki-microservices.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI through its built bin, with only PATH and `env` in its environment (NOMAD_ADDR, NOMAD_TOKEN…). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}
