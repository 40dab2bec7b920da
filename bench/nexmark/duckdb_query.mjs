// The DuckDB baseline: the same aggregation over the same JSON-lines file, one thread.
// Usage: node duckdb_query.mjs FILE QUERY_NAME; prints "rows seconds".
import { DuckDBInstance } from '@duckdb/node-api';

const [file, name] = process.argv.slice(2);
const src = `read_ndjson('${file}', columns={type:'VARCHAR', auction:'BIGINT', bidder:'BIGINT',
  price:'BIGINT', dateTime:'BIGINT', extra:'VARCHAR'})`;
const ts = 'epoch_ms(dateTime)';
const queries = {
  q0: `SELECT count(*) FROM (SELECT auction, bidder, price, dateTime, extra FROM ${src} WHERE type = 'bid')`,
  q1: `SELECT count(*) FROM (SELECT auction, bidder, 0.908 * price, dateTime, extra FROM ${src} WHERE type = 'bid')`,
  q2: `SELECT auction, price FROM ${src} WHERE type = 'bid' AND auction % 123 = 0`,
  q5: `SELECT auction, (dateTime // 2000 - k) * 2000 AS ws, count(*)
       FROM (SELECT auction, dateTime, unnest(range(0, 5)) AS k FROM ${src} WHERE type = 'bid') GROUP BY ALL`,
  q11: `SELECT bidder, min(dateTime), count(*) FROM (
         SELECT bidder, dateTime, sum(new) OVER (PARTITION BY bidder ORDER BY dateTime) AS session FROM (
           SELECT bidder, dateTime, CASE WHEN dateTime - lag(dateTime) OVER (PARTITION BY bidder ORDER BY dateTime)
             < 10000 THEN 0 ELSE 1 END AS new FROM ${src} WHERE type = 'bid'))
       GROUP BY bidder, session`,
  q7: `SELECT time_bucket(INTERVAL 10 SECOND, ${ts}) AS ws, max(price) FROM ${src} WHERE type = 'bid' GROUP BY ws`,
  q12: `SELECT bidder, time_bucket(INTERVAL 10 SECOND, ${ts}) AS ws, count(*) FROM ${src} WHERE type = 'bid' GROUP BY ALL`,
};
if (!queries[name]) {
  console.error(`no DuckDB query for ${name}`);
  process.exit(64);
}
const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
const t0 = process.hrtime.bigint();
const r = await con.runAndReadAll(queries[name]);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`${r.getRows().length} ${secs.toFixed(6)}`);
