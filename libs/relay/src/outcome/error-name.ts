/**
 * Reads an exception's name from a stack trace stored by BullMQ: a V8 (Node) stack
 * or a Python traceback (BullMQ for Python stores `traceback.format_exc()`).
 */

const PY_HEADER = 'Traceback (most recent call last):';
/** Sentences CPython prints between the tracebacks of chained exceptions. */
const PY_CHAIN_SEPARATORS = new Set([
  'During handling of the above exception, another exception occurred:',
  'The above exception was the direct cause of the following exception:',
]);
const PY_FRAME_LINE = /^[ \t]*File "[^"\n]*", line \d+/;
const V8_FRAME_LINE = /^[ \t]+at \S/m;

const IDENT = String.raw`[\p{ID_Start}_$][\p{ID_Continue}$\u200C\u200D]*`;
const DOTTED = `${IDENT}(?:\\.${IDENT})*`;
/** V8 header: `Name: message`, `Name` (empty message), or `Name [ERR_CODE]: message` (Node internal errors). */
const V8_HEADER = new RegExp(`^(${DOTTED})(?: \\[[^\\]\\n]*\\])?(?::(?: |$)|$)`, 'u');
/** Python exception line: `pkg.mod.Name: message`, `Name: message` or `Name`. */
const PY_EXCEPTION_LINE = new RegExp(`^(${DOTTED})(?::(?: |$)|$)`, 'u');

/**
 * The exception name in `stack`, or `undefined` when none can be read.
 *
 * - Python traceback: the last exception line of the (possibly chained) traceback,
 *   reduced to its last dotted segment (`app.errors.PaymentDeclined: x` -> `PaymentDeclined`).
 * - Otherwise a V8 stack: the name before the first `: ` of the first line, kept whole
 *   (`Bridge.OutputTooLarge`), without Node's ` [ERR_CODE]` suffix. Subclasses of `Error`
 *   must set `name` (`class PaymentDeclined extends Error { name = 'PaymentDeclined' }`),
 *   or V8 prints `Error`.
 */
export function errorNameFromStack(stack: string): string | undefined {
  if (isPythonTraceback(stack)) {
    const line = pythonExceptionLine(stack);
    const match = line === undefined ? null : PY_EXCEPTION_LINE.exec(line);
    if (!match) return undefined;
    const segments = match[1].split('.');
    return segments[segments.length - 1];
  }
  const firstLine = stack.trimStart().split(/\r?\n/, 1)[0] ?? '';
  const match = V8_HEADER.exec(firstLine);
  return match ? match[1] : undefined;
}

/**
 * True for a Python traceback: it starts with `Traceback (most recent call last):`,
 * or, having no V8 `    at ` frame, has a `  File "...", line N` frame.
 */
export function isPythonTraceback(stack: string): boolean {
  if (stack.trimStart().startsWith(PY_HEADER)) return true;
  if (V8_FRAME_LINE.test(stack)) return false;
  return splitLines(stack).some((line) => PY_FRAME_LINE.test(line));
}

/**
 * The line naming the exception that was finally raised.
 *
 * A CPython traceback section is `Traceback (most recent call last):`, indented frame and
 * source lines, then the exception line at column 0 (its message may continue over more
 * lines, and 3.11+ notes may follow). Chained sections are joined by a fixed sentence, so
 * the sections are walked in order and the last section's exception line wins. Without a
 * header, the first column-0 line after the last frame is used, else the last non-empty line.
 */
function pythonExceptionLine(traceback: string): string | undefined {
  const lines = splitLines(traceback);
  let found: string | undefined;
  let i = lines.findIndex((line) => line.trimEnd() === PY_HEADER);
  while (i !== -1) {
    const exceptionAt = firstColumnZeroLine(lines, i + 1);
    if (exceptionAt === -1) break;
    found = lines[exceptionAt];
    const separatorAt = lines.findIndex((line, k) => k > exceptionAt && PY_CHAIN_SEPARATORS.has(line.trim()));
    if (separatorAt === -1) break;
    i = lines.findIndex((line, k) => k > separatorAt && line.trimEnd() === PY_HEADER);
  }
  if (found !== undefined) return found;

  let lastFrame = -1;
  lines.forEach((line, k) => {
    if (PY_FRAME_LINE.test(line)) lastFrame = k;
  });
  if (lastFrame !== -1) {
    const at = firstColumnZeroLine(lines, lastFrame + 1);
    if (at !== -1) return lines[at];
  }
  for (let k = lines.length - 1; k >= 0; k--) {
    if (lines[k].trim() !== '') return lines[k].trim();
  }
  return undefined;
}

function firstColumnZeroLine(lines: string[], from: number): number {
  for (let k = from; k < lines.length; k++) {
    const line = lines[k];
    if (line.trim() !== '' && !/^\s/.test(line)) return k;
  }
  return -1;
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}
