// A StackPlan for people: plain text for a terminal, Markdown for a job summary or a pull-request comment.
// Browser-safe: no Node imports.
import type { ChangeImpact, PlannedChange, StackPlan } from './plan-model.js';

const IMPACT_WORDS: Record<ChangeImpact, string> = {
  create: 'create',
  prune: 'prune',
  keep: 'kept (holds data)',
  'in-place': 'in place',
  rolls: 'rolls pods',
  immutable: 'refused: immutable',
  recreate: 'recreated (pods kept)',
};
const IMPACT_MARKS: Record<ChangeImpact, string> = {
  create: '+',
  prune: '-',
  keep: '=',
  'in-place': '~',
  rolls: '↻',
  immutable: '!',
  recreate: '±',
};
const SHOWN_FIELDS = 4;

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function fieldsOf(change: PlannedChange): string {
  const shown = change.fields.slice(0, SHOWN_FIELDS).join(', ');
  const more = change.fields.length - SHOWN_FIELDS;
  return more > 0 ? `${shown} and ${more} more` : shown;
}

/** One line: how many changes of each impact, and how many pods roll. */
export function planSummary(plan: StackPlan): string {
  if (!plan.hasChanges && plan.blockers.length === 0) return 'no changes';
  const counts = (Object.keys(IMPACT_WORDS) as ChangeImpact[])
    .map((impact) => [impact, plan.changes.filter((change) => change.impact === impact).length] as const)
    .filter(([, count]) => count > 0)
    .map(([impact, count]) => `${count} ${IMPACT_WORDS[impact]}`);
  const pods = plan.rolls.reduce((sum, roll) => sum + roll.pods, 0);
  return `${plural(plan.changes.length, 'change')} (${counts.join(', ')}); ${plural(pods, 'pod')} roll${pods === 1 ? 's' : ''}`;
}

const title = (plan: StackPlan) => `${plan.target === 'nomad' ? 'job' : 'stack'} ${plan.namespace}/${plan.name}`;

/** "1 compactor (1 pod) → 3 ingester (3 pods) → …". */
const wavesLine = (waves: NonNullable<StackPlan['waves']>) =>
  waves
    .map(
      (wave) =>
        `${wave.number} ${wave.components.join(', ')}${wave.zone ? ` zone ${wave.zone}` : ''} (${plural(wave.pods, 'pod')})`,
    )
    .join(' → ');

export function formatPlanText(plan: StackPlan): string {
  const width = Math.max(0, ...plan.changes.map((change) => `${change.kind} ${change.name}`.length));
  const lines = [`${title(plan)}: ${planSummary(plan)}`];
  for (const change of plan.changes) {
    const object = `${change.kind} ${change.name}`.padEnd(width);
    lines.push(
      `  ${IMPACT_MARKS[change.impact]} ${object}  ${IMPACT_WORDS[change.impact]}  ${fieldsOf(change)}`.trimEnd(),
    );
  }
  if (plan.rolls.length > 0) {
    lines.push('Pods that roll:');
    for (const roll of plan.rolls)
      lines.push(`  ${roll.component}: ${plural(roll.pods, 'pod')} (${roll.workload}): ${roll.reasons.join('; ')}`);
  }
  if (plan.waves) lines.push(`Waves (servers before clients, each ready before the next): ${wavesLine(plan.waves)}`);
  if (plan.blockers.length > 0) {
    lines.push('Refused by the platform (apply stops on these):');
    for (const blocker of plan.blockers) lines.push(`  ${blocker.kind} ${blocker.name}: ${blocker.message}`);
  }
  if (plan.warnings.length > 0) {
    lines.push('Warnings:');
    for (const warning of plan.warnings) lines.push(`  ${warning.code}: ${warning.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Markdown cells hold no pipes or line breaks. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function formatPlanMarkdown(plan: StackPlan): string {
  const lines = [`### Loki plan: ${title(plan)}`, '', `**${planSummary(plan)}**`, ''];
  if (plan.blockers.length > 0) {
    lines.push('#### ⛔ Refused by the platform', '');
    for (const blocker of plan.blockers) lines.push(`- \`${blocker.kind} ${blocker.name}\`: ${cell(blocker.message)}`);
    lines.push('');
  }
  if (plan.warnings.length > 0) {
    lines.push('#### ⚠️ Warnings', '');
    for (const warning of plan.warnings) lines.push(`- **${warning.code}**: ${cell(warning.message)}`);
    lines.push('');
  }
  if (plan.rolls.length > 0) {
    lines.push('#### Pods that roll', '', '| Component | Pods | Why |', '|---|---:|---|');
    for (const roll of plan.rolls)
      lines.push(`| ${roll.component} | ${roll.pods} | ${cell(roll.reasons.join('; '))} |`);
    lines.push('');
  }
  if (plan.waves)
    lines.push(`**Waves** (servers before clients, each ready before the next): ${wavesLine(plan.waves)}`, '');
  if (plan.changes.length > 0) {
    lines.push('#### Changes', '', '| Impact | Object | Fields |', '|---|---|---|');
    for (const change of plan.changes)
      lines.push(`| ${IMPACT_WORDS[change.impact]} | \`${change.kind} ${change.name}\` | ${cell(fieldsOf(change))} |`);
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
