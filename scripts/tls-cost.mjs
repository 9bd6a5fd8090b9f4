// What TLS costs the server, from one Node client: SUBS subscribers of one topic and one publisher
// at RATE msg/s for SECONDS (server CPU per delivery from /proc/PID/stat), then IDLE idle
// subscribers (RSS growth per connection). Prints one JSON line. NODE_EXTRA_CA_CERTS trusts a
// self-signed certificate.
//   node tls-cost.mjs https://localhost:8443 PID [SUBS RATE SECONDS IDLE]
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';

const [base, pid] = [process.argv[2], process.argv[3]];
const [subs, rate, seconds, idle] = [100, 200, 15, 2000].map((d, i) => +(process.argv[4 + i] ?? d));
const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return +f[11] + +f[12]; };
const rss = () => +readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1] * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const open = () => new Promise((resolve, reject) => {
  const s = new WebSocket(wsUrl, { perMessageDeflate: false });
  s.once('open', () => resolve(s));
  s.once('error', reject);
});
const request = (s, body) => new Promise((resolve) => { s.once('message', resolve); s.send(JSON.stringify(body)); });

await fetch(`${base}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"cost"}' });
let delivered = 0;
const subscribers = [];
for (let i = 0; i < subs; i++) {
  const s = await open();
  await request(s, { type: 'subscribe', topic: 'cost', request_id: 's' });
  s.on('message', () => delivered++);
  subscribers.push(s);
}
const publisher = await open();
const payload = JSON.stringify({ type: 'publish', topic: 'cost', message: { payload: { x: 'y'.repeat(80) } } });
const publishFor = async (ms) => {
  const end = Date.now() + ms;
  let sent = 0;
  const start = Date.now();
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - start) / 1000) * rate);
    while (sent < due) { publisher.send(payload); sent++; }
    await sleep(5);
  }
};
await publishFor(5000); // warm-up
const [t0, d0] = [ticks(), delivered];
await publishFor(seconds * 1000);
await sleep(500);
const [t1, d1] = [ticks(), delivered];
const hz = 100;
const cpuUsPerDelivery = ((t1 - t0) / hz) * 1e6 / (d1 - d0);
for (const s of [...subscribers, publisher]) s.terminate();
await sleep(2000);

const rssBefore = rss();
const idlers = [];
for (let i = 0; i < idle; i++) {
  const s = await open();
  await request(s, { type: 'subscribe', topic: 'cost', request_id: 'i' });
  idlers.push(s);
}
await sleep(5000);
const rssAfter = rss();
console.log(JSON.stringify({
  url: base, subscribers: subs, rate, seconds, deliveries: d1 - d0,
  server_cpu_us_per_delivery: +cpuUsPerDelivery.toFixed(2), idle_connections: idle,
  rss_bytes_per_idle_connection: Math.round((rssAfter - rssBefore) / idle),
}));
for (const s of idlers) s.terminate();
process.exit(0);
