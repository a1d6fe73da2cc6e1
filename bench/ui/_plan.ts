import Database from "better-sqlite3";
import {
  checkFilter,
  conversationsStatement,
  conversationsCountStatement,
  exchangesStatement,
} from "../../src/browse/browse-sql.js";
const db = new Database("bench-results/ui/logs.db", { readonly: true });
const show = (label: string, st: { text: string; params: unknown[] }) => {
  console.log(`-- ${label}\n${st.text}\n${JSON.stringify(st.params)}`);
  for (const r of db.prepare(`EXPLAIN QUERY PLAN ${st.text}`).all(...(st.params as never[])) as {
    id: number;
    parent: number;
    detail: string;
  }[])
    console.log(`  ${r.id} ${r.parent} ${r.detail}`);
  const t0 = performance.now();
  db.prepare(st.text).all(...(st.params as never[]));
  console.log(`  ${(performance.now() - t0).toFixed(1)} ms`);
};
show("conv search common", conversationsStatement(checkFilter({ search: "function" }), "sqlite", null, 51));
show("conv search common count", conversationsCountStatement(checkFilter({ search: "function" }), "sqlite", 10000));
show(
  "exch initech cancelled",
  exchangesStatement(checkFilter({ tenant: "initech", status: "cancelled" }), "sqlite", null, null, 51),
);
show("exch search common", exchangesStatement(checkFilter({ search: "function" }), "sqlite", null, null, 51));
