// Fills a running server's memory the way one client can within every per-client limit: TOPICS
// topics, MESSAGES publishes to each of BYTES of payload, from one WebSocket connection paced under
// the default publish rate limit (900/s, at most 200 unanswered); the events stay in the topics'
// replay buffers. With STALLED > 0, that many more connections each subscribe to one of the first
// STALLED topics and then stop reading their sockets, so events pile up for them too. Prints one JSON
// line: what was sent and answered, whether the connection closed or the server stopped answering for
// 30 s (gaveUp), and the server's /health afterwards. FLOOD_ORDER=sequential fills one topic after
// another instead of in turn; FLOOD_DEFLATE=1 makes the REPLAYERS agree to permessage-deflate and
// the payloads random base64, which compression does not shrink much.
//   node memory-flood.mjs http://127.0.0.1:8000 100 100 60000 [STALLED [REPLAYERS]]
import WebSocket from 'ws';

const [base, topics, messages, bytes] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5]];
const stalled = +(process.argv[6] ?? 0);
const replayers = +(process.argv[7] ?? 0);
const sequential = process.env.FLOOD_ORDER === 'sequential';
const deflate = process.env.FLOOD_DEFLATE === '1';
const randomPad = () => Buffer.from(Array.from({ length: Math.ceil(bytes * 3 / 4) }, () => Math.random() * 256)).toString('base64').slice(0, bytes);
const pads = deflate ? Array.from({ length: 16 }, randomPad) : ['x'.repeat(bytes)];
const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
for (let t = 0; t < topics; t++) {
  const r = await fetch(`${base}/topics`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `flood-${t}` }),
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`POST /topics: ${r.status}`);
}
const open = async (perMessageDeflate = false) => {
  const socket = new WebSocket(wsUrl, { perMessageDeflate });
  await new Promise((resolve, reject) => { socket.on('open', resolve); socket.on('error', reject); });
  socket.on('error', () => {});
  return socket;
};
const sleepers = [];
for (let t = 0; t < Math.min(stalled, topics); t++) {
  const sleeper = await open();
  const acked = new Promise((resolve) => sleeper.once('message', resolve));
  sleeper.send(`{"type":"subscribe","topic":"flood-${t}","request_id":"s${t}"}`);
  await acked;
  sleeper._socket.pause(); // reads nothing more: the kernel's buffers fill, then the server's queue
  sleepers.push(sleeper);
}
const ws = await open();
let acks = 0;
const errors = {};
let closeCode = null;
ws.on('message', (data) => {
  const m = JSON.parse(data.toString());
  if (m.type === 'ack') acks++;
  else if (m.type === 'error') errors[m.error.code] = (errors[m.error.code] || 0) + 1;
});
const closed = new Promise((resolve) => ws.on('close', (code) => { closeCode = code; resolve(); }));
const answered = () => acks + Object.values(errors).reduce((a, b) => a + b, 0);

// Halfway through, REPLAYERS connections subscribe to every topic with last_n 100 and read nothing:
// the replays wait in their queues while the topics' histories move on to newer events.
const replaying = [];
let replayersStarted = replayers === 0;
const startReplayers = async () => {
  for (let r = 0; r < replayers; r++) {
    const replayer = await open(deflate);
    for (let t = 0; t < topics; t++) {
      replayer.send(`{"type":"subscribe","topic":"flood-${t}","last_n":100,"request_id":"r${r}-${t}"}`);
    }
    replayer._socket.pause();
    replaying.push(replayer);
  }
};
const started = Date.now();
const total = topics * messages;
let sent = 0;
// A server lost in garbage collection answers nothing: 30 s without an answer ends the flood.
let stalledSince = Date.now();
let answeredBefore = 0;
let gaveUp = false;
await new Promise((resolve) => {
  const tick = setInterval(() => {
    if (answered() !== answeredBefore) [answeredBefore, stalledSince] = [answered(), Date.now()];
    gaveUp = Date.now() - stalledSince > 30_000;
    if (!replayersStarted && sent >= total / 2) {
      replayersStarted = true;
      startReplayers();
    }
    for (let i = 0; i < 9 && sent < total && closeCode === null && sent - answered() < 200; i++) {
      const topic = `flood-${sequential ? Math.floor(sent / messages) : sent % topics}`;
      ws.send(`{"type":"publish","topic":"${topic}","message":{"payload":{"i":${sent},"x":"${pads[sent % pads.length]}"}}}`);
      sent++;
    }
    if (closeCode !== null || (sent === total && answered() === sent) || gaveUp) {
      clearInterval(tick);
      resolve();
    }
  }, 10);
});
let health;
try {
  const h = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
  health = { status: h.status, body: await h.json() };
} catch (e) {
  health = { failed: e.cause?.code ?? e.message };
}
console.log(JSON.stringify({
  sent, acks, errors, closeCode, gaveUp, stalled: sleepers.length, replayers: replaying.length, payloadMiB: Math.round(sent * bytes / 1048576), seconds: (Date.now() - started) / 1000, health,
}));
for (const socket of [ws, ...sleepers, ...replaying]) socket.terminate();
await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
process.exit(0);
