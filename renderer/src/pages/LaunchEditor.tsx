// The Launch page's YAML editor: a textarea with line numbers, lines with
// errors and warnings marked in the gutter; Tab indents (YAML forbids tabs),
// and an issue's "line N" button jumps here.

import { useImperativeHandle, useRef, type Ref } from 'react';
import type { ValidationIssue } from '../../../shared/task/index.ts';

export interface EditorHandle {
  jumpTo(line: number, column?: number): void;
}

export function YamlEditor(props: { text: string; onChange: (t: string) => void; errors: ValidationIssue[]; warnings: ValidationIssue[]; ref: Ref<EditorHandle> }) {
  const area = useRef<HTMLTextAreaElement>(null);
  const tabLeaves = useRef(false);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = props.text.split('\n').length;
  const errorLines = new Map<number, string>();
  for (const w of props.warnings) if (w.line !== undefined) errorLines.set(w.line, 'warning');
  for (const e of props.errors) if (e.line !== undefined) errorLines.set(e.line, 'error');

  useImperativeHandle(props.ref, () => ({
    jumpTo(line: number, column = 1) {
      const el = area.current;
      if (!el) return;
      const starts = [0];
      for (let i = 0; i < props.text.length; i++) if (props.text[i] === '\n') starts.push(i + 1);
      const start = starts[line - 1] ?? props.text.length;
      const end = (starts[line] ?? props.text.length + 1) - 1;
      el.focus();
      el.setSelectionRange(Math.min(start + column - 1, end), end);
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 20;
      el.scrollTop = Math.max(0, (line - 3) * lineHeight);
    },
  }));

  return (
    <div className="editor">
      <div className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <div key={i} className={errorLines.get(i + 1) ?? undefined} data-line={i + 1}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        ref={area}
        className="code-input"
        value={props.text}
        onChange={(e) => props.onChange(e.target.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        onKeyDown={(e) => {
          // Tab indents (YAML forbids tab characters); Escape then Tab leaves, as in other code editors.
          if (e.key === 'Tab' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !tabLeaves.current) {
            e.preventDefault();
            const el = e.currentTarget;
            const { selectionStart: s, selectionEnd: t } = el;
            const next = `${props.text.slice(0, s)}  ${props.text.slice(t)}`;
            props.onChange(next);
            requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
          }
          tabLeaves.current = e.key === 'Escape';
        }}
        wrap="off"
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        aria-label="Task YAML"
        aria-describedby="yaml-help"
        data-testid="yaml-editor"
      />
      <span id="yaml-help" className="sr-only">
        Tab inserts two spaces; press Escape, then Tab, to move on.
      </span>
    </div>
  );
}
