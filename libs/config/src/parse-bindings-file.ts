import * as path from 'path';
import { parseDocument } from 'yaml';
import { checkActivityArn } from './activity-arn';
import { bindingsDocumentSchema, knownBindingKeys, type ParsedBinding } from './bindings.schema';
import { ConfigError } from './config.error';
import type { BindingConfig } from './config.types';
import { closest, formatIssues, issueMessage } from './format-issues';

/**
 * The bridge's own namespace under the BullMQ prefix (`<prefix>:sfn-bridge:...`: task records, the
 * heartbeat schedule, poll slots). A queue of that name would share its keys, so no binding may
 * use it. The one place it is written: libs/queue and libs/heartbeat build their keys from this.
 */
export const BRIDGE_NAMESPACE = 'sfn-bridge';

/**
 * Parses and validates a bindings document. `fileName` names the source in messages (a path, or
 * `BRIDGE_BINDINGS` for the inline form) and picks the syntax: `.json` -> JSON, anything else ->
 * YAML (which also reads JSON content). No binding may use the bridge's own namespace as its queue. Throws `ConfigError`
 * listing every problem.
 */
export function parseBindingsFile(text: string, fileName: string, defaults: { heartbeatSeconds: number }): BindingConfig[] {
  const header = `Invalid bindings in ${fileName}`;
  const document = parseText(text.replace(/^\uFEFF/, ''), fileName, header);
  if (document === null || document === undefined) {
    throw new ConfigError([`${fileName}: is empty; expected a "bindings" list`], header);
  }

  const result = bindingsDocumentSchema.safeParse(document, { reportInput: true, error: issueMessage });
  const issues = result.success
    ? []
    : formatIssues(result.error.issues, {
        root: fileName,
        suggest: (objectPath, key) => closest(key, knownBindingKeys(objectPath)),
      });
  issues.push(...duplicateArnIssues(document), ...reservedQueueIssues(document));
  if (!result.success || issues.length > 0) throw new ConfigError(issues, header);

  return result.data.bindings.map((b) => toBindingConfig(b, defaults));
}

function parseText(text: string, fileName: string, header: string): unknown {
  if (path.extname(fileName).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      throw new ConfigError([`${fileName}${jsonLocation(text, message)}: invalid JSON: ${message}`], header);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `:${pos.line}:${pos.col}` : '';
        const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?\s*$/, '');
        return `${fileName}${where}: invalid YAML: ${message}`;
      }),
      header,
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError([`${fileName}: invalid YAML: ${(err as Error).message}`], header);
  }
}

/** `:line:column` of a JSON.parse error, from "line L column C" or "position P" in its message. */
function jsonLocation(text: string, message: string): string {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return `:${lc[1]}:${lc[2]}`;
  const pos = /position (\d+)/.exec(message);
  if (!pos) return '';
  const before = text.slice(0, Number(pos[1]));
  const line = before.split('\n').length;
  const column = Number(pos[1]) - before.lastIndexOf('\n');
  return `:${line}:${column}`;
}

/** One issue per repeated activity ARN, naming every index that uses it. */
function duplicateArnIssues(document: unknown): string[] {
  const seen = new Map<string, number[]>();
  rawBindings(document).forEach((b, i) => {
    const arn = (b as { activityArn?: unknown } | null)?.activityArn;
    if (typeof arn === 'string') seen.set(arn, [...(seen.get(arn) ?? []), i]);
  });
  const issues: string[] = [];
  for (const [arn, indexes] of seen) {
    if (indexes.length < 2) continue;
    const [first, ...others] = indexes;
    for (const i of others) {
      issues.push(
        `bindings[${i}].activityArn: duplicate of bindings[${first}].activityArn (${arn}); one binding per activity ARN, raise its pollers instead`,
      );
    }
  }
  return issues;
}

function rawBindings(document: unknown): unknown[] {
  const bindings = (document as { bindings?: unknown } | null)?.bindings;
  return Array.isArray(bindings) ? bindings : [];
}

function reservedQueueIssues(document: unknown): string[] {
  const issues: string[] = [];
  rawBindings(document).forEach((b, i) => {
    if ((b as { queue?: unknown } | null)?.queue === BRIDGE_NAMESPACE) {
      issues.push(`bindings[${i}].queue: must differ from "${BRIDGE_NAMESPACE}", the bridge's own key namespace`);
    }
  });
  return issues;
}

function toBindingConfig(b: ParsedBinding, defaults: { heartbeatSeconds: number }): BindingConfig {
  const arn = checkActivityArn(b.activityArn);
  if (!arn.ok) throw new Error(`unreachable: ${arn.problem}`);
  const jobOptions: BindingConfig['jobOptions'] = {};
  if (b.jobOptions.priority !== undefined) jobOptions.priority = b.jobOptions.priority;
  if (b.jobOptions.removeOnComplete !== undefined) jobOptions.removeOnComplete = b.jobOptions.removeOnComplete;
  if (b.jobOptions.removeOnFail !== undefined) jobOptions.removeOnFail = b.jobOptions.removeOnFail;
  const binding: BindingConfig = {
    name: arn.name,
    activityArn: b.activityArn,
    queue: b.queue,
    jobName: b.jobName ?? arn.name,
    pollers: typeof b.pollers === 'number' ? b.pollers : b.pollers.max,
    minPollers: typeof b.pollers === 'number' ? b.pollers : b.pollers.min,
    maxPending: b.maxPending,
    attempts: b.attempts,
    heartbeatSeconds: b.heartbeatSeconds ?? defaults.heartbeatSeconds,
    jobOptions,
  };
  if (b.backoff) binding.backoff = { type: b.backoff.type, delay: b.backoff.delay };
  return binding;
}
