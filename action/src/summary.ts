// The job summary: what a person reading only it needs to know — the stack's condition, each component's
// ready count, the endpoints, how long each phase took and, when it did not work, why.
import * as core from '@actions/core';
import type { Diagnosis, StackStatus, UpgradeTestReport } from 'loki-microservices';

const MARK: Record<StackStatus['condition']['type'], string> = {
  Ready: '✅',
  Pending: '⏳',
  Degraded: '⚠️',
  Failed: '❌',
};

export interface Phase {
  name: string;
  durationMs: number;
  result: string;
}

/** Table cells are HTML: escape what the API or a log line may contain, and keep them on one line. */
const cell = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/\s*\n\s*/g, ' ');
const code = (text: string) => `<code>${cell(text)}</code>`;
const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

export function addHeading(title: string, status?: StackStatus): void {
  core.summary.addHeading(status ? `${MARK[status.condition.type]} ${title}: ${status.condition.type}` : title, 2);
  if (status) core.summary.addRaw(`${cell(status.condition.message)} (${status.condition.reason})`, true);
}

export function addStatus(status: StackStatus): void {
  const rows = Object.entries(status.components).map(([name, component]) => {
    const ok = component.current && component.ready >= component.desired && component.notReady.length === 0;
    const failing = component.notReady.some((pod) => pod.failing);
    return [name, component.kind, `${component.ready}/${component.desired}`, ok ? '✅' : failing ? '❌' : '⏳'];
  });
  core.summary.addTable([
    [
      { data: 'Component', header: true },
      { data: 'Kind', header: true },
      { data: 'Ready', header: true },
      { data: '', header: true },
    ],
    ...rows,
  ]);
  const pods = Object.values(status.components).flatMap((component) => component.notReady);
  if (pods.length > 0) {
    core.summary.addHeading('Pods not ready', 3);
    core.summary.addTable([
      ['Pod', 'State', 'Reason', 'Restarts', 'Message'].map((data) => ({ data, header: true })),
      ...pods.map((pod) => [
        pod.name,
        pod.state,
        `${pod.reason ?? ''}${pod.container ? ` (${pod.container})` : ''}`,
        String(pod.restarts),
        cell(pod.message ?? ''),
      ]),
    ]);
  }
  addEndpoints(status);
  core.summary.addRaw(`Loki ${status.version ?? 'version unknown'}, namespace ${code(status.namespace)}`, true);
}

export function addEndpoints(status: Pick<StackStatus, 'endpoints'>): void {
  core.summary.addTable([
    [
      { data: 'Endpoint', header: true },
      { data: 'In-cluster URL', header: true },
    ],
    ['push', code(status.endpoints.push)],
    ['query', code(status.endpoints.query)],
  ]);
  const { external } = status.endpoints;
  if (external)
    core.summary.addTable([
      [
        { data: 'Outside the cluster', header: true },
        { data: 'External URL (output)', header: true },
      ],
      ['push', `${code(external.push)} (<code>external-push-url</code>)`],
      ['query', `${code(external.query)} (<code>external-query-url</code>)`],
    ]);
}

/** The runner-side URLs of `expose: port-forward`, for the steps after this one. */
export function addLocalUrls(local: { pushUrl: string; queryUrl: string }): void {
  core.summary.addTable([
    [
      { data: 'For later steps', header: true },
      { data: 'Local URL (output)', header: true },
    ],
    ['push', `${code(local.pushUrl)} (<code>local-push-url</code>)`],
    ['query', `${code(local.queryUrl)} (<code>local-query-url</code>)`],
  ]);
}

/** Each phase's duration, and where the time to a queryable stack went (the cluster's share and the tool's). */
export function addPhases(phases: Phase[], timeline?: string): void {
  if (phases.length === 0) return;
  core.summary.addTable([
    [
      { data: 'Phase', header: true },
      { data: 'Took', header: true },
      { data: 'Result', header: true },
    ],
    ...phases.map((phase) => [phase.name, seconds(phase.durationMs), cell(phase.result)]),
  ]);
  if (timeline) core.summary.addRaw(cell(timeline), true);
}

export function addDiagnosis(diagnosis: Diagnosis): void {
  if (diagnosis.events.length > 0) {
    core.summary.addHeading('Recent warning events', 3);
    core.summary.addTable([
      ['Object', 'Reason', 'Count', 'Message'].map((data) => ({ data, header: true })),
      ...diagnosis.events.map((event) => [event.object, event.reason, String(event.count), cell(event.message)]),
    ]);
  }
  for (const log of diagnosis.logs) {
    const label = `Last log lines of ${log.pod}/${log.container}${log.previous ? ' (before its last restart)' : ''}`;
    core.summary.addDetails(label, `\n\n<pre>${log.lines.map(cell).join('\n')}</pre>\n\n`);
  }
}

/** The upgrade test: a row per wave with its duration, the lines read back, the release notes of the pre-flight. */
export function addUpgrade(report: UpgradeTestReport): void {
  const lines = report.lines.pushed > 0 ? `${report.lines.read}/${report.lines.pushed}` : 'none (not pushed)';
  core.summary.addRaw(
    `Upgrade from Loki ${code(report.from)} to ${code(report.to)}: lines read back <b>${lines}</b>`,
    true,
  );
  if (report.waves.length > 0 || report.failedWave)
    core.summary.addTable([
      [
        { data: 'Wave', header: true },
        { data: 'Components', header: true },
        { data: 'Took', header: true },
      ],
      ...report.waves.map((wave) => [String(wave.number), wave.components.join(', '), seconds(wave.durationMs)]),
      ...(report.failedWave
        ? [[String(report.failedWave.number), report.failedWave.components.join(', '), '❌ not ready']]
        : []),
    ]);
  if (report.notes.length > 0) {
    core.summary.addHeading('Release notes that concern this stack', 3);
    core.summary.addList(
      report.notes.map((note) => `Loki ${note.minor}: ${cell(note.text)} (<a href="${note.link}">release notes</a>)`),
    );
  }
}

export function addError(message: string): void {
  core.summary.addHeading('Error', 3);
  core.summary.addRaw(`<pre>${message.split('\n').map(cell).join('\n')}</pre>`, true);
}

/** Write the summary when the runner gives a file for it (not when run by hand). */
export async function writeSummary(): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.write();
}
