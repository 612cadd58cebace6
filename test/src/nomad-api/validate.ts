// structs.Job.Validate, for the mistakes a deployment tool can make: the messages are Nomad's, and they
// reach the client as one go-multierror text with status 500, as Nomad's admission validators answer.

import { multiError } from './errors.js';
import type { Json } from './json.js';

const JOB_TYPES = ['service', 'batch', 'system', 'sysbatch'];

export function validationErrors(job: Json): string[] {
  const errors: string[] = [];
  if (!job.Region) errors.push('Missing job region');
  if (!job.ID) errors.push('Missing job ID');
  else if (String(job.ID).includes(' ')) errors.push('Job ID contains a space');
  if (!job.Name) errors.push('Missing job name');
  if (!job.Namespace) errors.push('Job must be in a namespace');
  if (!job.Type) errors.push('Missing job type');
  else if (!JOB_TYPES.includes(job.Type)) errors.push(`Invalid job type: ${JSON.stringify(job.Type)}`);
  if (job.Priority < 1 || job.Priority > 100) errors.push('Job priority must be between [1, 100]');
  if (!job.Datacenters || job.Datacenters.length === 0) errors.push('Missing job datacenters');
  const groups: Json[] = job.TaskGroups ?? [];
  if (groups.length === 0) errors.push('Missing job task groups');
  const seen = new Map<string, number>();
  groups.forEach((group, index) => {
    if (!group.Name) errors.push(`Job task group ${index + 1} missing name`);
    else if (seen.has(group.Name))
      errors.push(`Job task group ${index + 1} redefines '${group.Name}' from group ${seen.get(group.Name)! + 1}`);
    else seen.set(group.Name, index);
    if (job.Type === 'system' && group.Count > 1) {
      errors.push(`Job task group ${group.Name} has count ${group.Count}. Count cannot exceed 1 with system scheduler`);
    }
  });
  for (const group of groups) {
    const groupErrors = taskGroupErrors(group);
    if (groupErrors.length > 0) errors.push(`Task group ${group.Name} validation failed: ${multiError(groupErrors)}`);
  }
  return errors;
}

function taskGroupErrors(group: Json): string[] {
  const errors: string[] = [];
  if (group.Count < 0) errors.push("Task group count can't be negative");
  const tasks: Json[] = group.Tasks ?? [];
  if (tasks.length === 0) errors.push('Missing tasks for task group');
  const names = new Set<string>();
  tasks.forEach((task, index) => {
    if (!task.Name) errors.push(`Task ${index + 1} missing name`);
    else if (names.has(task.Name)) errors.push(`Task ${index + 1} redefines '${task.Name}'`);
    else names.add(task.Name);
  });
  for (const mount of tasks.flatMap((task) => task.VolumeMounts ?? [])) {
    if (!group.Volumes?.[mount.Volume]) errors.push(`Volume Mount referenced undefined volume ${mount.Volume}`);
  }
  for (const task of tasks) {
    const taskErrors = task.Driver ? [] : ['Missing task driver'];
    if (taskErrors.length > 0) errors.push(`Task ${task.Name} validation failed: ${multiError(taskErrors)}`);
  }
  return errors;
}
