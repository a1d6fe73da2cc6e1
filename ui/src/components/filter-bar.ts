/**
 * The filters of the Conversations and Exchanges pages: a search box, menus from `/ui/api/facets`
 * (model, provider, protocol, tenant, key), status, and the time range. The filters live in the hash's
 * query (a filtered list is a link); changing one goes back to the first page.
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Facets } from "../../../src/browse/types.js";
import { useApi } from "../use-api.js";

/** The filter names in the hash query (the API's query names). */
export const FILTER_NAMES = [
  "search",
  "model",
  "status",
  "provider",
  "protocol",
  "tenant",
  "key",
  "since",
  "until",
] as const;

/** The statuses an exchange can end with. */
const STATUSES = ["ok", "error", "cancelled", "truncated", "history"];

/** The filters of a hash query, as the API's query, with the page size (`limit`, rows per page) when the hash names one. */
export function filterQuery(query: URLSearchParams): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of FILTER_NAMES) out[name] = query.get(name) ?? undefined;
  out.limit = query.get("limit") ?? undefined;
  return out;
}

interface FilterBarProps {
  /** The current hash query. */
  query: URLSearchParams;
  /** Called with the new query (filters changed, cursor dropped). */
  onChange: (query: Record<string, string | undefined>) => void;
}

function Menu(props: {
  name: string;
  label: string;
  values: string[];
  value: string;
  onPick: (name: string, value: string) => void;
}): VNode {
  const values = props.value && !props.values.includes(props.value) ? [props.value, ...props.values] : props.values;
  return html`<label class="filter">
    <span>${props.label}</span>
    <select
      name=${props.name}
      value=${props.value}
      onChange=${(e: Event) => props.onPick(props.name, (e.currentTarget as HTMLSelectElement).value)}
    >
      <option value="">any</option>
      ${values.map((v) => html`<option value=${v}>${v}</option>`)}
    </select>
  </label>`;
}

/** A date filter (`YYYY-MM-DD`), picked like a {@link Menu}'s value. */
function DateField(props: {
  name: string;
  label: string;
  value: string;
  onPick: (name: string, value: string) => void;
}): VNode {
  return html`<label class="filter">
    <span>${props.label}</span>
    <input
      type="date"
      name=${props.name}
      value=${props.value}
      onChange=${(e: Event) => props.onPick(props.name, (e.currentTarget as HTMLInputElement).value)}
    />
  </label>`;
}

/** The filter bar (class `filter-bar`). */
export function FilterBar({ query, onChange }: FilterBarProps): VNode {
  const facets = useApi<Facets>("facets");
  const current = filterQuery(query);
  const [search, setSearch] = useState(current.search ?? "");
  useEffect(() => setSearch(current.search ?? ""), [current.search]);
  const pick = (name: string, value: string): void => onChange({ ...current, [name]: value || undefined });
  const submit = (event: Event): void => {
    event.preventDefault();
    onChange({ ...current, search: search.trim() || undefined });
  };
  const f = facets.data;
  return html`<form class="filter-bar" onSubmit=${submit} role="search">
    <label class="filter search">
      <span>Search</span>
      <input
        type="search"
        name="search"
        placeholder="words in prompts and answers"
        value=${search}
        onInput=${(e: Event) => setSearch((e.currentTarget as HTMLInputElement).value)}
      />
    </label>
    <${Menu} name="model" label="Model" values=${f?.models ?? []} value=${current.model ?? ""} onPick=${pick} />
    <${Menu} name="status" label="Status" values=${STATUSES} value=${current.status ?? ""} onPick=${pick} />
    <${Menu}
      name="provider"
      label="Provider"
      values=${f?.providers ?? []}
      value=${current.provider ?? ""}
      onPick=${pick}
    />
    <${Menu}
      name="protocol"
      label="Protocol"
      values=${f?.protocols ?? []}
      value=${current.protocol ?? ""}
      onPick=${pick}
    />
    <${Menu} name="tenant" label="Tenant" values=${f?.tenants ?? []} value=${current.tenant ?? ""} onPick=${pick} />
    <${Menu} name="key" label="Key" values=${f?.keyIds ?? []} value=${current.key ?? ""} onPick=${pick} />
    <${DateField} name="since" label="Since" value=${current.since ?? ""} onPick=${pick} />
    <${DateField} name="until" label="Until" value=${current.until ?? ""} onPick=${pick} />
    <div class="filter-actions">
      <button type="submit">Search</button>
      ${FILTER_NAMES.some((name) => current[name]) ? html`<button type="button" class="secondary" onClick=${() => onChange({})}>Clear</button>` : null}
    </div>
    ${facets.error ? html`<p class="error">Filters: ${facets.error}</p>` : null}
  </form>`;
}
