// Holds N idle subscribers on a ws:// or wss:// URL for SECS seconds (CONCURRENCY opening at a time), then drops them (scripts/tls-idle).
import WebSocket from 'ws';
const [url, n, secs, concurrency] = [process.argv[2], +process.argv[3], +process.argv[4], +(process.argv[5] ?? 50)];
const socks = [];
let next = 0, failed = 0;
async function opener() {
  while (next < n) {
    const i = next++;
    const s = new WebSocket(url, { perMessageDeflate: false });
    try {
      await new Promise((res, rej) => { s.once('open', res); s.once('error', rej); });
      s.send(JSON.stringify({type: 'subscribe', topic: 'cost', request_id: 'r' + i}));
      socks.push(s);
    } catch (e) { failed++; }
  }
}
const t0 = Date.now();
await Promise.all(Array.from({length: concurrency}, opener));
console.log(JSON.stringify({held: socks.length, failed, open_seconds: (Date.now() - t0) / 1000}));
await new Promise(r => setTimeout(r, secs * 1000));
for (const s of socks) s.terminate();
process.exit(0);
