// Browser test of GET /dashboard against a running server, in Debian's headless chromium driven by
// playwright-core (scripts/browser-setup installs both):
//
//   node browser-test/dashboard.mjs http://127.0.0.1:8000 [--api-key KEY] [--screenshot FILE]
//
// It creates topics over REST, subscribes and publishes with the project's CLI (scripts/pubsub, or
// `java -cp $PUBSUB_JAR ...` when PUBSUB_JAR is set), and asserts what a user sees move on the
// page: totals, rates, the topics table, the drill-down, the charts' points. It also asserts that
// the page only ever makes GET requests to its own origin and opens no WebSocket. Exit code 0 when
// every check passed, 1 otherwise (the reason on stderr), 2 on bad usage.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = name => {
  const k = args.indexOf(name);
  if (k < 0) return undefined;
  const value = args[k + 1];
  args.splice(k, 2);
  return value;
};
const apiKey = option('--api-key') ?? process.env.PUBSUB_API_KEY;
const screenshot = resolve(option('--screenshot') ?? join(root, 'docs', 'dashboard.png'));
if (args.length !== 1 || !/^https?:\/\//.test(args[0])) {
  console.error('usage: node browser-test/dashboard.mjs BASE_URL [--api-key KEY] [--screenshot FILE]');
  process.exit(2);
}
const base = args[0].replace(/\/+$/, '');
const origin = new URL(base).origin;
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Generous bounds: they only stop a hung run, nothing here measures speed.
const WAIT_MS = 30_000;
const OVERALL_MS = 180_000;

const log = (...m) => console.error('dashboard-test:', ...m);
const sleep = ms => new Promise(r => setTimeout(r, ms));
const children = [];
let context;
let userDataDir;

setTimeout(() => fail(`no result after ${OVERALL_MS / 1000} s`), OVERALL_MS).unref();

let page;

async function fail(message) {
  console.error(`dashboard-test: FAILED: ${message}`);
  try {
    const failed = screenshot.replace(/(\.png)?$/, '-failed.png');
    await page?.screenshot({ path: failed, fullPage: true, timeout: 5000 });
    if (page) console.error(`dashboard-test: the page as it was: ${failed}`);
  } catch (e) { /* no page to show */ }
  await cleanUp();
  process.exit(1);
}

async function cleanUp() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  try { await context?.close(); } catch (e) { /* already gone */ }
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
}

// ---- the server, from Node's side (the page itself must publish nothing) ----

async function rest(method, path, body) {
  const headers = { 'Content-Type': 'application/json', ...(apiKey ? { 'X-API-Key': apiKey } : {}) };
  const response = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.text() };
}

function cli(...cliArgs) {
  const env = { ...process.env, PUBSUB_URL: base, ...(apiKey ? { PUBSUB_API_KEY: apiKey } : {}) };
  const child = process.env.PUBSUB_JAR
    ? spawn('java', ['-cp', process.env.PUBSUB_JAR, 'pekkopubsub.cli.PubSubCli', ...cliArgs], { env })
    : spawn(join(root, 'scripts', 'pubsub'), cliArgs, { env });
  child.stdout.resume();
  let stderr = '';
  child.stderr.on('data', d => { stderr += d; });
  child.done = new Promise(resolve => child.on('close', code => resolve({ code, stderr })));
  children.push(child);
  return child;
}

/** Publishes `count` messages to `topic` through one `pubsub pub` reading stdin, `perSecond` at a time. */
async function publish(topic, count, perSecond) {
  const child = cli('pub', topic);
  for (let n = 1; n <= count; n++) {
    child.stdin.write(JSON.stringify({ n, topic, at: new Date().toISOString() }) + '\n');
    if (n % Math.max(1, Math.round(perSecond / 10)) === 0) await sleep(100);
  }
  child.stdin.end();
  const { code, stderr } = await child.done;
  if (code !== 0) throw new Error(`pubsub pub ${topic} exited ${code}: ${stderr.trim()}`);
}

// ---- the page ----

const number = text => {
  const digits = (text ?? '').replace(/[^0-9.]/g, '');
  return digits === '' ? NaN : Number(digits);
};

async function main() {
  const topics = ['orders', 'payments', 'alerts'];
  for (const topic of topics) {
    const created = await rest('POST', '/topics', { name: topic });
    // 409: left over from an earlier run against the same server; every check below is relative.
    if (created.status !== 201 && created.status !== 409) {
      throw new Error(`POST /topics ${topic}: ${created.status} ${created.body}`);
    }
  }

  userDataDir = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    // Without the background-networking flags chromium keeps trying Google's hosts, which this
    // network refuses; --no-sandbox because CI runs as root.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('websocket', ws => problems.push(`the page opened a WebSocket: ${ws.url()}`));
  page.on('request', request => {
    const url = new URL(request.url());
    if (url.protocol === 'data:') return;
    if (url.origin !== origin) problems.push(`request to another origin: ${request.url()}`);
    if (request.method() !== 'GET') problems.push(`${request.method()} ${request.url()}`);
  });
  page.on('pageerror', e => problems.push(`page error: ${e.message}`));
  page.on('console', m => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  const metricsRequests = [];
  page.on('request', r => { if (r.url().startsWith(base + '/metrics')) metricsRequests.push(r); });

  const text = selector => page.locator(selector).first().textContent({ timeout: WAIT_MS });
  const waitFor = async (what, predicate) => {
    const deadline = Date.now() + WAIT_MS;
    let last;
    while (Date.now() < deadline) {
      try {
        last = await predicate();
        if (last === true) return;
      } catch (e) {
        last = e.message;
      }
      await sleep(250);
    }
    throw new Error(`${what} (last seen: ${JSON.stringify(last)})`);
  };

  const url = `${base}/dashboard${apiKey ? `?api_key=${encodeURIComponent(apiKey)}` : ''}`;
  log(`opening ${base}/dashboard${apiKey ? '?api_key=…' : ''}`);
  const response = await page.goto(url);
  if (response.status() !== 200) throw new Error(`GET /dashboard answered ${response.status()}`);
  await waitFor('the status says live', async () => (await text('#status')) === 'live' || await text('#status'));
  const row = topic => `#topics-table tr[data-topic="${topic}"]`;
  await waitFor('the topics table lists orders', async () => await page.locator(row('orders')).count() === 1);
  if (apiKey) {
    const header = await metricsRequests[0]?.headerValue('x-api-key');
    if (header !== apiKey) throw new Error(`the page's GET /metrics carried X-API-Key ${header}`);
  }

  // Every drop reason the server counts has its line, drawn or not.
  const dropsLegend = await text('#chart-drops');
  for (const reason of ['queue full', 'slow consumer', 'closing', 'memory pressure', 'replay evicted']) {
    if (!dropsLegend.includes(reason)) throw new Error(`the drops chart has no line for ${reason}: ${dropsLegend}`);
  }

  const before = {
    published: number(await text('#kpi-published-total')),
    delivered: number(await text('#kpi-delivered-total')),
    orders: number(await text(`${row('orders')} td.messages`)),
    points: number(await page.locator('#chart-rates').getAttribute('data-points')),
  };
  log('before publishing:', JSON.stringify(before));
  if (!(before.published >= 0)) throw new Error(`no published total on the page: ${await text('#kpi-published-total')}`);

  // Subscribers first, so that the deliveries, connections and subscriber counts move too.
  const subscribers = [cli('sub', 'orders', '--client-id', 'web-1'), cli('sub', 'orders'), cli('sub', 'payments')];
  await waitFor('orders shows 2 subscribers', async () => number(await text(`${row('orders')} td.subscribers`)) >= 2);
  await waitFor('the connections figure counts them', async () => number(await text('#kpi-connections')) >= 3);

  // About 16 s of traffic at changing rates, so the charts have a shape to show.
  const sent = { orders: 0, payments: 0, alerts: 0 };
  const phases = [[200, 60], [600, 90], [450, 180]];
  let lastPhaseStarted;
  const lastPhase = new Promise(r => { lastPhaseStarted = r; });
  const traffic = (async () => {
    await publish('alerts', 5, 5);
    sent.alerts += 5;
    for (const [k, [orders, payments]] of phases.entries()) {
      if (k === phases.length - 1) lastPhaseStarted();
      await Promise.all([publish('orders', orders, orders / 4), publish('payments', payments, payments / 4)]);
      sent.orders += orders;
      sent.payments += payments;
    }
  })();
  let trafficError;
  traffic.catch(e => { trafficError = e; });

  await waitFor('the publish rate shows traffic', async () =>
    trafficError ? trafficError.message : number(await text('#kpi-publish-rate')) > 0);

  await waitFor('the latency figure shows a value', async () => /\d/.test(await text('#kpi-p99')));
  await page.locator(row('orders')).click();
  await waitFor('the drill-down follows orders', async () => (await text('#drill-name')) === 'orders');

  // The picture for the README, while the last burst is still flowing.
  await lastPhase;
  await sleep(4500);
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  log(`screenshot: ${screenshot}`);

  await traffic;
  const total = sent.orders + sent.payments + sent.alerts;
  log('published over the CLI:', JSON.stringify(sent));
  await waitFor(`the published total grows by ${total}`, async () =>
    number(await text('#kpi-published-total')) >= before.published + total);
  await waitFor(`the delivered total grows by ${2 * sent.orders + sent.payments}`, async () =>
    number(await text('#kpi-delivered-total')) >= before.delivered + 2 * sent.orders + sent.payments);
  await waitFor(`orders' messages in the table grow by ${sent.orders}`, async () =>
    number(await text(`${row('orders')} td.messages`)) >= before.orders + sent.orders);
  await waitFor('the drill-down shows the same count as the table', async () =>
    (await text('#drill-messages')) === (await text(`${row('orders')} td.messages`)));
  await waitFor('the drill-down shows 2 subscribers', async () => (await text('#drill-subscribers')) === '2');
  await waitFor('the drill-down names the client_id one of them gave (GET /topics/orders)', async () =>
    (await text('#drill-clients')) === 'web-1 ×1, 1 without client_id' || await text('#drill-clients'));
  await waitFor('the drill-down shows the replay window', async () =>
    /^offsets \d[\d,]* to \d[\d,]* \(\d[\d,]* events\)$/.test(await text('#drill-window')) || await text('#drill-window'));
  // Each `pubsub pub` numbers its messages from 1: the last phase's count is the newest n.
  const lastOrder = phases[phases.length - 1][0];
  await waitFor(`the drill-down lists orders' latest events, newest first (#1 is n=${lastOrder})`, async () => {
    const lines = await page.locator('#drill-latest li').allTextContents();
    return (lines.length === 5 && lines[0].includes(`{"n":${lastOrder},"topic":"orders"`)
      && lines[1].includes(`{"n":${lastOrder - 1},`)) || lines.join(' | ');
  });
  await waitFor('the drill-down chart has points', async () =>
    number(await page.locator('#chart-topic').getAttribute('data-points')) >= 3);
  await waitFor('the rate chart gained points', async () =>
    number(await page.locator('#chart-rates').getAttribute('data-points')) >= before.points + 3);
  if ((await page.locator(row('alerts')).count()) !== 1) throw new Error('alerts is not in the table');

  for (const s of subscribers) s.kill('SIGTERM');
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const after = {
    published: await text('#kpi-published-total'),
    delivered: await text('#kpi-delivered-total'),
    orders: await text(`${row('orders')} td.messages`),
  };
  log('after publishing:', JSON.stringify(after));
}

main().then(async () => {
  await cleanUp();
  console.error('dashboard-test: OK');
  process.exit(0);
}, e => fail(e.stack || e.message));
