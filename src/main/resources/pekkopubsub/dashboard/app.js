// The dashboard's whole logic: poll GET /stats and GET /metrics, keep two minutes of samples,
// derive rates from counter deltas, draw with uPlot. Read-only: GET requests to this origin only.
'use strict';
(() => {
  const POLL_MS = 2000;
  const WINDOW_S = 120;
  const TABLE_ROWS = 200;
  const REQUEST_TIMEOUT_MS = 5000;

  // With API keys configured the page is opened as /dashboard?api_key=KEY; fetch() can send a
  // header, so the key travels as X-API-Key like any other REST client's.
  const apiKey = new URLSearchParams(location.search).get('api_key');
  const requestHeaders = apiKey ? { 'X-API-Key': apiKey } : {};

  // ---- Prometheus text exposition (0.0.4, and the OpenMetrics lines it shares) ----

  /** name -> [{labels, value}]; comments, blank lines and malformed lines are skipped. */
  function parsePrometheus(text) {
    const families = new Map();
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      try {
        const sample = parseLine(line);
        if (!sample) continue;
        let list = families.get(sample.name);
        if (!list) families.set(sample.name, list = []);
        list.push(sample);
      } catch (e) {
        // One odd line (a new metric type, a future syntax) must not hide all the others.
      }
    }
    return families;
  }

  function parseLine(line) {
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
    const name = line.slice(0, i);
    const labels = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') { i++; break; }
        const eq = line.indexOf('=', i);
        if (eq < 0) return null;
        const key = line.slice(i, eq).trim();
        i = eq + 1;
        if (line[i] !== '"') return null;
        i++;
        let value = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) {
            const next = line[i + 1];
            value += next === 'n' ? '\n' : next;
            i += 2;
          } else {
            value += line[i++];
          }
        }
        if (i >= line.length) return null;
        i++;
        labels[key] = value;
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const value = parseValue(rest[0]);
    return name && value !== undefined ? { name, labels, value } : null;
  }

  function parseValue(token) {
    if (token === undefined || token === '') return undefined;
    if (token === '+Inf' || token === 'Inf') return Infinity;
    if (token === '-Inf') return -Infinity;
    if (token === 'NaN') return NaN;
    const n = Number(token);
    return Number.isNaN(n) ? undefined : n;
  }

  /** The sum of the series of `name` whose labels include `match`, or null when there is none. */
  function metric(families, name, match = {}) {
    const list = families && families.get(name);
    if (!list) return null;
    let sum = null;
    for (const s of list) {
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum = (sum ?? 0) + s.value;
    }
    return sum === null || Number.isNaN(sum) ? null : sum;
  }

  /** label value -> sum of the series of `name` carrying it (e.g. dropped by reason). */
  function byLabel(families, name, label) {
    const out = {};
    for (const s of (families && families.get(name)) || []) {
      const key = s.labels[label];
      if (key !== undefined && !Number.isNaN(s.value)) out[key] = (out[key] ?? 0) + s.value;
    }
    return out;
  }

  /** Cumulative histogram buckets {le -> count}, to estimate quantiles when none are published. */
  function buckets(families, name) {
    const out = new Map();
    for (const s of (families && families.get(name + '_bucket')) || []) {
      const le = parseValue(s.labels.le);
      if (le !== undefined) out.set(le, (out.get(le) ?? 0) + s.value);
    }
    return out;
  }

  /** Prometheus' histogram_quantile over the difference of two bucket sets (linear within a bucket). */
  function quantileFromBuckets(now, before, q) {
    const bounds = [...now.keys()].sort((a, b) => a - b);
    const counts = bounds.map(le => now.get(le) - (before.get(le) ?? 0));
    const total = counts[counts.length - 1];
    if (!(total > 0)) return null;
    const rank = q * total;
    for (let k = 0; k < bounds.length; k++) {
      if (counts[k] >= rank) {
        if (bounds[k] === Infinity) return k > 0 ? bounds[k - 1] : null;
        const lower = k > 0 ? bounds[k - 1] : 0;
        const below = k > 0 ? counts[k - 1] : 0;
        const inBucket = counts[k] - below;
        return inBucket > 0 ? lower + (bounds[k] - lower) * (rank - below) / inBucket : bounds[k];
      }
    }
    return null;
  }

  // ---- samples ----

  const QUANTILES = [['p50', '0.5'], ['p95', '0.95'], ['p99', '0.99'], ['p999', '0.999']];
  // Every reason the server counts (README, Metrics): a reason missing here would never be drawn.
  const DROP_REASONS = ['queue_full', 'slow_consumer', 'closing', 'memory_pressure', 'replay_evicted'];
  const LATENCY = 'pubsub_publish_to_enqueue_seconds';

  /** One poll's figures; a field is null when its metric is absent (not wired yet, or /metrics failed). */
  function sampleOf(t, stats, families) {
    const s = {
      t,
      stats,
      published: metric(families, 'pubsub_messages_published_total'),
      delivered: metric(families, 'pubsub_events_delivered_total'),
      dropped: byLabel(families, 'pubsub_events_dropped_total', 'reason'),
      droppedTotal: metric(families, 'pubsub_events_dropped_total'),
      errors: metric(families, 'pubsub_errors_total'),
      framesIn: metric(families, 'pubsub_websocket_frames_total', { direction: 'in' }),
      framesOut: metric(families, 'pubsub_websocket_frames_total', { direction: 'out' }),
      connections: metric(families, 'pubsub_connections'),
      subscriptions: metric(families, 'pubsub_subscriptions'),
      topics: metric(families, 'pubsub_topics'),
      queue: metric(families, 'pubsub_outbound_queue_events'),
      latencyMax: metric(families, LATENCY + '_max'),
      buckets: buckets(families, LATENCY),
      quantiles: {},
    };
    for (const [key, q] of QUANTILES) s.quantiles[key] = metric(families, LATENCY, { quantile: q });
    // Without /metrics the per-topic figures of /stats still give the totals.
    if (stats) {
      const topics = Object.values(stats);
      if (s.topics === null) s.topics = topics.length;
      if (s.subscriptions === null) s.subscriptions = topics.reduce((n, x) => n + (x.subscribers || 0), 0);
    }
    return s;
  }

  /** Per-second rate of a counter between two samples; null across a restart (counter went down). */
  function rate(prev, cur, get) {
    if (!prev) return null;
    const a = get(prev), b = get(cur);
    const dt = cur.t - prev.t;
    if (a === null || a === undefined || b === null || b === undefined || dt <= 0 || b < a) return null;
    return (b - a) / dt;
  }

  function latencyQuantile(prev, cur, key, q) {
    const published = cur.quantiles[key];
    if (published !== null && Number.isFinite(published)) return published;
    return prev && cur.buckets.size > 0 ? quantileFromBuckets(cur.buckets, prev.buckets, Number(q)) : null;
  }

  const samples = [];
  /** topic -> [{t, messages, subscribers, dropped}] over the window. */
  const topicHistory = new Map();
  let selectedTopic = null;
  /** GET /topics/{name} of the selected topic, from the last poll: {name, answer} or null. */
  let selectedDetail = null;
  /** GET /topics/{name}/messages of the selected topic, from the last poll: {name, events} or null. */
  let selectedLatest = null;
  const LATEST_SHOWN = 5;
  const PAYLOAD_CHARS = 160;
  const CLIENT_IDS_SHOWN = 8;
  let now = Date.now() / 1000;

  function record(sample) {
    samples.push(sample);
    while (samples.length > 0 && samples[0].t < sample.t - WINDOW_S - POLL_MS / 1000) samples.shift();
    if (sample.stats) {
      for (const [name, st] of Object.entries(sample.stats)) {
        let h = topicHistory.get(name);
        if (!h) topicHistory.set(name, h = []);
        h.push({ t: sample.t, messages: st.messages, subscribers: st.subscribers, dropped: st.dropped });
      }
    }
    for (const [name, h] of topicHistory) {
      while (h.length > 0 && h[0].t < sample.t - WINDOW_S - POLL_MS / 1000) h.shift();
      if (h.length === 0) topicHistory.delete(name);
    }
  }

  // ---- formatting ----

  const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

  const fmtCount = v => v === null || v === undefined ? '–' : integer.format(v);
  const fmtRate = v => v === null || v === undefined ? '–' : (Math.abs(v) < 10 ? oneDecimal : integer).format(v);
  const twoDecimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  const fmtAxis = v => v === null ? '' : Math.abs(v) >= 10000 ? compact.format(v)
    : (Math.abs(v) < 1 ? twoDecimals : oneDecimal).format(v);
  const pad = n => String(n).padStart(2, '0');
  const fmtClock = t => { const d = new Date(t * 1000); return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; };

  function fmtSeconds(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    if (v < 1e-3) return `${integer.format(v * 1e6)} µs`;
    if (v < 1) return `${(v * 1e3).toPrecision(3)} ms`;
    return `${v.toPrecision(3)} s`;
  }
  const fmtMs = v => v === null || v === undefined ? '–' : v < 1 ? String(Number(v.toPrecision(2))) : oneDecimal.format(v);

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  // ---- charts (uPlot) ----

  const COLORS = {
    blue: '#2563eb', green: '#16a34a', amber: '#d97706', red: '#dc2626',
    purple: '#7c3aed', slate: '#64748b', teal: '#0d9488', pink: '#db2777',
  };
  const charts = [];

  /**
   * A time-series chart over the last WINDOW_S seconds. `series`: [{label, color, value(prev, cur)}];
   * `data()` may replace the default (one point per sample) for the topic chart.
   */
  // Steps for axes of whole things (connections, queued events): no grid line at 0.25 of a connection.
  const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];

  function chart(id, series, { format = fmtAxis, yFloor = 1, height = 190, axes2 = null, data = null, log = false,
                               whole = false } = {}) {
    const el = document.getElementById(id);
    const scales = {
      x: { time: true, range: () => [now - WINDOW_S, now] },
      // Latencies span decades (a JIT warm-up max beside microsecond medians): log scale there.
      y: log
        ? { distr: 3, log: 10, range: (u, min, max) => uPlot.rangeLog(min ?? yFloor, Math.max(max ?? 0, yFloor * 10), 10, true) }
        : { range: (u, min, max) => [0, Math.max(yFloor, (max ?? 0) * 1.15)] },
    };
    const axes = [
      { stroke: '#6b7785', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e3e7ed' }, space: 80,
        values: (u, splits) => splits.map(fmtClock) },
      { stroke: '#6b7785', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e3e7ed' }, size: 52,
        values: (u, splits) => splits.map(format),
        // Decades only: uPlot's log axis would otherwise draw a grid line at every 2..9 as well.
        ...(log ? { splits: (u, axis, min, max) => decades(min, max) } : {}),
        ...(whole ? { incrs: WHOLE_STEPS } : {}) },
    ];
    if (axes2) {
      scales[axes2.scale] = { range: (u, min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.2))] };
      axes.push({ scale: axes2.scale, side: 1, stroke: '#6b7785', grid: { show: false }, size: 44, incrs: WHOLE_STEPS,
        values: (u, splits) => splits.map(v => Number.isInteger(v) ? integer.format(v) : '') });
    }
    const u = new uPlot({
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      // With the cursor off the chart, the legend shows the newest values instead of dashes.
      hooks: { setCursor: [u => { if (u.cursor.idx == null) showLatest(u); }] },
      scales,
      axes,
      series: [
        { label: 'at', value: (u, v) => v === null || v === undefined ? '–' : fmtClock(v) },
        ...series.map(s => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.scale || 'y',
          fill: s.fill ? s.color + '1f' : undefined,
          points: { size: 5 },
          value: (u, v) => s.legend ? s.legend(v) : (v === null || v === undefined ? '–' : format(v)),
        })),
      ],
    }, [[], ...series.map(() => [])], el);
    const entry = { el, u, series, data };
    charts.push(entry);
    return entry;
  }

  function drawChart(entry) {
    const columns = entry.data ? entry.data() : defaultColumns(entry.series);
    entry.u.setData(columns);
    if (entry.u.cursor.idx == null) showLatest(entry.u);
    // The number of points drawn, for whoever inspects the page (the browser test does).
    entry.el.dataset.points = String(columns[0].length);
  }

  function decades(min, max) {
    const out = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      const v = Number((10 ** e).toPrecision(1));
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
    return out;
  }

  function showLatest(u) {
    const n = u.data[0].length;
    if (n > 0) u.setLegend({ idx: n - 1 });
  }

  function defaultColumns(series) {
    const xs = [], ys = series.map(() => []);
    samples.forEach((cur, k) => {
      xs.push(cur.t);
      series.forEach((s, j) => ys[j].push(s.value(samples[k - 1], cur)));
    });
    return [xs, ...ys];
  }

  // Zero has no place on a log scale: an empty interval is a gap, not a point at the bottom.
  const ms = v => v === null || v === undefined || !(v > 0) ? null : v * 1000;

  chart('chart-rates', [
    { label: 'published', color: COLORS.blue, fill: true, value: (p, c) => rate(p, c, s => s.published) },
    { label: 'delivered', color: COLORS.green, value: (p, c) => rate(p, c, s => s.delivered) },
  ]);
  chart('chart-gauges', [
    { label: 'connections', color: COLORS.purple, value: (p, c) => c.connections },
    { label: 'subscriptions', color: COLORS.teal, value: (p, c) => c.subscriptions },
    { label: 'topics', color: COLORS.amber, value: (p, c) => c.topics },
  ], { whole: true });
  chart('chart-drops', DROP_REASONS.map((reason, k) => ({
    label: reason.replace('_', ' '),
    color: [COLORS.red, COLORS.amber, COLORS.slate, COLORS.purple, COLORS.pink][k],
    value: (p, c) => rate(p, c, s => s.droppedTotal === null ? null : (s.dropped[reason] ?? 0)),
  })));
  chart('chart-queue', [
    { label: 'queued events', color: COLORS.pink, fill: true, value: (p, c) => c.queue },
  ], { whole: true });
  chart('chart-latency', [
    ...QUANTILES.map(([key, q], k) => ({
      label: key === 'p999' ? 'p99.9' : key,
      color: [COLORS.green, COLORS.blue, COLORS.amber, COLORS.red][k],
      value: (p, c) => ms(latencyQuantile(p, c, key, q)),
    })),
    { label: 'max', color: COLORS.slate, value: (p, c) => ms(c.latencyMax) },
  ], { format: fmtMs, yFloor: 0.001, log: true });
  chart('chart-frames', [
    { label: 'frames in', color: COLORS.blue, value: (p, c) => rate(p, c, s => s.framesIn) },
    { label: 'frames out', color: COLORS.green, value: (p, c) => rate(p, c, s => s.framesOut) },
    { label: 'errors', color: COLORS.red, value: (p, c) => rate(p, c, s => s.errors) },
  ]);

  function topicPoints(name) {
    const h = topicHistory.get(name) || [];
    const xs = [], rates = [], drops = [], subs = [];
    h.forEach((cur, k) => {
      const prev = h[k - 1];
      const dt = prev ? cur.t - prev.t : 0;
      // A topic deleted and re-created starts its counters again: no rate across that.
      const ok = prev && dt > 0 && cur.messages >= prev.messages && cur.dropped >= prev.dropped;
      xs.push(cur.t);
      rates.push(ok ? (cur.messages - prev.messages) / dt : null);
      drops.push(ok ? (cur.dropped - prev.dropped) / dt : null);
      subs.push(cur.subscribers);
    });
    return [xs, rates, drops, subs];
  }

  chart('chart-topic', [
    { label: 'messages / s', color: COLORS.blue, fill: true },
    { label: 'dropped / s', color: COLORS.red },
    { label: 'subscribers', color: COLORS.purple, scale: 'subs', legend: v => v === null ? '–' : integer.format(v) },
  ], { height: 200, axes2: { scale: 'subs' }, data: () => topicPoints(selectedTopic) });

  new ResizeObserver(() => {
    for (const c of charts) {
      const width = Math.max(200, c.el.clientWidth);
      if (width !== c.u.width) c.u.setSize({ width, height: c.u.height });
    }
  }).observe(document.querySelector('main'));

  // ---- figures, table, drill-down ----

  function renderFigures() {
    const cur = samples[samples.length - 1];
    const prev = samples[samples.length - 2];
    setText('kpi-topics', fmtCount(cur.topics));
    setText('kpi-connections', fmtCount(cur.connections));
    setText('kpi-subscriptions', fmtCount(cur.subscriptions));
    setText('kpi-publish-rate', fmtRate(rate(prev, cur, s => s.published)));
    setText('kpi-published-total', fmtCount(cur.published));
    setText('kpi-delivery-rate', fmtRate(rate(prev, cur, s => s.delivered)));
    setText('kpi-delivered-total', fmtCount(cur.delivered));
    setText('kpi-dropped-total', fmtCount(cur.droppedTotal));
    const reasons = Object.entries(cur.dropped).filter(([, v]) => v > 0)
      .map(([reason, v]) => `${reason.replace('_', ' ')} ${fmtCount(v)}`);
    setText('kpi-dropped-reasons', reasons.length ? reasons.join(' · ') : (cur.droppedTotal === null ? '\u00a0' : 'none'));
    setText('kpi-queue', fmtCount(cur.queue));
    // Over the whole window, not the last poll: the figure stays readable when traffic pauses.
    const first = samples[0] === cur ? null : samples[0];
    setText('kpi-p99', fmtSeconds(latencyQuantile(first, cur, 'p99', '0.99')));
    setText('kpi-p50', fmtSeconds(latencyQuantile(first, cur, 'p50', '0.5')));
  }

  function topicRate(name) {
    const h = topicHistory.get(name);
    if (!h || h.length < 2) return null;
    const a = h[h.length - 2], b = h[h.length - 1];
    return b.t > a.t && b.messages >= a.messages ? (b.messages - a.messages) / (b.t - a.t) : null;
  }

  const tbody = document.querySelector('#topics-table tbody');
  const filter = document.getElementById('topic-filter');
  filter.addEventListener('input', () => renderTable());

  function select(name) {
    selectedTopic = name;
    renderTable();
    renderDrill();
  }

  tbody.addEventListener('click', e => {
    const row = e.target.closest('tr[data-topic]');
    if (row) select(row.dataset.topic);
  });
  tbody.addEventListener('keydown', e => {
    const row = e.target.closest('tr[data-topic]');
    if (row && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); select(row.dataset.topic); }
  });

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderTable() {
    const cur = samples[samples.length - 1];
    const stats = (cur && cur.stats) || {};
    const needle = filter.value.trim().toLowerCase();
    const names = Object.keys(stats);
    const rows = names
      .filter(n => !needle || n.toLowerCase().includes(needle))
      .map(n => ({ name: n, st: stats[n], rate: topicRate(n) }))
      // Busiest first, so the topics worth a look are at the top of a long list.
      .sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0) || b.st.messages - a.st.messages || a.name.localeCompare(b.name));
    const shown = rows.slice(0, TABLE_ROWS);
    const fragment = document.createDocumentFragment();
    for (const { name, st, rate: r } of shown) {
      const tr = document.createElement('tr');
      tr.dataset.topic = name;
      tr.tabIndex = 0;
      tr.setAttribute('aria-selected', String(name === selectedTopic));
      tr.append(
        cell(name, 'topic-name'),
        cell(fmtCount(st.messages), 'num messages'),
        cell(fmtRate(r), 'num rate'),
        cell(fmtCount(st.subscribers), 'num subscribers'),
        cell(fmtCount(st.dropped), 'num dropped' + (st.dropped > 0 ? ' nonzero' : '')));
      fragment.append(tr);
    }
    tbody.replaceChildren(fragment);
    setText('topic-count', names.length === 1 ? '1 topic' : `${fmtCount(names.length)} topics`);
    document.getElementById('topics-empty').hidden = rows.length > 0;
    setText('topics-empty', names.length === 0 ? 'No topics yet.' : 'No topic matches the filter.');
    const more = document.getElementById('topics-more');
    more.hidden = rows.length <= TABLE_ROWS;
    setText('topics-more', `${fmtCount(rows.length - TABLE_ROWS)} more: filter to find them.`);
  }

  function renderDrill() {
    const cur = samples[samples.length - 1];
    const st = selectedTopic && cur && cur.stats ? cur.stats[selectedTopic] : undefined;
    document.getElementById('drill-hint').hidden = selectedTopic !== null;
    document.getElementById('drill-figures').hidden = selectedTopic === null;
    setText('drill-name', selectedTopic ?? '—');
    setText('drill-state', selectedTopic === null ? '' : st ? '' : 'not in /stats any more (deleted?)');
    setText('drill-messages', fmtCount(st ? st.messages : null));
    setText('drill-rate', fmtRate(st ? topicRate(selectedTopic) : null));
    setText('drill-subscribers', fmtCount(st ? st.subscribers : null));
    setText('drill-dropped', fmtCount(st ? st.dropped : null));
    const d = selectedDetail && selectedDetail.name === selectedTopic ? selectedDetail.answer : null;
    document.getElementById('drill-detail').hidden = d === null;
    if (d) {
      setText('drill-window', d.retained > 0
        ? `offsets ${fmtCount(d.oldest_retained_offset)} to ${fmtCount(d.messages)} (${fmtCount(d.retained)} events)` : 'nothing retained');
      setText('drill-clients', clientIdsText(d.client_ids || {}, d.subscribers));
    }
    renderLatest(selectedLatest && selectedLatest.name === selectedTopic ? selectedLatest.events : null);
    drawChart(charts[charts.length - 1]);
  }

  /** The newest events first, one line each: offset, time, payload (as text: a payload is never markup here). */
  function renderLatest(events) {
    document.getElementById('drill-latest-box').hidden = events === null;
    if (events === null) return;
    const lines = events.slice().reverse().map(e => {
      const payload = JSON.stringify(e.message ? e.message.payload : null) ?? 'null';
      const time = e.ts ? new Date(e.ts).toLocaleTimeString() : '';
      return `#${e.offset}  ${time}  ${payload.length > PAYLOAD_CHARS ? payload.slice(0, PAYLOAD_CHARS) + '…' : payload}`;
    });
    if (lines.length === 0) lines.push('nothing retained');
    const list = document.getElementById('drill-latest');
    if (Array.from(list.children, li => li.textContent).join('\n') === lines.join('\n')) return;
    list.replaceChildren(...lines.map(line => Object.assign(document.createElement('li'), { textContent: line })));
  }

  /** "web-1 ×2, api ×1, +3 more", busiest first; subscriptions that gave no client_id are counted apart. */
  function clientIdsText(clientIds, subscribers) {
    const entries = Object.entries(clientIds).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const named = entries.reduce((sum, [, n]) => sum + n, 0);
    const parts = entries.slice(0, CLIENT_IDS_SHOWN).map(([id, n]) => `${id} ×${fmtCount(n)}`);
    if (entries.length > CLIENT_IDS_SHOWN) parts.push(`+${fmtCount(entries.length - CLIENT_IDS_SHOWN)} more`);
    if (subscribers > named) parts.push(`${fmtCount(subscribers - named)} without client_id`);
    return parts.length > 0 ? parts.join(', ') : 'no subscribers';
  }

  // ---- polling ----

  function setStatus(kind, text) {
    const el = document.getElementById('status');
    el.className = 'status ' + kind;
    el.textContent = text;
  }

  async function get(path, as) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(path, { headers: requestHeaders, cache: 'no-store', signal: controller.signal });
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try { message = (await response.json()).error.message || message; } catch (e) { /* not our JSON error */ }
        throw Object.assign(new Error(message), { status: response.status });
      }
      return as === 'json' ? await response.json() : await response.text();
    } finally {
      clearTimeout(timer);
    }
  }

  async function poll() {
    const followed = selectedTopic;
    const followedPath = followed === null ? null : '/topics/' + encodeURIComponent(followed);
    const [stats, metrics, detail, latest] = await Promise.allSettled([get('/stats', 'json'), get('/metrics', 'text'),
      followed === null ? Promise.resolve(null) : get(followedPath, 'json'),
      followed === null ? Promise.resolve(null) : get(followedPath + '/messages?limit=' + LATEST_SHOWN, 'json')]);
    selectedDetail = detail.status === 'fulfilled' && detail.value ? { name: followed, answer: detail.value } : null;
    selectedLatest = latest.status === 'fulfilled' && latest.value ? { name: followed, events: latest.value.events || [] } : null;
    now = Date.now() / 1000;
    const failures = [stats, metrics].filter(r => r.status === 'rejected').map(r => r.reason);
    if (failures.some(e => e.status === 401)) {
      setStatus('bad', apiKey ? 'API key refused' : 'needs an API key: open /dashboard?api_key=KEY');
    } else if (stats.status === 'rejected' && metrics.status === 'rejected') {
      setStatus('bad', 'server unreachable');
    } else if (failures.length > 0) {
      setStatus('warn', `${stats.status === 'rejected' ? '/stats' : '/metrics'}: ${failures[0].message}`);
    } else {
      setStatus('ok', 'live');
    }
    if (stats.status === 'fulfilled' || metrics.status === 'fulfilled') {
      const families = metrics.status === 'fulfilled' ? parsePrometheus(metrics.value) : null;
      record(sampleOf(now, stats.status === 'fulfilled' ? (stats.value.topics || {}) : null, families));
      setText('updated', new Date(now * 1000).toLocaleTimeString());
      renderFigures();
      renderTable();
      renderDrill();
    }
    for (const c of charts) drawChart(c);
  }

  async function loop() {
    try {
      await poll();
    } catch (e) {
      setStatus('bad', 'dashboard error: ' + e.message);
      console.error(e);
    }
    setTimeout(loop, POLL_MS);
  }

  loop();
})();
