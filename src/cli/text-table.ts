/**
 * The one renderer of the CLI's plain-text tables (`logs`, `keys`, `models`,
 * `formats`, `bench list`, the bench's plan and report): a header line, one
 * line per row, columns two spaces apart, padded to the widest cell, no
 * trailing spaces. Widths are terminal columns as `string-width` measures
 * them (Unicode East Asian Width: a CJK character or an emoji takes 2, a
 * combining mark 0, ANSI escapes none), so wide text stays aligned.
 */
import stringWidth from "string-width";

/** How a column's cells are padded: `left` (text, the default) or `right` (figures). */
export type ColumnAlign = "left" | "right";

/** How a table is laid out. */
export interface TableOptions {
  /** Per column; missing entries are `left`. */
  align?: readonly ColumnAlign[];
  /** A line of `-` as wide as each column under the header. */
  headerRule?: boolean;
}

/**
 * The table as text, ending with a newline.
 * @param header the column titles
 * @param rows the cells, one array per row, as many cells as `header`
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const align = options.align ?? [];
  const widths = header.map((title, i) =>
    Math.max(stringWidth(title), ...rows.map((row) => stringWidth(row[i] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, i) => {
        const cell = cells[i] ?? "";
        const padding = " ".repeat(width - stringWidth(cell));
        return align[i] === "right" ? padding + cell : cell + padding;
      })
      .join("  ")
      .trimEnd();
  const rule = options.headerRule ? [widths.map((width) => "-".repeat(width)).join("  ")] : [];
  return `${[line(header), ...rule, ...rows.map(line)].join("\n")}\n`;
}

/**
 * `text` on one line (runs of whitespace become one space) and at most `maxColumns` terminal columns wide,
 * cut between graphemes (never inside an emoji or a surrogate pair) and ended with `…` when cut.
 */
export function oneLine(text: string, maxColumns: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (stringWidth(flat) <= maxColumns) return flat;
  let out = "";
  let width = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(flat)) {
    const next = stringWidth(segment);
    if (width + next > maxColumns - 1) break;
    out += segment;
    width += next;
  }
  return `${out}…`;
}
