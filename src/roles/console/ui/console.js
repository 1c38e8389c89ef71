// The operations console page: polls the deployment view and the module panels (every 2 s, never overlapping),
// follows the exchange and calculator streams, draws the role table as a graph (an edge opens its slowest traces)
// and shows traces as waterfalls. Bundled by esbuild at build.
import { html, render } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { usePoll } from './poll.js';
import { Traces } from './traces.js';

const TICKER_SIZE = 12;
const COVERAGE_POINTS = 300;

function useStream(name) {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const source = new EventSource(`/console/api/streams/${name}`);
    const push = (e) => {
      try {
        const item = { type: e.type, data: JSON.parse(e.data), at: Date.now() };
        setItems((list) => [item, ...list].slice(0, TICKER_SIZE));
      } catch {
        // a comment or a partial event: nothing to show
      }
    };
    source.onmessage = push;
    for (const type of ['conversion', 'ClientWatched']) source.addEventListener(type, push);
    return () => source.close();
  }, [name]);
  return items;
}

const fmt = (v, unit = '') => (v === null || v === undefined ? '—' : `${v}${unit}`);
const age = (iso, now) => (iso ? `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s` : '—');

// Where each role sits in the graph: callers left of what they call.
const LAYOUT = {
  generator: [0, 0],
  exchange: [1, 0],
  'echo-client': [2, 0],
  'echo-server': [3, 0],
  transaction: [0, 1],
  auth: [1, 1],
  psp: [1, 2],
  calculator: [3, 1],
  master: [2, 2],
  child: [3, 2],
};
const BOX = { w: 170, h: 62, gx: 230, gy: 96, pad: 14 };

function Topology({ view, onEdge }) {
  const pos = (name) => {
    const [c, r] = LAYOUT[name] ?? [0, 3];
    return { x: BOX.pad + c * BOX.gx, y: BOX.pad + r * BOX.gy };
  };
  const width = BOX.pad * 2 + 3 * BOX.gx + BOX.w;
  const height = BOX.pad * 2 + 2 * BOX.gy + BOX.h;
  return html`<svg class="topology" viewBox="0 0 ${width} ${height}" role="img" aria-label="role graph">
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" fill="#666" />
      </marker>
    </defs>
    ${view.edges.map((e) => {
      const a = pos(e.from);
      const b = pos(e.to);
      const x1 = a.x + BOX.w / 2;
      const y1 = a.y + BOX.h / 2;
      const x2 = b.x + BOX.w / 2;
      const y2 = b.y + BOX.h / 2;
      // stop the line at the target box's edge so the arrow head shows
      const dx = x2 - x1;
      const dy = y2 - y1;
      const t = Math.min(
        dx === 0 ? Infinity : BOX.w / 2 / Math.abs(dx),
        dy === 0 ? Infinity : BOX.h / 2 / Math.abs(dy),
      );
      return html`<g
        class="edge state-${e.state}"
        data-graph-edge="${e.from}->${e.to}"
        onClick=${() => onEdge(`${e.from}->${e.to}`)}
      >
        <title>${e.from} → ${e.to}: show this call's slowest traces</title>
        <line class="hit" x1=${x1} y1=${y1} x2=${x2 - dx * t} y2=${y2 - dy * t} />
        <line x1=${x1} y1=${y1} x2=${x2 - dx * t} y2=${y2 - dy * t} marker-end="url(#arrow)" />
        <text x=${(x1 + x2) / 2} y=${(y1 + y2) / 2 - 4}
          >${e.state}${e.callsPerS ? ` ${e.callsPerS}/s` : ''}</text
        >
      </g>`;
    })}
    ${view.roles.map((r) => {
      const p = pos(r.name);
      return html`<g class="role state-${r.state}" data-graph-role=${r.name}>
        <rect x=${p.x} y=${p.y} width=${BOX.w} height=${BOX.h} rx="8" />
        <text x=${p.x + 10} y=${p.y + 20} class="name">${r.name}</text>
        <text x=${p.x + 10} y=${p.y + 38}>${r.parts.join(', ')} · ${r.listeners.join(' ')}</text>
        <text x=${p.x + 10} y=${p.y + 54}>${r.state}${r.node ? ` · ${new URL(r.node).host}` : ''}</text>
      </g>`;
    })}
  </svg>`;
}

function Deployment({ view, now, onEdge }) {
  return html`<section id="topology">
    <h2>Topology</h2>
    <${Topology} view=${view} onEdge=${onEdge} />
    <div class="cols">
      <table id="roles">
        <thead>
          <tr>
            <th>role</th>
            <th>parts</th>
            <th>state</th>
            <th>process</th>
          </tr>
        </thead>
        <tbody>
          ${view.roles.map(
            (r) =>
              html`<tr data-role=${r.name} data-state=${r.state}>
                <td>${r.name}</td>
                <td>${r.parts.join(', ')}</td>
                <td class="state-${r.state}">${r.state}</td>
                <td>${r.node ?? '—'}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <table id="edges">
        <thead>
          <tr>
            <th>call</th>
            <th>kind</th>
            <th>state</th>
            <th>calls/s</th>
            <th>p50</th>
            <th>p99</th>
            <th>errors</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${view.edges.map(
            (e) =>
              html`<tr data-edge="${e.from}->${e.to}" data-state=${e.state}>
                <td>${e.from} → ${e.to}</td>
                <td>${e.kind}</td>
                <td class="state-${e.state}">${e.state}</td>
                <td>${e.callsPerS}</td>
                <td>${fmt(e.p50Ms, ' ms')}</td>
                <td>${fmt(e.p99Ms, ' ms')}</td>
                <td>${e.errorRate === null ? '—' : `${Math.round(e.errorRate * 1000) / 10} %`}</td>
                <td>
                  <button class="link" data-edge-traces onClick=${() => onEdge(`${e.from}->${e.to}`)}>
                    traces
                  </button>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <h2>Health</h2>
    <div id="health" class="cards">
      ${view.nodes.map(
        (n) =>
          html`<div class="card" data-node=${n.url} data-up=${String(n.up)}>
            <h3>
              ${n.roles.length ? n.roles.join(', ') : n.url}
              <span class="state-${n.up ? 'up' : 'down'}">${n.up ? (n.health?.status ?? 'up') : 'down'}</span>
            </h3>
            <div class="muted">
              ${n.url}${n.self ? ' (this process)' : ''}${n.version ? ` · v${n.version} · up ${n.uptimeS} s` : ''}
            </div>
            ${n.error ? html`<div class="state-down">${n.error}</div>` : ''}
            ${
              n.health
                ? html`<div class="muted">checked ${age(n.health.checkedAt, now)} ago</div>
                    <ul>
                      ${n.health.checks.map(
                        (c) =>
                          html`<li data-check=${c.name}>
                            <span class="state-${c.status}">${c.status}</span> ${c.name}
                            ${Object.keys(c.details).length ? html` <code>${JSON.stringify(c.details)}</code>` : ''}
                          </li>`,
                      )}
                    </ul>`
                : ''
            }
          </div>`,
      )}
    </div>
  </section>`;
}

function Panel({ id, title, panel, children }) {
  return html`<section class="panel" id=${id}>
    <h2>${title} <span class="muted">${panel?.node ? new URL(panel.node).host : 'not running'}</span></h2>
    ${panel?.error ? html`<div class="state-down">${panel.error}</div>` : ''}
    ${panel?.node && !panel.error ? children : ''}
  </section>`;
}

function Exchange({ panel }) {
  const ticker = useStream('exchange');
  const rates = panel?.data?.rates?.rates ?? panel?.data?.rates ?? {};
  return html`<${Panel} id="exchange" title="Exchange" panel=${panel}>
    <div class="cols">
      <ol id="ticker">
        ${ticker.map(
          (t) =>
            html`<li>
              ${t.data.amount} ${t.data.from} → ${t.data.result} ${t.data.to}
              <span class="muted">@ ${t.data.rate}</span>
            </li>`,
        )}
      </ol>
      <table id="rates">
        <thead><tr><th>currency</th><th>per EUR</th></tr></thead>
        <tbody>
          ${Object.entries(rates).map(
            ([code, rate]) =>
              html`<tr>
                <td>${code}</td>
                <td>${String(rate)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </${Panel}>`;
}

function Calculator({ panel }) {
  const notices = useStream('calculator-notifications');
  const totals = panel?.data?.stats?.runningTotal ?? {};
  const events = panel?.data?.events ?? [];
  return html`<${Panel} id="calculator" title="Calculator" panel=${panel}>
    <div class="figures">
      <span>summation <b data-figure="summation">${fmt(totals.summation)}</b></span>
      <span>factorial <b data-figure="factorial">${fmt(totals.factorial)}</b></span>
      <span>failed <b data-figure="failed">${fmt(totals.failed)}</b></span>
    </div>
    <div class="cols">
      <table id="calculator-events">
        <thead><tr><th>seq</th><th>event</th><th>at</th></tr></thead>
        <tbody>
          ${[...events].reverse().map(
            (e) =>
              html`<tr>
                <td>${e.seq}</td>
                <td>${e.type} <code>${JSON.stringify(e.payload ?? {})}</code></td>
                <td>${(e.createdAt ?? '').slice(11, 19)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <ol id="notifications">
        ${notices.map((n) => html`<li>${n.type}: <code>${JSON.stringify(n.data)}</code></li>`)}
      </ol>
    </div>
  </${Panel}>`;
}

function Payments({ panel, now }) {
  const stats = panel?.data?.stats;
  const oldest = stats?.outbox?.oldestPendingAgeMs;
  return html`<${Panel} id="payments" title="Payments" panel=${panel}>
    ${
      stats
        ? html`<div class="figures">
              ${['pending', 'completed', 'failed'].map(
                (s) => html`<span>${s} <b data-figure=${s}>${stats.byStatus[s]}</b></span>`,
              )}
              <span>outbox backlog <b data-figure="backlog">${stats.outbox.backlog}</b></span>
              <span
                >oldest pending
                <b data-figure="oldest"
                  >${oldest === null ? '—' : `${Math.round(oldest / 100) / 10} s`}</b
                ></span
              >
            </div>
            <table id="transactions">
              <thead>
                <tr>
                  <th>id</th>
                  <th>amount</th>
                  <th>currency</th>
                  <th>status</th>
                  <th>age</th>
                </tr>
              </thead>
              <tbody>
                ${stats.last.map(
                  (t) =>
                    html`<tr data-transaction=${t.id}>
                      <td><code>${t.id}</code></td>
                      <td>${t.amount}</td>
                      <td>${t.currency}</td>
                      <td class="state-${t.status}">${t.status}</td>
                      <td>${age(t.created_at, now)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }
  </${Panel}>`;
}

function CoverageChart({ points }) {
  const el = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    plot.current = new uPlot(
      {
        width: 560,
        height: 200,
        series: [
          {},
          { label: 'unique numbers', stroke: '#1565c0', scale: 'n' },
          { label: 'coverage %', stroke: '#2e7d32', scale: '%' },
        ],
        axes: [{}, { scale: 'n' }, { scale: '%', side: 1, grid: { show: false } }],
      },
      [[], [], []],
      el.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData([
      points.map((p) => p.t),
      points.map((p) => p.unique),
      points.map((p) => p.percentage),
    ]);
  }, [points]);
  return html`<div id="coverage-chart" data-points=${points.length} ref=${el}></div>`;
}

function Master({ panel }) {
  const [points, setPoints] = useState([]);
  const [message, setMessage] = useState('');
  const progress = panel?.data?.progress;
  const children = panel?.data?.children;
  const list = Array.isArray(children) ? children : (children?.children ?? []);
  useEffect(() => {
    if (!progress) return;
    setPoints((p) =>
      [...p, { t: Date.now() / 1000, unique: progress.uniqueNumbers, percentage: progress.percentage }].slice(
        -COVERAGE_POINTS,
      ),
    );
  }, [progress]);
  const act = async (method, path, body) => {
    const res = await fetch(path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
    });
    const answer = await res.json().catch(() => ({}));
    setMessage(
      res.ok
        ? `${method === 'POST' ? 'started' : 'stopping'} ${answer.id ?? ''}`
        : (answer.detail ?? `failed: ${res.status}`),
    );
  };
  const start = (e) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    void act('POST', '/console/api/master/children', {
      count: Number(form.get('count')),
      min: Number(form.get('min')),
      max: Number(form.get('max')),
    });
  };
  return html`<${Panel} id="master" title="Master" panel=${panel}>
    ${
      progress
        ? html`<div class="figures">
            <span>unique <b data-figure="unique">${progress.uniqueNumbers}</b></span>
            <span
              >coverage <b data-figure="percentage">${Math.round(progress.percentage * 100) / 100} %</b></span
            >
            <span>range <b>[${progress.range?.min}, ${progress.range?.max})</b></span>
            <span>received <b>${progress.received}</b></span>
            <span>duplicates <b>${progress.duplicates}</b></span>
          </div>`
        : ''
    }
    <${CoverageChart} points=${points} />
    <form id="start-child" onSubmit=${start}>
      <label>count <input name="count" type="number" min="1" value="1000" /></label>
      <label>min <input name="min" type="number" value="0" /></label>
      <label>max <input name="max" type="number" value="1000" /></label>
      <button type="submit">Start child</button>
      <span class="muted" id="master-message">${message}</span>
    </form>
    <table id="children">
      <thead><tr><th>id</th><th>status</th><th>spawner</th><th></th></tr></thead>
      <tbody>
        ${list.map(
          (c) =>
            html`<tr data-child=${c.id} data-status=${c.status}>
              <td><code>${c.id}</code></td>
              <td class="state-${c.status}">${c.status}</td>
              <td>${c.spawner ?? ''}</td>
              <td>
                ${
                  ['starting', 'running'].includes(c.status)
                    ? html`<button
                        onClick=${() => act('DELETE', `/console/api/master/children/${encodeURIComponent(c.id)}`)}
                      >
                        Stop
                      </button>`
                    : ''
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </${Panel}>`;
}

function Echo({ panel, at }) {
  const stats = panel?.data?.stats;
  const last = useRef(null);
  const [perS, setPerS] = useState(null);
  useEffect(() => {
    if (!stats) return;
    if (last.current && at > last.current.at)
      setPerS(
        Math.round(((stats.linesEchoed - last.current.lines) / ((at - last.current.at) / 1000)) * 10) / 10,
      );
    last.current = { at, lines: stats.linesEchoed };
  }, [stats, at]);
  return html`<${Panel} id="echo" title="Echo" panel=${panel}>
    ${
      stats
        ? html`<div class="figures">
            <span>open connections <b data-figure="open">${stats.openConnections}</b></span>
            <span>lines/s <b data-figure="lines-per-s">${fmt(perS)}</b></span>
            <span>lines echoed <b data-figure="lines">${stats.linesEchoed}</b></span>
            <span>oversized lines <b data-figure="oversized">${stats.oversizedLines}</b></span>
            <span>idle timeouts <b data-figure="idle">${stats.idleTimeouts}</b></span>
          </div>`
        : ''
    }
  </${Panel}>`;
}

function App() {
  const [edge, setEdge] = useState(null);
  const [traceId, setTraceId] = useState(null);
  const showEdge = (e) => {
    setEdge(e);
    setTraceId(null);
    if (e) document.getElementById('traces')?.scrollIntoView();
  };
  const deployment = usePoll('/console/api/deployment');
  const panels = usePoll('/console/api/panels');
  const view = deployment.data;
  const p = panels.data ?? {};
  const now = deployment.at || Date.now();
  return html`<header>
      <h1>polyrole console</h1>
      <span class="muted" id="served-by"
        >${view ? `served by ${view.self} · ${view.generatedAt}` : 'loading…'}</span
      >
      ${deployment.error ? html`<span class="state-down">${deployment.error}</span>` : ''}
    </header>
    <main>
      ${view ? html`<${Deployment} view=${view} now=${now} onEdge=${showEdge} />` : ''}
      <${Traces} edge=${edge} onEdge=${showEdge} traceId=${traceId} onTrace=${setTraceId} />
      <div class="panels">
        <${Exchange} panel=${p.exchange} />
        <${Calculator} panel=${p.calculator} />
        <${Payments} panel=${p.transaction} now=${now} />
        <${Master} panel=${p.master} />
        <${Echo} panel=${p['echo-server']} at=${panels.at} />
      </div>
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
