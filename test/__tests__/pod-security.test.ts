import type { V1PodSpec } from '@kubernetes/client-node';
import { restrictedViolations } from '../src/pod-security.js';
import { render, workloads } from '../src/objects.js';
import { specMatrix } from '../src/specs.js';

describe.each(specMatrix())('$name', ({ input }) => {
  test('every pod template meets Pod Security Standards "restricted" with a read-only root filesystem', () => {
    const pods = workloads(render(input).objects);
    expect(pods.length).toBeGreaterThanOrEqual(7);
    for (const { object, template } of pods) {
      expect({ workload: object.metadata!.name, violations: restrictedViolations(template.spec!) }).toEqual({
        workload: object.metadata!.name,
        violations: [],
      });
    }
  });

  test('every pod runs without the Kubernetes API token and with a non-root uid', () => {
    for (const { template } of workloads(render(input).objects)) {
      expect(template.spec!.automountServiceAccountToken).toBe(false);
      expect(template.spec!.securityContext!.runAsUser).toBeGreaterThan(0);
    }
  });
});

test('the checker reports each kind of violation', () => {
  const pod: V1PodSpec = {
    hostNetwork: true,
    volumes: [{ name: 'host', hostPath: { path: '/' } }],
    securityContext: { seccompProfile: { type: 'Unconfined' } },
    containers: [
      {
        name: 'bad',
        ports: [{ name: 'http', containerPort: 80, hostPort: 80 }],
        securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } },
      },
    ],
  };
  expect(restrictedViolations(pod)).toEqual([
    'hostNetwork',
    'volumes[host].hostPath',
    'securityContext.seccompProfile.type',
    'containers[bad].securityContext.privileged',
    'containers[bad].securityContext.allowPrivilegeEscalation must be false',
    'containers[bad].securityContext.runAsNonRoot must be true',
    'containers[bad].securityContext.seccompProfile must be RuntimeDefault or Localhost',
    'containers[bad].securityContext.capabilities.drop must include ALL',
    'containers[bad].securityContext.capabilities.add[SYS_ADMIN]',
    'containers[bad].ports[http].hostPort',
    'containers[bad].securityContext.readOnlyRootFilesystem must be true',
  ]);
});
