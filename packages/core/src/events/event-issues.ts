/**
 * Schema issues as one short line for `details.reason`-style messages. A dead letter is read by
 * a person, so the line names the field and the problem, and it is bounded so that a payload
 * with thousands of bad items does not turn a log line into megabytes.
 */
import type { StandardSchemaV1 } from '../options/standard-schema.js';

const maxIssuesShown = 5;
// Some schema libraries echo the received value in the message, and a path holds the payload's
// own keys: both are attacker-sized, so each is cut.
const maxPathLength = 100;
const maxMessageLength = 200;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  if (issue.path === undefined || issue.path.length === 0) return '(root)';
  const path = issue.path
    .slice(0, 20)
    .map((segment) => cut(String(typeof segment === 'object' ? segment.key : segment), 40))
    .join('.');
  return cut(path, maxPathLength);
}

/** `"orderId: expected string; total: must be positive (and 3 more)"` */
export function issuesReason(issues: ReadonlyArray<StandardSchemaV1.Issue>): string {
  // A hand-written schema may answer anything: describing it must not throw a TypeError.
  if (!Array.isArray(issues)) return '(the schema answered issues that are not a list)';
  const shown = issues
    .slice(0, maxIssuesShown)
    .map((issue) => `${pathOf(issue)}: ${cut(String(issue.message), maxMessageLength)}`);
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; ');
}
