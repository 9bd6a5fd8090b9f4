// What the peer harness's load client spends per event it receives, with no server and no
// sockets: its own protocol adapters (adapters/pubsub-json.mjs for PROTOCOL.md, adapters/nats.mjs
// for NATS) fed the bytes each server writes for the same event, through the `ws` package's frame
// parser, as on a real connection. PROTOCOL.md puts one JSON object in each WebSocket frame; NATS
// puts many `MSG` lines in one frame. Run by scripts/client-cost from a copy of the harness.
//   node client-cost.mjs [--events-per-read 10] [--reads 20000] [--rounds 5]
import { Receiver } from 'ws';
import { makeClient } from './adapters/index.mjs';
import { makePayload } from './lib/payload.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const perRead = arg('events-per-read', 10);
const reads = arg('reads', 20000);
const rounds = arg('rounds', 5);
const TOPIC = 'fanout-100-1';
const DISTINCT = 200; // distinct reads, cycled, so that no payload string repeats too often

function frame(bytes, opcode) {
  const header = bytes.length < 126
    ? Buffer.from([0x80 | opcode, bytes.length])
    : Buffer.from([0x80 | opcode, 126, bytes.length >> 8, bytes.length & 0xff]);
  return Buffer.concat([header, bytes]);
}

// What our server writes for one event (FrameWriter.event): one frame per event.
function pubsubRead(first) {
  const frames = [];
  for (let i = 0; i < perRead; i++) {
    const s = first + i;
    const payload = makePayload(3, 1, s, 123456789012);
    const id = `3b241101-e2bb-4255-8caf-${(0x4136c566a962 + s).toString(16).padStart(12, '0')}`;
    frames.push(frame(Buffer.from(`{"type":"event","topic":"${TOPIC}","message":{"id":"${id}","payload":${payload}},"offset":${s + 1},"ts":"2026-11-23T21:53:36.123Z"}`), 1));
  }
  return Buffer.concat(frames);
}

// What NATS writes for the same events: MSG lines, as many as are pending, in one binary frame.
function natsRead(first) {
  let lines = '';
  for (let i = 0; i < perRead; i++) {
    const payload = makePayload(3, 1, first + i, 123456789012);
    lines += `MSG ${TOPIC} 1 ${payload.length}\r\n${payload}\r\n`;
  }
  return frame(Buffer.from(lines), 2);
}

function measure(protocol, readsBytes) {
  let received = 0;
  const spec = { protocol, transport: 'ws', wsUrl: 'ws://127.0.0.1:1/ws', httpUrl: 'http://127.0.0.1:1' };
  const client = makeClient(spec, 'cost', { onPayload: (p) => { received += p.s >= 0 ? 1 : 0; } });
  const receiver = new Receiver({ skipUTF8Validation: true, maxPayload: 64 * 1024 * 1024 });
  receiver.on('message', (data, isBinary) => client.t.onData(data, isBinary));
  const start = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) receiver.write(readsBytes[i % DISTINCT]);
  const ns = Number(process.hrtime.bigint() - start);
  if (received !== reads * perRead) throw new Error(`${protocol}: ${received} of ${reads * perRead} events`);
  return ns / received;
}

const pubsub = Array.from({ length: DISTINCT }, (_, i) => pubsubRead(i * perRead));
const nats = Array.from({ length: DISTINCT }, (_, i) => natsRead(i * perRead));
console.log(`bytes per event: PROTOCOL.md ${(pubsub[0].length / perRead).toFixed(0)}, NATS ${(nats[0].length / perRead).toFixed(0)}; ${perRead} events per read`);
const results = { 'pubsub-json': [], nats: [] };
for (let r = 1; r <= rounds; r++) {
  const ours = measure('pubsub-json', pubsub);
  const theirs = measure('nats', nats);
  results['pubsub-json'].push(ours);
  results.nats.push(theirs);
  console.log(`round ${r}: PROTOCOL.md ${(ours / 1000).toFixed(2)} us per event, NATS ${(theirs / 1000).toFixed(2)} us`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median: PROTOCOL.md ${(median(results['pubsub-json']) / 1000).toFixed(2)} us per event, NATS ${(median(results.nats) / 1000).toFixed(2)} us (the first round includes the JIT's warm-up)`);
