// A message that advises an option names it as the surface the user drives spells it: a CLI flag, an Action
// input, a scaffolder input. An option the surface does not have is not advised.

export interface OptionNames {
  adopt: string;
  deleteVolumes: string;
  forceConflicts?: string;
  /** Accept a new schema period less than 24 h away. */
  allowNearSchema?: string;
  /** Delete a StatefulSet leaving its pods, and create it again, for a change Kubernetes refuses in place. */
  recreateStatefulSets?: string;
  /** Accept a change of Loki version to an older minor. */
  allowDowngrade?: string;
  /** Accept a change of Loki version past one minor or more. */
  allowSkip?: string;
  /** Switch a running stack's ingesters to zone-aware StatefulSets. */
  migrateZones?: string;
  /** The command that applies this spec again (a rollback appends `--set spec.version=…`); none: say the field. */
  applyCommand?: string;
}

export const CLI_OPTION_NAMES: OptionNames = {
  adopt: '--adopt',
  deleteVolumes: '--delete-volumes',
  forceConflicts: '--force-conflicts',
  allowNearSchema: '--allow-near-schema',
  recreateStatefulSets: '--recreate-statefulsets',
  migrateZones: '--migrate-zones',
  allowDowngrade: '--allow-downgrade',
  allowSkip: '--allow-skip',
  applyCommand: 'loki-microservices apply -f <spec>',
};
