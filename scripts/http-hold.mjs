// Opens N kept-alive HTTP connections to HOST:PORT (CONCURRENCY at a time), each answered one
// `GET PATH`, then holds them for SECS seconds, sending one byte of a next request every TRICKLE
// seconds so that no idle timeout ends them; prints the answers' status counts (scripts/http-hold).
import net from 'node:net';
const [host, port, n, path, secs, trickle, concurrency] = [process.argv[2], +process.argv[3], +process.argv[4],
  process.argv[5], +process.argv[6], +process.argv[7], +(process.argv[8] ?? 100)];
const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
const held = [];
const statuses = {};
let next = 0, failed = 0, closedByServer = 0;
function open() {
  return new Promise(resolve => {
    const socket = net.connect({host, port});
    let head = '';
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(request));
    socket.on('data', chunk => {
      if (head === null) return;
      head += chunk.toString('latin1');
      const line = head.indexOf('\r\n');
      if (line < 0) return;
      const status = head.slice(9, 12);
      statuses[status] = (statuses[status] ?? 0) + 1;
      head = null;
      held.push(socket);
      resolve();
    });
    socket.on('close', () => { if (head !== null) { failed++; resolve(); } else closedByServer++; });
    socket.on('error', () => {});
  });
}
async function opener() {
  while (next < n) { next++; await open(); }
}
const t0 = Date.now();
await Promise.all(Array.from({length: concurrency}, opener));
console.log(JSON.stringify({opened: n, statuses, failed, open_seconds: (Date.now() - t0) / 1000}));
const partial = `GET ${path} HTTP/1.1\r\n`;
let sent = 0;
const timer = setInterval(() => {
  for (const s of held) if (!s.destroyed) s.write(partial[sent % partial.length]);
  sent++;
}, trickle * 1000);
await new Promise(r => setTimeout(r, secs * 1000));
clearInterval(timer);
console.log(JSON.stringify({held: held.filter(s => !s.destroyed).length, closed_by_server: closedByServer}));
for (const s of held) s.destroy();
process.exit(0);
