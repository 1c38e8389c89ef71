// The console's traces: the recent and slowest traces of the deployment (or one call edge's slowest calls) and a
// waterfall of the trace picked, joined across roles by the console's API. Bars are SVG rects sized by attributes,
// so the page needs no inline style (the console is served with a strict Content-Security-Policy).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { usePoll } from './poll.js';

/** A duration in microseconds as the shortest readable text. */
export function fmtUs(us) {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${Math.round(us / 100) / 10} ms`;
  return `${Math.round(us / 1e4) / 100} s`;
}

function Status({ status }) {
  if (status.code === 'error')
    return html`<span class="status-error" data-status="error"
      ><span aria-hidden="true">✕</span> error${status.message ? `: ${status.message}` : ''}</span
    >`;
  return html`<span class=${`status-${status.code}`} data-status=${status.code}
    >${status.code === 'ok' ? 'ok' : '—'}</span
  >`;
}

function TraceList({ id, title, list, picked, onTrace }) {
  return html`<div class="trace-list">
    <h3>${title}</h3>
    ${
      list.length === 0
        ? html`<div class="muted">none yet</div>`
        : html`<table id=${id}>
            <thead>
              <tr>
                <th>operation</th>
                <th>roles</th>
                <th>duration</th>
                <th>spans</th>
                <th>status</th>
              </tr>
            </thead>
            <tbody>
              ${list.map(
                (t) =>
                  html`<tr
                    data-trace=${t.traceId}
                    data-error=${String(t.error)}
                    class=${`${t.traceId === picked ? 'picked' : ''} ${t.error ? 'failed' : ''}`}
                  >
                    <td>
                      <button class="link" onClick=${() => onTrace(t.traceId)} title=${`trace ${t.traceId}`}>
                        ${t.name}
                      </button>
                    </td>
                    <td>${t.roles.join(', ')}</td>
                    <td>${fmtUs(t.durationUs)}</td>
                    <td>${t.spans}</td>
                    <td>
                      ${
                        t.error
                          ? html`<span class="status-error"><span aria-hidden="true">✕</span> error</span>`
                          : 'ok'
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </div>`;
}

/** Spans in tree order (each after its parent, siblings by start), with their depth; orphans start new trees. */
export function ordered(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const out = [];
  const walk = (s, depth) => {
    out.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort((a, b) => a.startUs - b.startUs)) walk(c, depth + 1);
  };
  for (const r of roots.sort((a, b) => a.startUs - b.startUs)) walk(r, 0);
  return out;
}

/** What the span talks to, by the semantic conventions' system attributes: postgresql, a messaging or RPC system. */
function systemOf(span) {
  const a = span.attributes;
  return String(
    a['db.system.name'] ??
      a['db.system'] ??
      a['messaging.system'] ??
      a['rpc.system.name'] ??
      a['rpc.system'] ??
      '',
  );
}

function SpanDetails({ span }) {
  const rows = [
    ['trace', span.traceId],
    ['span', span.spanId],
    ['parent', span.parentSpanId ?? '—'],
    ['kind', span.kind],
    ...Object.entries(span.attributes).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
    ...span.links.map((l) => ['link', `${l.traceId} / ${l.spanId}`]),
  ];
  return html`<table class="attrs">
    <tbody>
      ${rows.map(
        ([k, v]) =>
          html`<tr>
            <th>${k}</th>
            <td><code>${v}</code></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function Waterfall({ traceId, onClose }) {
  const { data, error } = usePoll(`/console/api/traces/${traceId}`);
  const [open, setOpen] = useState(null);
  const spans = data?.spans ?? [];
  const t0 = Math.min(...spans.map((s) => s.startUs));
  const total = Math.max(1, ...spans.map((s) => s.startUs + s.durationUs - t0));
  const rows = ordered(spans);
  return html`<div id="waterfall" data-trace=${traceId}>
    <h3>
      Trace <code>${traceId}</code>
      <span class="muted">${spans.length} spans · ${fmtUs(total)}</span>
      <button onClick=${onClose}>Close</button>
    </h3>
    ${error ? html`<div class="state-down">${error}</div>` : ''}
    ${(data?.errors ?? []).map((e) => html`<div class="state-down">missing spans: ${e}</div>`)}
    <table class="waterfall">
      <thead>
        <tr>
          <th>role</th>
          <th>operation</th>
          <th>start</th>
          <th class="bar-cell">timeline</th>
          <th>duration</th>
          <th>status</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(({ span, depth }) => {
          const failed = span.status.code === 'error';
          const left = ((span.startUs - t0) / total) * 1000;
          const width = Math.max(2, (span.durationUs / total) * 1000);
          const hover = Object.entries(span.attributes)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n');
          const shown = open === span.spanId;
          return html`<tr
              class=${`span ${failed ? 'failed' : ''} ${span.traceId === traceId ? '' : 'linked'}`}
              data-span=${span.name}
              data-role=${span.role}
              data-kind=${span.kind}
              data-status=${span.status.code}
              data-system=${systemOf(span)}
              title=${hover}
              aria-expanded=${String(shown)}
              onClick=${() => setOpen(shown ? null : span.spanId)}
            >
              <td class="role" title=${span.role}>${span.role}</td>
              <td class="op">
                ${'\u00a0\u00a0'.repeat(depth)}${span.traceId === traceId ? '' : html`<span class="muted">linked · </span>`}${span.name}
                <span class="muted"> ${span.kind}</span>
              </td>
              <td>+${fmtUs(span.startUs - t0)}</td>
              <td class="bar-cell">
                <svg class="bar" viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true">
                  <rect x=${left} y="1" width=${Math.min(width, 1000 - left)} height="8" />
                </svg>
              </td>
              <td>${fmtUs(span.durationUs)}</td>
              <td><${Status} status=${span.status} /></td>
            </tr>
            ${
              shown
                ? html`<tr class="details" data-details=${span.spanId}>
                    <td colspan="6"><${SpanDetails} span=${span} /></td>
                  </tr>`
                : ''
            }`;
        })}
      </tbody>
    </table>
  </div>`;
}

export function Traces({ edge, onEdge, traceId, onTrace }) {
  const { data, error } = usePoll(
    edge ? `/console/api/traces?edge=${encodeURIComponent(edge)}` : '/console/api/traces',
  );
  const [from, to] = edge ? edge.split('->') : [];
  return html`<section id="traces" data-edge=${edge ?? ''}>
    <h2>
      Traces
      ${
        edge
          ? html`<span class="muted" id="traces-edge">slowest calls ${from} → ${to}</span>
              <button onClick=${() => onEdge(null)}>All traces</button>`
          : ''
      }
    </h2>
    ${error ? html`<div class="state-down">${error}</div>` : ''}
    ${data && !data.tracing ? html`<div class="muted">No process keeps spans: tracing is off.</div>` : ''}
    ${(data?.errors ?? []).map((e) => html`<div class="state-down">${e}</div>`)}
    <div class="cols">
      <${TraceList}
        id="slowest-traces"
        title=${edge ? 'Slowest calls' : 'Slowest'}
        list=${data?.slowest ?? []}
        picked=${traceId}
        onTrace=${onTrace}
      />
      <${TraceList}
        id="recent-traces"
        title=${edge ? 'Recent calls' : 'Recent'}
        list=${data?.recent ?? []}
        picked=${traceId}
        onTrace=${onTrace}
      />
    </div>
    ${traceId ? html`<${Waterfall} traceId=${traceId} onClose=${() => onTrace(null)} />` : ''}
  </section>`;
}
