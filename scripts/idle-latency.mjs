// Publish-to-deliver latency on an otherwise idle server: one publisher and one subscriber at a
// low rate, the same Node client (the peer harness's protocol adapters and payload) for every
// target, targets measured in alternation. Run by scripts/idle-latency from a copy of the
// harness, whose ./adapters, ./lib and node_modules it imports.
//   node idle-latency.mjs --target pekko=pubsub-json,ws://H:P/ws,http://H:P --target nats=nats,ws://H:P
//        [--rounds 2] [--rate 100] [--seconds 30] [--warm-seconds 10] [--warm-subs 20]
//        [--warm-rate 2000] [--out result.json]
import fs from 'node:fs';
import { makeClient, prepareTopics } from './adapters/index.mjs';
import { newHist, histIndex, mergeInto, summarize } from './lib/hist.mjs';
import { makePayload, nowUs } from './lib/payload.mjs';

function parseArgs(argv) {
  const out = { target: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'target') out.target.push(argv[i + 1]);
    else out[key] = argv[i + 1];
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const rounds = Number(args.rounds ?? 2);
const rate = Number(args.rate ?? 100);
const seconds = Number(args.seconds ?? 30);
const warmSeconds = Number(args['warm-seconds'] ?? 10);
const warmSubs = Number(args['warm-subs'] ?? 20);
const warmRate = Number(args['warm-rate'] ?? 2000);
const targets = args.target.map((t) => {
  const [name, rest] = t.split('=');
  const [protocol, wsUrl, httpUrl] = rest.split(',');
  return { name, spec: { protocol, transport: 'ws', wsUrl, httpUrl } };
});
if (!targets.length) throw new Error('at least one --target name=protocol,wsUrl[,httpUrl] is required');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connected(spec, name, onPayload, topic) {
  const client = makeClient(spec, name, { onPayload });
  await client.connect();
  if (topic) await client.subscribe(topic);
  return client;
}

/**
 * Publishes at `perSecond` for `ms` on a 1 ms tick, sending what the schedule says is due, so a
 * late tick sends a burst instead of lowering the rate. Each payload carries its send time.
 */
async function publishFor(publisher, topic, perSecond, ms, step) {
  const start = nowUs();
  let sent = 0;
  while (nowUs() - start < ms * 1000) {
    const due = Math.floor(((nowUs() - start) * perSecond) / 1e6) + 1;
    publisher.cork();
    for (; sent < due; sent++) publisher.publish(topic, makePayload(step, 0, sent, nowUs()));
    publisher.uncork();
    await sleep(1);
  }
  return sent;
}

/** One round against one target: a warm-up load, then the measured single-subscriber run. */
async function measure(target, round) {
  const topic = `idle-latency-${process.pid}-${round}`;
  await prepareTopics(target.spec, [topic]);
  const tag = `${target.name}-${round}`;
  const warm = [];
  for (let i = 0; i < warmSubs; i++) warm.push(await connected(target.spec, `${tag}-w${i}`, () => {}, topic));
  const publisher = await connected(target.spec, `${tag}-p`, () => {}, null);
  await publishFor(publisher, topic, warmRate, warmSeconds * 1000, -1);
  for (const c of warm) c.close();
  await sleep(1000);

  const hist = newHist();
  let maxUs = 0;
  let received = 0;
  const skipUntil = nowUs() + 1e6; // the first second re-establishes the idle pattern
  const subscriber = await connected(target.spec, `${tag}-s`, (obj) => {
    const now = nowUs();
    if (obj.k !== 1) return;
    received++;
    if (now < skipUntil) return;
    const us = now - obj.t;
    hist[histIndex(us)]++;
    if (us > maxUs) maxUs = us;
  }, topic);
  await sleep(200);
  const sent = await publishFor(publisher, topic, rate, (seconds + 1) * 1000, 1);
  await sleep(500);
  subscriber.close();
  publisher.close();
  await sleep(200);
  return { target: target.name, round, sent, received, hist, maxUs };
}

function fmt(s) {
  const f = (v) => (v === null ? '-' : v.toFixed(2));
  return `p50 ${f(s.p50_ms)}  p95 ${f(s.p95_ms)}  p99 ${f(s.p99_ms)}  p99.9 ${f(s.p999_ms)}  max ${f(s.max_ms)} ms`;
}

const results = [];
for (let round = 1; round <= rounds; round++) {
  // Each round starts with the next target, so that no target always runs first (or right after NATS).
  const shift = (round - 1) % targets.length;
  for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
    const r = await measure(target, round);
    const summary = summarize(r.hist, r.maxUs);
    console.log(`round ${round} ${target.name.padEnd(8)} ${r.received}/${r.sent} delivered  ${fmt(summary)}`);
    results.push({ ...r, summary });
  }
}
const pooled = targets.map((target) => {
  const mine = results.filter((r) => r.target === target.name);
  const hist = mine.reduce((h, r) => mergeInto(h, r.hist), newHist());
  const summary = summarize(hist, Math.max(...mine.map((r) => r.maxUs)));
  console.log(`all rounds ${target.name.padEnd(8)} ${fmt(summary)}`);
  return { target: target.name, summary };
});
if (args.out) {
  const params = { rounds, rate, seconds, warmSeconds, warmSubs, warmRate };
  const rows = results.map(({ target, round, sent, received, summary }) => ({ target, round, sent, received, ...summary }));
  fs.writeFileSync(args.out, JSON.stringify({ params, rounds: rows, pooled }, null, 2));
}
process.exit(0);
