// A checker for the Pod Security Standards "restricted" profile (Kubernetes docs, "Pod Security
// Standards", baseline + restricted controls), plus our own rule of a read-only root filesystem.
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

const ALLOWED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const ALLOWED_SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

/** Violations of "restricted" in a pod spec, each naming the field. Empty when compliant. */
export function restrictedViolations(pod: V1PodSpec): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  if (pod.hostNetwork) problems.push('hostNetwork');
  if (pod.hostPID) problems.push('hostPID');
  if (pod.hostIPC) problems.push('hostIPC');
  if (podContext.windowsOptions?.hostProcess) problems.push('securityContext.windowsOptions.hostProcess');
  for (const volume of pod.volumes ?? []) {
    const types = Object.keys(volume).filter((key) => key !== 'name');
    for (const type of types)
      if (!ALLOWED_VOLUME_TYPES.includes(type)) problems.push(`volumes[${volume.name}].${type}`);
  }
  for (const sysctl of podContext.sysctls ?? [])
    if (!SAFE_SYSCTLS.includes(sysctl.name)) problems.push(`securityContext.sysctls[${sysctl.name}]`);
  if (podContext.seLinuxOptions && !ALLOWED_SELINUX_TYPES.includes(podContext.seLinuxOptions.type ?? ''))
    problems.push('securityContext.seLinuxOptions.type');
  if (podContext.runAsUser === 0) problems.push('securityContext.runAsUser');
  const podSeccomp = podContext.seccompProfile?.type;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp))
    problems.push('securityContext.seccompProfile.type');

  const containers: [string, V1Container][] = [
    ...(pod.initContainers ?? []).map((c): [string, V1Container] => [`initContainers[${c.name}]`, c]),
    ...pod.containers.map((c): [string, V1Container] => [`containers[${c.name}]`, c]),
  ];
  for (const [where, container] of containers) {
    const context = container.securityContext ?? {};
    if (context.privileged) problems.push(`${where}.securityContext.privileged`);
    if (context.allowPrivilegeEscalation !== false)
      problems.push(`${where}.securityContext.allowPrivilegeEscalation must be false`);
    if (!(context.runAsNonRoot ?? podContext.runAsNonRoot))
      problems.push(`${where}.securityContext.runAsNonRoot must be true`);
    if (context.runAsUser === 0) problems.push(`${where}.securityContext.runAsUser`);
    const seccomp = context.seccompProfile?.type ?? podSeccomp;
    if (!seccomp || !['RuntimeDefault', 'Localhost'].includes(seccomp))
      problems.push(`${where}.securityContext.seccompProfile must be RuntimeDefault or Localhost`);
    if (!context.capabilities?.drop?.includes('ALL'))
      problems.push(`${where}.securityContext.capabilities.drop must include ALL`);
    for (const added of context.capabilities?.add ?? [])
      if (added !== 'NET_BIND_SERVICE') problems.push(`${where}.securityContext.capabilities.add[${added}]`);
    if (context.procMount && context.procMount !== 'Default') problems.push(`${where}.securityContext.procMount`);
    if (context.seLinuxOptions && !ALLOWED_SELINUX_TYPES.includes(context.seLinuxOptions.type ?? ''))
      problems.push(`${where}.securityContext.seLinuxOptions.type`);
    if (context.windowsOptions?.hostProcess) problems.push(`${where}.securityContext.windowsOptions.hostProcess`);
    for (const port of container.ports ?? []) if (port.hostPort) problems.push(`${where}.ports[${port.name}].hostPort`);
    // Ours, beyond the standard: nothing writes to the image.
    if (context.readOnlyRootFilesystem !== true)
      problems.push(`${where}.securityContext.readOnlyRootFilesystem must be true`);
  }
  return problems;
}
